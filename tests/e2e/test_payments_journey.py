"""Paying for a booking with Telegram Stars through the real bot process and the fake Bot
API: invoice, pre-checkout, a payment applied once however often Telegram delivers it, a stale
invoice refused, and credit from a cancelled booking spent on the next one."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import import_text, soon
from tests.e2e.harness import bot_process

pytestmark = pytest.mark.e2e


@pytest.fixture
def env(bot_env) -> dict[str, str]:
    return {**bot_env, "CURRENCY": "XTR", "PAYMENT_METHODS": "stars", "PAYMENT_HOLD_MINUTES": "30"}


@pytest.fixture
async def studio(tmp_path, env):
    return await import_text(
        tmp_path / "studio.yaml",
        f"""
programmes:
  - key: clay
    title: Clay evening
    kind: one-off
    cancel_notice_hours: 24
    classes:
      - key: wheel
        title: Wheel
        capacity: 4
        price: 50
        sessions: ["{soon(4)} 18:00"]
  - key: glaze
    title: Glazing
    kind: one-off
    classes:
      - key: glaze
        title: Glaze
        capacity: 4
        price: 50
        sessions: ["{soon(6)} 18:00"]
""",
        env,
    )


async def book(client, programme: str):
    await client.send("/start")
    await client.wait_message("Hello")
    await client.click("📅 Book a session")
    await client.click(programme)
    await client.click(re.compile(r"6:00\sPM"))
    await client.click("✅ Book")
    return client.last_bot_message()


def ledger(database) -> list[tuple]:
    return database.query("select kind, amount_minor, currency, method from ledger order by id")


async def test_a_booking_paid_with_stars_is_paid_once(fake, env, studio, database):
    alice = fake.user(1001, "Alice")
    async with bot_process(fake, env=env):
        booked = await book(alice, "Clay evening")
        assert "💳 To pay: 50 ⭐" in booked.text
        assert "Pay within 30 minutes of booking to keep your place." in booked.text
        await alice.click("🏠 Main menu")
        await alice.click("👤 My account")
        account = alice.last_bot_message().text
        assert "💳 To pay: 50 ⭐" in account
        assert re.search(r"• Clay evening — Wheel, .*: 50 ⭐", account)
        await alice.click("🗂 My bookings")
        await alice.click(re.compile("Clay evening"))
        await alice.click("💳 Pay 50 ⭐")
        invoice = await alice.wait_message(predicate=lambda m: m.invoice is not None)
        assert (invoice.invoice.currency, invoice.invoice.total_amount) == ("XTR", 50)
        assert invoice.invoice.title == "Clay evening — Wheel"

        payment = await alice.pay(invoice)
        assert payment.ok
        await alice.wait_message("✅ Payment received: 50 ⭐. Thank you!")
        mark = fake.mark()
        alice.repeat_payment(payment)  # Telegram delivers it again
        await alice.send("/bookings")
        await alice.wait_message("My bookings", new=True, since=mark)
        await alice.click(re.compile("Clay evening"))

        assert "✅ Paid" in alice.last_bot_message().text
        assert "Pay" not in " ".join(alice.last_bot_message().button_texts)
        thanks = [m for m in alice.bot_messages() if "Payment received" in m.text]
        assert len(thanks) == 1
        assert ledger(database) == [("charge", 50, "XTR", None), ("payment", 50, "XTR", "stars")]
        assert database.query("select charge_id from ledger where kind = 'payment'") == [
            (payment.charge_id,)
        ]


async def test_an_invoice_for_a_cancelled_booking_is_refused_at_checkout(
    fake, env, studio, database
):
    alice = fake.user(1001, "Alice")
    async with bot_process(fake, env=env):
        await book(alice, "Clay evening")
        await alice.click("💳 Pay 50 ⭐")
        invoice = await alice.wait_message(predicate=lambda m: m.invoice is not None)
        mark = fake.mark()
        await alice.send("/bookings")
        await alice.wait_message("My bookings", new=True, since=mark)
        await alice.click(re.compile("Clay evening"))
        await alice.click("❌ Cancel booking")
        await alice.click("Yes, cancel it")

        refused = await alice.pay(invoice)

        assert not refused.ok
        assert refused.error_message == "This booking is already cancelled."
        assert fake.payments == []
        # the unpaid price was waived with the cancellation: nothing is owed
        assert ledger(database) == [("charge", 50, "XTR", None), ("waiver", 50, "XTR", None)]


async def test_credit_from_a_booking_cancelled_in_time_pays_the_next_one(
    fake, env, studio, database
):
    alice = fake.user(1001, "Alice")
    async with bot_process(fake, env=env):
        await book(alice, "Clay evening")
        await alice.click("💳 Pay 50 ⭐")
        payment = await alice.pay()
        assert payment.ok
        await alice.wait_message("Payment received")
        mark = fake.mark()
        await alice.send("/bookings")
        await alice.wait_message("My bookings", new=True, since=mark)
        await alice.click(re.compile("Clay evening"))
        await alice.click("❌ Cancel booking")
        await alice.click("Yes, cancel it")
        await alice.send("/start")
        await alice.wait_message("Hello", new=True, since=mark)
        await alice.click("👤 My account")
        assert "💰 Your credit: 50 ⭐" in alice.last_bot_message().text

        booked = await book(alice, "Glazing")

        assert "✅ Paid" in booked.text
        assert "To pay" not in booked.text
        assert ledger(database) == [
            ("charge", 50, "XTR", None),
            ("payment", 50, "XTR", "stars"),
            ("credit", 50, "XTR", None),  # cancelled 4 days ahead: in time
            ("charge", 50, "XTR", None),
            ("payment", 50, "XTR", "credit"),
        ]


async def test_an_unpaid_booking_is_nudged_and_paid_from_the_nudge(fake, env, studio, database):
    alice = fake.user(1001, "Alice")
    async with bot_process(fake, env={**env, "OUTBOX_CHECK_SECONDS": "0.5"}):
        await book(alice, "Clay evening")
        due = database.query("select count(*) from outbox where kind = 'payment_nudge'")
        assert due == [(2,)]  # 1 and 3 days after booking (PAYMENT_NUDGE_DAYS=1,3)
        database.execute(  # stand-in for waiting a day
            "update outbox set due_at = '2000-01-01 00:00:00.000000' "
            "where kind = 'payment_nudge' and dedupe_key like '%:1'"
        )

        nudge = await alice.wait_message("💳 50 ⭐ is still to pay for Clay evening — Wheel")
        await alice.click("💳 Pay 50 ⭐", message_id=nudge.message_id)
        payment = await alice.pay()
        assert payment.ok
        await alice.wait_message("Payment received")

        # the second nudge, once due, finds the booking paid: never sent
        database.execute(
            "update outbox set due_at = '2000-01-01 00:00:00.000000' "
            "where kind = 'payment_nudge' and state = 'pending'"
        )
        await database.wait_for(
            "select state from outbox where kind = 'payment_nudge' order by id",
            [("sent",), ("cancelled",)],
        )
        nudges = [m for m in alice.bot_messages() if "still to pay" in m.text]
        assert len(nudges) == 1
