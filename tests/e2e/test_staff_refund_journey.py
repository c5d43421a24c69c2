"""Staff refund a Stars payment through the real bot process and the fake Bot API: a partial
refund becomes credit (no refundStarPayment) spent on the client's next booking; a whole
payment goes back through refundStarPayment, once."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import import_text, soon
from tests.e2e.harness import bot_process
from tests.e2e.test_payments_journey import book, ledger

pytestmark = pytest.mark.e2e

STAFF_ID = 5001


@pytest.fixture
def env(bot_env) -> dict[str, str]:
    return {**bot_env, "CURRENCY": "XTR", "PAYMENT_METHODS": "stars", "ADMIN_IDS": str(STAFF_ID)}


@pytest.fixture
async def studio(tmp_path, env):
    return await import_text(
        tmp_path / "studio.yaml",
        f"""
programmes:
  - key: clay
    title: Clay evening
    kind: one-off
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


async def refund(fake, sam, programme: str, text: str) -> str:
    mark = fake.mark()
    await sam.send("/admin")
    await sam.wait_message("Sessions in the next", since=mark)
    await sam.click(re.compile(re.escape(programme)))
    await sam.click("👤 Alice")
    await sam.click("↩️ Refund")
    mark = fake.mark()
    await sam.send(text)
    return (await sam.wait_message("✅", since=mark)).text


async def test_staff_refund_stars_in_part_as_credit_and_whole_through_telegram(
    fake, env, studio, database
):
    alice, sam = fake.user(1001, "Alice"), fake.user(STAFF_ID, "Sam")
    async with bot_process(fake, env=env):
        await book(alice, "Clay evening")
        await alice.click("💳 Pay 50 ⭐")
        assert (await alice.pay()).ok
        await alice.wait_message("Payment received")

        done = await refund(fake, sam, "Clay evening", "20 wheel broke")

        assert "20 ⭐ added to the client's balance as credit" in done
        assert fake.star_refunds == []
        await alice.wait_message("↩️ The studio refunded 20 ⭐")
        assert ledger(database)[-1] == ("credit", 20, "XTR", None)
        assert database.query("select staff_id, reason from ledger where kind = 'credit'") == [
            (STAFF_ID, "wheel broke")
        ]

        booked = await book(alice, "Glazing")  # 20 ⭐ of credit pays part of it
        assert "💳 To pay: 30 ⭐" in booked.text
        await alice.click("💳 Pay 30 ⭐")
        invoice = await alice.wait_message(predicate=lambda m: m.invoice is not None)
        assert invoice.invoice.total_amount == 30
        payment = await alice.pay(invoice)
        assert payment.ok
        await alice.wait_message("Payment received: 30 ⭐")

        done = await refund(fake, sam, "Glazing", "30 class cancelled")

        assert "30 ⭐ refunded through Telegram Stars." in done
        assert [(r.user_id, r.charge_id) for r in fake.star_refunds] == [(1001, payment.charge_id)]
        assert ledger(database)[-1] == ("refund", 30, "XTR", "stars")
