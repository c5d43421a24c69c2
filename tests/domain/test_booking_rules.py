from datetime import UTC, datetime, timedelta

import pytest

from domain.booking import rules
from domain.errors import AlreadyBooked, BookingAlreadyCancelled, SessionAlreadyStarted, SessionFull

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TOMORROW = NOW + timedelta(days=1)


def book(**overrides):
    values = {
        "starts_at": TOMORROW,
        "now": NOW,
        "capacity": 3,
        "seats_taken": 0,
        "already_booked": False,
    } | overrides
    rules.ensure_can_book(**values)


def test_a_session_with_room_can_be_booked():
    book(seats_taken=2)


def test_a_full_session_cannot_be_booked():
    with pytest.raises(SessionFull):
        book(seats_taken=3)


def test_a_client_cannot_book_the_same_session_twice():
    with pytest.raises(AlreadyBooked):
        book(already_booked=True)


def test_a_session_that_has_started_cannot_be_booked():
    with pytest.raises(SessionAlreadyStarted):
        book(starts_at=NOW)


def test_spots_left_never_goes_below_zero():
    assert rules.spots_left(capacity=3, seats_taken=1) == 2
    assert rules.spots_left(capacity=3, seats_taken=5) == 0


def test_an_active_future_booking_can_be_cancelled():
    rules.ensure_can_cancel(is_active=True, starts_at=TOMORROW, now=NOW)


def test_a_cancelled_booking_cannot_be_cancelled_again():
    with pytest.raises(BookingAlreadyCancelled):
        rules.ensure_can_cancel(is_active=False, starts_at=TOMORROW, now=NOW)


def test_a_booking_cannot_be_cancelled_once_the_session_started():
    with pytest.raises(SessionAlreadyStarted):
        rules.ensure_can_cancel(is_active=True, starts_at=NOW - timedelta(minutes=1), now=NOW)
