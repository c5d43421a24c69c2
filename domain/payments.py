"""Payments into the ledger: what an invoice's payload says, and applying Telegram's
successful_payment exactly once.

Telegram may deliver the same successful_payment more than once; its
``telegram_payment_charge_id`` is unique per payment, and the ledger's unique ``charge_id``
makes the second (or concurrent) application a no-op, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain import money
from domain.errors import InvalidPayment
from domain.storage.models import LedgerEntry

PAYLOAD_VERSION = "v1"
MAX_PAYLOAD_BYTES = 128  # Telegram's limit for an invoice payload


@dataclass(frozen=True)
class InvoiceFor:
    """What an invoice asks to be paid: an item (e.g. "booking:42"), the amount and currency."""

    item: str
    amount_minor: int
    currency: str

    def payload(self) -> str:
        text = f"{PAYLOAD_VERSION}|{self.item}|{self.amount_minor}|{self.currency}"
        if len(text.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"invoice payload over {MAX_PAYLOAD_BYTES} bytes: {text!r}")
        return text

    @classmethod
    def from_payload(cls, payload: str) -> InvoiceFor:
        parts = payload.split("|")
        if len(parts) != 4 or parts[0] != PAYLOAD_VERSION or not parts[2].isdigit():
            raise InvalidPayment()
        _, item, amount, currency = parts
        if not item or int(amount) <= 0 or len(currency) != 3:
            raise InvalidPayment()
        return cls(item, int(amount), currency)


def booking_item(booking_id: int) -> str:
    return f"booking:{booking_id}"


async def apply_payment(
    db: AsyncSession,
    *,
    client_id: int,
    paid: InvoiceFor,
    charge_id: str,
    method: money.Method,
    now: datetime,
    provider_charge_id: str | None = None,
) -> bool:
    """Record a successful payment; True the first time, False for a repeat of the same
    charge (nothing is written then). The money is recorded even when the item went away
    meanwhile: it then shows as credit on the client's balance, never lost."""
    if not charge_id:
        raise InvalidPayment()
    dialect = postgresql if db.bind.dialect.name == "postgresql" else sqlite
    inserted = await db.execute(
        dialect.insert(LedgerEntry)
        .values(
            client_id=client_id,
            kind=money.EntryKind.PAYMENT,
            amount_minor=paid.amount_minor,
            currency=paid.currency,
            item=paid.item,
            method=method,
            charge_id=charge_id,
            provider_charge_id=provider_charge_id,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=[LedgerEntry.charge_id])
    )
    await db.commit()
    return inserted.rowcount == 1


async def entries(db: AsyncSession, client_id: int) -> list[money.Entry]:
    """The client's ledger, oldest first, as the pure rules read it."""
    rows = await db.scalars(
        select(LedgerEntry).where(LedgerEntry.client_id == client_id).order_by(LedgerEntry.id)
    )
    return [
        money.Entry(
            kind=money.EntryKind(row.kind),
            item=row.item,
            amount=money.Money(row.amount_minor, row.currency),
            method=money.Method(row.method) if row.method else None,
            charge_for=money.ChargeFor(row.charge_for) if row.charge_for else None,
            charge_id=row.charge_id,
        )
        for row in rows
    ]


async def balance(db: AsyncSession, client_id: int, currency: str) -> money.Money:
    """What the client owes in ``currency`` (> 0) or holds as credit (< 0): domain.money's
    balance over their ledger lines in that currency."""
    lines = [e for e in await entries(db, client_id) if e.amount.currency == currency]
    return money.balance(lines, currency)
