"""Import a catalog file into the database: idempotent by stable keys, all or nothing.

A file may hold thousands of sessions, and the bot imports it on the event loop that serves
everyone else: which sessions are new is worked out in a worker thread from plain values, and
they are written with bulk INSERTs in chunks at the end, in the one transaction, so the
database's writer lock is held for those INSERTs only.

A session type gets a programme of its own, which staff fill with sessions in the bot. That
programme is not a file programme: its key is one the file cannot write, and the import sets
only its listing fields, never its classes or sessions.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Dialect, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from domain.catalog.file import (
    BillingPeriodSpec,
    Catalog,
    CatalogInvalid,
    CatalogProblem,
    ClassSpec,
    CourseSpec,
    FeeRowSpec,
    PassSpec,
    ProgrammeSpec,
    SessionTypeSpec,
    session_type_programme_key,
)
from domain.storage.models import (
    BillingPeriod,
    ClassSession,
    CourseOffer,
    CourseOfferUnit,
    PassOffer,
    Programme,
    ProgrammeClass,
    ProgrammeFee,
    ProgrammeKind,
    SessionType,
)
from domain.timetable.sessions import PackageOption, stored_packages


@dataclass
class ImportReport:
    added: dict[str, int] = field(
        default_factory=lambda: {
            "periods": 0,
            "programmes": 0,
            "classes": 0,
            "sessions": 0,
            "passes": 0,
            "fees": 0,
            "session_types": 0,
            "courses": 0,
        }
    )
    updated: dict[str, int] = field(
        default_factory=lambda: {
            "periods": 0,
            "programmes": 0,
            "classes": 0,
            "passes": 0,
            "fees": 0,
            "session_types": 0,
            "courses": 0,
        }
    )
    # rows of a custom fee schedule the file no longer lists: deleted, the file has the say
    removed: dict[str, int] = field(default_factory=lambda: {"fees": 0})
    # sessions in the database that the file no longer lists: kept, since they may hold bookings
    sessions_not_in_file: int = 0
    # (title, link token) of each private programme (or session type's programme) in the file,
    # for staff to share
    private_links: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(self.added.values()) or any(self.updated.values()) or any(self.removed.values())


# Session rows per INSERT: one statement each, and the event loop serves others between them.
SESSION_CHUNK = 1000

ClassKey = tuple[str, str]  # (programme key, class key)


@dataclass(frozen=True)
class SessionsPlan:
    """What importing one class's sessions does, worked out from plain values."""

    new: list[datetime]  # sorted
    not_in_file: int
    problems: list[CatalogProblem]
    new_bound: list[object]  # `new` as the driver takes them


@dataclass(frozen=True)
class BoundStarts:
    """Each class's session starts, sorted, and as the driver of `dialect` takes them: worked
    out with the file, away from the event loop (see domain.catalog.reading)."""

    dialect: str  # "name+driver", e.g. "sqlite+aiosqlite"
    by_class: dict[ClassKey, tuple[list[datetime], list[object]]]


def dialect_id(dialect: Dialect) -> str:
    return f"{dialect.name}+{dialect.driver}"


def bind_starts(catalog: Catalog, dialect: str) -> BoundStarts:
    """Pure: a dialect of that name and driver needs no connection to bind values."""
    _, bind_start = _session_insert(make_url(f"{dialect}://").get_dialect()())
    by_class = {}
    for programme in catalog.programmes:
        for spec in programme.classes:
            starts = sorted({s.starts_at for s in spec.sessions})
            by_class[programme.key, spec.key] = (starts, [bind_start(s) for s in starts])
    return BoundStarts(dialect=dialect, by_class=by_class)


async def import_catalog(
    db: AsyncSession, catalog: Catalog, bound: BoundStarts | None = None
) -> ImportReport:
    """`bound`: the catalog's starts bound already (ignored if for another dialect)."""
    report = ImportReport()
    existing = {
        p.key: p
        for p in await db.scalars(select(Programme).options(selectinload(Programme.classes)))
    }
    class_ids = {(p.key, c.key): c.id for p in existing.values() for c in p.classes}
    # only the file's classes: a big timetable of other programmes is none of this import's
    stored = (
        await db.execute(
            select(ClassSession.class_id, ClassSession.starts_at, ClassSession.seats_taken)
            .join(ProgrammeClass)
            .join(Programme)
            .where(Programme.key.in_([spec.key for spec in catalog.programmes]))
        )
    ).all()
    dialect = db.get_bind().dialect
    insert_sql, bind_start = _session_insert(dialect)
    if bound is not None and bound.dialect != dialect_id(dialect):
        bound = None
    plans = await asyncio.to_thread(_plan_sessions, catalog, class_ids, stored, bind_start, bound)
    problems: list[CatalogProblem] = []
    new_sessions: list[tuple[ProgrammeClass, list[object]]] = []
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
        for klass, plan in _import_classes(programme, spec, plans, report):
            problems.extend(plan.problems)
            new_sessions.append((klass, plan.new_bound))
        await _import_passes(db, programme, spec.passes, report)
        await _import_fees(db, programme, spec.fees, report)
    await _import_session_types(db, catalog.session_types, existing, report)
    if catalog.courses is not None:
        await _import_courses(db, catalog.courses, report)
    if problems:
        await db.rollback()
        raise CatalogInvalid(problems=problems)
    await _insert_sessions(db, insert_sql, new_sessions)
    await db.commit()
    return report


def _session_insert(dialect: Dialect) -> tuple[str, Callable[[datetime], object]]:
    """The driver's own INSERT of one session, and how a start goes into it: rows bound in
    the worker thread go to the driver as they are, with no per-row work on the event loop."""
    columns = ["class_id", "starts_at", "seats_taken"]
    compiled = insert(ClassSession.__table__).compile(dialect=dialect, column_keys=columns)
    assert list(compiled.positiontup or ()) == columns, compiled.positiontup
    # the dialect's own type (SQLite's DATETIME writes the text the ORM writes and compares)
    starts_at = ClassSession.__table__.c.starts_at.type
    process = starts_at.dialect_impl(dialect).bind_processor(dialect)
    return str(compiled), process or (lambda value: value)


def _plan_sessions(
    catalog: Catalog,
    class_ids: dict[ClassKey, int],
    stored: Sequence[tuple[int, datetime, int]],
    bind_start: Callable[[datetime], object],
    bound: BoundStarts | None = None,
) -> dict[ClassKey, SessionsPlan]:
    """Run in a worker thread: plain values in, plain values out."""
    by_class: dict[int, list[tuple[datetime, int]]] = {}
    for class_id, starts_at, seats_taken in stored:
        by_class.setdefault(class_id, []).append((starts_at, seats_taken))
    plans = {}
    for programme in catalog.programmes:
        for spec in programme.classes:
            class_id = class_ids.get((programme.key, spec.key))
            known = by_class.get(class_id, []) if class_id is not None else []
            starts = bound.by_class[programme.key, spec.key] if bound is not None else None
            plans[programme.key, spec.key] = _import_sessions(known, spec, bind_start, starts)
    return plans


def _import_sessions(
    known: list[tuple[datetime, int]],
    spec: ClassSpec,
    bind_start: Callable[[datetime], object],
    bound: tuple[list[datetime], list[object]] | None = None,
) -> SessionsPlan:
    known_starts = {starts_at for starts_at, _ in known}
    wanted = {s.starts_at for s in spec.sessions}
    booked = max((seats for _, seats in known), default=0)
    if bound is None:
        new = sorted(wanted - known_starts)
        new_bound = [bind_start(starts_at) for starts_at in new]
    elif not known_starts:  # a new class: no work per session here at all
        new, new_bound = bound
    else:
        pairs = [(s, b) for s, b in zip(*bound, strict=True) if s not in known_starts]
        new, new_bound = [s for s, _ in pairs], [b for _, b in pairs]
    return SessionsPlan(
        new=new,
        not_in_file=len(known_starts - wanted),
        problems=_capacity_problems(booked, spec),
        new_bound=new_bound,
    )


def _import_classes(
    programme: Programme,
    spec: ProgrammeSpec,
    plans: dict[ClassKey, SessionsPlan],
    report: ImportReport,
) -> list[tuple[ProgrammeClass, SessionsPlan]]:
    by_key = {c.key: c for c in programme.classes}
    planned = []
    for class_spec in spec.classes:
        plan = plans[spec.key, class_spec.key]
        klass = by_key.get(class_spec.key)
        if klass is None:
            klass = ProgrammeClass(key=class_spec.key)
            programme.classes.append(klass)
            report.added["classes"] += 1
        else:
            report.updated["classes"] += _differs(klass, **_class_fields(class_spec))
        for name, value in _class_fields(class_spec).items():
            setattr(klass, name, value)
        report.added["sessions"] += len(plan.new)
        report.sessions_not_in_file += plan.not_in_file
        planned.append((klass, plan))
    return planned


async def _insert_sessions(
    db: AsyncSession, sql: str, new_sessions: list[tuple[ProgrammeClass, list[object]]]
) -> None:
    """Straight to the driver rather than one ORM object per session: ten thousand objects
    kept the event loop busy for seconds, and SQLite's writer lock held all that time."""
    await db.flush()  # new classes need their ids; from here on SQLite's writer lock is held
    # a class's id read once, not per row (an ORM attribute: ~80 ms of the loop for 10,000)
    ids = [(klass.id, starts) for klass, starts in new_sessions]
    rows = [(class_id, start, 0) for class_id, starts in ids for start in starts]
    connection = await db.connection()
    for first in range(0, len(rows), SESSION_CHUNK):
        await connection.exec_driver_sql(sql, rows[first : first + SESSION_CHUNK])


def _capacity_problems(booked: int, spec: ClassSpec) -> list[CatalogProblem]:
    """Lowering capacity below the bookings a session already holds would strand those clients."""
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
        "monthly_fee_minor": spec.monthly_fee_minor,
        "fee_due_day": spec.fee_due_day,
        "attendance_credits": spec.attendance_credits,
        "move_any_class": spec.move_any_class,
    }


async def _import_session_types(
    db: AsyncSession,
    specs: tuple[SessionTypeSpec, ...],
    programmes: dict[str, Programme],
    report: ImportReport,
) -> None:
    if not specs:
        return
    existing = {t.key: t for t in await db.scalars(select(SessionType))}
    by_id = {p.id: p for p in programmes.values()}
    for spec in specs:
        session_type = existing.get(spec.key)
        values = _session_type_fields(spec)
        if session_type is None:
            # A programme left by a deleted type of this key is taken over: its key is unique.
            programme = programmes.get(session_type_programme_key(spec.key))
            if programme is None:
                programme = Programme(key=session_type_programme_key(spec.key), classes=[])
                db.add(programme)
            _set_type_programme(programme, spec)
            await db.flush()  # the programme needs its id
            db.add(SessionType(key=spec.key, programme_id=programme.id, **values))
            report.added["session_types"] += 1
        else:
            programme = by_id[session_type.programme_id]
            changed = _differs(session_type, **values) or _differs(
                programme, **_type_programme_fields(spec)
            )
            report.updated["session_types"] += changed
            for name, value in values.items():
                setattr(session_type, name, value)
            _set_type_programme(programme, spec)
        if not spec.public:
            programme.link_token = programme.link_token or secrets.token_urlsafe(9)
            report.private_links.append((spec.name, programme.link_token))


def _set_type_programme(programme: Programme, spec: SessionTypeSpec) -> None:
    """Its listing only: its classes are the sessions staff made, not the file's to change."""
    for name, value in _type_programme_fields(spec).items():
        setattr(programme, name, value)


def _session_type_fields(spec: SessionTypeSpec) -> dict[str, object]:
    return {
        "name": spec.name,
        "kind": spec.kind,
        "duration_minutes": spec.duration_minutes,
        "break_minutes": spec.break_minutes,
        "price_minor": spec.price_minor,
        "hold_minutes": spec.hold_minutes,
        "packages": stored_packages(
            tuple(PackageOption(p.key, p.name, p.price_minor, p.description) for p in spec.packages)
        ),
    }


def _type_programme_fields(spec: SessionTypeSpec) -> dict[str, object]:
    return {
        "title": spec.name,
        "kind": ProgrammeKind.ONE_OFF,
        "category": spec.category,
        "description": spec.description,
        "public": spec.public,
        "cancel_notice_hours": spec.cancel_notice_hours,
    }


def _class_fields(spec: ClassSpec) -> dict[str, object]:
    package = spec.package
    return {
        "title": spec.title,
        "capacity": spec.capacity,
        "duration_minutes": spec.duration_minutes,
        "price_minor": spec.price_minor,
        "max_overload": spec.max_overload,
        "min_participants": spec.min_participants,
        "min_check_hours": spec.min_check_hours,
        "waiting_list": spec.waiting_list,
        "promotion": spec.promotion,
        "offer_hold_minutes": spec.offer_hold_minutes,
        "package_size": package.sessions if package else None,
        "package_price_minor": package.price_minor if package else None,
        "cancel_cutoff_hours": package.cancel_cutoff_hours if package else None,
        "reschedule_cutoff_hours": package.reschedule_cutoff_hours if package else None,
        "cancel_refund_percent": package.cancel_refund_percent if package else 100,
        "reschedule_fee_percent": package.reschedule_fee_percent if package else 0,
        "max_per_day": spec.max_per_day,
        "max_per_week": spec.max_per_week,
        "move_cutoff_hours": spec.move_cutoff_hours,
        "move_fee_percent": spec.move_fee_percent,
        "moves_max": spec.moves_max,
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
    """Passes the file no longer lists go off sale but stay: clients may hold passes bought
    from them (and those stay valid)."""
    if programme.id is None and not specs:
        return  # a new programme has no offers to take off sale
    await db.flush()  # a new programme needs its id
    existing = {
        o.key: o
        for o in await db.scalars(select(PassOffer).where(PassOffer.programme_id == programme.id))
    }
    listed = {spec.key for spec in specs}
    for offer in existing.values():
        if offer.key not in listed and offer.on_sale:
            offer.on_sale = False
            report.updated["passes"] += 1
    for spec in specs:
        values = {
            "title": spec.title,
            "entries": spec.entries,
            "price_minor": spec.price_minor,
            "valid_days": spec.valid_days,
            "on_sale": True,
        }
        offer = existing.get(spec.key)
        if offer is None:
            db.add(PassOffer(programme_id=programme.id, key=spec.key, **values))
            report.added["passes"] += 1
            continue
        report.updated["passes"] += _differs(offer, **values)
        for name, value in values.items():
            setattr(offer, name, value)


async def _import_courses(
    db: AsyncSession, specs: tuple[CourseSpec, ...], report: ImportReport
) -> None:
    """The file's ``courses`` list is what is on sale: a course it no longer lists goes off
    sale but stays (clients hold courses bought from it, which stay as they were sold)."""
    await db.flush()  # new programmes need their ids
    programme_ids = dict((await db.execute(select(Programme.key, Programme.id))).all())
    existing = {
        o.key: o
        for o in await db.scalars(select(CourseOffer).options(selectinload(CourseOffer.units)))
    }
    listed = {spec.key for spec in specs}
    for offer in existing.values():
        if offer.key not in listed and offer.on_sale:
            offer.on_sale = False
            report.updated["courses"] += 1
    for spec in specs:
        values = {
            "title": spec.title,
            "price_minor": spec.price_minor,
            "valid_days": spec.valid_days,
            "late_policy": spec.late_cancel,
            "on_sale": True,
        }
        units = [(programme_ids[key], count) for key, count in spec.units]
        offer = existing.get(spec.key)
        if offer is None:
            offer = CourseOffer(key=spec.key, units=[], **values)
            db.add(offer)
            report.added["courses"] += 1
        else:
            now_units = [(u.programme_id, u.count) for u in offer.units]
            changed = _differs(offer, **values) or now_units != units
            report.updated["courses"] += changed
        for name, value in values.items():
            setattr(offer, name, value)
        if [(u.programme_id, u.count) for u in offer.units] != units:
            offer.units.clear()
            await db.flush()  # the old rows go before the new ones take their keys
            offer.units.extend(
                CourseOfferUnit(programme_id=programme_id, count=count, position=position)
                for position, (programme_id, count) in enumerate(units)
            )


async def _import_fees(
    db: AsyncSession, programme: Programme, specs: tuple[FeeRowSpec, ...], report: ImportReport
) -> None:
    """The file's schedule replaces the stored one, matched by due date.

    Unlike a pass offer, nobody holds a schedule row: fees already charged are ledger entries
    of their own, so a row the file drops can go.
    """
    if programme.id is None and not specs:
        return  # a new programme has no rows to remove
    await db.flush()  # a new programme needs its id
    existing = {
        row.due_on: row
        for row in await db.scalars(
            select(ProgrammeFee).where(ProgrammeFee.programme_id == programme.id)
        )
    }
    for spec in specs:
        row = existing.pop(spec.due_on, None)
        if row is None:
            db.add(
                ProgrammeFee(
                    programme_id=programme.id, due_on=spec.due_on, amount_minor=spec.amount_minor
                )
            )
            report.added["fees"] += 1
            continue
        report.updated["fees"] += _differs(row, amount_minor=spec.amount_minor)
        row.amount_minor = spec.amount_minor
    for row in existing.values():
        await db.delete(row)
        report.removed["fees"] += 1


def _differs(row: object, **values: object) -> bool:
    return any(getattr(row, name) != value for name, value in values.items())
