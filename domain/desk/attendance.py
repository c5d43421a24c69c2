"""The front desk (seed 004, with attendance from seeds 000 and 003): a booking is checked in,
then checked out (its course unit redeemed, or its single price due), or marked a no-show;
a plain booking may move onto the client's course any time before check-out. Each use case
commits once: the attendance mark, the unit and the money change together or not at all.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.billing import credits, money, passes, payments
from domain.booking.bookings import load_booking
from domain.booking.client_views import BookingRef
from domain.courses import units as course_units
from domain.errors import (
    AlreadyCheckedIn,
    AlreadyCheckedOut,
    AlreadyFromCourse,
    BookingAlreadyCancelled,
    BookingNotFound,
    CheckInCodeUnknown,
    DomainError,
    InPackage,
    MarkedNoShow,
    NotCheckedIn,
    SessionNotStarted,
)
from domain.policy import Policy
from domain.storage.models import Booking, BookingStatus, PackageSlot

CODE_PREFIX = "ci_"  # t.me/<bot>?start=ci_<token>


@dataclass(frozen=True)
class CheckedOut:
    from_course: bool
    due: money.Money  # what the booking still owes (its single price, less what was paid)


async def _open_booking(db: AsyncSession, booking_id: int, client_id: int | None = None) -> Booking:
    """An active booking whose attendance is still open (staff: any client's)."""
    booking = await load_booking(db, booking_id)
    if booking is None or (client_id is not None and booking.client_id != client_id):
        raise BookingNotFound()
    if booking.status != BookingStatus.ACTIVE:
        raise BookingAlreadyCancelled()
    if booking.checked_out_at is not None:
        raise AlreadyCheckedOut()
    if booking.no_show_at is not None:
        raise MarkedNoShow()
    return booking


async def _voided(db: AsyncSession) -> None:
    await db.rollback()


async def convert_to_course(
    db: AsyncSession,
    *,
    booking_id: int,
    course_id: int,
    now: datetime,
    policy: Policy,
    client_id: int | None = None,
) -> None:
    """A plain booking becomes a course booking (by the client: ``client_id``; by staff:
    None): it takes a free unit of its service, and no longer costs its price — what is
    unpaid is waived, what was paid becomes credit, a pass entry goes back."""
    try:
        booking = await _open_booking(db, booking_id, client_id)
        await _convert(db, booking, course_id, now, policy)
    except DomainError:
        await _voided(db)
        raise
    await db.commit()


async def _convert(
    db: AsyncSession, booking: Booking, course_id: int, now: datetime, policy: Policy
) -> None:
    if await course_units.course_of_booking(db, booking.id) is not None:
        raise AlreadyFromCourse()
    if await db.get(PackageSlot, booking.id) is not None:
        raise InPackage()
    session = booking.session
    await course_units.take_unit(
        db,
        course_id=course_id,
        client_id=booking.client_id,
        booking_id=booking.id,
        programme_id=session.klass.programme_id,
        day=policy.local_day(session.starts_at),
        now=now,
    )
    await payments.settle_cancelled_booking(
        db,
        booking_id=booking.id,
        client_id=booking.client_id,
        in_time=True,
        now=now,
        reason="from course",
    )
    if booking.pass_id is not None:
        await passes.return_entry(db, booking.pass_id)
        booking.pass_id = None


async def _to_single(db: AsyncSession, booking: Booking, now: datetime, policy: Policy) -> None:
    """Staff chose not to redeem a course booking: its unit is free again and the booking
    costs its single price."""
    await course_units.release_unit(db, booking.id, in_time=True, now=now)
    await _charge_single_price(db, booking, now, policy)


async def _charge_single_price(
    db: AsyncSession, booking: Booking, now: datetime, policy: Policy
) -> None:
    """Charge the session's price unless the booking costs it already or a pass paid."""
    klass = booking.session.klass
    if not klass.price_minor or booking.pass_id is not None:
        return
    item = payments.booking_item(booking.id)
    lines = [e for e in await payments.entries(db, booking.client_id) if e.item == item]
    if lines:
        account = money.item_account(item, lines)
        if (account.charged - account.waived - account.credited).minor > 0:
            return  # it costs its price already (a waived or credited charge costs nothing)
    await payments.charge_booking(
        db,
        booking_id=booking.id,
        client_id=booking.client_id,
        price_minor=klass.price_minor,
        starts_at=booking.session.starts_at,
        policy=policy,
        now=now,
    )


async def check_in(
    db: AsyncSession,
    *,
    booking_id: int,
    now: datetime,
    policy: Policy,
    redeem: bool | None = None,
    course_id: int | None = None,
) -> None:
    """Staff check a client in. ``redeem`` answers "Redeem from course?": True moves a plain
    booking onto ``course_id``; False turns a course booking into a single one; None leaves
    the booking as it is."""
    try:
        booking = await _open_booking(db, booking_id)
        if booking.checked_in_at is not None:
            raise AlreadyCheckedIn()
        # marked first: of two desks checking in at once, the second stops here
        await _mark(db, booking.id, Booking.checked_in_at, now, AlreadyCheckedIn)
        held = await course_units.course_of_booking(db, booking.id)
        if redeem and held is None and course_id is not None:
            await _convert(db, booking, course_id, now, policy)
        elif redeem is False and held is not None:
            await _to_single(db, booking, now, policy)
    except DomainError:
        await _voided(db)
        raise
    await db.commit()


async def check_out(
    db: AsyncSession, *, booking_id: int, now: datetime, policy: Policy
) -> CheckedOut:
    """The visit is over: a course booking's unit is redeemed; a plain booking owes its single
    price (charged now if it was not yet). An attendance credit is used (once)."""
    try:
        booking = await _open_booking(db, booking_id)
        if booking.checked_in_at is None:
            raise NotCheckedIn()
        await _mark(db, booking.id, Booking.checked_out_at, now, AlreadyCheckedOut)
        from_course = await course_units.redeem_unit(db, booking.id, now)
        if not from_course:
            await _charge_single_price(db, booking, now, policy)
        programme = booking.session.klass.programme
        if programme.attendance_credits:
            await credits.count_booking(
                db, booking.id, booking.client_id, booking.session.starts_at, programme, policy
            )
    except DomainError:
        await _voided(db)
        raise
    await db.commit()
    due = await payments.booking_due(db, booking.client_id, booking.id)
    return CheckedOut(from_course, due.due if due else money.Money.zero(policy.currency))


async def mark_no_show(db: AsyncSession, *, booking_id: int, now: datetime, policy: Policy) -> None:
    """The client didn't come: once the session has begun, a booking not checked in is marked;
    its course unit follows the course's late policy (forfeited or free again)."""
    try:
        booking = await _open_booking(db, booking_id)
        if booking.checked_in_at is not None:
            raise AlreadyCheckedIn()
        if booking.session.starts_at > now:
            raise SessionNotStarted()
        await _mark(db, booking.id, Booking.no_show_at, now, MarkedNoShow)
        await course_units.no_show_unit(db, booking.id, now)
    except DomainError:
        await _voided(db)
        raise
    await db.commit()


async def _mark(
    db: AsyncSession, booking_id: int, column, now: datetime, taken: type[DomainError]
) -> None:
    """Set an attendance time once: a second tap (or a second desk) finds it set."""
    marked = await db.execute(
        update(Booking)
        .where(
            Booking.id == booking_id,
            Booking.status == BookingStatus.ACTIVE,
            column.is_(None),
        )
        .values({column.key: now})
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1:
        raise taken()


@dataclass(frozen=True)
class DeskState:
    """Where a booking stands at the desk."""

    booking_id: int
    client_id: int
    session_id: int
    programme_id: int
    programme_kind: str
    starts_at: datetime
    active: bool
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    no_show_at: datetime | None
    pass_id: int | None

    @property
    def open(self) -> bool:
        """Attendance may still change: active, not checked out, not a no-show."""
        return self.active and self.checked_out_at is None and self.no_show_at is None


async def desk_state(db: AsyncSession, booking_id: int) -> DeskState | None:
    booking = await load_booking(db, booking_id)
    if booking is None:
        return None
    programme = booking.session.klass.programme
    return DeskState(
        booking.id,
        booking.client_id,
        booking.session_id,
        programme.id,
        programme.kind,
        booking.session.starts_at,
        booking.status == BookingStatus.ACTIVE,
        booking.checked_in_at,
        booking.checked_out_at,
        booking.no_show_at,
        booking.pass_id,
    )


# --- the check-in code -------------------------------------------------------------------------


async def check_in_code(db: AsyncSession, *, booking_id: int, client_id: int) -> str:
    """The client's code for this booking (made on first ask, committed): shown at the desk
    as t.me/<bot>?start=ci_<code>."""
    booking = await db.get(Booking, booking_id)
    if booking is None or booking.client_id != client_id:
        raise BookingNotFound()
    if booking.status != BookingStatus.ACTIVE:
        raise BookingAlreadyCancelled()
    if booking.check_in_token is None:
        token = secrets.token_urlsafe(12)
        await db.execute(
            update(Booking)
            .where(Booking.id == booking_id, Booking.check_in_token.is_(None))
            .values(check_in_token=token)
        )
        await db.commit()
        booking = await db.get(Booking, booking_id, populate_existing=True)
    return booking.check_in_token


async def booking_of_code(db: AsyncSession, token: str) -> BookingRef:
    """The active booking a check-in code names (for staff)."""
    booking = None
    if token and len(token) <= 24:
        booking = await db.scalar(select(Booking).where(Booking.check_in_token == token))
    if booking is None or booking.status != BookingStatus.ACTIVE:
        raise CheckInCodeUnknown()
    return BookingRef(booking.id, booking.client_id, booking.session_id)
