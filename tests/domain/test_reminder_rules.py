"""When reminders go out, when unanswered bookings are released, when staff hear of a
cancellation: pure rules, in the business's time zone across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.booking.rules import is_late_cancellation
from domain.notices import outbox
from domain.notices.events import (
    BookingReleased,
    LateCancellation,
    MoneyReturned,
    PaymentNudge,
    SessionReminder,
    SpotOffered,
)
from domain.notices.rules import (
    ReminderOffset,
    parse_reminder_offsets,
    release_deadline,
    reminder_time,
    reminders_due,
)

PRAGUE = ZoneInfo("Europe/Prague")
H24, H2, D1 = ReminderOffset(24, "h"), ReminderOffset(2, "h"), ReminderOffset(1, "d")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=PRAGUE).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "offsets"),
    [
        ("24h,2h", (H24, H2)),
        (" 2h , 24H ", (H24, H2)),  # any order and case: earliest reminder first
        ("1d,2h,1d", (D1, H2)),  # repeats once
        ("", ()),  # no reminders at all
        ("48h,1d", (ReminderOffset(48, "h"), D1)),
    ],
)
def test_reminder_offsets_are_read_from_the_setting(text, offsets):
    assert parse_reminder_offsets(text) == offsets


@pytest.mark.parametrize("text", ["24", "2x", "h", "0h", "-2h", "1.5h", "2 hours"])
def test_an_unreadable_reminder_setting_is_refused_with_the_part_at_fault(text):
    with pytest.raises(ValueError, match="whole hours or days"):
        parse_reminder_offsets(text)


def test_hours_are_elapsed_time_and_days_keep_the_local_clock_across_the_autumn_change():
    # Prague leaves summer time on Sunday 25 October 2026 at 03:00 (back to 02:00)
    starts = local(2026, 10, 25, 10, 0)

    # 24 elapsed hours before 10:00 CET is 11:00 CEST the day before
    assert reminder_time(starts, H24, PRAGUE) == local(2026, 10, 24, 11, 0)
    assert reminder_time(starts, H24, PRAGUE) == starts - timedelta(hours=24)
    # one calendar day before keeps 10:00 on the local clock (25 hours earlier)
    assert reminder_time(starts, D1, PRAGUE) == local(2026, 10, 24, 10, 0)
    assert starts - reminder_time(starts, D1, PRAGUE) == timedelta(hours=25)


def test_a_day_before_across_the_spring_change_is_23_hours():
    # summer time starts on Sunday 29 March 2026 at 02:00 (to 03:00)
    starts = local(2026, 3, 29, 9, 30)

    assert reminder_time(starts, D1, PRAGUE) == local(2026, 3, 28, 9, 30)
    assert starts - reminder_time(starts, D1, PRAGUE) == timedelta(hours=23)
    assert reminder_time(starts, H2, PRAGUE) == local(2026, 3, 29, 7, 30)


def test_a_day_before_lands_just_after_a_gap_when_its_local_time_was_skipped():
    # a session at 02:30 on Monday 30 March: 02:30 on the 29th never happened (02:00 -> 03:00)
    starts = local(2026, 3, 30, 2, 30)

    at = reminder_time(starts, D1, PRAGUE)

    assert at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 summer time, after the gap
    assert at.astimezone(PRAGUE).strftime("%d %H:%M %Z") == "29 03:30 CEST"


def test_reminders_already_past_when_booking_are_skipped():
    starts = local(2026, 12, 3, 18, 0)
    offsets = (H24, H2)

    early = reminders_due(starts, offsets, PRAGUE, now=starts - timedelta(days=3))
    late = reminders_due(starts, offsets, PRAGUE, now=starts - timedelta(hours=5))
    last_minute = reminders_due(starts, offsets, PRAGUE, now=starts - timedelta(minutes=30))

    assert early == [(H24, starts - timedelta(hours=24)), (H2, starts - timedelta(hours=2))]
    assert late == [(H2, starts - timedelta(hours=2))]
    assert last_minute == []


def test_the_release_deadline_is_hours_before_the_start_or_never():
    starts = local(2026, 12, 3, 18, 0)
    assert release_deadline(starts, 12) == starts - timedelta(hours=12)
    assert release_deadline(starts, 0) is None


@pytest.mark.parametrize(
    ("hours_before", "notice_hours", "late"),
    [(3, 24, True), (24, 24, True), (25, 24, False), (3, 0, False), (-1, 24, False)],
)
def test_staff_hear_of_cancellations_within_the_notice(hours_before, notice_hours, late):
    now = local(2026, 12, 3, 8, 0)
    starts = now + timedelta(hours=hours_before)
    assert is_late_cancellation(starts_at=starts, now=now, notice_hours=notice_hours) is late


def test_a_reminder_is_one_message_per_booking_start_and_offset():
    starts = local(2026, 12, 3, 18, 0)
    first = SessionReminder(1, 10, starts, "24h")

    assert first.dedupe_key == SessionReminder(1, 10, starts, "24h").dedupe_key
    others = {
        SessionReminder(1, 10, starts, "2h").dedupe_key,  # the other reminder
        SessionReminder(1, 11, starts, "24h").dedupe_key,  # another booking
        # the booking moved: its new time is reminded again
        SessionReminder(1, 10, starts + timedelta(days=1), "24h").dedupe_key,
    }
    assert first.dedupe_key not in others
    assert len(others) == 3
    # each staff member hears of a cancellation once
    assert LateCancellation(7, 10).dedupe_key != LateCancellation(8, 10).dedupe_key


@pytest.mark.parametrize(
    "event",
    [
        SessionReminder(1, 10, local(2026, 12, 3, 18, 0), "24h"),
        SpotOffered(1, 5, 7, local(2026, 12, 3, 18, 30)),
        SpotOffered(1, 5, None, local(2026, 12, 3, 18, 30), class_id=3),
        LateCancellation(7, 10),
        PaymentNudge(1, 10, 3),
        MoneyReturned(1, 10, 20, 20, 77),
        BookingReleased(1, 10, unpaid=True),
    ],
)
def test_an_outbox_payload_reads_back_as_the_same_event(event):
    assert outbox.from_row(event.kind, outbox.to_payload(event)) == event


def test_an_outbox_row_this_code_cannot_read_is_refused():
    with pytest.raises(ValueError, match="unknown outbox kind"):
        outbox.from_row("carrier_pigeon", "{}")
    with pytest.raises(ValueError, match="unreadable reminder payload"):
        outbox.from_row("reminder", '{"client_id": 1}')
    garbled = '{"client_id": 1, "booking_id": 2, "starts_at": "soon", "before": "2h"}'
    with pytest.raises(ValueError, match="unreadable reminder payload"):
        outbox.from_row("reminder", garbled)
