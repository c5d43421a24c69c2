"""An entry pass through the real bot process and the fake Bot API: bought with Stars on the
programme's card (once, however often Telegram delivers the payment), a session booked with it
instead of its price, entries left in My account, and the entry back when cancelled in time."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import import_text, soon
from tests.e2e.harness import bot_process

pytestmark = pytest.mark.e2e


@pytest.fixture
def env(bot_env) -> dict[str, str]:
    return {**bot_env, "CURRENCY": "XTR", "PAYMENT_METHODS": "stars"}


@pytest.fixture
async def studio(tmp_path, env):
    return await import_text(
        tmp_path / "studio.yaml",
        f"""
programmes:
  - key: dropin
    title: Drop-in yoga
    kind: pay-as-you-go
    cancel_notice_hours: 24
    passes:
      - key: ten
        title: Yoga 10-pass
        entries: 10
        price: 90
        valid_days: 90
    classes:
      - key: evening
        title: Evening
        capacity: 8
        price: 12
        sessions: ["{soon(4)} 18:00", "{soon(5)} 18:00"]
""",
        env,
    )


async def test_a_pass_bought_with_stars_pays_for_a_booking_and_comes_back_on_cancel(
    fake, env, studio, database
):
    assert "entry passes: 1 added, 0 updated" in studio
    alice = fake.user(1001, "Alice")
    async with bot_process(fake, env=env):
        await alice.send("/start")
        await alice.wait_message("Hello")
        await alice.click("📅 Book a session")
        await alice.click("Drop-in yoga")
        await alice.click("🎟 Buy a 10-entry pass — 90 ⭐")
        invoice = await alice.wait_message(predicate=lambda m: m.invoice is not None)
        assert (invoice.invoice.currency, invoice.invoice.total_amount) == ("XTR", 90)

        payment = await alice.pay(invoice)
        assert payment.ok
        bought = await alice.wait_message("🎟 Your pass: 10 entries, valid until")
        assert "✅ Payment received: 90 ⭐" in bought.text
        mark = fake.mark()
        alice.repeat_payment(payment)  # Telegram delivers it again: still one pass
        await alice.send("/start")
        await alice.wait_message("Hello", new=True, since=mark)
        assert database.query("select entries, used from client_passes") == [(10, 0)]
        assert len([m for m in alice.bot_messages() if "Your pass: 10 entries" in m.text]) == 1

        await alice.click("📅 Book a session")
        await alice.click("Drop-in yoga")
        assert "🎟 Your pass: 10 entries left, valid until" in alice.last_bot_message().text
        await alice.click(re.compile(r"6:00\sPM"))
        await alice.click("✅ Book")
        booked = alice.last_bot_message().text
        assert "🎟 Booked with your pass: 9 entries left." in booked
        assert "To pay" not in booked

        await alice.click("🏠 Main menu")
        await alice.click("👤 My account")
        account = alice.last_bot_message().text
        assert "🎟 Your pass: 9 entries left" in account
        assert "✅ Nothing to pay." in account

        mark = fake.mark()
        await alice.send("/bookings")
        await alice.wait_message("My bookings", new=True, since=mark)
        await alice.click(re.compile("Drop-in yoga"))
        await alice.click("❌ Cancel booking")
        await alice.click("Yes, cancel it")
        assert database.query("select entries, used from client_passes") == [(10, 0)]
        mark = fake.mark()
        await alice.send("/start")
        await alice.wait_message("Hello", new=True, since=mark)
        await alice.click("👤 My account")
        assert "🎟 Your pass: 10 entries left" in alice.last_bot_message().text
        assert database.query("select kind, amount_minor, item like 'pass:%' from ledger") == [
            ("payment", 90, 1),
            ("charge", 90, 1),
        ]

        database.execute("update client_passes set used = entries")  # stand-in for 10 visits
        await alice.click("◀️ Back")
        await alice.click("📅 Book a session")
        await alice.click("Drop-in yoga")
        await alice.click(re.compile(r"6:00\sPM"))
        await alice.click("✅ Book")
        booked = alice.last_bot_message().text
        assert "All 10 entries of your pass are used. Please buy a new pass." in booked
        assert "💳 To pay: 12 ⭐" in booked
