"""Long polling that loses no update: Telegram's offset moves past an update only once its
handling has finished, while updates of different chats are handled side by side.

aiogram's own polling confirms an update at the next ``getUpdates``, while its handler may
still be running; a crash in between loses it for good (a ``successful_payment`` with it: the
client's money taken and never recorded). Here the offset sent to Telegram is the lowest
update still under way, so Telegram keeps every unfinished update and, after a crash, sends
it again; the handlers are safe to run twice (payments by charge id, bookings and taps by
their own keys). Updates that come back while still under way, or already done, are skipped.

A handler that raises is tried again a few times (a database that was briefly away, a lock
timeout), then given up with an error in the log, so that one broken update never stalls
the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiogram import Bot, Dispatcher
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

log = logging.getLogger(__name__)

ATTEMPTS = 3  # tries of an update whose handler raises, before it is given up
RETRY_PAUSE = 1.0  # seconds before an update whose handler raised is tried again
MAX_IN_FLIGHT = 100  # updates handled at once (one getUpdates batch)
# While an update is under way, getUpdates (asked from the lowest unfinished one) returns at
# once; between such calls the loop waits this long, or less when an update finishes.
BUSY_PAUSE = 0.1
IN_FLIGHT_TIMEOUT = 10.0  # seconds updates under way get to finish on shutdown
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)

Feed = Callable[[Update], Awaitable[object]]


@dataclass
class Offsets:
    """Which updates are under way and which are done, and so the offset to ask from: the
    lowest update not yet finished, or the one after the last seen when all are."""

    under_way: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    done: set[int] = field(default_factory=set)  # finished, but above one still under way
    cut_short: set[int] = field(default_factory=set)  # cancelled: Telegram must keep them
    next_new: int | None = None  # one past the highest update seen

    @property
    def offset(self) -> int | None:
        unfinished = self.under_way.keys() | self.cut_short
        if unfinished:
            return min(unfinished)
        return self.next_new

    def is_new(self, update_id: int) -> bool:
        return update_id not in self.under_way and update_id not in self.done

    def seen(self, update_id: int) -> None:
        if self.next_new is None or update_id >= self.next_new:
            self.next_new = update_id + 1

    def finished(self, update_id: int, *, cancelled: bool = False) -> None:
        self.under_way.pop(update_id, None)
        (self.cut_short if cancelled else self.done).add(update_id)

    def confirmed(self, offset: int | None) -> None:
        """Telegram took ``offset``: it will not send the updates below it again."""
        if offset is not None:
            self.done = {u for u in self.done if u >= offset}


class DurablePolling:
    """getUpdates in a loop, each update handled in a task of its own by ``feed``."""

    def __init__(self, bot: Bot, feed: Feed, *, wait: int, allowed_updates: list[str]) -> None:
        self.bot = bot
        self.feed = feed
        self.wait = wait  # seconds a getUpdates waits for an update (long polling)
        self.allowed_updates = allowed_updates
        self.offsets = Offsets()
        self._stopping = asyncio.Event()
        self._asked: int | None = None  # the offset of the last getUpdates sent

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        backoff = Backoff(config=BACKOFF)
        while not self._stopping.is_set():
            busy = bool(self.offsets.under_way)
            try:
                updates = await self._fetch(wait=0 if busy else self.wait)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Telegram away: try again, never stop
                log.error("getUpdates failed - %s: %s", type(error).__name__, error)
                await self._pause(backoff.next_delay)
                backoff.next()
                continue
            backoff.reset()
            fresh = [u for u in updates if self.offsets.is_new(u.update_id)]
            for update in fresh:
                self._start(update)
            if busy and not fresh:
                await self._wait_for_any(BUSY_PAUSE)
            while len(self.offsets.under_way) >= MAX_IN_FLIGHT and not self._stopping.is_set():
                await self._wait_for_any(None)

    async def finish(self) -> None:
        """Let updates under way finish (for a while), then confirm those that did, so that
        the next run does not get them again."""
        running = list(self.offsets.under_way.values())
        if running:
            _done, late = await asyncio.wait(running, timeout=IN_FLIGHT_TIMEOUT)
            for task in late:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*late, return_exceptions=True)
        # Only when an update finished since the last getUpdates (which confirmed all before
        # it): a second getUpdates while a long poll is still open would be refused with a
        # conflict, and a long poll is open only when nothing was under way.
        offset = self.offsets.offset
        if offset is not None and offset != self._asked:
            with contextlib.suppress(Exception):
                await self.bot(GetUpdates(offset=offset, limit=1, timeout=0))

    async def _fetch(self, *, wait: int) -> list[Update]:
        offset = self._asked = self.offsets.offset
        request = GetUpdates(offset=offset, timeout=wait, allowed_updates=self.allowed_updates)
        fetch = asyncio.ensure_future(
            self.bot(request, request_timeout=int((self.bot.session.timeout or 60) + wait))
        )
        # stop waiting for Telegram as soon as asked to stop
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait([fetch, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not fetch.done():  # stopping, or this loop itself cancelled
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await fetch
        if fetch.cancelled():
            return []
        updates = fetch.result()
        self.offsets.confirmed(offset)
        return updates

    def _start(self, update: Update) -> None:
        update_id = update.update_id
        self.offsets.seen(update_id)
        task = asyncio.create_task(self._handle(update), name=f"update-{update_id}")
        self.offsets.under_way[update_id] = task
        task.add_done_callback(
            lambda task: self.offsets.finished(update_id, cancelled=task.cancelled())
        )

    async def _handle(self, update: Update) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await self.feed(update)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                if attempt == ATTEMPTS:
                    log.exception("update %s failed %s times: given up", update.update_id, attempt)
                    return
                log.exception("update %s failed; trying it again", update.update_id)
                await asyncio.sleep(RETRY_PAUSE * attempt)

    async def _wait_for_any(self, at_most: float | None) -> None:
        waiting = [*self.offsets.under_way.values(), asyncio.ensure_future(self._stopping.wait())]
        try:
            await asyncio.wait(waiting, timeout=at_most, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting[-1].cancel()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


async def _feed(dp: Dispatcher, bot: Bot, update: Update) -> None:
    result = await dp.feed_update(bot, update)
    if isinstance(result, TelegramMethod):  # a handler may answer with a method to call
        await dp.silent_call_request(bot=bot, result=result)


async def poll(dp: Dispatcher, bot: Bot, *, wait: int, allowed_updates: list[str]) -> None:
    """Poll until SIGTERM or SIGINT, then stop as the webhook server does: no new updates,
    those under way finish (and are confirmed), then the dispatcher's shutdown runs."""
    polling = DurablePolling(
        bot,
        lambda update: _feed(dp, bot, update),
        wait=wait,
        allowed_updates=allowed_updates,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, polling.stop)
    workflow = {"dispatcher": dp, "bots": [bot], **dp.workflow_data}
    await dp.emit_startup(bot=bot, **workflow)
    try:
        await polling.run()
        log.info("stopping: no new updates, finishing those under way")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await polling.finish()
        await dp.emit_shutdown(bot=bot, **workflow)
