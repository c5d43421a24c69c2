"""Formatting for people: Babel in the business's time zone, and colours as dots."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.text import formatting

PRAGUE = ZoneInfo("Europe/Prague")


@pytest.mark.parametrize(
    ("colour", "dot"),
    [("#dd2222", "🔴"), ("#2266dd", "🔵"), ("#3a3", "🟢"), ("#aa5500", "🟤"), ("#fff", "⚪")],
)
def test_a_programme_colour_becomes_the_nearest_dot(colour, dot):
    assert formatting.colour_dot(colour) == dot


def test_no_or_broken_colour_gives_no_dot():
    assert formatting.colour_dot(None) == ""
    assert formatting.colour_dot("#zzzzzz") == ""


def test_times_are_shown_in_the_business_zone_on_both_sides_of_the_dst_change():
    winter = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    summer = datetime(2027, 4, 1, 16, 0, tzinfo=UTC)
    assert (
        formatting.short_when(winter, PRAGUE, "en").replace("\u202f", " ") == "Tue, Dec 1, 6:00 PM"
    )
    assert (
        formatting.short_when(summer, PRAGUE, "en").replace("\u202f", " ") == "Thu, Apr 1, 6:00 PM"
    )


def test_money_and_durations_follow_the_locale():
    assert formatting.money(1250, "EUR", "en") == "€12.50"
    assert formatting.money(1250, "EUR", "cs").replace("\xa0", " ") == "12,50 €"
    assert formatting.money(1500, "XTR", "en") == "1,500 ⭐"  # Stars: whole, unknown to Babel
    assert formatting.duration(90, "en") == "90 minutes"
    assert formatting.duration(60, "en") == "1 hour"
