"""APScheduler as a ticker for periodic domain jobs (no job per reminder, no job store)."""

from __future__ import annotations

import logging
from datetime import UTC

from aiogram import Bot, Dispatcher
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.deps import Deps
from bot.notify import announce
from domain.waitlist import expire_offers

log = logging.getLogger(__name__)


async def pass_on_expired_offers(bot: Bot, deps: Deps, i18n: I18n) -> None:
    async with deps.db() as db:
        events = await expire_offers(db, deps.clock(), policy=deps.settings.policy)
    if events:
        log.info("passed on %d expired offers", len(events))
    await announce(bot, deps, i18n, events)


def build_scheduler(bot: Bot, deps: Deps, i18n: I18n) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        pass_on_expired_offers,
        "interval",
        seconds=deps.settings.offer_check_seconds,
        args=[bot, deps, i18n],
        id="expire_offers",
        max_instances=1,
        coalesce=True,
        # the default (1 s) silently drops a run that comes due while the loop is busy
        misfire_grace_time=60,
    )
    return scheduler


def run_with(dp: Dispatcher, scheduler: AsyncIOScheduler) -> None:
    """Start inside the running loop when polling starts, stop with it.

    The hooks are coroutines: aiogram runs plain functions in a worker thread, where there is
    no event loop for the scheduler to attach to.
    """

    async def start() -> None:
        scheduler.start()

    async def stop() -> None:
        scheduler.shutdown(wait=False)

    dp.startup.register(start)
    dp.shutdown.register(stop)
