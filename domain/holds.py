"""Unpaid bookings are held for a while (PAYMENT_HOLD_MINUTES): still unpaid after that, the
booking is released like a cancellation — the place goes to the waiting list, what was due is
waived, and the client is told."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, cast, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain import money, outbox, payments
from domain.booking import cancel_loaded, load_booking
from domain.errors import DomainError
from domain.events import BookingReleased, Event
from domain.policy import Policy
from domain.storage.models import Booking, BookingStatus, ClassSession, LedgerEntry


def hold_ends_at(booked_at: datetime, policy: Policy) -> datetime | None:
    """Until when an unpaid booking is kept (None: no hold, it is kept)."""
    if policy.payment_hold_minutes <= 0:
        return None
    return booked_at + timedelta(minutes=policy.payment_hold_minutes)


async def release_unpaid(
    db: AsyncSession, now: datetime, policy: Policy, *, batch: int = 100
) -> list[Event]:
    """Periodic job: release bookings with a price still due after the hold."""
    if policy.payment_hold_minutes <= 0:
        return []
    charged = (
        select(LedgerEntry.id)
        .where(
            LedgerEntry.item == literal("booking:") + cast(Booking.id, String),
            LedgerEntry.kind == money.EntryKind.CHARGE,
        )
        .exists()
    )
    candidates = list(
        await db.execute(
            select(Booking.id, Booking.client_id)
            .join(ClassSession, Booking.session_id == ClassSession.id)
            .where(
                Booking.status == BookingStatus.ACTIVE,
                Booking.created_at <= now - timedelta(minutes=policy.payment_hold_minutes),
                ClassSession.starts_at > now,
                charged,
            )
            .order_by(Booking.created_at, Booking.id)
            .limit(batch)
        )
    )
    events: list[Event] = []
    for booking_id, client_id in candidates:
        due = await payments.booking_due(db, client_id, booking_id)
        if due is None or due.due.minor == 0:
            continue
        try:
            events += await _release(db, booking_id, now, policy)
        except DomainError:  # paid, cancelled or started meanwhile
            await db.rollback()
    return events


async def _release(db: AsyncSession, booking_id: int, now: datetime, policy: Policy) -> list[Event]:
    booking = await load_booking(db, booking_id)
    if booking is None:
        return []
    due = await payments.booking_due(db, booking.client_id, booking_id)
    if due is None or due.due.minor == 0:  # paid a moment ago
        return []
    # (a payment landing after this commit is still recorded: it shows as the client's credit)
    events, _makeup = await cancel_loaded(db, booking, now, policy)
    released = BookingReleased(booking.client_id, booking.id, unpaid=True)
    await outbox.record(db, [released], now)
    await db.commit()
    return [released, *events]
