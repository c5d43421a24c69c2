"""What staff do by hand: book a client (into the class's overload if need be), move someone
off a waiting list, set a client's rank, confirm an enrolment. Each use case commits once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.booking import client_views
from domain.booking.actor import Actor, Override
from domain.booking.bookings import Booked, book_session
from domain.booking.ongoing import enrol_from_class_queue
from domain.catalog.file import RANK_RANGE
from domain.clients.record import ClientRef
from domain.errors import ClientNotFound, EnrolmentNotPending, NotWaiting, RankOutOfRange
from domain.notices import outbox
from domain.notices.events import EnrolmentConfirmed
from domain.policy import DEFAULT_POLICY, Policy
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    Client,
    Enrolment,
    EnrolmentStatus,
    WaitlistEntry,
    WaitStatus,
)


def ensure_valid_rank(rank: int) -> None:
    """Client ranks live on the same scale as the programmes' ranks in the catalog file."""
    low, high = RANK_RANGE
    if not low <= rank <= high:
        raise RankOutOfRange(min=low, max=high)


async def set_client_rank(db: AsyncSession, *, client_id: int, rank: int) -> None:
    ensure_valid_rank(rank)
    updated = await db.execute(update(Client).where(Client.id == client_id).values(rank=rank))
    if updated.rowcount != 1:
        await db.rollback()
        raise ClientNotFound(client_id=client_id)
    await db.commit()


async def book_client(
    db: AsyncSession,
    *,
    client_id: int,
    session_id: int,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
    reason: Override = Override.DESK,
) -> Booked:
    """Book a known client with staff rights: up to capacity + the class's overload."""
    client = await db.get(Client, client_id)
    if client is None:
        raise ClientNotFound(client_id=client_id)
    # the client's own name and language, not the staff member's
    ref = ClientRef(id=client.id, first_name=client.first_name, language_code=client.language_code)
    actor = Actor.staff(reason=reason)
    return await book_session(
        db, client=ref, session_id=session_id, now=now, policy=policy, actor=actor
    )


async def book_from_waitlist(
    db: AsyncSession,
    *,
    entry_id: int,
    session_id: int,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> tuple[int, Booked]:
    """Staff take someone off a session's waiting list by booking them; returns their id too.

    Booking marks their place in the queue as booked (or uses the place an offer holds).
    """
    entry = await db.get(WaitlistEntry, entry_id)
    if entry is None or entry.status not in WaitStatus.OPEN:
        raise NotWaiting()
    session = await db.get(ClassSession, session_id)
    if entry.class_id is not None and session is not None and entry.class_id == session.class_id:
        # the whole ongoing class's queue: enrol them for all its remaining sessions
        await enrol_from_class_queue(db, entry=entry, now=now, policy=policy)
        card = await client_views.booking_card(
            db,
            await db.scalar(
                select(Booking.id).where(
                    Booking.session_id == session_id,
                    Booking.client_id == entry.client_id,
                    Booking.status == BookingStatus.ACTIVE,
                )
            )
            or 0,
            entry.client_id,
        )
        return entry.client_id, Booked(card)
    if entry.session_id != session_id:
        raise NotWaiting()
    client_id = entry.client_id
    booked = await book_client(
        db,
        client_id=client_id,
        session_id=session_id,
        now=now,
        policy=policy,
        reason=Override.WAITING_LIST,
    )
    return client_id, booked


async def confirm_enrolment(
    db: AsyncSession, *, enrolment_id: int, now: datetime
) -> EnrolmentConfirmed:
    """A pending enrolment (ENROLMENT_ACTIVE_BY_DEFAULT=false) becomes active; the client is
    to be told."""
    client_id = await db.scalar(select(Enrolment.client_id).where(Enrolment.id == enrolment_id))
    confirmed = await db.execute(
        update(Enrolment)
        .where(Enrolment.id == enrolment_id, Enrolment.status == EnrolmentStatus.PENDING)
        .values(status=EnrolmentStatus.ACTIVE, confirmed_at=now)
    )
    if client_id is None or confirmed.rowcount != 1:  # confirmed meanwhile, or left
        await db.rollback()
        raise EnrolmentNotPending()
    event = EnrolmentConfirmed(client_id, enrolment_id)
    await outbox.record(db, [event], now)
    await db.commit()
    return event
