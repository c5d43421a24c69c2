"""Multi and single sessions made from session types (seed 001), and staff reservations.

A multi session is a class of the type's programme: its spots are sessions, one client each
when they run one after another, or one session with a seat per spot when they run all at the
same time. Clients book a spot like any session (waiting list, payment, reminders included).

A single session is one client's: staff make it for them (or for later) and may move it until
the client confirms. Staff reserve a spot for a client (a single session's, or one in a multi
session): the spot is taken at once and the client is asked to Confirm or Decline (and Pay);
a reservation not confirmed within the type's hold is released, and the spot returns.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain import outbox, spots
from domain.booking import book_session, cancel_loaded, load_booking
from domain.clients import ClientRef, remember_client
from domain.errors import (
    DomainError,
    NotATypedSession,
    ReservationNotFound,
    SessionAlreadyStarted,
    SessionConfirmed,
    SessionNotFound,
    SessionTypeNotFound,
    WrongSessionKind,
)
from domain.events import BookingReleased, Event, ReservationRequest
from domain.policy import Policy
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    ProgrammeClass,
    SessionKind,
    SessionType,
    TypedSession,
)


@dataclass(frozen=True)
class Made:
    class_id: int
    link_token: str
    starts: list[datetime]  # UTC
    seats_each: int


async def session_type(db: AsyncSession, key: str) -> SessionType:
    found = await db.scalar(select(SessionType).where(SessionType.key == key))
    if found is None:
        raise SessionTypeNotFound()
    return found


async def make_multi(
    db: AsyncSession,
    *,
    type_key: str,
    first_local: datetime,
    count: int,
    together: bool,
    now: datetime,
    policy: Policy,
    title: str | None = None,
) -> Made:
    """A multi session of ``count`` spots from ``first_local`` (the business's clock)."""
    kind = await session_type(db, type_key)
    if kind.kind != SessionKind.MULTI:
        raise WrongSessionKind()
    first = spots.local_start(first_local, policy.zone)
    starts = spots.spot_starts(
        first,
        count,
        duration_minutes=kind.duration_minutes,
        break_minutes=kind.break_minutes,
        together=together,
        now=now,
    )
    seats = count if together else 1
    made = await _make_class(db, kind, title or kind.name, seats, together, now, listed=True)
    db.add_all(ClassSession(class_id=made.class_id, starts_at=s) for s in starts)
    await db.commit()
    return Made(made.class_id, made.link_token, starts, seats)


async def add_spots(
    db: AsyncSession,
    *,
    class_id: int,
    first_local: datetime,
    count: int,
    now: datetime,
    policy: Policy,
) -> list[datetime]:
    """More spots for a multi session (the same or another day), none overlapping its own."""
    typed, kind = await _typed(db, class_id)
    if kind.kind != SessionKind.MULTI:
        raise WrongSessionKind()
    first = spots.local_start(first_local, policy.zone)
    starts = spots.spot_starts(
        first,
        1 if typed.spots_together else count,
        duration_minutes=kind.duration_minutes,
        break_minutes=kind.break_minutes,
        now=now,
    )
    existing = list(
        await db.scalars(select(ClassSession.starts_at).where(ClassSession.class_id == class_id))
    )
    spots.ensure_no_overlap(
        existing, starts, duration_minutes=kind.duration_minutes, break_minutes=kind.break_minutes
    )
    db.add_all(ClassSession(class_id=class_id, starts_at=s) for s in starts)
    await db.commit()
    return starts


@dataclass(frozen=True)
class SingleMade:
    class_id: int
    session_id: int
    starts_at: datetime
    booking_id: int | None  # the client's reservation, when made for a client


async def make_single(
    db: AsyncSession,
    *,
    type_key: str,
    at_local: datetime,
    client: ClientRef | None,
    now: datetime,
    policy: Policy,
) -> SingleMade:
    """A single session at ``at_local``, reserved for ``client`` (asked to confirm) or for
    someone staff name later. Not listed in the catalog."""
    kind = await session_type(db, type_key)
    if kind.kind != SessionKind.SINGLE:
        raise WrongSessionKind()
    [starts_at] = spots.spot_starts(
        spots.local_start(at_local, policy.zone),
        1,
        duration_minutes=kind.duration_minutes,
        break_minutes=kind.break_minutes,
        now=now,
    )
    made = await _make_class(db, kind, kind.name, 1, False, now, listed=False)
    session = ClassSession(class_id=made.class_id, starts_at=starts_at)
    db.add(session)
    await db.commit()
    booking_id = None
    if client is not None:
        booking_id = await reserve(db, session_id=session.id, client=client, now=now, policy=policy)
    return SingleMade(made.class_id, session.id, starts_at, booking_id)


async def reserve(
    db: AsyncSession, *, session_id: int, client: ClientRef, now: datetime, policy: Policy
) -> int:
    """Staff take a spot for the client (their price is charged as for any booking); the
    client is asked to confirm within the type's hold. Returns the booking."""
    row = await db.execute(
        select(ClassSession, SessionType)
        .join(TypedSession, TypedSession.class_id == ClassSession.class_id)
        .join(SessionType, SessionType.id == TypedSession.type_id)
        .where(ClassSession.id == session_id)
    )
    found = row.first()
    if found is None:
        raise NotATypedSession()
    _session, kind = found
    await remember_client(db, client, now)
    booked = await book_session(
        db, client=client, session_id=session_id, now=now, policy=policy, by_staff=True
    )
    hold_until = now + timedelta(minutes=kind.hold_minutes)
    await db.execute(
        update(Booking).where(Booking.id == booked.card.id).values(hold_until=hold_until)
    )
    request = ReservationRequest(client.id, booked.card.id, booked.card.starts_at, hold_until)
    await outbox.record(db, [request], now)
    await db.commit()
    return booked.card.id


async def answer_reservation(
    db: AsyncSession,
    *,
    client_id: int,
    booking_id: int,
    confirm: bool,
    now: datetime,
    policy: Policy,
) -> list[Event]:
    """The client confirms (the spot is theirs; a single session's time is then fixed) or
    declines (the spot goes back). Someone else's, or an answered one, reads as not found."""
    booking = await load_booking(db, booking_id)
    if (
        booking is None
        or booking.client_id != client_id
        or booking.status != BookingStatus.ACTIVE
        or booking.hold_until is None
        or booking.confirmed_at is not None
    ):
        raise ReservationNotFound()
    if booking.session.starts_at <= now:
        raise SessionAlreadyStarted()
    if confirm:
        answered = await db.execute(
            update(Booking)
            .where(Booking.id == booking_id, Booking.confirmed_at.is_(None))
            .values(confirmed_at=now)
        )
        if answered.rowcount != 1:
            raise ReservationNotFound()
        await db.commit()
        return []
    events, _makeup = await cancel_loaded(db, booking, now, policy)
    await db.commit()
    return events


async def release_reservations(
    db: AsyncSession, now: datetime, policy: Policy, *, batch: int = 100
) -> list[Event]:
    """Periodic job: reservations not confirmed in time are released; the client is told."""
    due = list(
        await db.scalars(
            select(Booking.id)
            .where(
                Booking.status == BookingStatus.ACTIVE,
                Booking.hold_until <= now,
                Booking.confirmed_at.is_(None),
            )
            .order_by(Booking.hold_until, Booking.id)
            .limit(batch)
        )
    )
    events: list[Event] = []
    for booking_id in due:
        booking = await load_booking(db, booking_id)
        if booking is None or booking.confirmed_at is not None:
            continue
        try:
            freed, _makeup = await cancel_loaded(db, booking, now, policy)
        except DomainError:  # cancelled or begun meanwhile
            await db.rollback()
            continue
        released = BookingReleased(booking.client_id, booking.id, reservation=True)
        await outbox.record(db, [released], now)
        await db.commit()
        events += [released, *freed]
    return events


async def move_single(
    db: AsyncSession, *, session_id: int, at_local: datetime, now: datetime, policy: Policy
) -> datetime:
    """Staff change a single session's time, until its client confirms it."""
    session = await db.get(ClassSession, session_id)
    if session is None:
        raise SessionNotFound()
    _typed_row, kind = await _typed(db, session.class_id)
    if kind.kind != SessionKind.SINGLE:
        raise WrongSessionKind()
    if session.starts_at <= now:
        raise SessionAlreadyStarted()
    [starts_at] = spots.spot_starts(
        spots.local_start(at_local, policy.zone),
        1,
        duration_minutes=kind.duration_minutes,
        break_minutes=kind.break_minutes,
        now=now,
    )
    booking = await db.scalar(
        select(Booking).where(
            Booking.session_id == session_id, Booking.status == BookingStatus.ACTIVE
        )
    )
    if booking is not None and booking.confirmed_at is not None:
        raise SessionConfirmed()
    moved = await db.execute(
        update(ClassSession)
        .where(ClassSession.id == session_id)
        .values(starts_at=starts_at)
        .execution_options(synchronize_session=False)
    )
    assert moved.rowcount == 1
    if booking is not None:
        seat = outbox.BookedSeat(booking.id, booking.client_id, starts_at)
        await outbox.move(db, seat, now, policy)
        hold = now + timedelta(minutes=kind.hold_minutes)
        await db.execute(update(Booking).where(Booking.id == booking.id).values(hold_until=hold))
        # asked again: the new time needs its own yes
        request = ReservationRequest(booking.client_id, booking.id, starts_at, hold)
        await outbox.record(db, [request], now)
    await db.commit()
    return starts_at


async def spot_at(db: AsyncSession, class_id: int, at_local: datetime, policy: Policy) -> int:
    """The spot of a multi session starting at ``at_local`` (the business's clock)."""
    await _typed(db, class_id)
    starts_at = spots.local_start(at_local, policy.zone)
    found = await db.scalar(
        select(ClassSession.id).where(
            ClassSession.class_id == class_id, ClassSession.starts_at == starts_at
        )
    )
    if found is None:
        raise SessionNotFound()
    return found


async def _typed(db: AsyncSession, class_id: int) -> tuple[TypedSession, SessionType]:
    row = (
        await db.execute(
            select(TypedSession, SessionType)
            .join(SessionType, SessionType.id == TypedSession.type_id)
            .where(TypedSession.class_id == class_id)
        )
    ).first()
    if row is None:
        raise NotATypedSession()
    return row[0], row[1]


async def _make_class(
    db: AsyncSession,
    kind: SessionType,
    title: str,
    seats: int,
    together: bool,
    now: datetime,
    *,
    listed: bool,
) -> Made:
    token = secrets.token_urlsafe(9)  # 12 characters: t.me/<bot>?start=c_<token>
    klass = ProgrammeClass(
        programme_id=kind.programme_id,
        key=f"s-{token}"[:40],
        title=title[:100],
        capacity=seats,
        duration_minutes=kind.duration_minutes,
        price_minor=kind.price_minor,
        listed=listed,
    )
    db.add(klass)
    await db.flush()
    db.add(
        TypedSession(
            class_id=klass.id,
            type_id=kind.id,
            spots_together=together,
            link_token=token,
            created_at=now,
        )
    )
    await db.flush()
    return Made(klass.id, token, [], seats)
