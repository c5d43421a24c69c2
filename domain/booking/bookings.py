"""Use cases for a client's bookings: each takes a unit of work and plain values, commits once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from domain.billing import credits, passes, payments
from domain.booking import client_views, rules
from domain.booking.actor import Actor
from domain.booking.enrolment import ensure_eligible, join_programme, new_enrolment_status
from domain.booking.makeups import issue_makeup, return_makeup
from domain.booking.ongoing import Enrolled, take_class_offer
from domain.booking.outcomes import Booked, Cancelled, SessionLabel, Waitlisted
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
    NoWaitingList,
    OfferExpired,
    OfferNotFound,
    PackageOnly,
    SessionCancelledByStaff,
    SessionFull,
    SessionNotFound,
)
from domain.notices import outbox
from domain.notices.events import Event
from domain.policy import DEFAULT_POLICY, Policy
from domain.storage.db import rolled_back_unless_committed
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
    actor: Actor | None = None,
    course_id: int | None = None,
) -> Booked:
    """Book one session, as the client (the default) or as staff for them: staff may go into
    the class's overload, clients never. With ``course_id`` a free unit of the client's course
    pays for it instead of its price."""
    actor = actor or Actor.client(client.id)
    async with rolled_back_unless_committed(db):
        opening = await _open_booking(db, client, session_id, actor, now, policy)
        if not opening.has_place:
            raise SessionFull()
        return await _write_booking(db, opening, course_id=course_id)


async def book_or_wait(
    db: AsyncSession,
    *,
    client: ClientRef,
    session_id: int,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> Booked | Waitlisted:
    """What a client's Book tap does: a place if there is one, else the waiting list."""
    actor = Actor.client(client.id)
    async with rolled_back_unless_committed(db):
        opening = await _open_booking(db, client, session_id, actor, now, policy)
        if not opening.has_place:
            # full as this transaction read it, and the client holds no booking of it: the queue
            # goes on from what was read (it still refuses if the class has no waiting list)
            return await _wait(db, opening, checked=True)
        try:
            return await _write_booking(db, opening)
        except SessionFull:
            pass  # another tap took the last seat first: rolled back as the unit ends
    async with rolled_back_unless_committed(db):
        return await _wait(db, opening, checked=False)  # the queue reads it all again


@dataclass(frozen=True)
class _Opening:
    """A booking under way, as its opening steps found it."""

    client: ClientRef
    session_id: int
    actor: Actor
    now: datetime
    policy: Policy
    session: ClassSession  # as read in the transaction (a rollback expires it)
    label: SessionLabel
    seat_held: bool  # the client's own offer held a seat of it for them: theirs now
    has_room: bool

    @property
    def has_place(self) -> bool:
        return self.seat_held or self.has_room


async def _open_booking(
    db: AsyncSession,
    client: ClientRef,
    session_id: int,
    actor: Actor,
    now: datetime,
    policy: Policy,
) -> _Opening:
    """The steps every booking starts with, in the transaction that writes it: the session,
    the seat an offer of the client's holds for them, whether it is open to them, its room."""
    session = await load_session(db, session_id)
    if session is None:
        raise SessionNotFound()
    if session.cancelled_at is not None:
        raise SessionCancelledByStaff()
    seat_held = await claim_own_offer(db, client.id, session_id, now)
    # with an offer claimed, a booking of theirs is refused by the unique index as it is written
    booked = not seat_held and await client_views.has_active_booking(db, session_id, client.id)
    klass = session.klass
    ongoing = klass.programme.kind == ProgrammeKind.ONGOING
    rules.Bookable(klass.id, session.starts_at, ongoing, booked).ensure_open_to(actor, now)
    has_room = rules.has_room(
        capacity=klass.capacity,
        seats_taken=session.seats_taken,
        max_overload=klass.max_overload,
        by_staff=actor.by_staff,
    )
    label = SessionLabel(klass.programme.title, klass.title, session.starts_at)
    return _Opening(client, session_id, actor, now, policy, session, label, seat_held, has_room)


async def _wait(db: AsyncSession, opening: _Opening, *, checked: bool) -> Waitlisted:
    """Queue for the full session; ``checked``: as this transaction read it, else afresh."""
    try:
        entry_id, position = await join_waitlist(
            db,
            client=opening.client,
            session_id=opening.session_id,
            now=opening.now,
            policy=opening.policy,
            checked=opening.session if checked else None,
        )
    except NoWaitingList:
        raise SessionFull() from None
    return Waitlisted(entry_id, position, opening.label)


async def _write_booking(
    db: AsyncSession, opening: _Opening, *, course_id: int | None = None
) -> Booked:
    """Write the booking the opening found a place for, its reminders and its payment, and
    commit; the unit it runs in rolls everything back if a step refuses."""
    client, session, by_staff = opening.client, opening.session, opening.actor.by_staff
    rank = await remember_client(db, client, opening.now)
    if not by_staff:
        await _ensure_client_may_book(db, opening, rank)
    enrolled, pending = await _join_payg_programme(db, opening)
    if not opening.seat_held and not await take_seat(db, session.id, by_staff=by_staff):
        raise SessionFull()
    booking = await _add_booking(db, opening)
    seat = outbox.BookedSeat(booking.id, client.id, session.starts_at)
    await outbox.remind(db, [seat], opening.now, opening.policy)
    pass_id, pass_problem = await _pay(db, opening, booking, course_id)
    await resolve_own_wait(db, opening.client.id, opening.session.id, opening.now)
    booked = Booked(
        _written_card(session, booking.id),
        enrolled=enrolled,
        enrolment_pending=pending,
        pass_left=await passes.entries_left(db, pass_id) if pass_id else None,
        pass_problem=pass_problem,
    )
    await db.commit()
    return booked


async def _ensure_client_may_book(db: AsyncSession, opening: _Opening, rank: int) -> None:
    """What a client's own booking must meet and staff override."""
    session, client_id, policy = opening.session, opening.client.id, opening.policy
    klass = session.klass
    if klass.package_size:
        raise PackageOnly(size=klass.package_size)
    await ensure_eligible(db, client_id, klass.programme, opening.now, policy, client_rank=rank)
    await ensure_within_limits(db, client_id, session, policy)
    day = policy.local_day(session.starts_at)
    await credits.ensure_credit_for(db, client_id, klass.programme, day, policy)


async def ensure_within_limits(
    db: AsyncSession,
    client_id: int,
    session: ClassSession,
    policy: Policy,
    *,
    besides: int | None = None,
) -> None:
    """The class's per-day / per-week limit of bookings per client (local days), for a
    booking of ``session``; ``besides``: a booking of the client's not to count (the one
    being moved there)."""
    klass = session.klass
    if klass.max_per_day is None and klass.max_per_week is None:
        return
    starts = await db.scalars(
        select(ClassSession.starts_at)
        .join(Booking, Booking.session_id == ClassSession.id)
        .where(
            Booking.client_id == client_id,
            Booking.status == BookingStatus.ACTIVE,
            Booking.id != besides if besides is not None else true(),
            ClassSession.class_id == klass.id,
        )
    )
    rules.ensure_within_limits(
        day=policy.local_day(session.starts_at),
        booked_days=[policy.local_day(s) for s in starts],
        max_per_day=klass.max_per_day,
        max_per_week=klass.max_per_week,
    )


async def _join_payg_programme(db: AsyncSession, opening: _Opening) -> tuple[bool, bool]:
    """A first booking in a pay-as-you-go programme enrols the client in it: whether it did,
    and whether that enrolment waits for staff to confirm it."""
    programme = opening.session.klass.programme
    if programme.kind != ProgrammeKind.PAYG:
        return False, False
    status = new_enrolment_status(opening.policy, by_staff=opening.actor.by_staff)
    enrolled = await join_programme(db, opening.client.id, programme.id, opening.now, status=status)
    return enrolled, enrolled and status == EnrolmentStatus.PENDING


async def _add_booking(db: AsyncSession, opening: _Opening) -> Booking:
    booking = Booking(
        session_id=opening.session.id,
        client_id=opening.client.id,
        created_at=opening.now,
        by_staff=opening.actor.by_staff,
    )
    db.add(booking)
    try:
        await db.flush()
    except IntegrityError:
        # the same client won a race against themselves (two taps, two devices)
        raise AlreadyBooked() from None
    return booking


async def _pay(
    db: AsyncSession, opening: _Opening, booking: Booking, course_id: int | None
) -> tuple[int | None, DomainError | None]:
    """A unit of the client's course pays when they book with it; else a pass or the price.
    Returns the pass used, or None and why the client's pass could not pay."""
    session, policy = opening.session, opening.policy
    if course_id is None:
        return await payments.pay_for_booking(
            db, booking=booking, session=session, policy=policy, now=opening.now
        )
    await course_units.take_unit(
        db,
        course_id=course_id,
        client_id=opening.client.id,
        booking_id=booking.id,
        programme_id=session.klass.programme.id,
        day=policy.local_day(session.starts_at),
        now=opening.now,
    )
    return None, None


async def resolve_own_wait(
    db: AsyncSession, client_id: int, session_id: int, now: datetime
) -> None:
    """A client who gets a place by other means (booking it, moving a booking there) no
    longer needs their place in the session's queue."""
    await db.execute(
        update(WaitlistEntry)
        .where(
            WaitlistEntry.session_id == session_id,
            WaitlistEntry.client_id == client_id,
            WaitlistEntry.status == WaitStatus.WAITING,
        )
        .values(status=WaitStatus.BOOKED, resolved_at=now)
    )


def _written_card(session: ClassSession, booking_id: int) -> client_views.BookingCard:
    klass = session.klass
    return client_views.BookingCard(
        id=booking_id,
        session_id=session.id,
        programme_title=klass.programme.title,
        class_title=klass.title,
        starts_at=session.starts_at,
        duration_minutes=klass.duration_minutes,
        price_minor=klass.price_minor,
        is_active=True,
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
    await withdraw(db, booking, now)
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


async def withdraw(db: AsyncSession, booking: Booking, now: datetime, **marks: object) -> None:
    """The first step of every cancellation, within the caller's transaction: the booking is
    still ahead, not at the desk, and still active as it is marked cancelled (``marks``: more
    columns written with it, e.g. who cancelled it). Raises, rolling back, if not."""
    rules.ensure_can_cancel(
        is_active=booking.status == BookingStatus.ACTIVE,
        starts_at=booking.session.starts_at,
        now=now,
    )
    if booking.checked_out_at is not None:  # attended: its course unit is redeemed for good
        raise AlreadyCheckedOut()
    if booking.checked_in_at is not None:  # here at the desk: staff settle it there
        raise AlreadyCheckedIn()
    cancelled = await db.execute(
        update(Booking)
        .where(
            Booking.id == booking.id,
            Booking.status == BookingStatus.ACTIVE,
            # moved meanwhile (domain/booking/moves.py): its seat is another session's now
            Booking.session_id == booking.session_id,
        )
        .values(status=BookingStatus.CANCELLED, cancelled_at=now, **marks)
    )
    if cancelled.rowcount == 0:  # cancelled meanwhile from another device
        await db.rollback()
        raise BookingAlreadyCancelled()


async def _card(db: AsyncSession, booking_id: int, client_id: int) -> client_views.BookingCard:
    card = await client_views.booking_card(db, booking_id, client_id)
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
