"""Reconciliation with Telegram Stars: nothing lost between Telegram and the ledger.

A process that dies while handling a ``successful_payment`` leaves Telegram holding the
client's money and the ledger none the wiser (Telegram does not deliver the update again once
the bot confirmed it). Telegram lists the bot's Stars transactions (getStarTransactions); a
periodic job (bot/runtime/reconcile.py) reads them since the last checkpoint and hands them
here as plain :class:`StarTransaction` records:

- a client's payment the ledger lacks is recorded exactly as the live handler records it
  (domain.billing.payments.record_payment: same payload matching, same charge id, so once),
  the client is thanked through the outbox, and a warning is logged;
- a refund the ledger lacks is logged and handed to the refunds domain (:func:`_settle_refunds`);
- the checkpoint moves on, in the same database.

Card payments have no such list in the Bot API: staff reconcile them at the provider
(docs/user-guide.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.billing import money
from domain.billing.payments import ReceivedPayment, record_payment
from domain.billing.refunds import settle_from_telegram
from domain.clients.record import ClientRef, remember_client
from domain.policy import DEFAULT_POLICY, Policy
from domain.storage.models import Checkpoint, LedgerEntry

log = logging.getLogger(__name__)

STARS_CHECKPOINT = "star_transactions"
_CHUNK = 500  # charge ids per IN (...) query: far inside SQLite's and PostgreSQL's limits


@dataclass(frozen=True)
class StarTransaction:
    """One of Telegram's Stars transactions that concerns a client: their payment for an
    invoice, or (``refund``) its refund, which carries the payment's own id."""

    id: str  # = successful_payment.telegram_payment_charge_id
    amount: int  # whole Stars
    date: datetime
    client: ClientRef
    invoice_payload: str = ""
    refund: bool = False


@dataclass(frozen=True)
class StarCheckpoint:
    """How far Telegram's list was read: the newest transaction's time (None: never read)
    and how many transactions the list held then (Telegram lists them oldest first)."""

    seen_until: datetime | None = None
    listed: int = 0


@dataclass(frozen=True)
class Reconciled:
    """What a run found: the charge ids of payments recorded now, and of refunds the ledger
    lacked; ``settled``: how many of those the refunds domain settled."""

    recorded: list[str] = field(default_factory=list)
    refunds_missing: list[str] = field(default_factory=list)
    settled: int = 0


async def star_checkpoint(db: AsyncSession) -> StarCheckpoint:
    row = await db.get(Checkpoint, STARS_CHECKPOINT)
    if row is None:
        return StarCheckpoint()
    return StarCheckpoint(datetime.fromtimestamp(row.seen_until, UTC), row.listed)


async def reconcile_stars(
    db: AsyncSession,
    transactions: Sequence[StarTransaction],
    *,
    listed: int | None,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> Reconciled:
    """Record the payments among ``transactions`` that the ledger lacks (each once, however
    often it is listed), hand the refunds to the refunds domain, and move the checkpoint on
    (``listed``: how many transactions Telegram's list holds now, None if not known).
    Commits per payment: a run cut short records the rest next time."""
    payments = [t for t in transactions if not t.refund]
    refunds = [t for t in transactions if t.refund]
    known = await _known(db, LedgerEntry.charge_id, [t.id for t in payments])
    recorded = []
    for payment in sorted({t.id: t for t in payments}.values(), key=lambda t: t.date):
        if payment.id in known:
            continue
        if await _record(db, payment, now=now, policy=policy):
            log.warning(
                "Stars payment %s of %d from client %s (%r) was missing from the ledger: "
                "recorded now",
                payment.id,
                payment.amount,
                payment.client.id,
                payment.invoice_payload,
            )
            recorded.append(payment.id)
    refunded = [t.id for t in refunds]
    # ours that Telegram never answered (or a crash cut short) are done now; what is still
    # missing then is a refund made outside Spotbook
    settled = await _settle_refunds(db, refunded_charge_ids=set(refunded), now=now)
    in_ledger = await _known(db, LedgerEntry.provider_charge_id, refunded, refunds_only=True)
    missing = sorted(set(refunded) - in_ledger)
    for charge_id in missing:
        log.warning("Stars refund of payment %s is missing from the ledger", charge_id)
    await _advance(db, transactions, listed=listed, now=now)
    await db.commit()
    return Reconciled(recorded, missing, settled)


async def _record(
    db: AsyncSession, payment: StarTransaction, *, now: datetime, policy: Policy
) -> bool:
    # the client was invoiced, so they are known; remembered again in case the ledger's
    # client row is missing too (a payload we never issued)
    await remember_client(db, payment.client, now)
    received = ReceivedPayment(
        client_id=payment.client.id,
        payload=payment.invoice_payload,
        amount_minor=payment.amount,
        currency=money.STARS,
        charge_id=payment.id,
    )
    paid = await record_payment(db, received, now=now, policy=policy, late=True)
    return paid is not None


async def _settle_refunds(db: AsyncSession, *, refunded_charge_ids: set[str], now: datetime) -> int:
    """The refunds Telegram listed (the refunded payments' charge ids): requested or unknown
    ones of ours are done (domain.billing.refunds); how many were settled."""
    return await settle_from_telegram(db, refunded_charge_ids=refunded_charge_ids, now=now)


async def _known(
    db: AsyncSession, column, charge_ids: Iterable[str], *, refunds_only: bool = False
) -> set[str]:
    """Which of ``charge_ids`` the ledger holds in ``column`` (a payment's charge id, or the
    refunded payment's id on a Stars refund line)."""
    wanted = sorted(set(charge_ids))
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        query = select(column).where(column.in_(wanted[start : start + _CHUNK]))
        if refunds_only:
            query = query.where(
                LedgerEntry.kind == money.EntryKind.REFUND,
                LedgerEntry.method == money.Method.STARS,
            )
        found.update(await db.scalars(query))
    return found


async def _advance(
    db: AsyncSession, transactions: Sequence[StarTransaction], *, listed: int | None, now: datetime
) -> None:
    old = await star_checkpoint(db)
    dates = [t.date for t in transactions] + ([old.seen_until] if old.seen_until else [])
    seen_until = int(max(dates).timestamp()) if dates else 0
    values = {
        "name": STARS_CHECKPOINT,
        "seen_until": seen_until,
        "listed": old.listed if listed is None else listed,
        "updated_at": now,
    }
    dialect = postgresql if db.bind.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Checkpoint).values(**values)
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=[Checkpoint.name],
            set_={k: v for k, v in values.items() if k != "name"},
        )
    )
