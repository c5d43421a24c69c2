"""Reminders through the real bot process: written to the outbox when booking, sent by the
dispatcher when due, answered with Coming / Can't come; a late cancellation reaches staff and
the freed place the waiting client."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import ZONE, import_text
from tests.e2e.harness import bot_process

pytestmark = pytest.mark.e2e

STAFF_ID = 5001
# the class starts in 20 hours: the 24 h reminder is already past when booking, the 2 h one
# is ahead, and a cancellation now is one staff want to hear of
STARTS = (datetime.now(ZONE) + timedelta(hours=20)).replace(second=0, microsecond=0)


@pytest.fixture
def env(bot_env) -> dict[str, str]:
    return {
        **bot_env,
        "ADMIN_IDS": str(STAFF_ID),
        "REMINDERS": "24h,2h",
        "OUTBOX_CHECK_SECONDS": "0.5",
    }


@pytest.fixture
async def tomorrow(tmp_path, env):
    return await import_text(
        tmp_path / "tomorrow.yaml",
        f"""
programmes:
  - key: clay
    title: Clay morning
    classes:
      - key: wheel
        title: Wheel
        capacity: 1
        sessions: ["{STARTS:%Y-%m-%d %H:%M}"]
""",
        env,
    )


async def book_or_wait(client):
    await client.send("/start")
    await client.wait_message("Hello")
    await client.click("📅 Book a session")
    await client.click("Clay morning")
    await client.click(re.compile(re.escape(f"{STARTS:%-I:%M}")))
    await client.click(re.compile(r"✅ Book|Join the waiting list"))


def the_time_has_come(database) -> None:
    """Stand-in for waiting 18 hours: the pending reminders become due now."""
    database.execute(
        "update outbox set due_at = ? where kind = 'reminder' and state = 'pending'",
        database.moment(datetime.now(UTC) - timedelta(seconds=1)),
    )


async def test_a_reminder_answered_cant_come_frees_the_place_and_tells_staff(
    fake, env, tomorrow, database
):
    sam, alice, bob = fake.user(STAFF_ID, "Sam"), fake.user(1001, "Alice"), fake.user(1002, "Bob")
    async with bot_process(fake, env=env):
        await book_or_wait(alice)
        await book_or_wait(bob)
        assert "waiting list: number 1" in bob.last_bot_message().text
        due = database.query("select recipient, state, due_at from outbox")
        expected_due = (STARTS - timedelta(hours=2)).astimezone(UTC)
        assert due == [(1001, "pending", database.moment(expected_due))]

        the_time_has_come(database)
        reminder = await alice.wait_message("⏰ Reminder: Clay morning — Wheel on")
        assert reminder.button_texts == ["✅ Coming", "❌ Can't come"]

        await alice.click("❌ Can't come")
        assert "Cancel your booking for" in alice.last_bot_message().text
        await alice.click("Yes, cancel it")
        assert "is cancelled" in alice.last_bot_message().text

        promoted = await bob.wait_message("it is yours: you are booked for")
        assert "Clay morning — Wheel" in promoted.text
        notice = await sam.wait_message("⚠️ Alice cancelled")
        assert "Now 1 of 1 booked, 0 waiting." in notice.text
        await database.wait_for(
            "select kind, recipient, state from outbox where kind != 'reminder' order by kind",
            [("late_cancellation", STAFF_ID, "sent"), ("promoted", 1002, "sent")],
        )
        assert database.query("select client_id, status from bookings order by client_id") == [
            (1001, "cancelled"),
            (1002, "active"),
        ]


async def test_coming_is_remembered_and_the_reminder_is_sent_once(fake, env, tomorrow, database):
    alice = fake.user(1001, "Alice")
    async with bot_process(fake, env=env) as bot:
        await book_or_wait(alice)
        the_time_has_come(database)
        await alice.wait_message("⏰ Reminder")
        await database.wait_for("select state from outbox", [("sent",)])

        await alice.click("✅ Coming")

        assert "Thanks! See you at" in alice.last_bot_message().text
        assert database.query("select confirmed_at is not null from bookings") == [(1,)]

    # a restart sends nothing again
    mark = fake.mark()
    async with bot_process(fake, env=env):
        await alice.send("/start")
        await alice.wait_message("Hello", new=True, since=mark)
    reminders = [
        c for c in fake.calls if c.method == "sendMessage" and "Reminder" in c.params["text"]
    ]
    assert len(reminders) == 1
    assert bot.returncode == 0
