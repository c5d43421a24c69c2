"""Booking rules in the business's own words: plain values in, a domain error out."""

from __future__ import annotations

from datetime import datetime

from domain.errors import (
    AlreadyBooked,
    BookingAlreadyCancelled,
    SessionAlreadyStarted,
    SessionFull,
)


def spots_left(capacity: int, seats_taken: int) -> int:
    return max(capacity - seats_taken, 0)


def ensure_can_book(
    *, starts_at: datetime, now: datetime, capacity: int, seats_taken: int, already_booked: bool
) -> None:
    if starts_at <= now:
        raise SessionAlreadyStarted()
    if already_booked:
        raise AlreadyBooked()
    if spots_left(capacity, seats_taken) == 0:
        raise SessionFull()


def ensure_can_cancel(*, is_active: bool, starts_at: datetime, now: datetime) -> None:
    if not is_active:
        raise BookingAlreadyCancelled()
    if starts_at <= now:
        raise SessionAlreadyStarted()
