"""Where a multi session's spots fall: one after another with the break, all at once, across a
summer-time change, and more added later without overlapping."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.errors import BadSpotCount, LocalTimeInvalid, SpotsOverlap, StartInPast
from domain.timetable.spots import ensure_no_overlap, local_start, spot_starts

PRAGUE = ZoneInfo("Europe/Prague")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


def on_the_clock(moments: list[datetime]) -> list[str]:
    return [m.astimezone(PRAGUE).strftime("%H:%M") for m in moments]


def test_spots_follow_each_other_with_the_break():
    first = local_start(local("2026-12-05 10:00"), PRAGUE)

    starts = spot_starts(first, 4, duration_minutes=20, break_minutes=10, now=NOW)

    assert on_the_clock(starts) == ["10:00", "10:30", "11:00", "11:30"]


def test_all_together_is_one_start():
    first = local_start(local("2026-12-05 10:00"), PRAGUE)

    starts = spot_starts(first, 12, duration_minutes=90, break_minutes=0, together=True, now=NOW)

    assert starts == [first]


def test_across_the_spring_change_spots_keep_their_length_and_the_clock_jumps():
    # 2026-03-29: at 02:00 Prague clocks go to 03:00
    first = local_start(local("2026-03-29 01:00"), PRAGUE)

    starts = spot_starts(first, 3, duration_minutes=30, break_minutes=10, now=NOW)

    assert on_the_clock(starts) == ["01:00", "01:40", "03:20"]
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(starts)] == [
        2400,
        2400,
    ]


def test_a_start_the_clock_skips_or_shows_twice_is_refused():
    with pytest.raises(LocalTimeInvalid):
        local_start(local("2026-03-29 02:30"), PRAGUE)  # skipped
    with pytest.raises(LocalTimeInvalid):
        local_start(local("2026-10-25 02:30"), PRAGUE)  # shown twice


@pytest.mark.parametrize("count", [0, -1, 101])
def test_a_count_out_of_range_is_refused(count):
    first = local_start(local("2026-12-05 10:00"), PRAGUE)
    with pytest.raises(BadSpotCount):
        spot_starts(first, count, duration_minutes=20, break_minutes=0, now=NOW)


def test_a_start_in_the_past_is_refused():
    first = local_start(local("2026-02-01 10:00"), PRAGUE)
    with pytest.raises(StartInPast):
        spot_starts(first, 2, duration_minutes=20, break_minutes=0, now=NOW)


def test_spots_added_later_may_follow_but_not_overlap():
    first = local_start(local("2026-12-05 10:00"), PRAGUE)
    existing = spot_starts(first, 3, duration_minutes=20, break_minutes=10, now=NOW)  # to 11:30

    after = local_start(local("2026-12-05 11:30"), PRAGUE)
    ensure_no_overlap(existing, [after], duration_minutes=20, break_minutes=10)

    inside = local_start(local("2026-12-05 11:20"), PRAGUE)
    with pytest.raises(SpotsOverlap):
        ensure_no_overlap(existing, [inside], duration_minutes=20, break_minutes=10)
    with pytest.raises(SpotsOverlap):  # the same start again
        ensure_no_overlap(existing, [first], duration_minutes=20, break_minutes=10)
