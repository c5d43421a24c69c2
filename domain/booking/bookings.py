"""Use cases for a client's bookings: each takes a unit of work and plain values, commits once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from domain.billing import credits, passes, payments
from domain.booking import rules
from domain.booking.enrolment import ensure_eligible, join_programme, new_enrolment_status
from domain.booking.makeups import issue_makeup, return_makeup
from domain.booking.ongoing import Enrolled, take_class_offer
from domain.booking.outcomes import Booked, Cancelled, Waitlisted
from domain.booking.seats import load_session, release_seat, take_seat
from domain.booking.waitlist import claim_own_offer, join_waitlist
from domain.clients.record import ClientRef, remember_client
from domain.courses import units as course_units
from domain.errors import (
    AlreadyBooked,
    AlreadyCheckedIn,
    AlreadyCheckedOut,
    BookingAlreadyCancelled,
    BookingNotFound,
    DomainError,
    NeedsEnrolment,
    NoWaitingList,
    OfferExpired,
    OfferNotFound,
    PackageOnly,
    SessionAlreadyStarted,
    SessionFull,
    SessionNotFound,
)
from domain.notices import outbox
from domain.notices.events import Event
from domain.policy import DEFAULT_POLICY, Policy
from domain.storage import queries
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    EnrolmentStatus,
    ProgrammeClass,
    ProgrammeKind,
    WaitlistEntry,
    WaitStatus,
)


async def book_session(
    db: AsyncSession,
    *,
    client: ClientRef,
    session_id: int,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
    by_staff: bool = False,
    course_id: int | None = None,
) -> Booked:
    """Book one session; staff may go into the class's overload, clients never. With
    ``course_id`` a free unit of the client's course pays for it instead of its price."""
    session = await _bookable_session(db, session_id, now, by_staff=by_staff)
    if await claim_own_offer(db, client.id, session_id, now):
        # the client held an offer for this very session: its seat is theirs already
        return await _write_booking(
            db, client, session, now, policy, by_staff, seat_taken=True, course_id=course_id
        )
    if not await _has_room(db, client.id, session, now, by_staff=by_staff):
        raise SessionFull()
    return await _write_booking(
        db, client, session, now, policy, by_staff, seat_taken=False, course_id=course_id
    )


async def book_or_wait(
    db: AsyncSession,
    *,
    client: ClientRef,
    session_id: int,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> Booked | Waitlisted:
    """What a client's Book tap does: a place if there is one, else the waiting list.

    The same steps as book_session, so that the waiting list knows which kind of full it is.
    """
    session = await _bookable_session(db, session_id, now, by_staff=False)
    if await claim_own_offer(db, client.id, session_id, now):
        return await _write_booking(db, client, session, now, policy, False, seat_taken=True)
    if not await _has_room(db, client.id, session, now, by_staff=False):
        # full as this transaction read it, and the client holds no booking of it: the queue
        # goes on from what was read (it still refuses if the class has no waiting list)
        return await _wait(db, client, session_id, now, policy, checked=session)
    try:
        return await _write_booking(db, client, session, now, policy, False, seat_taken=False)
    except SessionFull:
        pass  # another tap took the last seat first; rolled back, so the queue reads it all again
    return await _wait(db, client, session_id, now, policy, checked=None)


async def _bookable_session(
    db: AsyncSession, session_id: int, now: datetime, *, by_staff: bool
) -> ClassSession:
    session = await load_session(db, session_id)
    if session is None:
        raise SessionNotFound()
    programme = session.klass.programme
    if programme.kind == ProgrammeKind.ONGOING and not by_staff:
        raise NeedsEnrolment(class_id=session.class_id)
    if session.starts_at <= now:
        raise SessionAlreadyStarted()
    return session


async def _has_room(
    db: AsyncSession, client_id: int, session: ClassSession, now: datetime, *, by_staff: bool
) -> bool:
    """False if the session is full for them; the other rules of a booking raise."""
    try:
        rules.ensure_can_book(
            starts_at=session.starts_at,
            now=now,
            capacity=session.klass.capacity,
            seats_taken=session.seats_taken,
            already_booked=await queries.has_active_booking(db, session.id, client_id),
            max_overload=session.klass.max_overload,
            by_staff=by_staff,
        )
    except SessionFull:
        return False
    return True


async def _wait(
    db: AsyncSession,
    client: ClientRef,
    session_id: int,
    now: datetime,
    policy: Policy,
    *,
    checked: ClassSession | None,
) -> Waitlisted:
    try:
        entry_id, position = await join_waitlist(
            db, client=client, session_id=session_id, now=now, policy=policy, checked=checked
        )
    except NoWaitingList:
        raise SessionFull() from None
    return Waitlisted(entry_id, position)


async def _ensure_within_limits(
    db: AsyncSession, client_id: int, session: ClassSession, policy: Policy
) -> None:
    """The class's per-day / per-week limit of bookings per client (local days)."""
    klass = session.klass
    if klass.max_per_day is None and klass.max_per_week is None:
        return
    starts = await db.scalars(
        select(ClassSession.starts_at)
        .join(Booking, Booking.session_id == ClassSession.id)
        .where(
            Booking.client_id == client_id,
            Booking.status == BookingStatus.ACTIVE,
            ClassSession.class_id == klass.id,
        )
    )
    rules.ensure_within_limits(
        day=policy.local_day(session.starts_at),
        booked_days=[policy.local_day(s) for s in starts],
        max_per_day=klass.max_per_day,
        max_per_week=klass.max_per_week,
    )


async def _write_booking(
    db: AsyncSession,
    client: ClientRef,
    session: ClassSession,
    now: datetime,
    policy: Policy,
    by_staff: bool,
    *,
    seat_taken: bool,
    course_id: int | None = None,
) -> Booked:
    programme = session.klass.programme
    rank = await remember_client(db, client, now)
    if session.klass.package_size and not by_staff:
        raise PackageOnly(size=session.klass.package_size)
    if not by_staff:
        await ensure_eligible(db, client.id, programme, now, policy, client_rank=rank)
        await _ensure_within_limits(db, client.id, session, policy)
        day = policy.local_day(session.starts_at)
        await credits.ensure_credit_for(db, client.id, programme, day, policy)
    enrolled = pending = False
    if programme.kind == ProgrammeKind.PAYG:
        status = new_enrolment_status(policy, by_staff=by_staff)
        enrolled = await join_programme(db, client.id, programme.id, now, status=status)
        pending = enrolled and status == EnrolmentStatus.PENDING
    if not seat_taken and not await take_seat(db, session.id, by_staff=by_staff):
        await db.rollback()
        raise SessionFull()
    booking = Booking(session_id=session.id, client_id=client.id, created_at=now, by_staff=by_staff)
    db.add(booking)
    try:
        await db.flush()
    except IntegrityError:
        # the same client won a race against themselves (two taps, two devices)
        await db.rollback()
        raise AlreadyBooked() from None
    await outbox.remind(
        db, [outbox.BookedSeat(booking.id, client.id, session.starts_at)], now, policy
    )
    pass_id, pass_problem = None, None
    if course_id is None:
        pass_id, pass_problem = await payments.pay_for_booking(
            db, booking=booking, session=session, policy=policy, now=now
        )
    else:
        try:
            await course_units.take_unit(
                db,
                course_id=course_id,
                client_id=client.id,
                booking_id=booking.id,
                programme_id=programme.id,
                day=policy.local_day(session.starts_at),
                now=now,
            )
        except DomainError:
            await db.rollback()
            raise
    # a client who books by other means no longer needs their place in the queue
    await db.execute(
        update(WaitlistEntry)
        .where(
            WaitlistEntry.session_id == session.id,
            WaitlistEntry.client_id == client.id,
            WaitlistEntry.status == WaitStatus.WAITING,
        )
        .values(status=WaitStatus.BOOKED, resolved_at=now)
    )
    await db.commit()
    card = await _card(db, booking.id, client.id)
    return Booked(
        card,
        enrolled=enrolled,
        enrolment_pending=pending,
        pass_left=await passes.entries_left(db, pass_id) if pass_id else None,
        pass_problem=pass_problem,
    )


async def cancel_booking(
    db: AsyncSession,
    *,
    client_id: int,
    booking_id: int,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> Cancelled:
    booking = await load_booking(db, booking_id)
    if booking is None or booking.client_id != client_id:
        raise BookingNotFound()
    events, makeup = await cancel_loaded(db, booking, now, policy)
    await db.commit()
    return Cancelled(await _card(db, booking_id, client_id), events, makeup=makeup)


async def load_booking(db: AsyncSession, booking_id: int) -> Booking | None:
    """The booking with its session, class and programme."""
    return await db.scalar(
        select(Booking)
        .where(Booking.id == booking_id)
        .options(
            joinedload(Booking.session)
            .joinedload(ClassSession.klass)
            .joinedload(ProgrammeClass.programme)
        )
    )


async def cancel_loaded(
    db: AsyncSession, booking: Booking, now: datetime, policy: Policy
) -> tuple[list[Event], bool]:
    """Cancel under the policy, within the caller's transaction: make-up credits, the freed
    place to the waiting list, reminders cancelled, staff told if it is close. Returns the
    events and whether a make-up credit was given."""
    session = booking.session
    programme = session.klass.programme
    rules.ensure_can_cancel(
        is_active=booking.status == BookingStatus.ACTIVE, starts_at=session.starts_at, now=now
    )
    if booking.checked_out_at is not None:  # attended: its course unit is redeemed for good
        raise AlreadyCheckedOut()
    if booking.checked_in_at is not None:  # here at the desk: staff settle it there
        raise AlreadyCheckedIn()
    cancelled = await db.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == BookingStatus.ACTIVE)
        .values(status=BookingStatus.CANCELLED, cancelled_at=now)
    )
    if cancelled.rowcount == 0:  # cancelled meanwhile from another device
        await db.rollback()
        raise BookingAlreadyCancelled()
    in_time = rules.cancelled_in_time(
        starts_at=session.starts_at, now=now, notice_hours=programme.cancel_notice_hours
    )
    makeup = await issue_makeup(
        db, booking=booking, session=session, programme=programme, now=now, policy=policy
    )
    await return_makeup(db, booking, in_time=in_time)
    if booking.pass_id is not None and in_time:
        await passes.return_entry(db, booking.pass_id)
    await course_units.release_unit(db, booking.id, in_time=in_time, now=now)
    await payments.settle_cancelled_booking(
        db, booking_id=booking.id, client_id=booking.client_id, in_time=in_time, now=now
    )
    events = await release_seat(db, session.id, now, policy)
    seat = outbox.BookedSeat(booking.id, booking.client_id, session.starts_at)
    await outbox.booking_cancelled(db, [seat], now, policy)
    return events, makeup


async def _card(db: AsyncSession, booking_id: int, client_id: int) -> queries.BookingCard:
    card = await queries.booking_card(db, booking_id, client_id)
    assert card is not None, "a booking just written must be readable"
    return card


async def take_offer(
    db: AsyncSession,
    *,
    client: ClientRef,
    entry_id: int,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> Booked | Enrolled:
    """The client taps Take on an offered place."""
    entry = await db.get(WaitlistEntry, entry_id)
    if entry is None or entry.client_id != client.id or entry.status != WaitStatus.OFFERED:
        raise OfferNotFound()
    if rules.offer_has_expired(entry.offer_expires_at, now):
        raise OfferExpired()
    if entry.class_id is not None:
        return await take_class_offer(db, client=client, entry=entry, now=now, policy=policy)
    return await book_session(
        db, client=client, session_id=entry.session_id, now=now, policy=policy
    )
