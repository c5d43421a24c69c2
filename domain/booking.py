"""Use cases for a client's bookings: each takes a unit of work and plain values, commits once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from domain import rules
from domain.clients import ClientRef, remember_client
from domain.enrolment import ensure_eligible, join_programme
from domain.errors import (
    AlreadyBooked,
    BookingAlreadyCancelled,
    BookingNotFound,
    NeedsEnrolment,
    NoWaitingList,
    OfferExpired,
    OfferNotFound,
    SessionFull,
    SessionNotFound,
)
from domain.events import Event
from domain.policy import DEFAULT_POLICY, Policy
from domain.seats import release_seat, take_seat
from domain.storage import queries
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    ProgrammeClass,
    ProgrammeKind,
    WaitlistEntry,
    WaitStatus,
)
from domain.waitlist import claim_own_offer, join_waitlist


@dataclass(frozen=True)
class Booked:
    card: queries.BookingCard
    enrolled: bool = False  # this first booking also enrolled them in the programme


@dataclass(frozen=True)
class Waitlisted:
    entry_id: int
    position: int


@dataclass(frozen=True)
class Cancelled:
    card: queries.BookingCard
    events: list[Event] = field(default_factory=list)


async def load_session(db: AsyncSession, session_id: int) -> ClassSession | None:
    return await db.scalar(
        select(ClassSession)
        .where(ClassSession.id == session_id)
        .options(joinedload(ClassSession.klass).joinedload(ProgrammeClass.programme))
    )


async def book_session(
    db: AsyncSession,
    *,
    client: ClientRef,
    session_id: int,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
    by_staff: bool = False,
) -> Booked:
    """Book one session; staff may go into the class's overload, clients never."""
    session = await load_session(db, session_id)
    if session is None:
        raise SessionNotFound()
    programme = session.klass.programme
    if programme.kind == ProgrammeKind.ONGOING and not by_staff:
        raise NeedsEnrolment(class_id=session.class_id)
    if await claim_own_offer(db, client.id, session_id, now):
        # the client held an offer for this very session: its seat is theirs already
        return await _write_booking(db, client, session, now, policy, by_staff, seat_taken=True)
    rules.ensure_can_book(
        starts_at=session.starts_at,
        now=now,
        capacity=session.klass.capacity,
        seats_taken=session.seats_taken,
        already_booked=await queries.has_active_booking(db, session_id, client.id),
        max_overload=session.klass.max_overload,
        by_staff=by_staff,
    )
    return await _write_booking(db, client, session, now, policy, by_staff, seat_taken=False)


async def book_or_wait(
    db: AsyncSession,
    *,
    client: ClientRef,
    session_id: int,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> Booked | Waitlisted:
    """What a client's Book tap does: a place if there is one, else the waiting list."""
    try:
        return await book_session(db, client=client, session_id=session_id, now=now, policy=policy)
    except SessionFull:
        session = await load_session(db, session_id)
        if session is None or not session.klass.waiting_list:
            raise
    try:
        entry_id, position = await join_waitlist(
            db, client=client, session_id=session_id, now=now, policy=policy
        )
    except NoWaitingList:
        raise SessionFull() from None
    return Waitlisted(entry_id, position)


async def _write_booking(
    db: AsyncSession,
    client: ClientRef,
    session: ClassSession,
    now: datetime,
    policy: Policy,
    by_staff: bool,
    *,
    seat_taken: bool,
) -> Booked:
    programme = session.klass.programme
    await remember_client(db, client, now)
    if not by_staff:
        await ensure_eligible(db, client.id, programme, now, policy)
    enrolled = False
    if programme.kind == ProgrammeKind.PAYG:
        enrolled = await join_programme(db, client.id, programme.id, now)
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
    return Booked(await _card(db, booking.id, client.id), enrolled=enrolled)


async def cancel_booking(
    db: AsyncSession, *, client_id: int, booking_id: int, now: datetime
) -> Cancelled:
    card = await queries.booking_card(db, booking_id, client_id)
    if card is None:
        raise BookingNotFound()
    rules.ensure_can_cancel(is_active=card.is_active, starts_at=card.starts_at, now=now)
    cancelled = await db.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.status == BookingStatus.ACTIVE)
        .values(status=BookingStatus.CANCELLED, cancelled_at=now)
    )
    if cancelled.rowcount == 0:  # cancelled meanwhile from another device
        await db.rollback()
        raise BookingAlreadyCancelled()
    events = await release_seat(db, card.session_id, now)
    await db.commit()
    return Cancelled(await _card(db, booking_id, client_id), events)


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
) -> Booked:
    """The client taps Take on an offered place."""
    entry = await db.get(WaitlistEntry, entry_id)
    if entry is None or entry.client_id != client.id or entry.session_id is None:
        raise OfferNotFound()
    if entry.status != WaitStatus.OFFERED:
        raise OfferNotFound()
    if rules.offer_has_expired(entry.offer_expires_at, now):
        raise OfferExpired()
    return await book_session(
        db, client=client, session_id=entry.session_id, now=now, policy=policy
    )
