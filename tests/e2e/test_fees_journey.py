"""A monthly fee through the real bot process and the fake Bot API: raised by the periodic job
once per client however often it runs, a reminder with a Pay button, paid with Stars once
however often Telegram delivers the payment, attendance credits in My account, and staff
waiving another client's fee from Who owes what."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.e2e.conftest import import_text, soon
from tests.e2e.harness import bot_process

pytestmark = pytest.mark.e2e

SAM = 9001  # staff


def zone_where_it_is_afternoon() -> str:
    """A fixed-offset zone where it is about 3 PM now: a fee's first reminder (10:00 local on
    its due day) is then already due, whatever time the test runs."""
    offset = (15 - datetime.now(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


@pytest.fixture
def env(bot_env) -> dict[str, str]:
    return {
        **bot_env,
        "TZ": zone_where_it_is_afternoon(),
        "CURRENCY": "XTR",
        "PAYMENT_METHODS": "stars",
        "FEE_CHECK_SECONDS": "0.5",
        "FEE_NUDGE_DAYS": "0,3",
        "ADMIN_IDS": str(SAM),
    }


@pytest.fixture
async def course(tmp_path, env):
    return await import_text(
        tmp_path / "course.yaml",
        f"""
programmes:
  - key: ballet
    title: Ballet course
    kind: ongoing
    monthly_fee: 40
    fee_due_day: 1
    attendance_credits: 4
    classes:
      - key: tue
        title: Tuesday group
        capacity: 5
        sessions: ["{soon(2)} 18:00", "{soon(9)} 18:00"]
""",
        env,
    )


async def enrol(client) -> None:
    await client.send("/start")
    await client.wait_message("Hello")
    await client.click("📅 Book a session")
    await client.click("Ballet course")
    await client.click("✅ Enrol in this class")
    await client.click("Skip")
    assert "You're enrolled in Ballet course" in client.last_bot_message().text


async def open_account(client, fake):
    mark = fake.mark()
    await client.send("/start")
    await client.wait_message("Hello", new=True, since=mark)
    await client.click("👤 My account")
    return client.last_bot_message()


FEE = re.compile(r"Ballet course: fee for \w+ \d{4}")


async def test_a_monthly_fee_is_raised_once_nudged_paid_once_and_waived_by_staff(
    fake, env, course, database
):
    alice, bob, sam = fake.user(1001, "Alice"), fake.user(1002, "Bob"), fake.user(SAM, "Sam")
    async with bot_process(fake, env=env):
        await enrol(alice)
        await enrol(bob)
        fees = "select client_id, amount_minor from ledger where charge_for = 'monthly_fee'"
        await database.wait_for(fees + " order by client_id", [(1001, 40), (1002, 40)])

        # the reminder on the due day, with its Pay button
        nudge = await alice.wait_message("is due:")
        assert FEE.search(nudge.text)
        assert "40 ⭐" in nudge.text
        await alice.click("💳 Pay 40 ⭐", message_id=nudge.message_id)
        invoice = await alice.wait_message(predicate=lambda m: m.invoice is not None)
        assert (invoice.invoice.currency, invoice.invoice.total_amount) == ("XTR", 40)
        payment = await alice.pay(invoice)
        assert payment.ok
        await alice.wait_message("✅ Payment received: 40 ⭐")
        alice.repeat_payment(payment)  # Telegram delivers it again: recorded once

        account = await open_account(alice, fake)
        assert "✅ Nothing to pay." in account.text
        assert "🎫 Ballet course: 4 of 4 sessions left until" in account.text
        assert not any(FEE.search(b) for b in account.button_texts)
        assert database.query(
            "select count(*) from ledger where kind = 'payment' and client_id = 1001"
        ) == [(1,)]

        account = await open_account(bob, fake)
        assert "💳 To pay: 40 ⭐" in account.text
        assert any(FEE.search(b) for b in account.button_texts)
        # a forged Pay under Bob's message naming Alice's fee: refused, nothing sent
        [(alices_fee,)] = database.query(
            "select id from ledger where charge_for = 'monthly_fee' and client_id = 1001"
        )
        mark = fake.mark()
        answer = await bob.click_data(f"payfee:{alices_fee}", message_id=account.message_id)
        assert answer == "This fee was not found. Open My account to see what is due."
        assert [c for c in fake.calls[mark:] if c.method == "sendInvoice"] == []

        # staff waive Bob's fee from Who owes what
        await sam.send("/admin")
        await sam.wait_message("Sessions in the next")
        await sam.click("💰 Who owes what")
        await sam.click(re.compile(r"🧾 Bob · Ballet course: fee for"))
        assert "Due: 40 ⭐" in sam.last_bot_message().text
        await sam.click("🙅 Waive")
        assert "🙅 40 ⭐ waived." in sam.last_bot_message().text
        assert database.query(
            "select client_id, amount_minor, staff_id from ledger where kind = 'waiver'"
        ) == [(1002, 40, SAM)]

        account = await open_account(bob, fake)
        assert "✅ Nothing to pay." in account.text
        # the job kept running all along: still one fee each
        assert database.query(fees + " order by client_id") == [(1001, 40), (1002, 40)]
