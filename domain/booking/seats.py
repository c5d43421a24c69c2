"""Seats of a session: taken with one guarded UPDATE; a freed seat goes to the waiting list.

`sessions.seats_taken` counts active bookings plus places held by open offers. Taking a seat is
one conditional UPDATE, atomic on SQLite and PostgreSQL alike, so capacity is never exceeded.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from domain.billing import payments
from domain.booking import client_views, rules
from domain.booking.enrolment import join_programme, new_enrolment_status
from domain.errors import AlreadyWaiting, SessionCancelledByStaff
from domain.notices import outbox
from domain.notices.events import Event, Promoted, SpotOffered
from domain.policy import DEFAULT_POLICY, Policy
from domain.storage.models import (
    Booking,
    ClassSession,
    EnrolmentStatus,
    ProgrammeClass,
    ProgrammeKind,
    Promotion,
    WaitlistEntry,
    WaitStatus,
)

# Built once: every Book tap runs it, and building a statement and its cache key anew on each
# call was a good part of the tap's Python time (as for the hot queries in booking.client_views).
_LOAD_SESSION = (
    select(ClassSession)
    .where(ClassSession.id == bindparam("session_id"))
    .options(joinedload(ClassSession.klass).joinedload(ProgrammeClass.programme))
)


async def load_session(db: AsyncSession, session_id: int) -> ClassSession | None:
    return await db.scalar(_LOAD_SESSION, {"session_id": session_id})


async def take_seat(db: AsyncSession, session_id: int, *, by_staff: bool = False) -> bool:
    limit = select(
        ProgrammeClass.capacity + (ProgrammeClass.max_overload if by_staff else 0)
    ).where(ProgrammeClass.id == ClassSession.class_id)
    taken = await db.execute(
        update(ClassSession)
        .where(
            ClassSession.id == session_id,
            ClassSession.cancelled_at.is_(None),  # a cancelled session takes no one
            ClassSession.seats_taken < limit.scalar_subquery(),
        )
        .values(seats_taken=ClassSession.seats_taken + 1)
    )
    return taken.rowcount == 1


async def ensure_not_cancelled(db: AsyncSession, session_id: int) -> None:
    """Within the caller's transaction, before it writes something of the session that
    takes no seat (a place in its waiting list): the session row is locked and found not
    cancelled, so a cancel of the whole session either comes first (refused here) or waits
    for this transaction and then sees what it wrote."""
    touched = await db.execute(
        update(ClassSession)
        .where(ClassSession.id == session_id, ClassSession.cancelled_at.is_(None))
        .values(seats_taken=ClassSession.seats_taken)
        .execution_options(synchronize_session=False)
    )
    if touched.rowcount != 1:
        raise SessionCancelledByStaff()


async def release_seat(
    db: AsyncSession, session_id: int, now: datetime, policy: Policy = DEFAULT_POLICY
) -> list[Event]:
    """A seat came free: the first waiting client gets it (booked or offered), else it is free."""
    session = await db.scalar(
        select(ClassSession)
        .where(ClassSession.id == session_id)
        .options(joinedload(ClassSession.klass).joinedload(ProgrammeClass.programme))
    )
    # over capacity through staff overload, the freed seat just brings it back towards capacity
    within_capacity = session is not None and session.seats_taken <= session.klass.capacity
    open_to_queue = within_capacity and session.cancelled_at is None
    if open_to_queue and session.klass.waiting_list and session.starts_at > now:
        for entry in await _first_waiting(db, session_id):
            events = await _hand_over(db, session, entry, now, policy)
            if events:
                return events
    await db.execute(
        update(ClassSession)
        .where(ClassSession.id == session_id)
        .values(seats_taken=ClassSession.seats_taken - 1)
    )
    return []


async def _first_waiting(db: AsyncSession, session_id: int) -> list[WaitlistEntry]:
    # a few, not one: a concurrent release may claim the first before us
    return list(
        await db.scalars(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.session_id == session_id,
                WaitlistEntry.status == WaitStatus.WAITING,
            )
            .order_by(WaitlistEntry.requested_at, WaitlistEntry.id)
            .limit(5)
        )
    )


async def _hand_over(
    db: AsyncSession, session: ClassSession, entry: WaitlistEntry, now: datetime, policy: Policy
) -> list[Event]:
    klass = session.klass
    claimed, expires_at = await claim_waiting(db, entry.id, klass, now)
    if not claimed:
        return []
    if klass.promotion == Promotion.OFFER:
        events: list[Event] = [SpotOffered(entry.client_id, entry.id, session.id, expires_at)]
        await outbox.record(db, events, now)
        return events
    pending = False
    if klass.programme.kind == ProgrammeKind.PAYG:
        status = new_enrolment_status(policy)
        enrolled = await join_programme(db, entry.client_id, klass.programme_id, now, status=status)
        pending = enrolled and status == EnrolmentStatus.PENDING
    booking = Booking(session_id=session.id, client_id=entry.client_id, created_at=now)
    db.add(booking)
    await db.flush()
    seat = outbox.BookedSeat(booking.id, entry.client_id, session.starts_at)
    await outbox.remind(db, [seat], now, policy)
    await payments.pay_for_booking(db, booking=booking, session=session, policy=policy, now=now)
    events = [Promoted(entry.client_id, booking.id, enrolment_pending=pending)]
    await outbox.record(db, events, now)
    return events


async def claim_waiting(
    db: AsyncSession, entry_id: int, klass: ProgrammeClass, now: datetime
) -> tuple[bool, datetime | None]:
    """Move a waiting entry on, per the class's promotion: booked, or offered until a time.

    A conditional UPDATE, so two releases at once never hand one entry two places.
    """
    expires_at = None
    if klass.promotion == Promotion.OFFER:
        expires_at = rules.offer_expires_at(now, klass.offer_hold_minutes)
        values = {"status": WaitStatus.OFFERED, "offered_at": now, "offer_expires_at": expires_at}
    else:
        values = {"status": WaitStatus.BOOKED, "resolved_at": now}
    claimed = await db.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == entry_id, WaitlistEntry.status == WaitStatus.WAITING)
        .values(**values)
    )
    return claimed.rowcount == 1, expires_at


async def enqueue(db: AsyncSession, entry: WaitlistEntry) -> int:
    """Add the entry to its queue and commit; its 1-based position. One open entry a client."""
    db.add(entry)
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        raise AlreadyWaiting() from None
    await db.commit()
    return await client_views.queue_position(db, entry)
