"""A session package through the real bot process and the fake Bot API: pick 3 slots on one
screen → one confirmation and one .ics with 3 events (parsed here) → reschedule one (fee shown,
an updated .ics for it) → cancel another inside the window (refund shown) → staff cancel the
third with an override, and the client is told."""

from __future__ import annotations

import re

import pytest
from icalendar import Calendar

from tests.e2e.conftest import import_text, soon
from tests.e2e.harness import bot_process

pytestmark = pytest.mark.e2e

SAM = 9001


@pytest.fixture
def env(bot_env) -> dict[str, str]:
    return {**bot_env, "ADMIN_IDS": str(SAM), "REMINDERS": ""}


@pytest.fixture
async def coaching(tmp_path, env):
    day = soon(5).isoformat()
    return await import_text(
        tmp_path / "coaching.yaml",
        f"""
programmes:
  - key: coaching
    title: Coaching
    classes:
      - key: one
        title: One to one
        capacity: 1
        duration: 60
        package:
          sessions: 3
          price: "150.00"
          cancel_until: 24
          reschedule_until: 12
          cancel_refund: 50
          reschedule_fee: 10
        sessions: ["{day} 09:00", "{day} 11:00", "{day} 13:00", "{day} 15:00"]
""",
        env,
    )


def events_of(message) -> list:
    assert message.file is not None
    assert message.file.filename.endswith(".ics")
    return Calendar.from_ical(message.file.content).walk("VEVENT")


async def open_booking(client, fake, slot: str):
    mark = fake.mark()
    await client.send("/bookings")
    await client.wait_message("My bookings", new=True, since=mark)
    await client.click(re.compile(rf"^📦 {slot}/3 · "))


async def test_a_package_is_picked_confirmed_and_each_session_changed_alone(
    fake, env, coaching, database
):
    alice, sam = fake.user(1001, "Alice"), fake.user(SAM, "Sam")
    async with bot_process(fake, env=env):
        await alice.send("/start")
        await alice.wait_message("Hello")
        await alice.click("📅 Book a session")
        await alice.click("Coaching")
        pick = alice.last_bot_message()
        assert "A package of 3 sessions for €150.00" in pick.text
        assert "Still to pick: 3" in pick.text
        for clock in ("9:00", "11:00", "1:00"):
            await alice.click(re.compile(rf"^▫️ .*\b{clock}\sAM|^▫️ .*\b{clock}\sPM"))
        assert "Still to pick: 0" in alice.last_bot_message().text
        assert len([b for b in alice.buttons() if b.startswith("✅ ")]) == 3
        # a fourth can't be picked: exactly 3
        await alice.click(re.compile(r"^▫️ .*3:00\sPM"))
        assert "Please pick exactly 3 sessions" in alice.last_bot_message().text

        await alice.click("👀 Review the 3 sessions")
        review = alice.last_bot_message()
        assert "€150.00 for the package" in review.text
        assert "cancelled up to 24 h before (€25.00 back)" in review.text
        assert "(fee €5.00)" in review.text
        # her details once, for all three sessions
        assert "Anything the studio should know" in review.text
        mark = fake.mark()
        await alice.send("Left-handed; please call me on arrival")
        noted = await alice.wait_message("Your note for the studio", since=mark)
        assert "Left-handed; please call me on arrival" in noted.text
        assert "✅ Confirm" in noted.button_texts
        mark = fake.mark()
        await alice.click("✅ Confirm")
        booked = await alice.wait_message("You're booked!", since=mark)
        assert len(re.findall(r"^\d\. ", booked.text, flags=re.M)) == 3
        ics = await alice.wait_message(predicate=lambda m: m.file is not None, since=mark)
        events = events_of(ics)
        assert len(events) == 3
        assert len({str(e["UID"]) for e in events}) == 3
        first_uid = next(str(e["UID"]) for e in events if str(e["UID"]).endswith("slot-1@spotbook"))
        assert database.query("select count(*) from bookings where status = 'active'") == [(3,)]
        assert database.query(
            "select kind, charge_for, amount_minor from ledger where client_id = 1001"
        ) == [("charge", "package", 15000)]
        assert database.query("select notes from packages") == [
            ("Left-handed; please call me on arrival",)
        ]

        # reschedule the first: the fee is shown, then an .ics for that session alone
        await open_booking(alice, fake, "1")
        assert "Session 1 of 3 of your package" in alice.last_bot_message().text
        await alice.click("🔁 Reschedule (fee €5.00)")
        mark = fake.mark()
        await alice.click(re.compile(r"3:00\sPM"))
        await alice.wait_message("Moved. Reschedule fee: €5.00", since=mark)
        update = await alice.wait_message(predicate=lambda m: m.file is not None, since=mark)
        [moved] = events_of(update)
        assert str(moved["UID"]) == first_uid
        assert int(moved["SEQUENCE"]) == 1

        # cancel the second inside the window: its refund is shown first
        await open_booking(alice, fake, "2")
        await alice.click("❌ Cancel booking")
        assert "€25.00 of your package is given back." in alice.last_bot_message().text
        await alice.click("Yes, cancel it")
        assert "is cancelled" in alice.last_bot_message().text

        # staff cancel the third, past nothing but with the override recorded
        [(third,)] = database.query(
            "select b.id from bookings b join package_slots p on p.booking_id = b.id "
            "where p.slot = 3 and b.status = 'active'"
        )
        await sam.send(f"/pkgcancel {third}")
        await sam.wait_message("Cancelled (staff override)")
        await alice.wait_message("The studio cancelled the session of your package")
        assert database.query(
            f"select override_by from package_slots where booking_id = {third}"
        ) == [(SAM,)]
        assert database.query(
            "select count(*) from bookings where client_id = 1001 and status = 'active'"
        ) == [(1,)]
