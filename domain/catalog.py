"""Import a catalog file into the database: idempotent by stable keys, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from domain.catalog_file import Catalog, CatalogInvalid, CatalogProblem, ClassSpec, ProgrammeSpec
from domain.storage.models import ClassSession, Programme, ProgrammeClass


@dataclass
class ImportReport:
    added: dict[str, int] = field(
        default_factory=lambda: {"programmes": 0, "classes": 0, "sessions": 0}
    )
    updated: dict[str, int] = field(default_factory=lambda: {"programmes": 0, "classes": 0})
    # sessions in the database that the file no longer lists: kept, since they may hold bookings
    sessions_not_in_file: int = 0

    @property
    def changed(self) -> bool:
        return any(self.added.values()) or any(self.updated.values())


async def import_catalog(db: AsyncSession, catalog: Catalog) -> ImportReport:
    report = ImportReport()
    existing = {
        p.key: p
        for p in await db.scalars(
            select(Programme).options(
                selectinload(Programme.classes).selectinload(ProgrammeClass.sessions)
            )
        )
    }
    problems: list[CatalogProblem] = []
    for spec in catalog.programmes:
        programme = existing.get(spec.key)
        if programme is None:
            programme = Programme(key=spec.key, classes=[])
            db.add(programme)
            report.added["programmes"] += 1
        elif _differs(programme, title=spec.title, description=spec.description):
            report.updated["programmes"] += 1
        programme.title, programme.description = spec.title, spec.description
        _import_classes(programme, spec, report, problems)
    if problems:
        await db.rollback()
        raise CatalogInvalid(problems=problems)
    await db.commit()
    return report


def _import_classes(
    programme: Programme,
    spec: ProgrammeSpec,
    report: ImportReport,
    problems: list[CatalogProblem],
) -> None:
    by_key = {c.key: c for c in programme.classes}
    for class_spec in spec.classes:
        klass = by_key.get(class_spec.key)
        if klass is None:
            klass = ProgrammeClass(key=class_spec.key, sessions=[])
            programme.classes.append(klass)
            report.added["classes"] += 1
        else:
            problems.extend(_capacity_problems(klass, class_spec))
            if _differs(
                klass,
                title=class_spec.title,
                capacity=class_spec.capacity,
                duration_minutes=class_spec.duration_minutes,
                price_minor=class_spec.price_minor,
            ):
                report.updated["classes"] += 1
        klass.title = class_spec.title
        klass.capacity = class_spec.capacity
        klass.duration_minutes = class_spec.duration_minutes
        klass.price_minor = class_spec.price_minor
        _import_sessions(klass, class_spec, report)


def _import_sessions(klass: ProgrammeClass, spec: ClassSpec, report: ImportReport) -> None:
    known = {s.starts_at for s in klass.sessions}
    wanted = {s.starts_at for s in spec.sessions}
    for starts_at in sorted(wanted - known):
        klass.sessions.append(ClassSession(starts_at=starts_at, seats_taken=0))
        report.added["sessions"] += 1
    report.sessions_not_in_file += len(known - wanted)


def _capacity_problems(klass: ProgrammeClass, spec: ClassSpec) -> list[CatalogProblem]:
    """Lowering capacity below the bookings a session already holds would strand those clients."""
    booked = max((s.seats_taken for s in klass.sessions), default=0)
    if booked <= spec.capacity:
        return []
    params = {"class_key": spec.key, "capacity": spec.capacity, "booked": booked}
    return [CatalogProblem(spec.line, "capacity_below_bookings", params)]


def _differs(row: object, **values: object) -> bool:
    return any(getattr(row, name) != value for name, value in values.items())
