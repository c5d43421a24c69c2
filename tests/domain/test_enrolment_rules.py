from datetime import UTC, date, datetime, timedelta

import pytest

from domain.booking import rules
from domain.booking.rules import Period, RankAllowance, Waiting
from domain.errors import ProgrammeNotOpen, RankTooHigh, RankTooLow, SessionFull

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SEED_DEFAULTS = RankAllowance(minus=1, plus=0)


# capacity and overload


def test_clients_fill_only_the_capacity():
    with pytest.raises(SessionFull):
        rules.ensure_can_book(
            starts_at=NOW + timedelta(days=1),
            now=NOW,
            capacity=10,
            seats_taken=10,
            already_booked=False,
            max_overload=2,
        )


def test_staff_may_fill_the_overload_and_no_more():
    book = {
        "starts_at": NOW + timedelta(days=1),
        "now": NOW,
        "capacity": 10,
        "already_booked": False,
        "max_overload": 2,
        "by_staff": True,
    }
    rules.ensure_can_book(seats_taken=11, **book)
    with pytest.raises(SessionFull):
        rules.ensure_can_book(seats_taken=12, **book)


# rank allowance (seed 003: minus 1, plus 0)


@pytest.mark.parametrize("programme_rank", [1, 2])
def test_a_client_may_enrol_at_their_rank_or_one_below(programme_rank):
    rules.ensure_rank_allows(programme_rank=programme_rank, client_rank=2, allowance=SEED_DEFAULTS)


def test_a_programme_above_the_clients_rank_is_refused():
    with pytest.raises(RankTooLow):
        rules.ensure_rank_allows(programme_rank=3, client_rank=2, allowance=SEED_DEFAULTS)


def test_a_programme_two_ranks_below_is_refused():
    with pytest.raises(RankTooHigh):
        rules.ensure_rank_allows(programme_rank=0, client_rank=2, allowance=SEED_DEFAULTS)


def test_a_plus_allowance_lets_clients_reach_higher():
    rules.ensure_rank_allows(
        programme_rank=3, client_rank=2, allowance=RankAllowance(minus=1, plus=1)
    )


def test_a_programme_without_rank_is_open_to_everyone():
    rules.ensure_rank_allows(programme_rank=None, client_rank=-5, allowance=SEED_DEFAULTS)


# validity dates


def test_a_programme_is_open_between_its_dates_inclusive():
    span = {"valid_from": date(2026, 12, 1), "valid_until": date(2027, 1, 31)}
    assert rules.is_open_on(date(2026, 12, 1), **span)
    assert rules.is_open_on(date(2027, 1, 31), **span)
    assert not rules.is_open_on(date(2026, 11, 30), **span)
    assert not rules.is_open_on(date(2027, 2, 1), **span)
    assert rules.is_open_on(date(1999, 1, 1), valid_from=None, valid_until=None)


def test_enrolling_outside_the_dates_is_refused():
    with pytest.raises(ProgrammeNotOpen):
        rules.ensure_open_on(date(2027, 3, 1), valid_from=None, valid_until=date(2027, 2, 28))


# waiting list order


def test_the_queue_is_first_come_first_served_with_ties_by_arrival():
    a = Waiting(id=3, requested_at=NOW)
    b = Waiting(id=1, requested_at=NOW + timedelta(seconds=1))
    c = Waiting(id=2, requested_at=NOW)

    assert rules.queue_order([b, a, c]) == [c, a, b]
    assert rules.position_in_queue(1, [a, b, c]) == 3


def test_an_offer_expires_after_its_hold_time():
    expires = rules.offer_expires_at(NOW, hold_minutes=120)

    assert expires == NOW + timedelta(hours=2)
    assert not rules.offer_has_expired(expires, NOW + timedelta(minutes=119))
    assert rules.offer_has_expired(expires, NOW + timedelta(minutes=120))


# ongoing classes and make-ups


def test_enrolling_covers_exactly_the_sessions_that_have_not_started():
    starts = [NOW - timedelta(days=7), NOW, NOW + timedelta(days=7), NOW + timedelta(days=1)]

    assert rules.remaining_sessions(starts, NOW) == [
        NOW + timedelta(days=1),
        NOW + timedelta(days=7),
    ]


def test_cancelling_with_enough_notice_is_in_time():
    start = NOW + timedelta(hours=24)
    assert rules.cancelled_in_time(starts_at=start, now=NOW, notice_hours=24)
    assert not rules.cancelled_in_time(
        starts_at=start, now=NOW + timedelta(seconds=1), notice_hours=24
    )


WINTER = Period(date(2026, 9, 1), date(2027, 1, 31))
SPRING = Period(date(2027, 2, 1), date(2027, 6, 30))


def test_a_makeup_is_used_within_the_missed_sessions_period():
    assert (
        rules.makeup_usable_until(date(2026, 12, 3), [SPRING, WINTER], carry_over=False)
        == WINTER.ends_on
    )


def test_a_makeup_carries_over_into_the_next_period_when_allowed():
    assert (
        rules.makeup_usable_until(date(2026, 12, 3), [SPRING, WINTER], carry_over=True)
        == SPRING.ends_on
    )


def test_a_makeup_from_the_last_period_ends_with_it_even_if_carry_over_is_allowed():
    assert (
        rules.makeup_usable_until(date(2027, 3, 3), [SPRING, WINTER], carry_over=True)
        == SPRING.ends_on
    )


def test_without_billing_periods_a_makeup_does_not_lapse():
    assert rules.makeup_usable_until(date(2026, 12, 3), [], carry_over=False) is None
    assert rules.makeup_usable_on(date(2030, 1, 1), None)


def test_a_makeup_cannot_be_used_after_it_lapsed():
    assert rules.makeup_usable_on(WINTER.ends_on, WINTER.ends_on)
    assert not rules.makeup_usable_on(SPRING.starts_on, WINTER.ends_on)
