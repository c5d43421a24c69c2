"""Webhook mode: the real bot process serves Telegram's POSTs; two of them share one
PostgreSQL database and one Redis, so a dialog started on one goes on on the other."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from contextlib import AsyncExitStack

import aiohttp
import asyncpg
import pytest
from aiogram import Bot

from tests.e2e.conftest import import_text, soon
from tests.e2e.harness import BotProcess, api_session, bot_process
from tests.fake_telegram import SECRET_HEADER, FakeTelegram
from tests.support.services import REDIS_URL, postgres_database, redis_prefix

pytestmark = pytest.mark.e2e

SECRET = "e2e-webhook-secret_1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def webhook_env(port: int) -> dict[str, str]:
    return {
        "WEBHOOK_URL": f"http://127.0.0.1:{port}",  # http: the fake is a self-hosted server
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_HOST": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "LOG_FORMAT": "json",
    }


def keep_output(bot: BotProcess) -> BotProcess:
    """Keep the bot's output after it stopped (the harness deletes it): the update events
    are all written only then."""
    bot.keep_log = True
    return bot


def update_events(bot: BotProcess) -> dict[int, dict]:
    """The stopped bot's one-per-update log events by update id (every line of its output
    must be JSON); its output file is deleted."""
    try:
        lines = [line for line in bot.output().splitlines() if line.strip()]
    finally:
        bot.log_path.unlink(missing_ok=True)
    entries = [json.loads(line) for line in lines]
    return {e["update_id"]: e for e in entries if e["logger"] == "bot.updates"}


async def test_a_bot_in_webhook_mode_serves_healthz_refuses_a_wrong_secret_and_runs_dialogs(
    fake: FakeTelegram, bot_env, catalog
):
    port = free_port()
    since = fake.mark()
    async with (
        bot_process(fake, env={**bot_env, **webhook_env(port)}, ready_method="setWebhook") as bot,
        aiohttp.ClientSession() as http,
    ):
        keep_output(bot)
        registered = await fake.wait_for_call("setWebhook", since=since)
        assert registered.params["url"] == f"http://127.0.0.1:{port}/telegram"
        assert registered.params["secret_token"] == SECRET
        allowed = set(registered.params["allowed_updates"])
        assert {"message", "callback_query", "pre_checkout_query", "my_chat_member"} <= allowed
        assert "aiogd_update" not in allowed  # aiogram-dialog's, not Telegram's

        async with http.get(f"http://127.0.0.1:{port}/healthz") as health:
            assert (health.status, await health.json()) == (200, {"status": "ok", "database": "ok"})

        mallory = fake.user(2002, "Mallory")
        forged = {
            "update_id": 777_001,
            "message": {
                "message_id": 1,
                "date": 1_800_000_000,
                "chat": mallory.chat_json(),
                "from": mallory.user_json(),
                "text": "/start",
            },
        }
        for headers in ({SECRET_HEADER: "guessed"}, {}):
            async with http.post(
                f"http://127.0.0.1:{port}/telegram", json=forged, headers=headers
            ) as refused:
                assert refused.status == 401

        alice = fake.user(1001, "Alice")
        start = await alice.send("/start")
        await alice.wait_message("Hello, Alice!")
        await alice.click("📅 Book a session")
        await alice.click("Yoga")
        await alice.click(re.compile(r"6:00\sPM · 3 spots left"))
        assert "€12.50" in alice.last_bot_message().text

    # nothing of the forged update reached the bot: no answer to Mallory, no log of it
    assert mallory.bot_messages() == []
    events = update_events(bot)
    assert 777_001 not in events
    assert events[start.update_id]["use_case"] == "/start"
    assert events[start.update_id]["user_id"] == 1001
    assert all(d.ok for d in fake.webhook_deliveries)
    assert [c.method for c in fake.calls].count("deleteWebhook") == 0


async def query(database_url: str, sql: str) -> list[tuple]:
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        return [tuple(row) for row in await connection.fetch(sql)]
    finally:
        await connection.close()


CATALOG = f"""
programmes:
  - key: yoga
    title: Yoga
    classes:
      - key: evening
        title: Evening flow
        capacity: 3
        price: 12.5
        sessions: ["{soon(3)} 18:00"]
"""


async def test_a_dialog_started_on_one_instance_goes_on_on_the_other(fake, tmp_path):
    async with AsyncExitStack() as stack:
        database_url = await stack.enter_async_context(postgres_database())
        prefix = await stack.enter_async_context(redis_prefix())
        shared = {
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": prefix,
            "TZ": "Europe/Prague",
            "DEFAULT_LOCALE": "en",
        }
        ports = free_port(), free_port()

        def instance(port: int):
            return bot_process(
                fake,
                env={**shared, **webhook_env(port)},
                ready_method="setWebhook",
                # the two start together: this one is ready when it set its own URL
                ready_when=lambda call: f":{port}/" in call.params["url"],
                ready_timeout=90,  # two interpreters starting at once on two shared cores
            )

        # started together on an empty database: the migrations run once, one at a time
        started = [stack.enter_async_context(instance(port)) for port in ports]
        a, b = map(keep_output, await asyncio.gather(*started))
        url_a, url_b = (f"http://127.0.0.1:{port}/telegram" for port in ports)
        await import_text(tmp_path / "studio.yaml", CATALOG, shared)
        alice = fake.user(1001, "Alice")

        fake.point_webhook(url_a)
        start = await alice.send("/start")
        await alice.wait_message("Hello, Alice!")
        await alice.click("📅 Book a session")
        await alice.click("Yoga")
        assert "Yoga — Evening flow" in alice.last_bot_message().text

        fake.point_webhook(url_b)
        await alice.click(re.compile(r"6:00\sPM · 3 spots left"))  # a button A sent
        assert "3 spots left" in alice.last_bot_message().text
        await alice.click("✅ Book")
        assert "You're booked!" in alice.last_bot_message().text
        assert await query(database_url, "select client_id, status from bookings") == [
            (1001, "active")
        ]

    on_a = {d.update_id for d in fake.deliveries_to(url_a)}
    on_b = {d.update_id for d in fake.deliveries_to(url_b)}
    assert start.update_id in on_a
    assert len(on_b) == 2  # the session, then Book
    assert all(d.ok for d in fake.webhook_deliveries)
    events_a, events_b = update_events(a), update_events(b)
    assert on_a <= set(events_a)
    assert not on_a & set(events_b)
    assert on_b <= set(events_b)
    assert not on_b & set(events_a)
    assert {events_b[u]["outcome"] for u in on_b} == {"handled"}
    assert any(events_b[u]["use_case"].startswith("Catalog:session/") for u in on_b)


async def test_back_in_polling_mode_the_bot_removes_the_webhook_an_earlier_run_set(
    fake: FakeTelegram, bot_env
):
    async with Bot(fake.token, session=api_session(fake)) as earlier:
        await earlier.set_webhook("https://bot.example.com/telegram", secret_token=SECRET)
    since = fake.mark()

    async with bot_process(fake, env=bot_env):
        alice = fake.user(1001, "Alice")
        await alice.send("/start")
        await alice.wait_message("Hello, Alice!")

    methods = [c.method for c in fake.calls[since:]]
    assert methods.index("deleteWebhook") < methods.index("getUpdates")
    assert fake.webhook_url == ""
    assert fake.webhook_deliveries == []
