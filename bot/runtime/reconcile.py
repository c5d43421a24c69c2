"""Reading Telegram's list of the bot's Stars transactions (getStarTransactions) for
reconciliation (domain/billing/reconcile.py), at start-up and every RECONCILE_INTERVAL_MINUTES.

Telegram pages the list with ``offset`` (transactions to skip) and ``limit`` (1-100) and
documents it as chronological. Should it come newest first instead, the reader notices from
the first page's dates and reads from the top down to the checkpoint's time; oldest first, it
reads on from where the checkpoint's count left off. Either way a transaction read twice is
recorded once (by its charge id), and one missed by a run is found by the next.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import StarTransaction as TelegramTransaction
from aiogram.types import TransactionPartnerUser
from aiogram.utils.i18n import I18n

from bot.delivery.courier import send_due
from bot.deps import Deps
from domain.billing.reconcile import (
    StarCheckpoint,
    StarTransaction,
    reconcile_stars,
    star_checkpoint,
)
from domain.clients.record import ClientRef

log = logging.getLogger(__name__)

PAGE = 100  # Telegram's largest page
# newest first: read this far back past the checkpoint's time (a transaction listed late)
OVERLAP = timedelta(hours=1)
# a payment this young is likely being recorded by the live handler right now: the next run
# takes it if not (the client is then thanked by the handler, not late through the outbox)
GRACE = timedelta(minutes=1)

Listed = list[tuple[int, TelegramTransaction]]  # with their positions in Telegram's list


@dataclass(frozen=True)
class StarListing:
    """What one reading found: the transactions about clients, and how many transactions
    Telegram lists up to the first one left for the next run (None: not counted, the reading
    stopped at the checkpoint)."""

    transactions: list[StarTransaction]
    listed: int | None


async def read_star_transactions(bot: Bot, since: StarCheckpoint, *, now: datetime) -> StarListing:
    """The transactions since ``since``, page by page, but for those younger than GRACE."""
    first = await _page(bot, 0)
    if len(first) == PAGE and first[0].date > first[-1].date:
        read, listed = await _down_to(bot, first, since), None  # newest first
    else:
        read, listed = await _to_the_end(bot, first, since)
    cutoff = now - GRACE
    young = [position for position, t in read if t.date > cutoff]
    if young and listed is not None:
        listed = min(listed, min(young))
    return StarListing(_ours(t for _, t in read if t.date <= cutoff), listed)


async def _page(bot: Bot, offset: int) -> list[TelegramTransaction]:
    return (await bot.get_star_transactions(offset=offset, limit=PAGE)).transactions


async def _to_the_end(
    bot: Bot, first: list[TelegramTransaction], since: StarCheckpoint
) -> tuple[Listed, int]:
    """Oldest first: on from the checkpoint's count to the end of the list. A first page all
    of one second tells no order: then the whole list is read."""
    read, offset = list(enumerate(first)), len(first)
    if offset < PAGE:
        return read, offset
    offset = max(PAGE, since.listed if first[0].date < first[-1].date else 0)
    while True:
        page = await _page(bot, offset)
        read += [(offset + n, t) for n, t in enumerate(page)]
        offset += len(page)
        if len(page) < PAGE:
            return read, offset


async def _down_to(bot: Bot, first: list[TelegramTransaction], since: StarCheckpoint) -> Listed:
    """Newest first: from the top down past the checkpoint's time (all of it the first time)."""
    read = list(enumerate(first))
    stop = since.seen_until - OVERLAP if since.seen_until else None
    while stop is None or read[-1][1].date >= stop:
        page = await _page(bot, len(read))
        read += [(len(read) + n, t) for n, t in enumerate(page)]
        if len(page) < PAGE:
            break
    return read


def _ours(transactions) -> list[StarTransaction]:
    """Clients' payments for invoices and their refunds; withdrawals, ads and the like are
    none of the ledger's business."""
    found = []
    for t in transactions:
        partner, refund = (t.receiver, True) if t.receiver is not None else (t.source, False)
        if not isinstance(partner, TransactionPartnerUser):
            continue
        if partner.transaction_type != "invoice_payment":
            continue
        user = partner.user
        found.append(
            StarTransaction(
                id=t.id,
                amount=t.amount,
                date=t.date.astimezone(UTC),
                client=ClientRef(user.id, user.first_name, user.language_code),
                invoice_payload=partner.invoice_payload or "",
                refund=refund,
            )
        )
    return found


async def reconcile_star_payments(bot: Bot, deps: Deps, i18n: I18n) -> None:
    """The scheduler's job: read Telegram's list since the checkpoint and reconcile it."""
    async with deps.db() as db:
        since = await star_checkpoint(db)
    try:
        listing = await read_star_transactions(bot, since, now=deps.clock())
    except TelegramAPIError as error:  # next run tries again
        log.warning("could not read the Stars transactions: %s", error)
        return
    async with deps.db() as db:
        found = await reconcile_stars(
            db,
            listing.transactions,
            listed=listing.listed,
            now=deps.clock(),
            policy=deps.settings.policy,
        )
    if found.recorded:
        await send_due(bot, deps, i18n)
