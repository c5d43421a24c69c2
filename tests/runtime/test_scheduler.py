"""APScheduler only ticks: periodic jobs and the outbox wake-up, started and stopped with
the bot's polling."""

import asyncio
from dataclasses import replace
from datetime import timedelta

from aiogram import Dispatcher

from bot.delivery.courier import Courier, dispatch_outbox
from bot.delivery.refunds import complete_stars_refunds
from bot.deps import Deps
from bot.runtime.config import Settings
from bot.runtime.scheduler import (
    build_scheduler,
    check_minimums,
    fees_and_attendance,
    pass_on_expired_offers,
    release_unanswered,
    run_with,
)


async def test_periodic_jobs_run_at_their_configured_intervals_and_tolerate_a_busy_loop():
    settings = Settings(
        offer_check_seconds=5, outbox_check_seconds=2, fee_check_seconds=600, bot_token=None
    )
    deps = Deps(db=None, settings=settings)
    deps = replace(deps, courier=Courier(None, deps, None, sender=None))
    scheduler = build_scheduler(bot=None, deps=deps, i18n=None)

    jobs = {job.id: job for job in scheduler.get_jobs()}

    assert jobs["expire_offers"].func is pass_on_expired_offers
    assert jobs["expire_offers"].trigger.interval == timedelta(seconds=5)
    assert jobs["release_unconfirmed"].func is release_unanswered
    assert jobs["release_unconfirmed"].trigger.interval == timedelta(seconds=5)
    # the dispatcher is woken, not scheduled per reminder: one job, whatever the outbox holds
    assert jobs["outbox"].func is dispatch_outbox
    assert jobs["outbox"].args == (deps.courier,)
    assert jobs["outbox"].trigger.interval == timedelta(seconds=2)
    # fees fall due by the day: charged (and attendance counted) every 10 minutes here
    assert jobs["fees"].func is fees_and_attendance
    assert jobs["fees"].trigger.interval == timedelta(seconds=600)
    # Stars refunds left open are asked again as often, and once at start-up
    assert jobs["stars_refunds"].func is complete_stars_refunds
    assert jobs["stars_refunds"].trigger.interval == timedelta(seconds=600)
    assert jobs["stars_refunds_at_start"].func is complete_stars_refunds
    assert jobs["stars_refunds_at_start"].kwargs == {"at_start": True}
    # sessions below their class's minimum: checked as often as offers, and at start-up
    assert jobs["minimum_participants"].func is check_minimums
    assert jobs["minimum_participants"].trigger.interval == timedelta(seconds=5)
    assert jobs["minimum_participants"].next_run_time is not None
    assert set(jobs) == {
        "expire_offers",
        "minimum_participants",
        "release_unconfirmed",
        "outbox",
        "fees",
        "stars_refunds",
        "stars_refunds_at_start",
    }
    for job in jobs.values():
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
