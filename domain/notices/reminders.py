"""Answers to a reminder (Coming / Can't come) and the release of unanswered bookings."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.booking import client_views
from domain.booking.bookings import cancel_loaded, load_booking
from domain.errors import (
    BookingAlreadyCancelled,
    BookingNotFound,
    DomainError,
    SessionAlreadyStarted,
)
from domain.notices import outbox
from domain.notices.events import BookingReleased, Event, SessionReminder
from domain.policy import Policy
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    OutboxMessage,
    OutboxState,
)


async def confirm_attendance(
    db: AsyncSession, *, client_id: int, booking_id: int, now: datetime
) -> client_views.BookingCard:
    """The client answered "Coming": the booking is kept, and no longer released unanswered."""
    booking = await db.get(Booking, booking_id)
    if booking is None or booking.client_id != client_id:
        raise BookingNotFound()
    if booking.status != BookingStatus.ACTIVE:
        raise BookingAlreadyCancelled()
    starts_at = await db.scalar(
        select(ClassSession.starts_at).where(ClassSession.id == booking.session_id)
    )
    if starts_at is None or starts_at <= now:
        raise SessionAlreadyStarted()
    if booking.confirmed_at is None:
        await db.execute(
            update(Booking)
            .where(Booking.id == booking_id, Booking.confirmed_at.is_(None))
            .values(confirmed_at=now)
        )
        await db.commit()
    card = await client_views.booking_card(db, booking_id, client_id)
    assert card is not None
    return card


async def release_unconfirmed(
    db: AsyncSession, now: datetime, policy: Policy, *, batch: int = 100
) -> list[Event]:
    """Periodic job: bookings whose reminder was sent but not answered "Coming" by the deadline
    (RELEASE hours before the start) are cancelled as if the client had cancelled then; the
    place goes to the waiting list and the client is told. Off when the policy says 0."""
    hours = policy.release_unconfirmed_hours
    if hours <= 0:
        return []
    asked = exists().where(
        OutboxMessage.booking_id == Booking.id,
        OutboxMessage.kind == SessionReminder.kind,
        OutboxMessage.state == OutboxState.SENT,
    )
    due = list(
        await db.scalars(
            select(Booking.id)
            .join(ClassSession, Booking.session_id == ClassSession.id)
            .where(
                Booking.status == BookingStatus.ACTIVE,
                Booking.confirmed_at.is_(None),
                ClassSession.starts_at > now,
                ClassSession.starts_at <= now + timedelta(hours=hours),
                asked,
            )
            .order_by(ClassSession.starts_at, Booking.id)
            .limit(batch)
        )
    )
    events: list[Event] = []
    for booking_id in due:
        try:
            events += await _release(db, booking_id, now, policy)
        except DomainError:  # answered, cancelled or started meanwhile
            await db.rollback()
    return events


async def _release(db: AsyncSession, booking_id: int, now: datetime, policy: Policy) -> list[Event]:
    booking = await load_booking(db, booking_id)
    if booking is None or booking.confirmed_at is not None:
        return []
    events, _makeup = await cancel_loaded(db, booking, now, policy)
    released = BookingReleased(booking.client_id, booking.id)
    await outbox.record(db, [released], now)
    await db.commit()
    return [released, *events]
