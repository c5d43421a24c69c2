"""The rules of moving a booking (domain/booking/rules.py): the class's cut-off on the
studio's clock, its most moves, and where a booking may go."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.booking import rules
from domain.errors import (
    MoveNotAllowed,
    MovesUsedUp,
    NotAMoveTarget,
    SessionAlreadyStarted,
    TooLateToChange,
)

PRAGUE = ZoneInfo("Europe/Prague")
START = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)  # 18:00 in Prague
BOOKED = {"booking_session_id": 1, "booking_class_id": 10, "booking_programme_id": 100}


def test_a_client_may_move_until_the_cut_off_and_not_a_minute_later():
    terms = rules.MovePolicy(cutoff_hours=24)
    deadline = datetime(2026, 12, 9, 17, 0, tzinfo=UTC)
    terms.ensure_client_may_move(moves=0, starts_at=START, now=deadline, zone=PRAGUE)
    with pytest.raises(TooLateToChange) as late:
        terms.ensure_client_may_move(
            moves=0, starts_at=START, now=deadline.replace(minute=1), zone=PRAGUE
        )
    assert late.value.params["deadline"] == deadline


def test_the_cut_off_is_on_the_studios_clock_across_a_clock_change():
    # 24 hours before 18:00 on the Sunday the clocks go back is 18:00 on Saturday, 25 h earlier
    sunday = datetime(2026, 10, 25, 17, 0, tzinfo=UTC)
    deadline = rules.MovePolicy(cutoff_hours=24).deadline(sunday, PRAGUE)
    assert deadline == datetime(2026, 10, 24, 16, 0, tzinfo=UTC)


def test_reschedules_max_counts_the_moves_already_made():
    terms = rules.MovePolicy(cutoff_hours=0, moves_max=2)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    terms.ensure_client_may_move(moves=1, starts_at=START, now=now, zone=PRAGUE)
    with pytest.raises(MovesUsedUp):
        terms.ensure_client_may_move(moves=2, starts_at=START, now=now, zone=PRAGUE)


def test_reschedules_max_0_means_never_and_no_limit_means_any_number():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert not rules.MovePolicy(cutoff_hours=0, moves_max=0).allows_moves
    with pytest.raises(MoveNotAllowed):
        rules.MovePolicy(0, moves_max=0).ensure_client_may_move(
            moves=0, starts_at=START, now=now, zone=PRAGUE
        )
    rules.MovePolicy(0).ensure_client_may_move(moves=99, starts_at=START, now=now, zone=PRAGUE)


def test_a_started_session_is_not_moved_by_its_client():
    with pytest.raises(SessionAlreadyStarted):
        rules.MovePolicy(0).ensure_client_may_move(moves=0, starts_at=START, now=START, zone=PRAGUE)


def target(session_id=2, class_id=10, programme_id=100, day=date(2026, 12, 12), price_minor=0):
    return rules.MoveTarget(session_id, class_id, programme_id, day, price_minor)


def test_a_pay_as_you_go_booking_moves_within_its_class_only():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    rules.ensure_move_target(
        **BOOKED, ongoing=False, period=None, target=target(), starts_at=START, now=now
    )
    with pytest.raises(NotAMoveTarget):
        rules.ensure_move_target(
            **BOOKED,
            ongoing=False,
            period=None,
            target=target(class_id=11),
            starts_at=START,
            now=now,
        )


def test_its_own_session_or_one_already_begun_is_no_target():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with pytest.raises(NotAMoveTarget):
        rules.ensure_move_target(
            **BOOKED, ongoing=False, period=None, target=target(1), starts_at=START, now=now
        )
    with pytest.raises(SessionAlreadyStarted):
        rules.ensure_move_target(
            **BOOKED, ongoing=False, period=None, target=target(), starts_at=now, now=now
        )


def test_an_ongoing_class_session_moves_within_its_programme_and_billing_period():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    autumn = rules.Period(date(2026, 9, 1), date(2026, 12, 31))
    rules.ensure_move_target(
        **BOOKED,
        ongoing=True,
        period=autumn,
        target=target(class_id=11),
        starts_at=START,
        now=now,
    )
    for wrong in (target(programme_id=101), target(day=date(2027, 1, 5))):
        with pytest.raises(NotAMoveTarget):
            rules.ensure_move_target(
                **BOOKED, ongoing=True, period=autumn, target=wrong, starts_at=START, now=now
            )


def test_with_any_class_a_booking_moves_to_a_class_of_its_programme_at_the_same_price():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    moving = {**BOOKED, "ongoing": False, "period": None, "starts_at": START, "now": now}
    priced = {**moving, "any_class": True, "booking_price_minor": 2000}
    rules.ensure_move_target(**priced, target=target(class_id=11, price_minor=2000))
    rules.ensure_move_target(**priced, target=target(price_minor=2000))  # its own class
    for wrong in (
        target(class_id=11, price_minor=3000),  # another price: a second charge or a refund
        target(class_id=11, price_minor=0),
        target(class_id=11, programme_id=101, price_minor=2000),  # another programme
    ):
        with pytest.raises(NotAMoveTarget):
            rules.ensure_move_target(**priced, target=wrong)
    with pytest.raises(NotAMoveTarget):  # off: its own class only, whatever the price
        rules.ensure_move_target(
            **moving, booking_price_minor=2000, target=target(class_id=11, price_minor=2000)
        )


def test_period_of_finds_the_period_holding_a_day():
    periods = [rules.Period(date(2026, 9, 1), date(2026, 12, 31))]
    assert rules.period_of(date(2026, 10, 1), periods) == periods[0]
    assert rules.period_of(date(2027, 1, 1), periods) is None
