"""Moving a paid booking through the real bot process and the fake Bot API: the client pays
with Stars, moves the booking to another time from My bookings, and it is still paid, a fresh
.ics (same UID, SEQUENCE 1) arrives, its reminder is at the new time, and the freed place goes
to the client waiting for it."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from icalendar import Calendar

from tests.e2e.conftest import ZONE, import_text, soon
from tests.e2e.harness import bot_process

pytestmark = pytest.mark.e2e


@pytest.fixture
def env(bot_env) -> dict[str, str]:
    return {**bot_env, "CURRENCY": "XTR", "PAYMENT_METHODS": "stars", "REMINDERS": "24h"}


@pytest.fixture
async def studio(tmp_path, env):
    return await import_text(
        tmp_path / "studio.yaml",
        f"""
programmes:
  - key: clay
    title: Clay
    cancel_notice_hours: 24
    classes:
      - key: wheel
        title: Wheel
        capacity: 1
        price: 50
        reschedule_until: 24
        sessions: ["{soon(4)} 18:00", "{soon(6)} 18:00"]
""",
        env,
    )


async def open_booking(client, fake):
    mark = fake.mark()
    await client.send("/bookings")
    await client.wait_message("My bookings", new=True, since=mark)
    await client.click(re.compile("Clay — Wheel"))


async def test_a_client_moves_a_paid_booking_and_keeps_it_paid(fake, env, studio, database):
    alice, bob = fake.user(1001, "Alice"), fake.user(1002, "Bob")
    new_start = datetime.combine(soon(6), time(18, 0), tzinfo=ZONE)
    async with bot_process(fake, env=env):
        for client, tap in ((alice, "✅ Book"), (bob, "⏳ Join the waiting list")):
            await client.send("/start")
            await client.wait_message("Hello")
            await client.click("📅 Book a session")
            await client.click("Clay")
            await client.click(re.compile(r"6:00\sPM"))
            await client.click(tap)
        assert database.query("select client_id, status from waitlist") == [(1002, "waiting")]
        ((booking_id,),) = database.query("select id from bookings where client_id = 1001")

        await open_booking(alice, fake)
        await alice.click("💳 Pay 50 ⭐")
        invoice = await alice.wait_message(predicate=lambda m: m.invoice is not None)
        assert (await alice.pay(invoice)).ok
        await alice.wait_message("✅ Payment received: 50 ⭐. Thank you!")

        await open_booking(alice, fake)
        assert "✅ Paid" in alice.last_bot_message().text
        await alice.click("🔁 Move to another time")
        listed = alice.last_bot_message()
        assert "Move it to (Prague time):" in listed.text
        assert len(listed.button_texts) == 2  # the one other time, and Back
        await alice.click(re.compile(r"6:00\sPM · Wheel · 1 left"))
        assert "Clay — Wheel" in alice.last_bot_message().text
        mark = fake.mark()
        await alice.click("✅ Yes, move it")
        moved = await alice.wait_message("🔁 Moved to", since=mark)
        assert "✅ Paid" in moved.text  # what paid for it still does
        ics = await alice.wait_message(predicate=lambda m: m.file is not None, since=mark)
        (event,) = Calendar.from_ical(ics.file.content).walk("VEVENT")
        assert str(event["UID"]) == f"booking-{booking_id}@spotbook"
        assert int(event["SEQUENCE"]) == 1
        assert event.decoded("DTSTART") == new_start

        # the freed place went to Bob, who was waiting for it
        await bob.wait_message("A place freed up and it is yours")
        assert database.query("select client_id, status from bookings order by client_id") == [
            (1001, "active"),
            (1002, "active"),
        ]
        assert database.query(
            "select kind, amount_minor from ledger where client_id = 1001 order by id"
        ) == [("charge", 50), ("payment", 50)]  # no second charge
        assert database.query("select moves from bookings where id = ?", booking_id) == [(1,)]
        reminder_at = database.moment(new_start - timedelta(hours=24))
        assert database.query(
            "select due_at from outbox where booking_id = ? and kind = 'reminder' "
            "and state = 'pending'",
            booking_id,
        ) == [(reminder_at,)]
