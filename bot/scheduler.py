"""APScheduler as a ticker: it wakes the outbox dispatcher and runs the periodic domain jobs.
No job per reminder and no job store: reminders are rows of the outbox (domain/outbox.py)."""

from __future__ import annotations

import logging
from datetime import UTC

from aiogram import Bot, Dispatcher
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.courier import dispatch_outbox, send_due
from bot.deps import Deps
from domain.holds import release_unpaid
from domain.reminders import release_unconfirmed
from domain.waitlist import expire_offers

log = logging.getLogger(__name__)


async def pass_on_expired_offers(bot: Bot, deps: Deps, i18n: I18n) -> None:
    async with deps.db() as db:
        events = await expire_offers(db, deps.clock(), policy=deps.settings.policy)
    if events:
        log.info("passed on %d expired offers", len(events))
        await send_due(bot, deps, i18n)


async def release_unanswered(bot: Bot, deps: Deps, i18n: I18n) -> None:
    """Bookings whose reminder went unanswered, and bookings unpaid after the hold, go on."""
    async with deps.db() as db:
        events = await release_unconfirmed(db, deps.clock(), deps.settings.policy)
        events += await release_unpaid(db, deps.clock(), deps.settings.policy)
    if events:
        log.info("released bookings whose reminder went unanswered: %d events", len(events))
        await send_due(bot, deps, i18n)


def build_scheduler(bot: Bot, deps: Deps, i18n: I18n) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=UTC)
    settings = deps.settings
    periodic = {
        # the default (1 s) silently drops a run that comes due while the loop is busy
        "misfire_grace_time": 60,
        "max_instances": 1,
        "coalesce": True,
    }
    scheduler.add_job(
        pass_on_expired_offers,
        "interval",
        seconds=settings.offer_check_seconds,
        args=[bot, deps, i18n],
        id="expire_offers",
        **periodic,
    )
    scheduler.add_job(
        release_unanswered,
        "interval",
        seconds=settings.offer_check_seconds,
        args=[bot, deps, i18n],
        id="release_unconfirmed",
        **periodic,
    )
    if deps.courier is not None:
        scheduler.add_job(
            dispatch_outbox,
            "interval",
            seconds=settings.outbox_check_seconds,
            args=[deps.courier],
            id="outbox",
            **periodic,
        )
    return scheduler


def run_with(dp: Dispatcher, scheduler: AsyncIOScheduler, deps: Deps | None = None) -> None:
    """Start inside the running loop when polling starts, stop with it.

    The hooks are coroutines: aiogram runs plain functions in a worker thread, where there is
    no event loop for the scheduler to attach to.
    """

    async def start() -> None:
        scheduler.start()
        if deps is not None and deps.courier is not None:
            deps.courier.wake()  # whatever came due while the bot was down

    async def stop() -> None:
        # the courier first: it finishes (or gives back) the batch in hand; shutting the
        # scheduler down first would cancel a drain it runs mid-batch
        if deps is not None and deps.courier is not None:
            await deps.courier.stop()
        scheduler.shutdown(wait=False)

    dp.startup.register(start)
    dp.shutdown.register(stop)
