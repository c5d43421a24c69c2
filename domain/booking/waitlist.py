"""The waiting list of a full session: join, see your place, answer an offer, leave."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.booking import client_views
from domain.booking.enrolment import ensure_eligible
from domain.booking.ongoing import promote_class
from domain.booking.seats import enqueue, ensure_not_cancelled, load_session, release_seat
from domain.clients.record import ClientRef, remember_client
from domain.errors import (
    AlreadyBooked,
    HasRoom,
    NeedsEnrolment,
    NoWaitingList,
    OfferNotFound,
    SessionAlreadyStarted,
    SessionCancelledByStaff,
    SessionNotFound,
)
from domain.notices import outbox
from domain.notices.events import Event, OfferLapsed
from domain.policy import DEFAULT_POLICY, Policy
from domain.storage.models import (
    ClassSession,
    ProgrammeKind,
    WaitlistEntry,
    WaitStatus,
)


async def join_waitlist(
    db: AsyncSession,
    *,
    client: ClientRef,
    session_id: int,
    now: datetime,
    policy: Policy,
    checked: ClassSession | None = None,
) -> tuple[int, int]:
    """Queue for a full session; returns the entry id and the 1-based position.

    ``checked`` is the session as the caller loaded it (load_session) in this same transaction,
    where it also found the client holds no active booking of it: neither is read again. (Read
    again, the session would come back as this very object, unrefreshed, from the identity map.)
    After a rollback the caller passes nothing: that is a new transaction.
    """
    session = checked if checked is not None else await load_session(db, session_id)
    if session is None:
        raise SessionNotFound()
    if session.cancelled_at is not None:
        raise SessionCancelledByStaff()
    klass = session.klass
    if session.starts_at <= now:
        raise SessionAlreadyStarted()
    if klass.programme.kind == ProgrammeKind.ONGOING:
        raise NeedsEnrolment(class_id=klass.id)
    if not klass.waiting_list:
        raise NoWaitingList()
    if checked is None and await client_views.has_active_booking(db, session_id, client.id):
        raise AlreadyBooked()
    if session.seats_taken < klass.capacity:
        raise HasRoom()
    rank = await remember_client(db, client, now)
    await ensure_eligible(db, client.id, klass.programme, now, policy, client_rank=rank)
    await ensure_not_cancelled(db, session_id)
    entry = WaitlistEntry(client_id=client.id, session_id=session_id, requested_at=now)
    position = await enqueue(db, entry)  # the entry gets its id here
    return entry.id, position


async def position(db: AsyncSession, entry_id: int) -> int:
    entry = await db.get(WaitlistEntry, entry_id)
    return await client_views.queue_position(db, entry) if entry is not None else 0


async def claim_own_offer(db: AsyncSession, client_id: int, session_id: int, now: datetime) -> bool:
    """Turn the client's live offer for this session into theirs; True if there was one."""
    claimed = await db.execute(
        update(WaitlistEntry)
        .where(
            WaitlistEntry.session_id == session_id,
            WaitlistEntry.client_id == client_id,
            WaitlistEntry.status == WaitStatus.OFFERED,
            WaitlistEntry.offer_expires_at > now,
        )
        .values(status=WaitStatus.BOOKED, resolved_at=now)
    )
    return claimed.rowcount == 1


async def leave_waitlist(
    db: AsyncSession,
    *,
    client_id: int,
    entry_id: int,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> list[Event]:
    """Leave the queue, or turn down an offer: the held place passes to the next client."""
    entry = await db.get(WaitlistEntry, entry_id)
    if entry is None or entry.client_id != client_id or entry.status not in WaitStatus.OPEN:
        raise OfferNotFound()
    was_offered = entry.status == WaitStatus.OFFERED
    left = await db.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == entry_id, WaitlistEntry.status == entry.status)
        .values(status=WaitStatus.SKIPPED if was_offered else WaitStatus.LEFT, resolved_at=now)
    )
    if left.rowcount != 1:
        await db.rollback()
        raise OfferNotFound()
    events = await pass_on(db, entry, now, policy) if was_offered else []
    await db.commit()
    return events


async def pass_on(
    db: AsyncSession, entry: WaitlistEntry, now: datetime, policy: Policy
) -> list[Event]:
    """An offer ended unanswered or declined: its place goes to the next in the same queue."""
    if entry.class_id is not None:
        return await promote_class(db, entry.class_id, now, policy)
    return await release_seat(db, entry.session_id, now, policy)


async def expire_offers(
    db: AsyncSession, now: datetime, batch: int = 100, policy: Policy = DEFAULT_POLICY
) -> list[Event]:
    """Periodic job: unanswered offers lapse and their places go to the next in line."""
    due = list(
        await db.scalars(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.status == WaitStatus.OFFERED,
                WaitlistEntry.offer_expires_at <= now,
            )
            .order_by(WaitlistEntry.offer_expires_at)
            .limit(batch)
        )
    )
    events: list[Event] = []
    for entry in due:
        lapsed = await db.execute(
            update(WaitlistEntry)
            .where(WaitlistEntry.id == entry.id, WaitlistEntry.status == WaitStatus.OFFERED)
            .values(status=WaitStatus.EXPIRED, resolved_at=now)
        )
        if lapsed.rowcount == 1:
            lapse = OfferLapsed(entry.client_id, entry.id, entry.session_id, entry.class_id)
            await outbox.record(db, [lapse], now)
            events.append(lapse)
            events += await pass_on(db, entry, now, policy)
    await db.commit()
    return events
