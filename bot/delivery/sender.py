"""One rate-limited path for messages sent without being asked (notices, offers, reminders).

Telegram allows about 30 messages a second in bulk, about one a second per private chat and
20 a minute per group; above that it answers 429 (``TelegramRetryAfter``). The :class:`Sender`
keeps under those limits (sliding windows: bot/delivery/limits.py, in this process or, with
Redis, shared by every instance of the bot), waits out a 429 (pausing everything it sends, as
our limits were evidently too generous), retries 5xx and network errors a few times with backoff,
and on 403 (the client blocked the bot) marks the client unreachable and stops sending to them
until they write again (:class:`ReachableAgain`).

Answers to the user who just acted go straight through the bot: they are not bulk.
Clock and sleep are injected so tests run on fake time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import Chat, Message, TelegramObject, User
from redis.asyncio import Redis

from bot.delivery.limits import Limits, LocalLimits, Rates, RedisLimits, redis_prefix
from bot.runtime.config import Settings
from domain.clients.record import mark_reachable, mark_unreachable, unreachable_clients
from domain.storage.db import SessionFactory

log = logging.getLogger(__name__)

Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[Any]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Reachability:
    """Who blocked the bot: an in-memory set over the database's ``clients.unreachable_since``.

    Loaded on first use and re-read every ``refresh_seconds`` (another bot instance may have
    marked or cleared someone), so checking a reachable user costs no database work.
    """

    def __init__(
        self,
        db: SessionFactory,
        *,
        now: Callable[[], datetime] = _utc_now,
        monotonic: Monotonic = time.monotonic,
        refresh_seconds: float = 60.0,
    ) -> None:
        self._db = db
        self._now = now
        self._monotonic = monotonic
        self._refresh_seconds = refresh_seconds
        self._ids: set[int] | None = None
        self._loaded_at = 0.0

    async def _current(self) -> set[int]:
        if self._ids is None or self._monotonic() - self._loaded_at >= self._refresh_seconds:
            async with self._db() as db:
                ids = await unreachable_clients(db)
            self._ids, self._loaded_at = ids, self._monotonic()
        return self._ids

    async def is_unreachable(self, chat_id: int) -> bool:
        return chat_id in await self._current()

    async def mark(self, chat_id: int) -> None:
        (await self._current()).add(chat_id)
        async with self._db() as db:
            await mark_unreachable(db, chat_id, self._now())

    async def clear(self, chat_id: int) -> None:
        ids = await self._current()
        if chat_id not in ids:
            return
        ids.discard(chat_id)
        async with self._db() as db:
            await mark_reachable(db, chat_id)
        log.info("client %s wrote again: reachable", chat_id)


@dataclass(frozen=True)
class Delivery:
    """How sending one message ended: sent (``message``), or not, and whether trying again
    later may help (a flood or a Telegram outage may pass; a blocked bot or a bad request
    will not)."""

    message: Message | None = None
    reason: str = ""
    retryable: bool = False
    unreachable: bool = False

    @property
    def sent(self) -> bool:
        return self.message is not None


class Sender:
    """``send_message`` under Telegram's limits; None when the message could not be sent.

    A limit of 0 (or None) turns that limit off. ``limits``: where they are counted (by
    default in this process: :class:`~bot.delivery.limits.LocalLimits`).
    """

    def __init__(
        self,
        bot: Bot,
        reachability: Reachability | None = None,
        *,
        per_second: int | None = 30,
        per_chat_seconds: float | None = 1.0,
        group_per_minute: int | None = 20,
        max_tries: int = 3,
        backoff_seconds: float = 1.0,
        max_flood_waits: int = 10,
        clock: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        limits: Limits | None = None,
    ) -> None:
        self.bot = bot
        self.reachability = reachability
        self.limits = limits or LocalLimits(
            Rates(per_second or 0, per_chat_seconds or 0.0, group_per_minute or 0),
            clock=clock,
            sleep=sleep,
        )
        self._max_tries = max(1, max_tries)
        self._backoff_seconds = backoff_seconds
        self._max_flood_waits = max_flood_waits
        self._sleep = sleep

    @classmethod
    def from_settings(
        cls,
        bot: Bot,
        settings: Settings,
        reachability: Reachability | None = None,
        *,
        redis: Redis | None = None,
        **options,
    ) -> Sender:
        """With ``redis`` (the client of ``REDIS_URL``) the limits are kept there, for every
        instance of the bot together; without it, by this process alone."""
        rates = Rates(
            settings.send_rate_per_second,
            settings.send_rate_per_chat_seconds,
            settings.send_group_per_minute,
        )
        if redis is not None:
            prefix = redis_prefix(settings.redis_key_prefix, bot.id)
            timing = {key: options[key] for key in ("clock", "sleep") if key in options}
            options["limits"] = RedisLimits(redis, prefix, rates, **timing)
        return cls(
            bot,
            reachability,
            per_second=rates.per_second,
            per_chat_seconds=rates.per_chat_seconds,
            group_per_minute=rates.group_per_minute,
            **options,
        )

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Message | None:
        return (await self.deliver(chat_id, text, **kwargs)).message

    async def deliver(self, chat_id: int, text: str, **kwargs: Any) -> Delivery:
        """Send under the limits, retrying what a short wait may cure; how it ended."""
        if self.reachability is not None and await self.reachability.is_unreachable(chat_id):
            log.info("not sending to %s: they blocked the bot", chat_id)
            return Delivery(reason="the client blocked the bot", unreachable=True)
        failures = floods = 0
        while True:
            grant = await self.limits.acquire(chat_id)
            try:
                return Delivery(await self.bot.send_message(chat_id, text, **kwargs))
            except TelegramRetryAfter as error:
                floods += 1
                if floods > self._max_flood_waits:
                    log.warning("gave up sending to %s: flood control %d times", chat_id, floods)
                    return Delivery(reason=f"flood control {floods} times", retryable=True)
                log.warning(
                    "flood control (429): pausing sends %s s, then retrying %s",
                    error.retry_after,
                    chat_id,
                )
                await self.limits.pause(error.retry_after)
            except TelegramForbiddenError as error:
                log.info("client %s is unreachable: %s", chat_id, error.message)
                if self.reachability is not None:
                    await self.reachability.mark(chat_id)
                return Delivery(reason=f"unreachable: {error.message}", unreachable=True)
            except (TelegramServerError, TelegramNetworkError) as error:
                failures += 1
                too_large = isinstance(error, TelegramEntityTooLarge)
                if failures >= self._max_tries or too_large:
                    log.warning(
                        "gave up sending to %s after %d tries: %s", chat_id, failures, error
                    )
                    return Delivery(reason=str(error), retryable=not too_large)
                log.info("retrying the message to %s: %s", chat_id, error)
                await self._sleep(self._backoff_seconds * 2 ** (failures - 1))
            except TelegramAPIError as error:  # a bad request: trying again would not help
                log.warning("could not send to %s: %s", chat_id, error)
                return Delivery(reason=str(error))
            finally:
                self.limits.settle(grant)  # counted from Telegram's answer


class ReachableAgain(BaseMiddleware):
    """A client who blocked the bot and now writes to it (message or button) is reachable again.

    Outer middleware on messages and callback queries; no database work unless they were marked.
    """

    def __init__(self, reachability: Reachability) -> None:
        self.reachability = reachability

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if user is not None and (chat is None or chat.type == "private"):
            await self.reachability.clear(user.id)
        return await handler(event, data)
