"""Courses and service packages in storage: what is on sale, buying one (invoice, or from
staff at the venue), and the units of a bought one as bookings use them.

Every change of a unit is decided by the pure rules (domain.courses.rules) on the course as it is
now and written with a conditional UPDATE on the unit's state (the concurrency guard: two
bookings at once never take the same unit, a unit is redeemed once), within the caller's
transaction. A course's ledger item is ``course:<offer id>:<nonce>`` (domain.billing.items).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from domain.billing import money
from domain.billing.items import OfferItem
from domain.courses.rules import Course, LatePolicy, Unit, UnitState
from domain.errors import (
    AlreadyFromCourse,
    ClientNotFound,
    CourseNotFound,
    CourseNotOnSale,
    NoFreeCourseUnit,
)
from domain.policy import Policy
from domain.storage.models import (
    Booking,
    ClassSession,
    Client,
    ClientCourse,
    CourseOffer,
    CourseOfferUnit,
    CourseUnit,
    LedgerEntry,
    Programme,
)

ITEM_KIND = "course"


def parse_item(item: str) -> OfferItem | None:
    return OfferItem.parse(item, ITEM_KIND)


# --- on sale ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferUnit:
    """``count`` units of one service (a pay-as-you-go programme)."""

    programme_id: int
    count: int


@dataclass(frozen=True)
class CourseOfferView:
    """A course or service package on sale, with its units in file order."""

    id: int
    key: str
    title: str
    price_minor: int
    valid_days: int | None  # from the day it is bought; None: it never expires
    late_policy: str  # LatePolicy's value
    units: tuple[OfferUnit, ...]


async def offers(db: AsyncSession, programme_id: int | None = None) -> list[CourseOfferView]:
    """Courses on sale (those holding a unit of ``programme_id`` when given), cheapest first."""
    query = select(CourseOffer).where(CourseOffer.on_sale).options(selectinload(CourseOffer.units))
    if programme_id is not None:
        holding = select(CourseOfferUnit.offer_id).where(
            CourseOfferUnit.programme_id == programme_id
        )
        query = query.where(CourseOffer.id.in_(holding))
    rows = await db.scalars(query.order_by(CourseOffer.price_minor, CourseOffer.id))
    return [
        CourseOfferView(
            id=row.id,
            key=row.key,
            title=row.title,
            price_minor=row.price_minor,
            valid_days=row.valid_days,
            late_policy=row.late_policy,
            units=tuple(OfferUnit(u.programme_id, u.count) for u in row.units),
        )
        for row in rows
    ]


async def any_courses(db: AsyncSession, client_id: int) -> bool:
    """Anything to show under My courses: one on sale, or one the client bought."""
    on_sale = select(CourseOffer.id).where(CourseOffer.on_sale)
    mine = select(ClientCourse.id).where(ClientCourse.client_id == client_id)
    return bool(await db.scalar(select(exists(on_sale) | exists(mine))))


async def service_names(db: AsyncSession, programme_ids: set[int]) -> dict[int, str]:
    if not programme_ids:
        return {}
    rows = await db.execute(
        select(Programme.id, Programme.title).where(Programme.id.in_(programme_ids))
    )
    return dict(rows.all())


async def grant_course(
    db: AsyncSession,
    *,
    client_id: int,
    item: str,
    currency: str,
    policy: Policy,
    now: datetime,
    sold_by: int | None = None,
) -> bool:
    """Within the payment's transaction: the course with its free units and its charge (the
    caller spends credit on what the payment leaves due). False (nothing written) when the
    offer is gone or this item already bought a course: the payment is then credit."""
    parsed = parse_item(item)
    offer = await db.get(CourseOffer, parsed.offer_id) if parsed else None
    if offer is None:
        return False
    units = list(
        await db.scalars(
            select(CourseOfferUnit)
            .where(CourseOfferUnit.offer_id == offer.id)
            .order_by(CourseOfferUnit.position)
        )
    )
    expires_on = None
    if offer.valid_days is not None:
        expires_on = policy.local_day(now) + timedelta(days=offer.valid_days - 1)
    dialect = postgresql if db.bind.dialect.name == "postgresql" else sqlite
    inserted = await db.execute(
        dialect.insert(ClientCourse)
        .values(
            client_id=client_id,
            offer_id=offer.id,
            title=offer.title,
            price_minor=offer.price_minor,
            expires_on=expires_on,
            late_policy=offer.late_policy,
            bought_at=now,
            item=item,
            sold_by=sold_by,
        )
        .on_conflict_do_nothing(index_elements=[ClientCourse.item])
        .returning(ClientCourse.id)
    )
    course_id = inserted.scalar()
    if course_id is None:
        return False
    position = 0
    for unit in units:
        for _ in range(unit.count):
            db.add(
                CourseUnit(course_id=course_id, position=position, programme_id=unit.programme_id)
            )
            position += 1
    db.add(
        LedgerEntry(
            client_id=client_id,
            kind=money.EntryKind.CHARGE,
            charge_for=money.ChargeFor.COURSE,
            amount_minor=offer.price_minor,
            currency=currency,
            item=item,
            created_at=now,
            staff_id=sold_by,
        )
    )
    return True


async def sell_at_venue(
    db: AsyncSession,
    *,
    client_id: int,
    offer_id: int,
    staff_id: int,
    policy: Policy,
    now: datetime,
) -> int:
    """Staff sold a course at the desk and took the money there: the course, its charge and
    the payment, committed together. Returns the course's id."""
    offer = await db.get(CourseOffer, offer_id)
    if offer is None or not offer.on_sale:
        raise CourseNotOnSale()
    if await db.get(Client, client_id) is None:
        raise ClientNotFound()
    item = str(OfferItem.new(ITEM_KIND, offer.id))
    granted = await grant_course(
        db,
        client_id=client_id,
        item=item,
        currency=policy.currency,
        policy=policy,
        now=now,
        sold_by=staff_id,
    )
    assert granted, "a fresh item buys its course"
    db.add(
        LedgerEntry(
            client_id=client_id,
            kind=money.EntryKind.PAYMENT,
            method=money.Method.VENUE,
            amount_minor=offer.price_minor,
            currency=policy.currency,
            item=item,
            created_at=now,
            staff_id=staff_id,
        )
    )
    await db.commit()
    return await db.scalar(select(ClientCourse.id).where(ClientCourse.item == item))


# --- what a client holds ---------------------------------------------------------------------


@dataclass(frozen=True)
class UnitView:
    state: UnitState
    service: str
    starts_at: datetime | None  # of the booking that holds or used it
    forfeited: bool


@dataclass(frozen=True)
class CourseView:
    id: int
    title: str
    expires_on: date | None
    late_policy: LatePolicy
    grid: str
    units: tuple[UnitView, ...]
    course: Course

    def free(self, service_id: int) -> int:
        return self.course.left(service_id)


def _pure(row: ClientCourse) -> Course:
    units = tuple(
        Unit(u.programme_id, UnitState(u.state), u.booking_id, u.forfeited) for u in row.units
    )
    return Course(units, row.expires_on, LatePolicy(row.late_policy))


async def courses_of(db: AsyncSession, client_id: int) -> list[CourseView]:
    """The client's courses, newest first, each with its units in order."""
    rows = list(
        await db.scalars(
            select(ClientCourse)
            .where(ClientCourse.client_id == client_id)
            .options(selectinload(ClientCourse.units))
            .order_by(ClientCourse.bought_at.desc(), ClientCourse.id.desc())
        )
    )
    return await _views(db, rows)


async def _views(db: AsyncSession, rows: list[ClientCourse]) -> list[CourseView]:
    units = [u for row in rows for u in row.units]
    names = await service_names(db, {u.programme_id for u in units})
    booked = {u.booking_id for u in units if u.booking_id is not None}
    starts: dict[int, datetime] = {}
    if booked:
        found = await db.execute(
            select(Booking.id, ClassSession.starts_at)
            .join(ClassSession, Booking.session_id == ClassSession.id)
            .where(Booking.id.in_(booked))
        )
        starts = dict(found.all())
    views = []
    for row in rows:
        course = _pure(row)
        unit_views = tuple(
            UnitView(
                UnitState(u.state),
                names.get(u.programme_id, ""),
                starts.get(u.booking_id) if u.booking_id is not None else None,
                u.forfeited,
            )
            for u in row.units
        )
        views.append(
            CourseView(
                row.id,
                row.title,
                row.expires_on,
                LatePolicy(row.late_policy),
                course.grid(),
                unit_views,
                course,
            )
        )
    return views


async def usable_for(
    db: AsyncSession, client_id: int, programme_id: int, day: date
) -> list[CourseView]:
    """The client's courses with a free unit of this service, valid on the local ``day``."""
    return [
        view
        for view in await courses_of(db, client_id)
        if view.course.valid_on(day) and view.free(programme_id) > 0
    ]


async def course_of_booking(db: AsyncSession, booking_id: int) -> CourseView | None:
    """The course whose unit the booking holds (or used), if any."""
    row = await _course_row(db, booking_id)
    return None if row is None else (await _views(db, [row]))[0]


async def bought_item(db: AsyncSession, item: str) -> CourseView | None:
    row = await db.scalar(
        select(ClientCourse)
        .where(ClientCourse.item == item)
        .options(selectinload(ClientCourse.units))
    )
    return None if row is None else (await _views(db, [row]))[0]


# --- units as bookings use them (within the caller's transaction) ----------------------------


async def _load(db: AsyncSession, course_id: int) -> ClientCourse | None:
    return await db.scalar(
        select(ClientCourse)
        .where(ClientCourse.id == course_id)
        .options(selectinload(ClientCourse.units))
        .execution_options(populate_existing=True)
    )


async def _course_row(db: AsyncSession, booking_id: int) -> ClientCourse | None:
    course_id = await db.scalar(
        select(CourseUnit.course_id).where(CourseUnit.booking_id == booking_id)
    )
    return None if course_id is None else await _load(db, course_id)


async def take_unit(
    db: AsyncSession,
    *,
    course_id: int,
    client_id: int,
    booking_id: int,
    programme_id: int,
    day: date,
    now: datetime,
) -> None:
    """The booking takes the first free unit of its service (``day``: its local day)."""
    row = await _load(db, course_id)
    if row is None or row.client_id != client_id:
        raise CourseNotFound()
    await _write(db, row, _pure(row).book(programme_id, booking_id, day), now)


async def holds_unit(db: AsyncSession, booking_id: int) -> bool:
    """Whether a unit of a course is booked for (or was used by) the booking."""
    found = await db.scalar(select(CourseUnit.id).where(CourseUnit.booking_id == booking_id))
    return found is not None


async def release_unit(db: AsyncSession, booking_id: int, *, in_time: bool, now: datetime) -> None:
    """The booking was cancelled: in time its unit is free again, late the course's policy
    decides. Nothing when it held no unit."""
    row = await _course_row(db, booking_id)
    if row is not None:
        await _write(db, row, _pure(row).cancel(booking_id, in_time=in_time), now)


async def no_show_unit(db: AsyncSession, booking_id: int, now: datetime) -> None:
    row = await _course_row(db, booking_id)
    if row is not None:
        await _write(db, row, _pure(row).no_show(booking_id), now)


async def redeem_unit(db: AsyncSession, booking_id: int, now: datetime) -> bool:
    """Check-out: the booking's unit is used. False when it held none (a plain booking)."""
    row = await _course_row(db, booking_id)
    if row is None:
        return False
    await _write(db, row, _pure(row).redeem(booking_id), now)
    return True


async def _write(db: AsyncSession, row: ClientCourse, after: Course, now: datetime) -> None:
    """Write the units that changed, each only if it is still as it was read: otherwise
    another booking took it meanwhile (NoFreeCourseUnit; the caller's transaction is void)."""
    for stored, unit in zip(row.units, after.units, strict=True):
        if (stored.state, stored.booking_id, stored.forfeited) == (
            unit.state,
            unit.booking_id,
            unit.forfeited,
        ):
            continue
        guard = (
            CourseUnit.booking_id.is_(None)
            if stored.booking_id is None
            else CourseUnit.booking_id == stored.booking_id
        )
        try:
            written = await db.execute(
                update(CourseUnit)
                .where(CourseUnit.id == stored.id, CourseUnit.state == stored.state, guard)
                .values(
                    state=unit.state.value,
                    booking_id=unit.booking_id,
                    forfeited=unit.forfeited,
                    changed_at=now,
                )
                .execution_options(synchronize_session=False)
            )
        except IntegrityError:  # the booking took a unit of another course meanwhile
            raise AlreadyFromCourse() from None
        if written.rowcount != 1:
            raise NoFreeCourseUnit()
