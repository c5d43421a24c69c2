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

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.billing.payments import charge_booking
from domain.booking.actor import Actor, Override
from domain.booking.bookings import book_session, cancel_loaded, load_booking
from domain.clients.record import ClientRef, remember_client
from domain.errors import (
    DomainError,
    NotATypedSession,
    PackageChoiceNeeded,
    PackageOptionNotFound,
    ReservationNotFound,
    SessionAlreadyStarted,
    SessionConfirmed,
    SessionNotFound,
    SessionTypeNotFound,
    WrongSessionKind,
)
from domain.notices import outbox
from domain.notices.events import BookingReleased, Event, ReservationRequest
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
from domain.timetable import spots


@dataclass(frozen=True)
class Made:
    class_id: int
    link_token: str
    starts: list[datetime]  # UTC
    seats_each: int


@dataclass(frozen=True)
class PackageOption:
    """What a single session type offers for a price (seed 001's Package Option)."""

    key: str
    name: str
    price_minor: int
    description: str = ""


def package_options(kind: SessionType) -> tuple[PackageOption, ...]:
    return tuple(PackageOption(**option) for option in json.loads(kind.packages or "[]"))


def stored_packages(options: tuple[PackageOption, ...]) -> str | None:
    """SessionType.packages for these options (the catalog import writes it)."""
    return json.dumps([vars(option) for option in options]) if options else None


def _option(kind: SessionType, key: str) -> PackageOption:
    options = package_options(kind)
    for option in options:
        if option.key == key:
            return option
    raise PackageOptionNotFound(keys=", ".join(o.key for o in options) or "-")


def _agree(typed: TypedSession, klass: ProgrammeClass, option: PackageOption) -> None:
    """The session is for this package: its price is what the client is charged."""
    typed.package_key, typed.package_name = option.key, option.name
    klass.price_minor = option.price_minor or None


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
    package_key: str | None = None,
) -> SingleMade:
    """A single session at ``at_local``, reserved for ``client`` (asked to confirm) or for
    someone staff name later. Not listed in the catalog. Of a type with package options,
    staff may name the package (a type with one has it chosen); else the client picks one
    when confirming, and nothing is charged until then."""
    kind = await session_type(db, type_key)
    if kind.kind != SessionKind.SINGLE:
        raise WrongSessionKind()
    options = package_options(kind)
    if package_key is not None:
        chosen = _option(kind, package_key)
    else:
        chosen = options[0] if len(options) == 1 else None
    [starts_at] = spots.spot_starts(
        spots.local_start(at_local, policy.zone),
        1,
        duration_minutes=kind.duration_minutes,
        break_minutes=kind.break_minutes,
        now=now,
    )
    made = await _make_class(db, kind, kind.name, 1, False, now, listed=False)
    if options:
        typed, klass = await _typed_class(db, made.class_id)
        klass.price_minor = None  # nothing to pay before a package is agreed
        if chosen is not None:
            _agree(typed, klass, chosen)
    session = ClassSession(class_id=made.class_id, starts_at=starts_at)
    db.add(session)
    await db.commit()
    booking_id = None
    if client is not None:
        booking_id = await reserve(db, session_id=session.id, client=client, now=now, policy=policy)
    return SingleMade(made.class_id, session.id, starts_at, booking_id)


async def reserve(
    db: AsyncSession,
    *,
    session_id: int,
    client: ClientRef,
    now: datetime,
    policy: Policy,
    package_key: str | None = None,
) -> int:
    """Staff take a spot for the client (their price is charged as for any booking); the
    client is asked to confirm within the type's hold. Returns the booking. ``package_key``
    agrees a single session's package first (not one already agreed on)."""
    row = await db.execute(
        select(ClassSession, SessionType)
        .join(TypedSession, TypedSession.class_id == ClassSession.class_id)
        .join(SessionType, SessionType.id == TypedSession.type_id)
        .where(ClassSession.id == session_id)
    )
    found = row.first()
    if found is None:
        raise NotATypedSession()
    session, kind = found
    if package_key is not None:
        typed, klass = await _typed_class(db, session.class_id)
        if kind.kind != SessionKind.SINGLE or typed.package_key not in (None, package_key):
            raise PackageOptionNotFound(keys=typed.package_key or "-")
        _agree(typed, klass, _option(kind, package_key))
        await db.flush()
    await remember_client(db, client, now)
    staff = Actor.staff(reason=Override.RESERVATION)
    booked = await book_session(
        db, client=client, session_id=session_id, now=now, policy=policy, actor=staff
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
    package_key: str | None = None,
) -> list[Event]:
    """The client confirms (the spot is theirs; a single session's time is then fixed) or
    declines (the spot goes back). Someone else's, or an answered one, reads as not found.
    A session whose package is still open is confirmed by picking one (``package_key``): its
    price is charged then."""
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
        await _settle_package(db, booking, package_key, now, policy)
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


@dataclass(frozen=True)
class PackageTerms:
    """A reserved session's package: the one agreed, or the options to pick from."""

    agreed: PackageOption | None
    options: tuple[PackageOption, ...]

    @property
    def to_pick(self) -> bool:
        return self.agreed is None and bool(self.options)


async def package_terms(db: AsyncSession, session_id: int) -> PackageTerms:
    """What the client is asked about a session's package (nothing for most sessions)."""
    row = (
        await db.execute(
            select(TypedSession, SessionType, ProgrammeClass)
            .join(SessionType, SessionType.id == TypedSession.type_id)
            .join(ProgrammeClass, ProgrammeClass.id == TypedSession.class_id)
            .join(ClassSession, ClassSession.class_id == TypedSession.class_id)
            .where(ClassSession.id == session_id)
        )
    ).first()
    if row is None:
        return PackageTerms(None, ())
    typed, kind, klass = row
    options = package_options(kind)
    if typed.package_key is None:
        return PackageTerms(None, options)
    listed = {o.key: o for o in options}.get(typed.package_key)
    agreed = PackageOption(
        typed.package_key,
        typed.package_name or typed.package_key,
        klass.price_minor or 0,
        listed.description if listed is not None else "",
    )
    return PackageTerms(agreed, options)


async def _settle_package(
    db: AsyncSession, booking: Booking, key: str | None, now: datetime, policy: Policy
) -> None:
    typed, kind = await _typed(db, booking.session.class_id)
    if not package_options(kind) or (key is None and typed.package_key is not None):
        return  # nothing to choose, or agreed already
    if key is None:
        raise PackageChoiceNeeded()
    if typed.package_key is not None:
        if key != typed.package_key:
            raise PackageOptionNotFound(keys=typed.package_key)
        return
    klass = await db.get(ProgrammeClass, typed.class_id)
    assert klass is not None
    option = _option(kind, key)
    _agree(typed, klass, option)
    await charge_booking(
        db,
        booking_id=booking.id,
        client_id=booking.client_id,
        price_minor=option.price_minor,
        starts_at=booking.session.starts_at,
        policy=policy,
        now=now,
    )


async def _typed_class(db: AsyncSession, class_id: int) -> tuple[TypedSession, ProgrammeClass]:
    typed = await db.get(TypedSession, class_id)
    klass = await db.get(ProgrammeClass, class_id)
    if typed is None or klass is None:
        raise NotATypedSession()
    return typed, klass


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
