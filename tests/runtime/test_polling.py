"""Long polling confirms an update to Telegram only once its handling finished: against the
fake Bot API, in-process, with handlers the test holds and releases."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiogram import Bot
from aiogram.types import Update

from bot.runtime import polling
from bot.runtime.polling import DurablePolling
from tests.e2e.harness import api_session
from tests.fake_telegram import FakeTelegram


def message(chat_id: int, text: str) -> dict:
    user = {"id": chat_id, "is_bot": False, "first_name": f"Client {chat_id}"}
    return {
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": chat_id, "type": "private"},
            "from": user,
            "text": text,
        }
    }


def pending(fake: FakeTelegram) -> list[int]:
    """The update ids Telegram would still send: those no getUpdates offset confirmed."""
    return [u["update_id"] for u in fake.pending_updates]


@contextlib.asynccontextmanager
async def running(
    fake: FakeTelegram, feed: Callable[[Update], Awaitable[object]]
) -> AsyncIterator[DurablePolling]:
    """The polling loop in a task; on the way out it is cut off as a crash would cut it (no
    finishing, no last confirmation)."""
    bot = Bot(fake.token, session=api_session(fake))
    loop = DurablePolling(bot, feed, wait=1, allowed_updates=[])
    task = asyncio.create_task(loop.run())
    try:
        yield loop
    finally:
        task.cancel()
        for handling in loop.offsets.under_way.values():
            handling.cancel()
        await asyncio.gather(task, *loop.offsets.under_way.values(), return_exceptions=True)
        await bot.session.close()


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


async def test_an_update_under_way_stays_unconfirmed_while_other_chats_go_on():
    release = asyncio.Event()
    handled: list[str] = []

    async def feed(update: Update) -> None:
        if update.message.text == "slow":
            await release.wait()
        handled.append(update.message.text)

    async with FakeTelegram() as fake, running(fake, feed):
        slow = fake.inject_update(message(1, "slow"))
        quick = fake.inject_update(message(2, "quick"))
        await until(lambda: handled == ["quick"], "the other chat's update handled")
        # polled again since: the slow one is still Telegram's to send (a crash loses nothing)
        await fake.wait_for_call("getUpdates", since=fake.mark())
        assert pending(fake) == [slow, quick]
        later = fake.inject_update(message(3, "later"))
        await until(lambda: handled == ["quick", "later"], "a later update handled")
        assert handled.count("quick") == 1  # sent again by Telegram, not handled again
        release.set()
        await until(lambda: "slow" in handled, "the slow update finished")
        await until(lambda: pending(fake) == [], "all three confirmed")
    assert sorted(handled) == ["later", "quick", "slow"]
    assert later > quick > slow


async def test_after_a_crash_the_unfinished_update_comes_again_and_only_it():
    stuck = asyncio.Event()  # never set: the handler is under way when the crash comes
    first_run: list[str] = []

    async def crashing_feed(update: Update) -> None:
        first_run.append(update.message.text)
        if update.message.text == "paid":
            await stuck.wait()

    async with FakeTelegram() as fake:
        async with running(fake, crashing_feed):
            fake.inject_update(message(1, "hello"))
            paid = fake.inject_update(message(2, "paid"))
            await until(lambda: sorted(first_run) == ["hello", "paid"], "both handed over")
            await until(lambda: pending(fake) == [paid], "the finished one confirmed")
            await asyncio.sleep(0.3)  # several polls later (each 0.1 s), still not confirmed
        assert pending(fake) == [paid]

        second_run: list[str] = []

        async def feed(update: Update) -> None:
            second_run.append(update.message.text)

        async with running(fake, feed):
            await until(lambda: second_run == ["paid"], "the unfinished update again")
            await until(lambda: pending(fake) == [], "it is confirmed once handled")
        assert second_run == ["paid"]


async def test_a_failing_update_is_tried_again_then_given_up_without_stopping_the_rest(
    monkeypatch, caplog
):
    monkeypatch.setattr(polling, "RETRY_PAUSE", 0.01)
    tries: list[str] = []

    async def feed(update: Update) -> None:
        tries.append(update.message.text)
        if update.message.text == "broken":
            raise RuntimeError("the handler failed")

    with caplog.at_level(logging.ERROR, logger=polling.__name__):
        async with FakeTelegram() as fake, running(fake, feed):
            broken = fake.inject_update(message(1, "broken"))
            fake.inject_update(message(2, "fine"))
            await until(lambda: tries.count("broken") == polling.ATTEMPTS, "all the tries")
            await until(lambda: pending(fake) == [], "both confirmed")
    assert tries.count("fine") == 1
    assert f"update {broken} failed {polling.ATTEMPTS} times: given up" in caplog.text


@pytest.mark.parametrize("finished", [True, False])
async def test_a_stop_lets_updates_under_way_finish_and_confirms_them(finished, monkeypatch):
    monkeypatch.setattr(polling, "IN_FLIGHT_TIMEOUT", 5.0 if finished else 0.2)
    release = asyncio.Event()
    done: list[str] = []

    async def feed(update: Update) -> None:
        await release.wait()
        done.append(update.message.text)

    async with FakeTelegram() as fake:
        bot = Bot(fake.token, session=api_session(fake))
        loop = DurablePolling(bot, feed, wait=1, allowed_updates=[])
        task = asyncio.create_task(loop.run())
        update_id = fake.inject_update(message(1, "booking"))
        await until(lambda: loop.offsets.under_way, "the update under way")
        loop.stop()
        await task
        if finished:
            asyncio.get_running_loop().call_later(0.05, release.set)
        await loop.finish()
        await bot.session.close()
        # finished in time: confirmed, so the next run does not get it; else Telegram keeps it
        assert done == (["booking"] if finished else [])
        assert pending(fake) == ([] if finished else [update_id])
