"""One rate-limited path for messages sent without being asked (notices, offers, reminders).

Telegram allows about 30 messages a second in bulk, about one a second per private chat and
20 a minute per group; above that it answers 429 (``TelegramRetryAfter``). The :class:`Sender`
keeps under those limits (sliding windows), waits out a 429 (pausing everything it sends, as our
limits were evidently too generous), retries 5xx and network errors a few times with backoff,
and on 403 (the client blocked the bot) marks the client unreachable and stops sending to them
until they write again (:class:`ReachableAgain`).

Answers to the user who just acted go straight through the bot: they are not bulk.
Clock and sleep are injected so tests run on fake time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
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

from bot.runtime.config import Settings
from domain.clients.record import mark_reachable, mark_unreachable, unreachable_clients
from domain.storage.db import SessionFactory

log = logging.getLogger(__name__)

Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[Any]]
_EPSILON = 1e-6  # float slack: a wait computed to the instant must not leave a 1e-16 remainder


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Window:
    """At most ``limit`` events in any ``period`` seconds (a sliding window)."""

    __slots__ = ("limit", "period", "times")

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more event fits (0 if it fits now)."""
        times = self.times
        while times and times[0] <= now - self.period + _EPSILON:
            times.popleft()
        if len(times) < self.limit:
            return 0.0
        return times[0] + self.period - now

    def record(self, now: float) -> None:
        self.times.append(now)

    def settle(self, sent_at: float, answered_at: float) -> None:
        """The message let through at ``sent_at`` was answered at ``answered_at``: count it
        from then. Telegram counts it on arrival, somewhere in between, so counting from the
        let-through alone lets a 31st message in when the first was slow on the wire."""
        try:
            self.times.remove(sent_at)
        except ValueError:  # already out of the window
            return
        self.times.append(answered_at)  # the latest time so far: the deque stays in order

    def idle(self, now: float) -> bool:
        return not self.times or self.times[-1] <= now - self.period


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

    A limit of 0 (or None) turns that limit off.
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
    ) -> None:
        self.bot = bot
        self.reachability = reachability
        self._global = _Window(per_second, 1.0) if per_second else None
        self._per_chat_seconds = per_chat_seconds or 0.0
        self._group_per_minute = group_per_minute or 0
        self._chats: dict[int, _Window] = {}
        self._prune_at = 4096
        self._max_tries = max(1, max_tries)
        self._backoff_seconds = backoff_seconds
        self._max_flood_waits = max_flood_waits
        self._clock = clock
        self._sleep = sleep
        self._paused_until = float("-inf")

    @classmethod
    def from_settings(
        cls, bot: Bot, settings: Settings, reachability: Reachability | None = None, **options
    ) -> Sender:
        return cls(
            bot,
            reachability,
            per_second=settings.send_rate_per_second,
            per_chat_seconds=settings.send_rate_per_chat_seconds,
            group_per_minute=settings.send_group_per_minute,
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
            sent_at, windows = await self._acquire(chat_id)
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
                self._paused_until = max(self._paused_until, self._clock() + error.retry_after)
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
                answered_at = self._clock()
                for window in windows:
                    window.settle(sent_at, answered_at)

    async def _acquire(self, chat_id: int) -> tuple[float, list[_Window]]:
        """Wait until one more message to ``chat_id`` fits every limit, and count it; when,
        and in which windows (to count it again from its answer: :meth:`_Window.settle`)."""
        while True:
            now = self._clock()
            window = self._chat_window(chat_id, now)
            wait = max(
                self._paused_until - now,
                self._global.wait(now) if self._global else 0.0,
                window.wait(now) if window else 0.0,
            )
            if wait <= _EPSILON:
                windows = [w for w in (self._global, window) if w is not None]
                for counted in windows:
                    counted.record(now)
                return now, windows
            await self._sleep(wait)

    def _chat_window(self, chat_id: int, now: float) -> _Window | None:
        window = self._chats.get(chat_id)
        if window is not None:
            return window
        if chat_id < 0:  # groups and channels
            if not self._group_per_minute:
                return None
            window = _Window(self._group_per_minute, 60.0)
        else:
            if not self._per_chat_seconds:
                return None
            window = _Window(1, self._per_chat_seconds)
        if len(self._chats) >= self._prune_at:  # forget chats with nothing in their window
            self._chats = {cid: w for cid, w in self._chats.items() if not w.idle(now)}
            self._prune_at = max(4096, 2 * len(self._chats))
        self._chats[chat_id] = window
        return window


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
