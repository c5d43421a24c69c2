"""Ongoing programmes: enrol in a class for all its remaining sessions, or leave it.

A full class has a waiting list of its own (entries with class_id). When an enrolled client
leaves, the first waiting client is enrolled (auto) or offered the place (offer). Class offers
hold no seats: taking one enrols the client if every remaining session still has room.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from domain.billing import credits
from domain.booking import client_views, rules
from domain.booking.enrolment import ensure_eligible, join_programme, new_enrolment_status
from domain.booking.seats import claim_waiting, enqueue, take_seat
from domain.clients.record import ClientRef, remember_client
from domain.errors import (
    AlreadyEnrolled,
    ClassFinished,
    ClassFull,
    HasRoom,
    NotEnrolled,
    NotOngoing,
    NotWaiting,
    NoWaitingList,
    SessionNotFound,
)
from domain.notices import outbox
from domain.notices.events import EnrolledFromWaitlist, Event, SpotOffered
from domain.policy import DEFAULT_POLICY, Policy
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    Enrolment,
    EnrolmentStatus,
    ProgrammeClass,
    ProgrammeKind,
    Promotion,
    WaitlistEntry,
    WaitStatus,
)


@dataclass(frozen=True)
class Enrolled:
    enrolment_id: int
    class_id: int
    sessions: list[datetime]
    pending: bool = False  # the places are held; staff confirm the enrolment


@dataclass(frozen=True)
class ClassWaitlisted:
    entry_id: int
    position: int


async def load_class(db: AsyncSession, class_id: int) -> ProgrammeClass | None:
    return await db.scalar(
        select(ProgrammeClass)
        .where(ProgrammeClass.id == class_id)
        .options(selectinload(ProgrammeClass.programme), selectinload(ProgrammeClass.sessions))
    )


def class_has_room(klass: ProgrammeClass, now: datetime) -> bool:
    remaining = [s for s in klass.sessions if s.starts_at > now and s.cancelled_at is None]
    return bool(remaining) and all(s.seats_taken < klass.capacity for s in remaining)


async def enrol_in_class(
    db: AsyncSession,
    *,
    client: ClientRef,
    class_id: int,
    now: datetime,
    policy: Policy,
    note: str | None = None,
) -> Enrolled:
    note = rules.enrolment_note(note, policy.enrolment_notes)
    klass = await _ongoing_class(db, class_id)
    await _check_can_join(db, klass, client.id, now, policy)
    await _check_credit(db, klass, client, now, policy)
    return await _enrol(db, klass, client, now, policy, note=note)


async def enrol_or_wait(
    db: AsyncSession,
    *,
    client: ClientRef,
    class_id: int,
    now: datetime,
    policy: Policy,
    note: str | None = None,
) -> Enrolled | ClassWaitlisted:
    """What a client's Enrol tap does: the class if it has room, else its waiting list.

    The note to the teacher goes with the enrolment, or waits with the queue entry for it.
    """
    note = rules.enrolment_note(note, policy.enrolment_notes)
    klass = await _ongoing_class(db, class_id)
    await _check_can_join(db, klass, client.id, now, policy)
    await _check_credit(db, klass, client, now, policy)
    if class_has_room(klass, now):
        try:
            return await _enrol(db, klass, client, now, policy, note=note)
        except ClassFull:
            klass = await _ongoing_class(db, class_id)
    if not klass.waiting_list:
        raise ClassFull()
    await remember_client(db, client, now)
    entry = WaitlistEntry(client_id=client.id, class_id=class_id, requested_at=now, notes=note)
    position = await enqueue(db, entry)
    return ClassWaitlisted(entry.id, position)


async def join_class_waitlist(
    db: AsyncSession,
    *,
    client: ClientRef,
    class_id: int,
    now: datetime,
    policy: Policy,
    note: str | None = None,
) -> ClassWaitlisted:
    klass = await _ongoing_class(db, class_id)
    if class_has_room(klass, now):
        raise HasRoom()
    if not klass.waiting_list:
        raise NoWaitingList()
    result = await enrol_or_wait(
        db, client=client, class_id=class_id, now=now, policy=policy, note=note
    )
    assert isinstance(result, ClassWaitlisted)
    return result


async def leave_class(
    db: AsyncSession,
    *,
    client_id: int,
    class_id: int,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> list[Event]:
    """Leave an ongoing class (confirmed or not): its future sessions are cancelled, the place
    goes on."""
    enrolment = await end_class_enrolment(db, client_id, class_id, now)
    future = list(
        await db.scalars(
            select(Booking)
            .join(ClassSession, Booking.session_id == ClassSession.id)
            .where(
                Booking.enrolment_id == enrolment.id,
                Booking.status == BookingStatus.ACTIVE,
                ClassSession.starts_at > now,
            )
        )
    )
    starts = {s.id: s.starts_at for s in await _sessions(db, [b.session_id for b in future])}
    for booking in future:
        booking.status, booking.cancelled_at = BookingStatus.CANCELLED, now
        await db.execute(
            update(ClassSession)
            .where(ClassSession.id == booking.session_id)
            .values(seats_taken=ClassSession.seats_taken - 1)
        )
    await db.flush()
    seats = [outbox.BookedSeat(b.id, client_id, starts[b.session_id]) for b in future]
    await outbox.booking_cancelled(db, seats, now, policy)
    events = await promote_class(db, class_id, now, policy)
    await db.commit()
    return events


async def end_class_enrolment(
    db: AsyncSession, client_id: int, class_id: int, now: datetime
) -> Enrolment:
    """The client's open enrolment in the class, ended (left); NotEnrolled if there is none."""
    enrolment = await db.scalar(
        select(Enrolment).where(
            Enrolment.client_id == client_id,
            Enrolment.class_id == class_id,
            Enrolment.status.in_(EnrolmentStatus.OPEN),
        )
    )
    if enrolment is None:
        raise NotEnrolled()
    await end_enrolment(db, enrolment.id, now)
    return enrolment


async def end_enrolment(db: AsyncSession, enrolment_id: int, now: datetime) -> None:
    """The enrolment ends (left), if it is still open; else NotEnrolled, rolled back (a second
    tap, another device)."""
    left = await db.execute(
        update(Enrolment)
        .where(Enrolment.id == enrolment_id, Enrolment.status.in_(EnrolmentStatus.OPEN))
        .values(status=EnrolmentStatus.LEFT, left_at=now)
    )
    if left.rowcount != 1:
        await db.rollback()
        raise NotEnrolled()


async def promote_class(
    db: AsyncSession, class_id: int, now: datetime, policy: Policy = DEFAULT_POLICY
) -> list[Event]:
    """The first waiting client gets the freed place in the class (enrolled, or offered)."""
    klass = await load_class(db, class_id)
    if klass is None or not klass.waiting_list or not class_has_room(klass, now):
        return []
    waiting = await db.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.class_id == class_id, WaitlistEntry.status == WaitStatus.WAITING)
        .order_by(WaitlistEntry.requested_at, WaitlistEntry.id)
        .limit(5)
    )
    for entry in waiting:
        claimed, expires_at = await claim_waiting(db, entry.id, klass, now)
        if not claimed:
            continue
        if klass.promotion == Promotion.OFFER:
            events: list[Event] = [
                SpotOffered(entry.client_id, entry.id, None, expires_at, class_id=class_id)
            ]
        else:
            enrolled = await _enrol(
                db, klass, ClientRef(entry.client_id), now, policy, note=entry.notes, commit=False
            )
            events = [
                EnrolledFromWaitlist(
                    entry.client_id, class_id, pending=enrolled.pending, entry_id=entry.id
                )
            ]
        await outbox.record(db, events, now)
        return events
    return []


async def take_class_offer(
    db: AsyncSession,
    *,
    client: ClientRef,
    entry: WaitlistEntry,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> Enrolled:
    klass = await _ongoing_class(db, entry.class_id)
    await _resolve(db, entry, now, (WaitStatus.OFFERED,), ClassFull())
    return await _enrol(db, klass, client, now, policy, note=entry.notes)


async def enrol_from_class_queue(
    db: AsyncSession, *, entry: WaitlistEntry, now: datetime, policy: Policy = DEFAULT_POLICY
) -> Enrolled:
    """Staff take a client off an ongoing class's waiting list: enrolled with staff rights
    (up to capacity + overload in every remaining session)."""
    klass = await _ongoing_class(db, entry.class_id)
    await _resolve(db, entry, now, WaitStatus.OPEN, NotWaiting())
    client = ClientRef(entry.client_id)
    return await _enrol(db, klass, client, now, policy, note=entry.notes, by_staff=True)


async def _resolve(
    db: AsyncSession,
    entry: WaitlistEntry,
    now: datetime,
    from_statuses: tuple[str, ...],
    otherwise: Exception,
) -> None:
    """Mark the queue entry as having got its place, if it still stands where expected."""
    resolved = await db.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == entry.id, WaitlistEntry.status.in_(from_statuses))
        .values(status=WaitStatus.BOOKED, resolved_at=now)
    )
    if resolved.rowcount != 1:
        await db.rollback()
        raise otherwise


async def _ongoing_class(db: AsyncSession, class_id: int) -> ProgrammeClass:
    klass = await load_class(db, class_id)
    if klass is None:
        raise SessionNotFound()
    if klass.programme.kind != ProgrammeKind.ONGOING:
        raise NotOngoing()
    return klass


async def _check_can_join(
    db: AsyncSession, klass: ProgrammeClass, client_id: int, now: datetime, policy: Policy
) -> None:
    if not rules.remaining_sessions([s.starts_at for s in klass.sessions], now):
        raise ClassFinished()
    if await client_views.is_enrolled(db, client_id, klass.programme_id):
        raise AlreadyEnrolled()
    await ensure_eligible(db, client_id, klass.programme, now, policy)


async def _check_credit(
    db: AsyncSession, klass: ProgrammeClass, client: ClientRef, now: datetime, policy: Policy
) -> None:
    """A class of a programme that gives attendance credits needs one left this period."""
    if klass.programme.attendance_credits:
        await remember_client(db, client, now)
        await credits.ensure_credit_for(db, client.id, klass.programme, policy.today(now), policy)


async def _enrol(
    db: AsyncSession,
    klass: ProgrammeClass,
    client: ClientRef,
    now: datetime,
    policy: Policy,
    *,
    note: str | None = None,
    commit: bool = True,
    by_staff: bool = False,
) -> Enrolled:
    """Enrol and book every remaining session, taking a seat in each, all or nothing.

    A pending enrolment (waiting for staff) books and holds the seats all the same.
    """
    await remember_client(db, client, now)
    # staff enrolling someone is the studio's own approval
    status = EnrolmentStatus.ACTIVE if by_staff else new_enrolment_status(policy)
    joined = await join_programme(
        db, client.id, klass.programme_id, now, status=status, class_id=klass.id, notes=note
    )
    if not joined:
        await db.rollback()
        raise AlreadyEnrolled()
    enrolment_id = await db.scalar(
        select(Enrolment.id).where(
            Enrolment.client_id == client.id,
            Enrolment.programme_id == klass.programme_id,
            Enrolment.status.in_(EnrolmentStatus.OPEN),
        )
    )
    remaining = sorted(
        (s for s in klass.sessions if s.starts_at > now and s.cancelled_at is None),
        key=lambda s: s.starts_at,
    )
    bookings = []
    for session in remaining:
        if not await take_seat(db, session.id, by_staff=by_staff):
            await db.rollback()
            raise ClassFull()
        booking = Booking(
            session_id=session.id, client_id=client.id, created_at=now, enrolment_id=enrolment_id
        )
        db.add(booking)
        bookings.append((booking, session.starts_at))
    await db.flush()
    seats = [outbox.BookedSeat(b.id, client.id, starts_at) for b, starts_at in bookings]
    await outbox.remind(db, seats, now, policy)
    if commit:
        await db.commit()
    pending = status == EnrolmentStatus.PENDING
    return Enrolled(enrolment_id, klass.id, [s.starts_at for s in remaining], pending=pending)


async def _sessions(db: AsyncSession, ids: list[int]) -> list[ClassSession]:
    if not ids:
        return []
    return list(await db.scalars(select(ClassSession).where(ClassSession.id.in_(ids))))
