"""The per-chat locks behind one update at a time (bot/runtime/chatlock.py): in this process,
and in Redis, where a lock expires on its own so an instance that died holding it blocks its
chat only for a while."""

from __future__ import annotations

import asyncio
import logging

from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from redis.asyncio import Redis

from bot.runtime.chatlock import LOCK_SECONDS, LocalChatLocks, RedisChatLocks
from tests.support.services import REDIS_URL, redis_prefix


def chat(chat_id: int) -> StorageKey:
    return StorageKey(bot_id=1, chat_id=chat_id, user_id=chat_id, destiny="chat")


async def test_one_chat_waits_for_its_update_while_another_chat_goes_on():
    locks = LocalChatLocks()
    order: list[str] = []
    release = asyncio.Event()

    async def handle(name: str, key: StorageKey, wait: bool = False) -> None:
        async with locks.hold(key):
            order.append(f"{name} in")
            if wait:
                await release.wait()
            order.append(f"{name} out")

    first = asyncio.create_task(handle("first", chat(1), wait=True))
    second = asyncio.create_task(handle("second", chat(1)))
    other = asyncio.create_task(handle("other", chat(2)))
    await other
    release.set()
    await asyncio.gather(first, second)

    assert order == ["first in", "other in", "other out", "first out", "second in", "second out"]
    assert locks._locks == {}  # no lock kept for a chat with nothing to handle


async def test_a_redis_chat_lock_expires_on_its_own_and_is_gone_once_handled():
    async with redis_prefix() as prefix:
        redis = Redis.from_url(REDIS_URL)
        builder = DefaultKeyBuilder(prefix=prefix, with_bot_id=True, with_destiny=True)
        name = builder.build(chat(1), "lock")
        try:
            async with RedisChatLocks(redis, builder).hold(chat(1)):
                expiry = await redis.pttl(name)
            assert 0 < expiry <= LOCK_SECONDS * 1000
            assert not await redis.exists(name)
        finally:
            await redis.aclose()


async def test_a_redis_chat_lock_that_expired_under_its_update_is_let_go_with_a_warning(caplog):
    async with redis_prefix() as prefix:
        redis = Redis.from_url(REDIS_URL)
        builder = DefaultKeyBuilder(prefix=prefix, with_bot_id=True, with_destiny=True)
        try:
            with caplog.at_level(logging.WARNING, logger="bot.runtime.chatlock"):
                async with RedisChatLocks(redis, builder).hold(chat(1)):
                    await redis.delete(builder.build(chat(1), "lock"))  # as its expiry would
        finally:
            await redis.aclose()

    assert "expired before the update was handled" in caplog.text
