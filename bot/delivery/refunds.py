"""Telegram's refundStarPayment as domain.billing.refunds takes it, and the job that asks
again for the Stars refunds left open (a crash between recording a refund and Telegram's
answer, or no answer at all)."""

from __future__ import annotations

import logging
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.utils.i18n import I18n

from bot.delivery.courier import send_due
from bot.deps import Deps
from domain.billing.refunds import RefundStars, retry_stars_refunds
from domain.errors import StarsRefundRefused, StarsRefundUnanswered

log = logging.getLogger(__name__)

# a refund asked this recently may still be waiting for its answer (aiogram waits up to 60 s):
# the periodic job leaves it to the staff member's request
ANSWER_GRACE = timedelta(minutes=5)


def stars_refunder(bot: Bot) -> RefundStars:
    """refundStarPayment: no answer (a timeout, the network, Telegram's server error or 429,
    an unreadable reply) is StarsRefundUnanswered — the payment may have gone back; any other
    error is Telegram's refusal, with its description."""

    async def refund_stars(user_id: int, charge_id: str) -> None:
        try:
            await bot.refund_star_payment(user_id=user_id, telegram_payment_charge_id=charge_id)
        except (
            TelegramNetworkError,
            TelegramServerError,
            TelegramRetryAfter,
            ClientDecodeError,
        ) as error:
            log.warning("refundStarPayment for %s got no answer: %s", charge_id, error)
            raise StarsRefundUnanswered() from error
        except TelegramAPIError as error:
            raise StarsRefundRefused(reason=error.message) from error

    return refund_stars


async def complete_stars_refunds(
    bot: Bot, deps: Deps, i18n: I18n, *, at_start: bool = False
) -> None:
    """Ask Telegram again for the Stars refunds left open, and tell the clients of those done.
    At start-up all of them (nothing of this process is under way); afterwards only those
    asked more than ANSWER_GRACE ago."""
    now = deps.clock()
    async with deps.db() as db:
        settled = await retry_stars_refunds(
            db,
            refund_stars=stars_refunder(bot),
            now=now,
            asked_before=None if at_start else now - ANSWER_GRACE,
            staff_ids=deps.settings.policy.staff_ids,
        )
    if settled:
        log.info("settled %d Stars refunds left open", settled)
        await send_due(bot, deps, i18n)
