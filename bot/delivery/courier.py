"""The outbox dispatcher: claims due rows of the notification outbox, renders each in its
recipient's language, sends it through the rate-limited :class:`~bot.delivery.sender.Sender` and
marks
it sent, failed (with the reason) or cancelled (nothing left to say).

APScheduler wakes it every OUTBOX_CHECK_SECONDS; a handler whose use case just wrote rows wakes
it at once (:func:`send_due`). Claims are leases
(domain/notices/outbox.py): another bot instance never
gets a claimed row, and rows of a dispatcher that died are claimed again when the lease ends.
A row is marked sent shortly after Telegram accepted it (in small groups, to spare the
database), so a crash re-sends at most the few rows sent but not yet marked. Sending goes on
while a group is being marked; the rows sent meanwhile go in the next group, so when sends
outrun the database the groups grow, but never beyond the batch in hand: a batch is marked
in full before the next is claimed.

A claimed batch is rendered in one go, on one session that reads its recipients and bookings
in two queries (domain/notices/batch.py), then sent: a message says what was true when its batch was
taken up, seconds before it goes out (the buttons of a reminder check the booking again).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta

from aiogram import Bot
from aiogram.methods import Response
from aiogram.types import Message
from aiogram.utils.i18n import I18n

from bot.delivery.notify import Rendered, render
from bot.delivery.sender import Reachability, Sender
from bot.deps import Deps
from domain.notices import outbox
from domain.notices.batch import preload

log = logging.getLogger(__name__)

MARK_EVERY = 20  # sent rows marked in one statement (more if they pile up meanwhile)
STOP_WAIT_SECONDS = 5.0  # at shutdown, how long the batch in hand may take to finish
RETRY_BASE_SECONDS = 30  # a failing row waits 30 s, 60 s, 120 s ... (at most an hour)
# a row's message; None: nothing left to say; an exception: why it could not be rendered
Rendering = Rendered | Exception | None

# aiogram reads every answer to sendMessage as Response[Message], a class pydantic caches only
# weakly: unreferenced, it is collected and built again (~2 ms) every few dozen messages
_ANSWER_TYPE = Response[Message]


class Courier:
    def __init__(
        self,
        bot: Bot,
        deps: Deps,
        i18n: I18n,
        sender: Sender,
        *,
        batch: int | None = None,
        lease_seconds: float | None = None,
        max_attempts: int | None = None,
        concurrency: int = 16,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        settings = deps.settings
        self.bot = bot
        self.deps = deps
        self.i18n = i18n
        self.sender = sender
        self.batch = batch or settings.outbox_batch
        self.lease_seconds = lease_seconds or settings.outbox_lease_seconds
        self.max_attempts = max_attempts or settings.outbox_max_attempts
        self.concurrency = concurrency
        self._monotonic = monotonic
        self._busy = False
        self._draining: asyncio.Task | None = None
        self._again = False
        self._stopping = False
        self._tasks: set[asyncio.Task[int]] = set()
        self._to_mark: list[int] = []
        self._mark_lock = asyncio.Lock()

    # ----- waking -----------------------------------------------------------------------

    def wake(self) -> None:
        """Look for due rows now (a use case just wrote some), without waiting for the tick."""
        if self._stopping:
            return
        if self._busy:
            self._again = True
            return
        task = asyncio.create_task(self.drain())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> int:
        """Send everything due; how many rows were handled. One drain at a time."""
        if self._busy:
            self._again = True
            return 0
        self._busy = True
        self._draining = asyncio.current_task()
        total = 0
        try:
            while not self._stopping:
                self._again = False
                handled = await self.run_once()
                total += handled
                if handled < self.batch and not self._again:
                    break
        except Exception:  # the database is away: the next tick tries again
            log.exception("the outbox dispatcher failed; retrying at the next tick")
        finally:
            self._busy = False
            self._draining = None
        return total

    async def stop(self) -> None:
        """Stop claiming; the batch in hand is finished and marked, rows not yet tried are
        given back. Waits for the drain under way, whoever started it (a wake-up or the
        scheduler's tick, which shutting the scheduler down would otherwise cancel)."""
        self._stopping = True
        running = set(self._tasks)
        if self._draining is not None and self._draining is not asyncio.current_task():
            running.add(self._draining)
        if running:
            await asyncio.wait(running, timeout=STOP_WAIT_SECONDS)

    # ----- one batch --------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch of due rows and send them; the number claimed."""
        now = self.deps.clock()
        async with self.deps.db() as db:
            claimed = await outbox.claim_due(
                db, now, limit=self.batch, lease=timedelta(seconds=self.lease_seconds)
            )
        if not claimed:
            return 0
        started = self._monotonic()
        rendered = await self._render(claimed)
        untried: list[int] = []
        gate = asyncio.Semaphore(self.concurrency)

        async def send(row: outbox.Claimed) -> None:
            async with gate:
                # half the lease gone (a slow chat, a long flood wait) or shutting down:
                # give the rest back rather than risk another instance sending them too
                if self._stopping or self._monotonic() - started > self.lease_seconds / 2:
                    untried.append(row.id)
                    return
                await self._send(row, rendered[row.id])

        for round_ in _rounds(claimed):
            await asyncio.gather(*(send(row) for row in round_))
        await self._mark_sent(force=True)
        if untried:
            async with self.deps.db() as db:
                await outbox.release(db, untried)
        return len(claimed)

    async def _render(self, claimed: list[outbox.Claimed]) -> dict[int, Rendering]:
        """Each row's message (None: nothing left to say), or why it could not be rendered."""
        messages: dict[int, Rendering] = {}
        async with self.deps.db() as db:
            await preload(db, [row.event for row in claimed])
            for row in claimed:
                try:
                    messages[row.id] = await render(db, self.deps, self.i18n, row.event)
                except Exception as error:  # a bug in one message must not stop the others
                    log.exception("could not render outbox row %s", row.id)
                    messages[row.id] = error
                    await db.rollback()  # a failed read would leave the session unusable
        return messages

    async def _send(self, row: outbox.Claimed, rendered: Rendering) -> None:
        if isinstance(rendered, Exception):
            await self._fail(row, f"could not render: {rendered!r}")
            return
        if rendered is None:
            async with self.deps.db() as db:
                await outbox.mark_cancelled(db, [row.id], "nothing left to say", self.deps.clock())
            return
        delivery = await self.sender.deliver(
            row.recipient, rendered.text, reply_markup=rendered.markup
        )
        if delivery.sent:
            self._to_mark.append(row.id)
            await self._mark_sent()
        elif delivery.retryable and row.attempts < self.max_attempts:
            wait = min(RETRY_BASE_SECONDS * 2 ** (row.attempts - 1), 3600)
            at = self.deps.clock() + timedelta(seconds=wait)
            async with self.deps.db() as db:
                await outbox.retry_later(db, row.id, at, delivery.reason)
        else:
            await self._fail(row, delivery.reason)

    async def _fail(self, row: outbox.Claimed, reason: str) -> None:
        kind, to = row.event.kind, row.recipient
        log.warning("outbox row %s (%s to %s) failed: %s", row.id, kind, to, reason)
        async with self.deps.db() as db:
            await outbox.mark_failed(db, row.id, reason, self.deps.clock())

    async def _mark_sent(self, *, force: bool = False) -> None:
        if not force and (len(self._to_mark) < MARK_EVERY or self._mark_lock.locked()):
            return  # too few yet, or the mark under way takes them along when it is done
        async with self._mark_lock:
            while self._to_mark and (force or len(self._to_mark) >= MARK_EVERY):
                ids, self._to_mark = self._to_mark, []
                async with self.deps.db() as db:
                    await outbox.mark_sent(db, ids, self.deps.clock())


def _rounds(claimed: list[outbox.Claimed]) -> list[list[outbox.Claimed]]:
    """Each recipient's n-th message in round n, the rounds sent one after another: each
    recipient's messages still go in due order, recipients side by side. A chat's next message
    must wait a second after its last (bot/delivery/sender.py); in the next round that second
    has mostly
    passed while the other chats were served, rather than being waited out in one of the
    ``concurrency`` places, as when a recipient's messages are sent in one go."""
    rounds: list[list[outbox.Claimed]] = []
    taken: dict[int, int] = {}
    for row in claimed:
        n = taken[row.recipient] = taken.get(row.recipient, -1) + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(row)
    return rounds


async def send_due(bot: Bot, deps: Deps, i18n: I18n) -> None:
    """A use case wrote outbox rows: have them sent now rather than at the next tick.

    With Deps built by hand (tests, scripts) there is no running courier: drain one here.
    """
    if deps.courier is not None:
        deps.courier.wake()
        return
    sender = deps.sender
    if sender is None:
        sender = Sender.from_settings(bot, deps.settings, Reachability(deps.db, now=deps.clock))
    await Courier(bot, deps, i18n, sender).drain()


async def dispatch_outbox(courier: Courier) -> None:
    """The scheduler's tick."""
    handled = await courier.drain()
    if handled:
        log.info("outbox: %d messages handled", handled)
