"""Moving a booking to another session: one use case for clients (My bookings) and staff (the
client card), and the read models their screens show (where it may go, what it costs).

The booking row moves in place: same id, its ``session_id`` changed by one guarded UPDATE
(``WHERE id = ? AND status = 'active' AND session_id = <old>``), so whatever paid it (the
ledger item ``booking:<id>``, its pass entry, the course unit bound to it, a make-up credit
spent on it) follows it with no second charge, and a second device, or a cancel, racing the
same booking changes it once. The new seat is taken with the same guarded UPDATE as a booking
(``take_seat``: a move that loses the last seat changes nothing and raises MoveTargetFull);
the old seat goes to the waiting list (``release_seat``), and the reminders and payment
nudges move, all in the same transaction.

A package's session keeps its package's policy: it is moved by
``domain.timetable.packages.reschedule_session`` (a new booking in the same slot).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from domain.billing import money
from domain.billing.payments import _schedule_nudges, booking_item, charge_reschedule_fee
from domain.booking import rules
from domain.booking.actor import Actor
from domain.booking.bookings import ensure_within_limits, load_booking, resolve_own_wait
from domain.booking.seats import load_session, release_seat, take_seat
from domain.errors import (
    AlreadyBooked,
    AlreadyCheckedIn,
    AlreadyCheckedOut,
    BookingAlreadyCancelled,
    BookingChanged,
    BookingNotFound,
    MoveTargetFull,
    NotAMoveTarget,
    SessionCancelledByStaff,
    SessionNotFound,
)
from domain.notices import outbox
from domain.notices.events import BookingMoved, Event
from domain.policy import Policy
from domain.storage.models import (
    BillingPeriod,
    Booking,
    BookingStatus,
    ClassSession,
    ClientCourse,
    ClientPass,
    CourseUnit,
    PackageSlot,
    ProgrammeClass,
    ProgrammeKind,
)
from domain.timetable import packages


@dataclass(frozen=True)
class Moved:
    """A booking at its new time. For a package's session ``booking_id`` is the slot's new
    booking and ``package_id``/``slot`` name it; else the same booking, moved in place."""

    booking_id: int
    client_id: int
    session_id: int
    starts_at: datetime
    sequence: int  # how often it was moved: its calendar event's SEQUENCE
    fee: money.Money
    events: list[Event]
    package_id: int | None = None
    slot: int | None = None


def move_policy(klass: ProgrammeClass) -> rules.MovePolicy:
    """The class's terms for moving a booking (cut-off: the programme's cancel notice when the
    class sets none)."""
    cutoff = klass.move_cutoff_hours
    if cutoff is None:
        cutoff = klass.programme.cancel_notice_hours
    return rules.MovePolicy(cutoff, klass.move_fee_percent, klass.moves_max)


def move_fee(klass: ProgrammeClass, currency: str) -> money.Money:
    """What a client pays for moving a booking of the class: the fee % of its price, rounded
    up (nothing for a class without a price of its own, e.g. an ongoing class)."""
    price = money.Money(klass.price_minor or 0, currency)
    return money.fee_share(price, klass.move_fee_percent)


async def move_booking(
    db: AsyncSession,
    *,
    booking_id: int,
    new_session_id: int,
    actor: Actor,
    now: datetime,
    policy: Policy,
    fee_minor: int | None = None,
) -> Moved:
    """Move a booking to another session, as its client (within the class's policy, into a
    session with room, paying the class's fee) or as staff (``actor.user_id``: who; any
    booking at any time, beyond capacity within the class's overload, a fee only when staff
    set ``fee_minor``). Commits once, or changes nothing and raises a domain error."""
    booking = await load_booking(db, booking_id)
    if booking is None or (not actor.by_staff and booking.client_id != actor.user_id):
        raise BookingNotFound()
    if await db.get(PackageSlot, booking_id) is not None:
        return await _move_package_session(db, booking, new_session_id, actor, now, policy)
    try:
        return await _move(db, booking, new_session_id, actor, now, policy, fee_minor)
    except BaseException:
        await db.rollback()
        raise


async def _move(
    db: AsyncSession,
    booking: Booking,
    new_session_id: int,
    actor: Actor,
    now: datetime,
    policy: Policy,
    fee_minor: int | None,
) -> Moved:
    old = booking.session
    klass = old.klass
    _ensure_movable(booking)
    terms = move_policy(klass)
    if not actor.by_staff:
        terms.ensure_client_may_move(
            moves=booking.moves, starts_at=old.starts_at, now=now, zone=policy.zone
        )
    target = await load_session(db, new_session_id)
    if target is None:
        raise SessionNotFound()
    await _ensure_target(db, booking, target, now, policy)
    if not actor.by_staff:
        await ensure_within_limits(db, booking.client_id, target, policy, besides=booking.id)
    # the booking first, then the seats: a second device or a cancel racing this booking
    # finds it changed (and waits on its row lock on PostgreSQL rather than deadlock)
    await _move_row(db, booking, target, actor, now)
    events = await _swap_seats(db, old.id, target, actor, now, policy)
    fee = _fee(klass, actor, fee_minor, policy.currency)
    to_pay = await _charge_fee(db, booking, fee, now) if fee.minor > 0 else fee
    await resolve_own_wait(db, booking.client_id, target.id, now)
    await outbox.booking_moved(
        db, outbox.BookedSeat(booking.id, booking.client_id, target.starts_at), now, policy
    )
    if to_pay.minor > 0:
        await _schedule_nudges(
            db, booking.id, booking.client_id, to_pay, target.starts_at, policy, now
        )
    sequence = booking.moves + 1
    if actor.by_staff:
        told = BookingMoved(booking.client_id, booking.id, target.id, sequence, now)
        await outbox.record(db, [told], now)
        events.append(told)
    await db.commit()
    return Moved(booking.id, booking.client_id, target.id, target.starts_at, sequence, fee, events)


def _ensure_movable(booking: Booking) -> None:
    if booking.status != BookingStatus.ACTIVE:
        raise BookingAlreadyCancelled()
    if booking.checked_out_at is not None or booking.no_show_at is not None:
        raise AlreadyCheckedOut()
    if booking.checked_in_at is not None:
        raise AlreadyCheckedIn()


async def _ensure_target(
    db: AsyncSession, booking: Booking, target: ClassSession, now: datetime, policy: Policy
) -> None:
    old = booking.session
    if target.cancelled_at is not None:  # cancelled as a whole by staff
        raise SessionCancelledByStaff()
    programme = old.klass.programme
    ongoing = programme.kind == ProgrammeKind.ONGOING
    periods = await _periods(db)
    day = policy.local_day(target.starts_at)
    rules.ensure_move_target(
        booking_session_id=old.id,
        booking_class_id=old.class_id,
        booking_programme_id=programme.id,
        ongoing=ongoing,
        period=rules.period_of(policy.local_day(old.starts_at), periods) if ongoing else None,
        target=rules.MoveTarget(
            target.id,
            target.class_id,
            target.klass.programme_id,
            day,
            price_minor=target.klass.price_minor or 0,
        ),
        starts_at=target.starts_at,
        now=now,
        any_class=programme.move_any_class,
        booking_price_minor=old.klass.price_minor or 0,
    )
    if target.klass.package_size:  # a package-only class is booked as a package
        raise NotAMoveTarget()
    if not await _payment_covers(db, booking, day):
        raise NotAMoveTarget()


async def _periods(db: AsyncSession) -> list[rules.Period]:
    return [rules.Period(p.starts_on, p.ends_on) for p in await db.scalars(select(BillingPeriod))]


async def _payment_covers(db: AsyncSession, booking: Booking, day) -> bool:
    """The pass or course that paid the booking is still valid on the new day."""
    if booking.pass_id is not None:
        expires = await db.scalar(
            select(ClientPass.expires_on).where(ClientPass.id == booking.pass_id)
        )
        if expires is not None and day > expires:
            return False
    course_expires = await db.scalar(
        select(ClientCourse.expires_on)
        .join(CourseUnit, CourseUnit.course_id == ClientCourse.id)
        .where(CourseUnit.booking_id == booking.id)
    )
    return course_expires is None or day <= course_expires


async def _move_row(
    db: AsyncSession, booking: Booking, target: ClassSession, actor: Actor, now: datetime
) -> None:
    values: dict[str, object] = {"session_id": target.id, "moves": Booking.moves + 1}
    if not actor.by_staff:  # the client just chose this time: no "coming?" release for it
        values["confirmed_at"] = now
    try:
        moved = await db.execute(
            update(Booking)
            .where(
                Booking.id == booking.id,
                Booking.status == BookingStatus.ACTIVE,
                Booking.session_id == booking.session_id,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    except IntegrityError:  # the client already holds a booking of that session
        raise AlreadyBooked() from None
    if moved.rowcount != 1:
        raise BookingChanged()


async def _swap_seats(
    db: AsyncSession,
    old_session_id: int,
    target: ClassSession,
    actor: Actor,
    now: datetime,
    policy: Policy,
) -> list[Event]:
    """Take the new seat and free the old one, in session id order (two moves crossing
    between the same two sessions lock them in the same order)."""
    events: list[Event] = []
    if old_session_id < target.id:
        events += await release_seat(db, old_session_id, now, policy)
    if not await take_seat(db, target.id, by_staff=actor.by_staff):
        raise MoveTargetFull(when=target.starts_at, session_id=target.id)
    if old_session_id > target.id:
        events += await release_seat(db, old_session_id, now, policy)
    return events


def _fee(klass: ProgrammeClass, actor: Actor, fee_minor: int | None, currency: str) -> money.Money:
    if actor.by_staff:
        return money.Money(max(fee_minor or 0, 0), currency)
    return move_fee(klass, currency)


async def _charge_fee(
    db: AsyncSession, booking: Booking, fee: money.Money, now: datetime
) -> money.Money:
    """The fee on the booking's own item (credit spent first); returns what is left to pay."""
    return await charge_reschedule_fee(db, booking.client_id, booking_item(booking.id), fee, now)


async def _move_package_session(
    db: AsyncSession,
    booking: Booking,
    new_session_id: int,
    actor: Actor,
    now: datetime,
    policy: Policy,
) -> Moved:
    """A package's session moves under its package's policy (packages.reschedule_session)."""
    client_id = booking.client_id
    done = await packages.reschedule_session(
        db,
        client_id=None if actor.by_staff else client_id,
        booking_id=booking.id,
        new_session_id=new_session_id,
        now=now,
        policy=policy,
        staff_id=actor.user_id if actor.by_staff else None,
    )
    view = await packages.package_of(db, client_id, done.package_id, policy.currency)
    slot = view.slot_of(done.booking_id) if view else None
    return Moved(
        done.booking_id,
        client_id,
        slot.session_id if slot else new_session_id,
        slot.starts_at if slot else now,
        slot.sequence if slot else 0,
        done.fee,
        done.events,
        package_id=done.package_id,
        slot=done.slot,
    )


# --- what the screens show ----------------------------------------------------------------


@dataclass(frozen=True)
class MoveQuote:
    """What moving a booking means for its client now, or until when it was possible."""

    in_package: bool  # a package's session: its package's terms apply (packages.quote)
    allowed: bool  # the class lets clients move its bookings at all
    can_move: bool  # ... and this one, now
    until: datetime
    fee: money.Money
    moves: int
    moves_max: int | None


async def move_quote(
    db: AsyncSession, *, booking_id: int, client_id: int, now: datetime, policy: Policy
) -> MoveQuote | None:
    """The client's own booking's move terms; None when it isn't theirs."""
    booking = await load_booking(db, booking_id)
    if booking is None or booking.client_id != client_id:
        return None
    klass = booking.session.klass
    terms = move_policy(klass)
    until = terms.deadline(booking.session.starts_at, policy.zone)
    in_package = await db.get(PackageSlot, booking_id) is not None
    active = (
        booking.status == BookingStatus.ACTIVE
        and booking.checked_in_at is None
        and booking.no_show_at is None
        and booking.session.starts_at > now
    )
    used_up = terms.moves_max is not None and booking.moves >= terms.moves_max
    return MoveQuote(
        in_package=in_package,
        allowed=terms.allows_moves and not in_package,
        can_move=active and terms.allows_moves and not used_up and now <= until,
        until=until,
        fee=move_fee(klass, policy.currency),
        moves=booking.moves,
        moves_max=terms.moves_max,
    )


@dataclass(frozen=True)
class TargetSession:
    id: int
    starts_at: datetime
    class_title: str
    places_left: int  # for the reader: clients' room, or (staff) room within the overload
    overload: bool = False  # full for clients: only staff fill it, within the overload


async def move_targets(
    db: AsyncSession,
    *,
    booking_id: int,
    actor: Actor,
    now: datetime,
    policy: Policy,
    limit: int = 30,
) -> list[TargetSession]:
    """The sessions the booking may move to that have room for the actor (staff: within the
    overload), soonest first; none for a booking that is not the client's own."""
    booking = await load_booking(db, booking_id)
    if booking is None or (not actor.by_staff and booking.client_id != actor.user_id):
        return []
    old = booking.session
    klass = old.klass
    programme = klass.programme
    ongoing = programme.kind == ProgrammeKind.ONGOING
    in_package = await db.get(PackageSlot, booking_id) is not None
    query = (
        select(ClassSession)
        .join(ProgrammeClass, ProgrammeClass.id == ClassSession.class_id)
        .where(
            ClassSession.starts_at > now,
            ClassSession.id != old.id,
            ClassSession.cancelled_at.is_(None),  # cancelled by staff: takes no one
        )
        .options(joinedload(ClassSession.klass))
        .order_by(ClassSession.starts_at, ClassSession.id)
    )
    if ongoing and not in_package:
        query = query.where(ProgrammeClass.programme_id == programme.id)
    elif programme.move_any_class and not in_package:  # any class of it at the same price
        query = query.where(
            ProgrammeClass.programme_id == programme.id,
            func.coalesce(ProgrammeClass.price_minor, 0) == (klass.price_minor or 0),
        )
    else:
        query = query.where(ClassSession.class_id == klass.id)
    if not in_package:
        query = query.where(ProgrammeClass.package_size.is_(None))
    limit_expr = ProgrammeClass.capacity + (ProgrammeClass.max_overload if actor.by_staff else 0)
    query = query.where(ClassSession.seats_taken < limit_expr)
    periods = await _periods(db)
    period = rules.period_of(policy.local_day(old.starts_at), periods) if ongoing else None
    mine = set(
        await db.scalars(
            select(Booking.session_id).where(
                Booking.client_id == booking.client_id, Booking.status == BookingStatus.ACTIVE
            )
        )
    )
    found = []
    for session in await db.scalars(query.limit(limit * 4)):
        if session.id in mine:
            continue
        if period is not None and not period.contains(policy.local_day(session.starts_at)):
            continue
        room = rules.seat_limit(
            capacity=session.klass.capacity,
            max_overload=session.klass.max_overload,
            by_staff=actor.by_staff,
        )
        found.append(
            TargetSession(
                session.id,
                session.starts_at,
                session.klass.title,
                room - session.seats_taken,
                overload=session.seats_taken >= session.klass.capacity,
            )
        )
        if len(found) == limit:
            break
    return found


@dataclass(frozen=True)
class BookingEvent:
    """A booking as its calendar event shows it."""

    booking_id: int
    title: str  # "Programme — Class"
    starts_at: datetime
    ends_at: datetime
    sequence: int
    active: bool


async def booking_event(db: AsyncSession, booking_id: int, client_id: int) -> BookingEvent | None:
    """The client's own booking as a calendar event; None when it isn't theirs."""
    booking = await load_booking(db, booking_id)
    if booking is None or booking.client_id != client_id:
        return None
    session = booking.session
    klass = session.klass
    return BookingEvent(
        booking.id,
        f"{klass.programme.title} — {klass.title}",
        session.starts_at,
        session.starts_at + timedelta(minutes=klass.duration_minutes),
        booking.moves,
        booking.status == BookingStatus.ACTIVE,
    )
