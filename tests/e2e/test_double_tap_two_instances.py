"""Two instances in webhook mode sharing PostgreSQL and Redis. 20 clients each tap ✅ Book
twice at once, the first tap POSTed to instance A, the second to B; then each taps a button
of a new dialog's window on B while A, which showed it, has not saved that dialog yet. The
chat lock in Redis (bot/runtime/chatlock.py) makes B wait until A's update is handled and its
dialog saved: each client is booked once and is shown the booked screen, never the card from
before the first tap, and no tap is answered "This button has expired"."""

from __future__ import annotations

import asyncio
import re
from contextlib import AsyncExitStack

import aiohttp
import pytest

from tests.e2e.conftest import import_text, soon
from tests.e2e.harness import bot_process
from tests.e2e.test_webhook_mode import SECRET, free_port, query, webhook_env
from tests.fake_telegram import SECRET_HEADER, FakeTelegram
from tests.fake_telegram.users import FakeUser
from tests.support.services import REDIS_URL, postgres_database, redis_prefix

pytestmark = pytest.mark.e2e

CLIENTS = 20
EVENING = re.compile("Evening flow")
CATALOG = f"""
programmes:
  - key: yoga
    title: Yoga
    classes:
      - key: evening
        title: Evening flow
        capacity: 30
        price: 12.5
        sessions: ["{soon(3)} 18:00"]
"""


async def open_the_card(client: FakeUser) -> None:
    await client.send("/start")
    await client.wait_message(f"Hello, {client.first_name}!", timeout=60)
    await client.click("📅 Book a session", timeout=60)
    await client.click("Yoga", timeout=60)
    await client.click(re.compile(r"6:00\sPM"), timeout=60)
    assert "✅ Book" in client.buttons()


async def post(http: aiohttp.ClientSession, url: str, update: dict) -> None:
    async with http.post(url, json=update, headers={SECRET_HEADER: SECRET}) as response:
        assert response.status == 200, await response.text()


async def answer_to(fake: FakeTelegram, tap: dict, since: int) -> str | None:
    """The text the bot answered a tap with (None: no text), once it answered."""
    query_id = tap["callback_query"]["id"]
    answer = await fake.wait_for_call(
        "answerCallbackQuery",
        lambda c: str(c.params.get("callback_query_id")) == query_id,
        since=since,
        timeout=60,
    )
    return answer.params.get("text")


async def double_tap_book(
    fake: FakeTelegram, http: aiohttp.ClientSession, client: FakeUser, urls: tuple[str, str]
) -> str | None:
    """✅ Book tapped twice at once, to A and to B. None when every screen shown since is the
    booked one and neither answer says the button expired; else what the client saw."""
    since = fake.mark()
    taps = client.tap_update("✅ Book"), client.tap_update("✅ Book")
    await asyncio.gather(*(post(http, url, tap) for url, tap in zip(urls, taps, strict=True)))
    answers = [await answer_to(fake, tap, since) for tap in taps]
    screens = [
        str(call.params["text"])
        for call in fake.calls[since:]
        if call.method in ("sendMessage", "editMessageText")
        and call.params.get("chat_id") == client.chat_id
    ]
    if stale := [screen for screen in screens if "You're booked!" not in screen]:
        return stale[0].splitlines()[0]
    if "You're booked!" not in client.last_bot_message().text:
        return "no booked screen"
    return next((a for a in answers if a and "expired" in a), None)


async def tap_the_new_window_on_the_other_instance(
    fake: FakeTelegram, http: aiohttp.ClientSession, client: FakeUser, urls: tuple[str, str]
) -> str | None:
    """🗂 My bookings on A starts a new dialog; A's answer to the tap is slowed, so it has
    shown the list but not saved the dialog when the tap on the list's booking reaches B.
    What B answered, if it answered with a text."""
    since = fake.mark()
    fake.delay_next("answerCallbackQuery", 0.5)
    first = asyncio.create_task(post(http, urls[0], client.tap_update("🗂 My bookings")))
    await client.wait_message(
        predicate=lambda m: m.button(EVENING) is not None, since=since, timeout=60
    )
    second = client.tap_update(EVENING)
    await post(http, urls[1], second)
    await first
    return await answer_to(fake, second, since)


async def test_taps_split_across_two_instances_see_the_state_the_other_left(
    fake: FakeTelegram, tmp_path
):
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
                ready_when=lambda call: f":{port}/" in call.params["url"],
                ready_timeout=90,
            )

        await asyncio.gather(*(stack.enter_async_context(instance(port)) for port in ports))
        urls = tuple(f"http://127.0.0.1:{port}/telegram" for port in ports)
        await import_text(tmp_path / "studio.yaml", CATALOG, shared)
        fake.point_webhook(urls[0])
        clients = [fake.user(3000 + n, f"Client{n}") for n in range(CLIENTS)]
        await asyncio.gather(*map(open_the_card, clients))
        http = await stack.enter_async_context(aiohttp.ClientSession())

        seen = await asyncio.gather(*(double_tap_book(fake, http, c, urls) for c in clients))
        bookings = await query(
            database_url, "select client_id, count(*) from bookings group by client_id"
        )
        answered = []
        for client in clients:  # one at a time: A's slowed answer is the next one
            answered.append(
                await tap_the_new_window_on_the_other_instance(fake, http, client, urls)
            )

    stale = {c.first_name: problem for c, problem in zip(clients, seen, strict=True) if problem}
    expired = {c.first_name: text for c, text in zip(clients, answered, strict=True) if text}
    assert (stale, expired) == ({}, {}), (
        f"after the double tap {len(stale)} of {CLIENTS} clients saw: {stale}; "
        f"tapping the new window {len(expired)} of {CLIENTS} were answered: {expired}"
    )
    assert sorted(bookings) == [(client.id, 1) for client in clients]
