"""Whether a session is open to a booking: the rule the Book button and the Book tap share."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.booking.actor import Actor, Override
from domain.booking.rules import Bookable
from domain.errors import AlreadyBooked, NeedsEnrolment, SessionAlreadyStarted

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
CLIENT = Actor.client(7)
STAFF = Actor.staff(99, reason=Override.DESK)


def session(**overrides) -> Bookable:
    facts = {
        "class_id": 3,
        "starts_at": NOW + timedelta(days=1),
        "ongoing": False,
        "booked": False,
    } | overrides
    return Bookable(**facts)


def test_a_future_session_the_client_has_not_booked_is_open_to_them():
    assert session().is_open_to(CLIENT, NOW)
    session().ensure_open_to(CLIENT, NOW)


def test_a_session_that_has_started_is_open_to_nobody():
    started = session(starts_at=NOW)

    assert not started.is_open_to(CLIENT, NOW)
    assert not started.is_open_to(STAFF, NOW)
    with pytest.raises(SessionAlreadyStarted):
        started.ensure_open_to(STAFF, NOW)


def test_a_session_the_client_booked_already_is_not_open_to_them_again():
    booked = session(booked=True)

    assert not booked.is_open_to(CLIENT, NOW)
    with pytest.raises(AlreadyBooked):
        booked.ensure_open_to(CLIENT, NOW)


def test_a_client_enrols_in_an_ongoing_class_instead_of_booking_one_session():
    ongoing = session(ongoing=True)

    assert not ongoing.is_open_to(CLIENT, NOW)
    with pytest.raises(NeedsEnrolment) as refused:
        ongoing.ensure_open_to(CLIENT, NOW)
    assert refused.value.params == {"class_id": 3}


def test_staff_may_book_one_session_of_an_ongoing_class_for_a_client():
    assert session(ongoing=True).is_open_to(STAFF, NOW)


def test_of_several_reasons_enrolment_comes_first_then_the_start_then_the_booking_held():
    everything = session(ongoing=True, starts_at=NOW - timedelta(hours=1), booked=True)

    assert isinstance(everything.closed_to(CLIENT, NOW), NeedsEnrolment)
    assert isinstance(everything.closed_to(STAFF, NOW), SessionAlreadyStarted)
    assert isinstance(session(booked=True).closed_to(STAFF, NOW), AlreadyBooked)


def test_an_actor_is_the_client_or_staff_with_a_reason():
    assert not CLIENT.by_staff
    assert CLIENT.reason is None
    assert STAFF.by_staff
    assert STAFF.reason == Override.DESK
    assert Actor.staff(reason=Override.RESERVATION).user_id is None
