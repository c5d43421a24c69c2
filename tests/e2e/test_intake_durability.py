"""No update is lost between Telegram and the database: the real bot process is SIGKILLed
while it handles a client's ``successful_payment`` (its write held up by a lock the test
takes on the database). Telegram still has the update, since the bot confirms an update
(long polling's offset, the webhook's 200) only once it is handled; after a restart the
payment is recorded exactly once and the client thanked once. In both run modes, on both
databases."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import pytest

from tests.e2e.conftest import import_text, soon
from tests.e2e.harness import bot_process
from tests.e2e.test_webhook_mode import free_port, webhook_env
from tests.fake_telegram import FakeTelegram

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


@contextlib.asynccontextmanager
async def ledger_locked(env: dict[str, str]) -> AsyncIterator[None]:
    """Nobody else writes the ledger while the block runs (reads go on): SQLite's writer
    lock, or an EXCLUSIVE lock on PostgreSQL's ledger table."""
    url = env["DATABASE_URL"]
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        async with connection.transaction():
            await connection.execute("LOCK TABLE ledger IN EXCLUSIVE MODE")
            yield
    finally:
        await connection.close()


async def being_handled(fake: FakeTelegram, update_id: int, *, webhook: bool) -> None:
    """Wait until the bot took the update and is handling it (the webhook POST is under way;
    or, polling, it asked for updates twice from that one on: the first call brought it)."""
    for _ in range(1500):
        if webhook:
            if fake.webhook_posting == update_id or any(
                d.update_id == update_id for d in fake.webhook_deliveries
            ):
                return
        else:
            polls = [
                call
                for call in fake.calls
                if call.method == "getUpdates" and (call.params.get("offset") or 0) >= update_id
            ]
            if len(polls) >= 2:
                return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the bot never took update {update_id}")


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_payment_under_way_when_the_bot_is_killed_is_recorded_once_after_restart(
    fake: FakeTelegram, env, studio, database, mode
):
    webhook = mode == "webhook"
    port = free_port()  # the webhook's, or in long polling HEALTH_PORT's
    env = {**env, **(webhook_env(port) if webhook else {"HEALTH_PORT": str(port)})}
    ready = "setWebhook" if webhook else "getUpdates"
    alice = fake.user(1001, "Alice")
    async with bot_process(fake, env=env, ready_method=ready) as bot:
        async with (
            aiohttp.ClientSession() as http,  # both modes serve it
            http.get(f"http://127.0.0.1:{port}/healthz") as health,
        ):
            assert (health.status, await health.json()) == (200, {"status": "ok", "database": "ok"})
        await alice.send("/start")
        await alice.wait_message("Hello")
        await alice.click("📅 Book a session")
        await alice.click("Clay evening")
        await alice.click(re.compile(r"6:00\sPM"))
        await alice.click("✅ Book")
        await alice.click("💳 Pay 50 ⭐")
        invoice = await alice.wait_message(predicate=lambda m: m.invoice is not None)
        async with ledger_locked(env):
            payment = await alice.pay(invoice)  # pre-checkout only reads: answered
            assert payment.ok
            await being_handled(fake, payment.update_id, webhook=webhook)
            await bot.crash()  # SIGKILL while the payment waits for the database
        # old behaviour: Telegram counted the update as delivered and never sends it again
        assert payment.update_id in [u["update_id"] for u in fake.pending_updates]
        assert database.query("select count(*) from ledger where kind = 'payment'") == [(0,)]

    async with bot_process(fake, env=env, ready_method=ready):
        await alice.wait_message("✅ Payment received: 50 ⭐. Thank you!")
        await database.wait_for(
            "select count(*) from ledger where kind = 'payment' and charge_id = ?",
            [(1,)],
            payment.charge_id,
        )
    thanks = [m for m in alice.bot_messages() if "Payment received" in m.text]
    assert len(thanks) == 1
    assert database.query("select count(*) from ledger where kind = 'payment'") == [(1,)]
