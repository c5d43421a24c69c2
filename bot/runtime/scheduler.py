"""APScheduler as a ticker: it wakes the outbox dispatcher and runs the periodic domain jobs.
No job per reminder and no job store: reminders are rows of the outbox
(domain/notices/outbox.py)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from aiogram import Bot, Dispatcher
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.delivery.announce import refresh_announcements
from bot.delivery.courier import dispatch_outbox, send_due
from bot.delivery.refunds import complete_stars_refunds, stars_refunder
from bot.deps import Deps
from bot.runtime.reconcile import reconcile_star_payments
from domain.billing.credits import count_attendance
from domain.billing.fees import raise_fees
from domain.billing.refunds import ask_requested
from domain.booking.holds import release_unpaid
from domain.booking.waitlist import expire_offers
from domain.notices.reminders import release_unconfirmed
from domain.timetable.minimum import cancel_undersubscribed
from domain.timetable.sessions import release_reservations

log = logging.getLogger(__name__)


async def pass_on_expired_offers(bot: Bot, deps: Deps, i18n: I18n) -> None:
    async with deps.db() as db:
        events = await expire_offers(db, deps.clock(), policy=deps.settings.policy)
    if events:
        log.info("passed on %d expired offers", len(events))
        await send_due(bot, deps, i18n)


async def release_unanswered(bot: Bot, deps: Deps, i18n: I18n) -> None:
    """Bookings whose reminder went unanswered, bookings unpaid after the hold, and staff
    reservations not confirmed in time, go on."""
    async with deps.db() as db:
        events = await release_unconfirmed(db, deps.clock(), deps.settings.policy)
        events += await release_unpaid(db, deps.clock(), deps.settings.policy)
        events += await release_reservations(db, deps.clock(), deps.settings.policy)
    if events:
        log.info("released bookings whose reminder went unanswered: %d events", len(events))
        await send_due(bot, deps, i18n)


async def check_minimums(bot: Bot, deps: Deps, i18n: I18n) -> None:
    """Sessions below their class's minimum at its check time are cancelled; clients and
    staff hear of it through the outbox."""
    async with deps.db() as db:
        cancelled = await cancel_undersubscribed(db, now=deps.clock(), policy=deps.settings.policy)
        if requests := [r for c in cancelled for r in c.request_ids]:
            # Stars go back through Telegram now; one left unanswered is retried by
            # complete_stars_refunds
            await ask_requested(
                db,
                request_ids=requests,
                refund_stars=stars_refunder(bot),
                now=deps.clock(),
                staff_ids=deps.settings.policy.staff_ids,
            )
    if cancelled:
        log.info("cancelled %d sessions below their minimum", len(cancelled))
        await send_due(bot, deps, i18n)


async def fees_and_attendance(bot: Bot, deps: Deps, i18n: I18n) -> None:
    """Fees that fell due are charged (nudges follow through the outbox); sessions that began
    use their attendance credits."""
    async with deps.db() as db:
        raised = await raise_fees(db, deps.clock(), deps.settings.policy)
        counted = await count_attendance(db, deps.clock(), deps.settings.policy)
    if raised or counted:
        log.info("charged %d fees, counted %d attended sessions", len(raised), counted)
    if raised:
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
    scheduler.add_job(
        check_minimums,
        "interval",
        seconds=settings.offer_check_seconds,
        args=[bot, deps, i18n],
        id="minimum_participants",
        next_run_time=datetime.now(UTC),  # and at start-up: the bot may have been down
        **periodic,
    )
    scheduler.add_job(
        fees_and_attendance,
        "interval",
        seconds=settings.fee_check_seconds,
        args=[bot, deps, i18n],
        id="fees",
        next_run_time=datetime.now(UTC),  # and at start-up: the bot may have been down
        **periodic,
    )
    scheduler.add_job(
        complete_stars_refunds,
        "interval",
        seconds=settings.fee_check_seconds,
        args=[bot, deps, i18n],
        id="stars_refunds",
        **periodic,
    )
    scheduler.add_job(  # and at start-up all of them: refunds cut short by a crash or restart
        complete_stars_refunds,
        "date",
        args=[bot, deps, i18n],
        kwargs={"at_start": True},
        id="stars_refunds_at_start",
        **periodic,
    )
    if "stars" in settings.payment_methods:
        scheduler.add_job(
            reconcile_star_payments,
            "interval",
            minutes=settings.reconcile_interval_minutes,
            args=[bot, deps, i18n],
            id="reconcile_stars",
            next_run_time=datetime.now(UTC),  # and at start-up: a payment may have been lost
            **periodic,
        )
    if deps.announcer is not None:
        scheduler.add_job(
            refresh_announcements,
            "interval",
            seconds=settings.announce_check_seconds,
            args=[deps.announcer],
            id="announcements",
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


async def finish_running_jobs(scheduler: AsyncIOScheduler, within: float = 10) -> None:
    """Let the jobs under way finish: APScheduler's asyncio executor cancels them on shutdown
    (its wait=True can't wait in a running loop), e.g. a fee run at start-up when the bot is
    stopped at once. Each job commits once, so one cut short loses nothing, but it would log
    a CancelledError as a crash."""
    executor = scheduler._executors.get("default")  # no public way to see running jobs
    running = [f for f in getattr(executor, "_pending_futures", ()) if not f.done()]
    if running:
        await asyncio.wait(running, timeout=within)


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
        scheduler.pause()
        await finish_running_jobs(scheduler)
        scheduler.shutdown(wait=False)

    dp.startup.register(start)
    dp.shutdown.register(stop)
