"""One chat, one update at a time, its dialog state included.

aiogram-dialog loads a dialog's context before it takes its own per-chat lock, and saves the
state after the tap was answered: two taps at once (or a tap sent just after the answer) both
act on the state from before the first. So the chat is locked here, in an outer middleware of
the dispatcher's updates, before aiogram-dialog reads anything, and released once the update
is handled (its error handlers included) and the dialog saved. The lock lives in this
process, or in Redis when the dialog state does, so that two instances serialise one chat
too; it replaces aiogram-dialog's own (events isolation), so a tap costs one lock, not two."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from aiogram import BaseMiddleware, Dispatcher
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.fsm.storage.base import BaseStorage, KeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import TelegramObject, Update
from redis.asyncio import Redis
from redis.exceptions import LockError

log = logging.getLogger(__name__)

# A Redis lock expires on its own after this, so an instance that died holding it blocks its
# chat no longer; an update handled for longer than this is no longer serialised.
LOCK_SECONDS = 30
# how often a waiting instance asks Redis again: a double tap waits about this after the first
LOCK_POLL_SECONDS = 0.01


class ChatLocks(Protocol):
    def hold(self, key: StorageKey) -> AbstractAsyncContextManager[None]: ...


class LocalChatLocks:
    """asyncio locks, one per chat while an update of it is handled or waits."""

    def __init__(self) -> None:
        self._locks: dict[StorageKey, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: StorageKey) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]  # no lock kept for every chat ever seen
            else:
                self._locks[key] = (lock, users - 1)


class RedisChatLocks:
    """A Redis lock per chat (SET NX with expiry; released by token), shared by instances."""

    def __init__(self, redis: Redis, key_builder: KeyBuilder) -> None:
        self.redis = redis
        self.key_builder = key_builder

    @asynccontextmanager
    async def hold(self, key: StorageKey) -> AsyncIterator[None]:
        name = self.key_builder.build(key, "lock")
        lock = self.redis.lock(
            name, timeout=LOCK_SECONDS, sleep=LOCK_POLL_SECONDS, blocking_timeout=LOCK_SECONDS
        )
        if not await lock.acquire():
            # the holder has run past the expiry: go on unserialised rather than not at all
            log.warning("chat lock %s still held after %s s; going on", name, LOCK_SECONDS)
            yield
            return
        try:
            yield
        finally:
            try:
                await lock.release()
            except LockError:  # expired meanwhile, perhaps taken by another update
                log.warning("chat lock %s expired before the update was handled", name)


def chat_locks(storage: BaseStorage) -> ChatLocks:
    if isinstance(storage, RedisStorage):
        return RedisChatLocks(storage.redis, storage.key_builder)
    return LocalChatLocks()


class OneUpdateAtATime(BaseMiddleware):
    """Updates of one chat (and forum topic) are handled one after another, whole."""

    def __init__(self, locks: ChatLocks) -> None:
        self.locks = locks

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        # aiogram-dialog's background updates come with their chat; Telegram's are read here,
        # as aiogram's UserContextMiddleware (which runs after this one) reads them
        chat, thread_id = data.get("event_chat"), data.get("event_thread_id")
        if chat is None and isinstance(event, Update):
            context = UserContextMiddleware.resolve_event_context(event)
            chat, thread_id = context.chat, context.thread_id
        if chat is None:  # a pre-checkout query, an inline query: no dialog of a chat
            return await handler(event, data)
        key = StorageKey(
            bot_id=data["bot"].id,
            chat_id=chat.id,
            user_id=chat.id,
            thread_id=thread_id,
            destiny="chat",
        )
        async with self.locks.hold(key):
            return await handler(event, data)


def serialise_chats(dp: Dispatcher) -> None:
    """The first outer middleware of the dispatcher's updates (call it on a new dispatcher):
    before any message or callback middleware, so before aiogram-dialog loads a context, and
    before aiogram's error middleware, so that error handlers (a stale button's "expired" and
    the menu it resets to) run under the lock too. aiogram-dialog's background updates pass
    through it as well."""
    outer = dp.update.outer_middleware
    aiogram_own = list(outer[:])  # errors, the user's context, FSM
    for middleware in aiogram_own:
        outer.unregister(middleware)
    outer.register(OneUpdateAtATime(chat_locks(dp.storage)))
    for middleware in aiogram_own:
        outer.register(middleware)
