"""Minimum participants: when a session's minimum is checked, and what keeping it on allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.timetable.minimum_rules import Minimum, below_minimum, check_due, check_time

START = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def minimum(booked: int = 2, **values) -> Minimum:
    return Minimum(participants=4, check_hours=24, starts_at=START, booked=booked, **values)


def test_the_check_comes_the_class_s_hours_before_the_start():
    assert check_time(START, 24) == START - timedelta(hours=24)


@pytest.mark.parametrize(
    ("before_start", "due"),
    [
        (timedelta(hours=24, seconds=1), False),  # not yet
        (timedelta(hours=24), True),  # at the check time
        (timedelta(hours=3), True),  # a bot that was down checks late, not never
        (timedelta(seconds=1), True),
        (timedelta(0), False),  # begun: left alone
        (-timedelta(hours=1), False),
    ],
)
def test_the_check_is_due_from_its_time_until_the_session_starts(before_start, due):
    assert check_due(starts_at=START, check_hours=24, now=START - before_start) is due


@pytest.mark.parametrize(("booked", "below"), [(0, True), (3, True), (4, False), (9, False)])
def test_a_session_is_below_its_minimum_with_fewer_bookings_only(booked, below):
    assert below_minimum(booked=booked, minimum=4) is below


def test_run_it_anyway_is_offered_below_the_minimum_before_the_check():
    now = START - timedelta(hours=30)

    assert minimum(booked=3).may_keep_on(now)
    assert not minimum(booked=4).may_keep_on(now)  # reached: nothing to keep on
    assert not minimum(checked_at=now).may_keep_on(now)  # checked: decided
    assert not minimum(kept_on_at=now).may_keep_on(now)  # kept on already
    assert not minimum().may_keep_on(START)  # begun


def test_run_it_anyway_is_offered_past_the_check_time_until_the_check_has_run():
    assert minimum().may_keep_on(START - timedelta(hours=1))


def test_keeping_on_is_undone_only_before_the_check_time():
    kept = minimum(kept_on_at=START - timedelta(hours=40))

    assert kept.may_undo_keep_on(START - timedelta(hours=25))
    assert not kept.may_undo_keep_on(START - timedelta(hours=24))  # the check would cancel it
    assert not minimum().may_undo_keep_on(START - timedelta(hours=30))  # not kept on
