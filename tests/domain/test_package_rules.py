"""Session package rules (seed 002): relative cost shares and their rounding, the cut-off on
the local clock across a summer-time change, exactly N picks of one service, per-day/week
limits, and the calendar file's events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from domain.billing import money
from domain.booking.rules import (
    change_deadline,
    ensure_can_change,
    ensure_package_picks,
    ensure_within_limits,
)
from domain.errors import (
    DayLimitReached,
    MixedServices,
    TooLateToChange,
    WeekLimitReached,
    WrongPackageCount,
)
from domain.timetable import ics

PRAGUE = ZoneInfo("Europe/Prague")
EUR = "EUR"


def test_seed_002s_example_three_sessions_for_150():
    price = money.Money(15000, EUR)

    assert money.fee_share(price, 10, 3) == money.Money(500, EUR)
    assert money.refund_share(price, 50, 3) == money.Money(2500, EUR)
    assert money.refund_share(price, 50, 3).minor * 3 == 7500


def test_refunds_round_down_and_fees_round_up_to_the_minor_unit():
    price = money.Money(10000, EUR)  # 100.00 for 3: 33.333… each

    assert money.refund_share(price, 50, 3) == money.Money(1666, EUR)
    assert money.fee_share(price, 10, 3) == money.Money(334, EUR)
    # all sessions refunded in full never exceed the price
    assert money.refund_share(price, 100, 3).minor * 3 <= price.minor


def test_the_cut_off_is_on_the_local_clock_across_the_autumn_change():
    # Sunday Oct 25th 2026, 10:00 Prague (CET); 24 h before on the clock: Saturday 10:00 CEST
    starts_at = datetime(2026, 10, 25, 9, 0, tzinfo=UTC)

    deadline = change_deadline(starts_at, 24, PRAGUE)

    assert deadline == datetime(2026, 10, 24, 8, 0, tzinfo=UTC)  # 25 elapsed hours before
    ensure_can_change(starts_at=starts_at, now=deadline, cutoff_hours=24, zone=PRAGUE)
    with pytest.raises(TooLateToChange):
        ensure_can_change(
            starts_at=starts_at,
            now=deadline + timedelta(minutes=1),
            cutoff_hours=24,
            zone=PRAGUE,
        )


def test_a_cut_off_falling_in_the_skipped_spring_hour_is_read_before_the_jump():
    # Monday Mar 30th 2026, 02:30 Prague would be 24 h before... take a 26 h cut-off of a
    # session on Monday 04:30 CEST: Sunday 02:30, a time the clock skipped
    starts_at = datetime(2026, 3, 30, 2, 30, tzinfo=UTC)  # 04:30 CEST
    deadline = change_deadline(starts_at, 26, PRAGUE)

    assert deadline == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 CET, before the jump


def test_exactly_n_picks_of_the_packages_own_service():
    ensure_package_picks([7, 7, 7], class_id=7, size=3)
    with pytest.raises(WrongPackageCount):
        ensure_package_picks([7, 7], class_id=7, size=3)
    with pytest.raises(WrongPackageCount):
        ensure_package_picks([7, 7, 7, 7], class_id=7, size=3)
    with pytest.raises(MixedServices):
        ensure_package_picks([7, 8, 7], class_id=7, size=3)


def test_per_day_and_per_week_limits_count_local_days():
    monday = date(2026, 11, 23)
    booked = [monday, monday + timedelta(days=2)]

    ensure_within_limits(
        day=monday + timedelta(days=7), booked_days=booked, max_per_day=1, max_per_week=2
    )
    with pytest.raises(DayLimitReached):
        ensure_within_limits(day=monday, booked_days=booked, max_per_day=1, max_per_week=None)
    with pytest.raises(WeekLimitReached):
        ensure_within_limits(
            day=monday + timedelta(days=6), booked_days=booked, max_per_day=None, max_per_week=2
        )


def test_the_calendar_file_holds_one_independent_event_per_session():
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    starts = [datetime(2026, 11, 23 + n, 9, 0, tzinfo=UTC) for n in range(3)]
    events = [
        ics.CalendarEvent(
            uid=ics.slot_uid(5, n + 1),
            starts_at=s,
            ends_at=s + timedelta(hours=1),
            summary="Coaching",
            sequence=1 if n == 0 else 0,
        )
        for n, s in enumerate(starts)
    ]

    parsed = Calendar.from_ical(ics.calendar_file(events, now=now)).walk("VEVENT")

    assert [str(e["UID"]) for e in parsed] == [f"package-5-slot-{n}@spotbook" for n in (1, 2, 3)]
    assert [e.decoded("DTSTART") for e in parsed] == starts
    assert [int(e["SEQUENCE"]) for e in parsed] == [1, 0, 0]
