"""Use cases for a client's bookings: each takes a unit of work and plain values, commits once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain import rules
from domain.clients import ClientRef, remember_client
from domain.errors import (
    AlreadyBooked,
    BookingAlreadyCancelled,
    BookingNotFound,
    SessionFull,
    SessionNotFound,
)
from domain.storage import queries
from domain.storage.models import Booking, BookingStatus, ClassSession, ProgrammeClass


async def book_session(
    db: AsyncSession, *, client: ClientRef, session_id: int, now: datetime
) -> queries.BookingCard:
    card = await queries.session_card(db, session_id, client.id)
    if card is None:
        raise SessionNotFound()
    rules.ensure_can_book(
        starts_at=card.starts_at,
        now=now,
        capacity=card.capacity,
        seats_taken=card.capacity - card.spots_left,
        already_booked=card.my_booking_id is not None,
    )
    await remember_client(db, client, now)
    if not await _take_seat(db, session_id):
        await db.rollback()
        raise SessionFull()
    booking = Booking(session_id=session_id, client_id=client.id, created_at=now)
    db.add(booking)
    try:
        await db.flush()
    except IntegrityError:
        # the same client won a race against themselves (two taps, two devices)
        await db.rollback()
        raise AlreadyBooked() from None
    await db.commit()
    return await _card(db, booking.id, client.id)


async def cancel_booking(
    db: AsyncSession, *, client_id: int, booking_id: int, now: datetime
) -> queries.BookingCard:
    card = await queries.booking_card(db, booking_id, client_id)
    if card is None:
        raise BookingNotFound()
    rules.ensure_can_cancel(is_active=card.is_active, starts_at=card.starts_at, now=now)
    cancelled = await db.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.status == BookingStatus.ACTIVE)
        .values(status=BookingStatus.CANCELLED, cancelled_at=now)
    )
    if cancelled.rowcount == 0:  # cancelled meanwhile from another device
        await db.rollback()
        raise BookingAlreadyCancelled()
    await db.execute(
        update(ClassSession)
        .where(ClassSession.id == card.session_id)
        .values(seats_taken=ClassSession.seats_taken - 1)
    )
    await db.commit()
    return await _card(db, booking_id, client_id)


async def _take_seat(db: AsyncSession, session_id: int) -> bool:
    """One conditional UPDATE: atomic on SQLite and PostgreSQL, so capacity is never exceeded."""
    capacity = (
        select(ProgrammeClass.capacity)
        .where(ProgrammeClass.id == ClassSession.class_id)
        .scalar_subquery()
    )
    taken = await db.execute(
        update(ClassSession)
        .where(ClassSession.id == session_id, ClassSession.seats_taken < capacity)
        .values(seats_taken=ClassSession.seats_taken + 1)
    )
    return taken.rowcount == 1


async def _card(db: AsyncSession, booking_id: int, client_id: int) -> queries.BookingCard:
    card = await queries.booking_card(db, booking_id, client_id)
    assert card is not None, "a booking just written must be readable"
    return card
