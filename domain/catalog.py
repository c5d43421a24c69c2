"""Import a catalog file into the database: idempotent by stable keys, all or nothing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from domain.catalog_file import (
    BillingPeriodSpec,
    Catalog,
    CatalogInvalid,
    CatalogProblem,
    ClassSpec,
    PassSpec,
    ProgrammeSpec,
)
from domain.storage.models import (
    BillingPeriod,
    ClassSession,
    PassOffer,
    Programme,
    ProgrammeClass,
)


@dataclass
class ImportReport:
    added: dict[str, int] = field(
        default_factory=lambda: {
            "periods": 0,
            "programmes": 0,
            "classes": 0,
            "sessions": 0,
            "passes": 0,
        }
    )
    updated: dict[str, int] = field(
        default_factory=lambda: {"periods": 0, "programmes": 0, "classes": 0, "passes": 0}
    )
    # sessions in the database that the file no longer lists: kept, since they may hold bookings
    sessions_not_in_file: int = 0
    # (title, link token) of each private programme in the file, for staff to share
    private_links: list[tuple[str, str]] = field(default_factory=list)

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
    await _import_periods(db, catalog.billing_periods, report)
    for spec in catalog.programmes:
        programme = existing.get(spec.key)
        if programme is None:
            programme = Programme(key=spec.key, classes=[])
            db.add(programme)
            report.added["programmes"] += 1
        else:
            report.updated["programmes"] += _differs(programme, **_programme_fields(spec))
        for name, value in _programme_fields(spec).items():
            setattr(programme, name, value)
        if not spec.public:
            programme.link_token = programme.link_token or secrets.token_urlsafe(9)
            report.private_links.append((spec.title, programme.link_token))
        _import_classes(programme, spec, report, problems)
        await _import_passes(db, programme, spec.passes, report)
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
            report.updated["classes"] += _differs(klass, **_class_fields(class_spec))
        for name, value in _class_fields(class_spec).items():
            setattr(klass, name, value)
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


def _programme_fields(spec: ProgrammeSpec) -> dict[str, object]:
    return {
        "title": spec.title,
        "description": spec.description,
        "kind": spec.kind,
        "category": spec.category,
        "rank": spec.rank,
        "valid_from": spec.valid_from,
        "valid_until": spec.valid_until,
        "public": spec.public,
        "colour": spec.colour,
        "cancel_notice_hours": spec.cancel_notice_hours,
        "makeups_carry_over": spec.makeups_carry_over,
    }


def _class_fields(spec: ClassSpec) -> dict[str, object]:
    return {
        "title": spec.title,
        "capacity": spec.capacity,
        "duration_minutes": spec.duration_minutes,
        "price_minor": spec.price_minor,
        "max_overload": spec.max_overload,
        "waiting_list": spec.waiting_list,
        "promotion": spec.promotion,
        "offer_hold_minutes": spec.offer_hold_minutes,
    }


async def _import_periods(
    db: AsyncSession, specs: tuple[BillingPeriodSpec, ...], report: ImportReport
) -> None:
    existing = {p.key: p for p in await db.scalars(select(BillingPeriod))}
    for spec in specs:
        period = existing.get(spec.key)
        values = {"name": spec.name, "starts_on": spec.starts_on, "ends_on": spec.ends_on}
        if period is None:
            db.add(BillingPeriod(key=spec.key, **values))
            report.added["periods"] += 1
            continue
        report.updated["periods"] += _differs(period, **values)
        for name, value in values.items():
            setattr(period, name, value)


async def _import_passes(
    db: AsyncSession, programme: Programme, specs: tuple[PassSpec, ...], report: ImportReport
) -> None:
    """Passes the file no longer lists stay: clients may hold passes bought from them."""
    if not specs:
        return
    await db.flush()  # a new programme needs its id
    existing = {
        o.key: o
        for o in await db.scalars(select(PassOffer).where(PassOffer.programme_id == programme.id))
    }
    for spec in specs:
        values = {
            "title": spec.title,
            "entries": spec.entries,
            "price_minor": spec.price_minor,
            "valid_days": spec.valid_days,
        }
        offer = existing.get(spec.key)
        if offer is None:
            db.add(PassOffer(programme_id=programme.id, key=spec.key, **values))
            report.added["passes"] += 1
            continue
        report.updated["passes"] += _differs(offer, **values)
        for name, value in values.items():
            setattr(offer, name, value)


def _differs(row: object, **values: object) -> bool:
    return any(getattr(row, name) != value for name, value in values.items())
