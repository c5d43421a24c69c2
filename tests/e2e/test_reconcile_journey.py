"""Reconciliation through the real bot process and the fake Bot API: Telegram took a client's
Stars for their invoice, but the bot never handled the successful_payment (it died first).
When the bot starts again it reads getStarTransactions, records the payment and tells the
client, once."""

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
  - key: clay
    title: Clay evening
    kind: one-off
    classes:
      - key: wheel
        title: Wheel
        capacity: 4
        price: 50
        sessions: ["{soon(4)} 18:00"]
""",
        env,
    )


async def test_a_stars_payment_the_bot_never_heard_of_is_recorded_at_start_up(
    fake, env, studio, database
):
    alice = fake.user(1001, "Alice")
    async with bot_process(fake, env=env):
        await alice.send("/start")
        await alice.wait_message("Hello")
        await alice.click("📅 Book a session")
        await alice.click("Clay evening")
        await alice.click(re.compile(r"6:00\sPM"))
        await alice.click("✅ Book")
        await alice.click("💳 Pay 50 ⭐")
        invoice = await alice.wait_message(predicate=lambda m: m.invoice is not None)
    # Telegram took the money; the successful_payment died with the bot, down for a while
    charge_id = fake.take_stars_unseen(alice, invoice.invoice.payload, 50, seconds_ago=300)
    assert database.query("select count(*) from ledger where kind = 'payment'") == [(0,)]

    async with bot_process(fake, env=env):
        await alice.wait_message("Sorry for the delay: it is recorded now.")
        mark = fake.mark()
        await alice.send("/bookings")
        await alice.wait_message("My bookings", new=True, since=mark)
        await alice.click(re.compile("Clay evening"))
        assert "✅ Paid" in alice.last_bot_message().text

    assert database.query(
        "select amount_minor, currency, method, charge_id from ledger where kind = 'payment'"
    ) == [(50, "XTR", "stars", charge_id)]
    thanks = [m for m in alice.bot_messages() if "Payment received: 50 ⭐" in m.text]
    assert len(thanks) == 1
    assert "Sorry for the delay" in thanks[0].text
