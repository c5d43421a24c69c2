"""A course through the real bot process and the fake Bot API (seed 004): a client buys a
5-visit course with Stars, books two sessions from it, shows her check-in code at the desk;
staff open it, check her in ("Redeem from course?" → Yes) and out, and her grid reads
🟥🟧🟩🟩🟩. A plain booking is then moved onto the course before check-out."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import import_text, soon
from tests.e2e.harness import bot_process

pytestmark = pytest.mark.e2e

SAM = 7001  # staff


@pytest.fixture
def env(bot_env) -> dict[str, str]:
    return {
        **bot_env,
        "CURRENCY": "XTR",
        "PAYMENT_METHODS": "stars",
        "ADMIN_IDS": str(SAM),
        "REMINDERS": "",
    }


@pytest.fixture
async def clinic(tmp_path, env):
    day = soon(3)
    return await import_text(
        tmp_path / "clinic.yaml",
        f"""
programmes:
  - key: massage
    title: Massage
    classes:
      - key: room
        title: Room 1
        capacity: 1
        price: 40
        sessions: ["{day} 09:00", "{day} 11:00", "{day} 14:00", "{day} 16:00"]
courses:
  - key: massage-five
    title: Massage ×5
    price: 150
    valid_days: 60
    units: {{massage: 5}}
""",
        env,
    )


async def test_buy_a_course_book_two_units_check_in_redeem_and_check_out(
    fake, env, clinic, database
):
    assert "courses and packages: 1 added, 0 updated" in clinic
    alice, sam = fake.user(1001, "Alice"), fake.user(SAM, "Sam")
    async with bot_process(fake, env=env):
        await alice.send("/start")
        await alice.wait_message("Hello")
        await alice.click("🟩 My courses")
        assert "You have no course yet." in alice.last_bot_message().text
        await alice.click("🛒 Buy Massage ×5 — 150 ⭐")
        invoice = await alice.wait_message(predicate=lambda m: m.invoice is not None)
        assert (invoice.invoice.currency, invoice.invoice.total_amount) == ("XTR", 150)
        assert (await alice.pay(invoice)).ok
        bought = await alice.wait_message("🟩 Yours now:")
        assert "🟩🟩🟩🟩🟩" in bought.text
        assert "Massage: 5 free" in bought.text

        for time in ("9:00", "11:00"):
            mark = fake.mark()
            await alice.send("/start")
            await alice.wait_message("Hello", new=True, since=mark)
            await alice.click("📅 Book a session")
            await alice.click("Massage")
            card = alice.last_bot_message().text
            assert "🟩 Courses with this service:" in card
            assert "🛒 Buy Massage ×5 — 150 ⭐" in alice.buttons()
            await alice.click(re.compile(rf"{time}\sAM"))
            await alice.click(re.compile(r"🟩 Book from Massage ×5 \(\d left\)"))
            booked = alice.last_bot_message().text
            assert "You're booked!" in booked
            assert "To pay" not in booked
        assert "🟩 From your course Massage ×5: 🟧🟧🟩🟩🟩" in booked
        assert "🟩 Your course Massage ×5: 🟧🟩🟩🟩🟩" in card  # before the second
        assert database.query("select count(*) from ledger where item like 'booking:%'") == [(0,)]

        mark = fake.mark()
        await alice.send("/bookings")
        await alice.wait_message("My bookings", new=True, since=mark)
        await alice.click(re.compile(r"9:00\sAM"))
        await alice.click("🎫 Check-in code")
        shown = alice.last_bot_message().text
        code = re.search(r"start=(ci_[A-Za-z0-9_-]+)", shown).group(1)

        await sam.send(f"/start {code}")
        card = await sam.wait_message("🛎 Not checked in yet.")
        assert "Massage ×5: 🟧🟧🟩🟩🟩" in card.text
        await sam.click("🛎 Check in")
        ask = sam.last_bot_message()
        assert "Redeem from course?" in ask.text
        assert "🟩 From course Massage ×5: 🟧🟧🟩🟩🟩" in ask.text
        await sam.click("✅ Yes, redeem")
        assert "✅ Checked in at" in sam.last_bot_message().text
        await sam.click("🏁 Check out")
        out = sam.last_bot_message().text
        assert "🏁 Checked out: redeemed from Massage ×5 🟥🟧🟩🟩🟩" in out

        mark = fake.mark()
        await alice.send("/start")
        await alice.wait_message("Hello", new=True, since=mark)
        await alice.click("🟩 My courses")
        mine = alice.last_bot_message().text
        assert "🟥🟧🟩🟩🟩" in mine
        assert "Massage: 3 free" in mine
        assert database.query("select state from course_units order by position") == [
            ("redeemed",),
            ("booked",),
            ("free",),
            ("free",),
            ("free",),
        ]

        # a plain booking, moved onto the course before check-out: its price is no longer due
        await alice.click("◀️ Back")
        await alice.click("📅 Book a session")
        await alice.click("Massage")
        await alice.click(re.compile(r"2:00\sPM"))
        await alice.click("✅ Book")
        assert "💳 To pay: 40 ⭐" in alice.last_bot_message().text
        mark = fake.mark()
        await alice.send("/bookings")
        await alice.wait_message("My bookings", new=True, since=mark)
        await alice.click(re.compile(r"2:00\sPM"))
        await alice.click("🟩 Use my course Massage ×5 (3 left)")
        moved = alice.last_bot_message().text
        assert "This booking is now from your course" in moved
        assert "🟩 From your course Massage ×5: 🟥🟧🟧🟩🟩" in moved
        assert "To pay" not in moved
        assert database.query(
            "select kind, amount_minor from ledger where item like 'booking:%' order by id"
        ) == [("charge", 40), ("waiver", 40)]
