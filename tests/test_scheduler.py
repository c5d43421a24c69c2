"""APScheduler only ticks: one periodic job, started and stopped with the bot's polling."""

import asyncio
from datetime import timedelta

from aiogram import Dispatcher

from bot.config import Settings
from bot.deps import Deps
from bot.scheduler import build_scheduler, pass_on_expired_offers, run_with


async def test_the_offer_check_runs_every_configured_interval_and_tolerates_a_busy_loop():
    deps = Deps(db=None, settings=Settings(offer_check_seconds=5, bot_token=None))
    scheduler = build_scheduler(bot=None, deps=deps, i18n=None)

    (job,) = scheduler.get_jobs()

    assert job.func is pass_on_expired_offers
    assert job.trigger.interval == timedelta(seconds=5)
    assert job.misfire_grace_time == 60
    assert job.max_instances == 1


async def test_the_scheduler_starts_and_stops_with_polling():
    deps = Deps(db=None, settings=Settings(bot_token=None))
    scheduler = build_scheduler(bot=None, deps=deps, i18n=None)
    dp = Dispatcher()
    run_with(dp, scheduler)

    await dp.emit_startup()
    assert scheduler.running
    await dp.emit_shutdown()
    await asyncio.sleep(0)  # AsyncIOScheduler stops through the loop's next turn
    assert not scheduler.running
