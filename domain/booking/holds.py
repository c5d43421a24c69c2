"""Unpaid bookings are held for a while (PAYMENT_HOLD_MINUTES): still unpaid after that, the
booking is released like a cancellation — the place goes to the waiting list, what was due is
waived, and the client is told."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, case, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.billing import money, payments
from domain.booking.bookings import cancel_loaded, load_booking
from domain.errors import DomainError
from domain.notices import outbox
from domain.notices.events import BookingReleased, Event
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
    # still due, as money.ItemAccount.due reads it: charged less paid, credited and waived
    # (in SQL, so that paid bookings never fill the batch and hide unpaid ones behind them)
    signed = case(
        (LedgerEntry.kind == money.EntryKind.CHARGE, LedgerEntry.amount_minor),
        (
            LedgerEntry.kind.in_(
                (money.EntryKind.PAYMENT, money.EntryKind.CREDIT, money.EntryKind.WAIVER)
            ),
            -LedgerEntry.amount_minor,
        ),
        else_=0,
    )
    due = (
        select(func.coalesce(func.sum(signed), 0))
        .where(LedgerEntry.item == literal("booking:") + cast(Booking.id, String))
        .scalar_subquery()
    )
    candidates = list(
        await db.scalars(
            select(Booking.id)
            .join(ClassSession, Booking.session_id == ClassSession.id)
            .where(
                Booking.status == BookingStatus.ACTIVE,
                Booking.created_at <= now - timedelta(minutes=policy.payment_hold_minutes),
                ClassSession.starts_at > now,
                due > 0,
            )
            .order_by(Booking.created_at, Booking.id)
            .limit(batch)
        )
    )
    events: list[Event] = []
    for booking_id in candidates:
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
