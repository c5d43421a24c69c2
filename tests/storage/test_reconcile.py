"""Reconciliation with Telegram's list of Stars transactions on a real database: a payment
Telegram took that never reached the ledger is recorded once, as the live handler records it,
and the client told once; known payments are left alone; refunds the ledger lacks are
reported; the checkpoint moves on. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from domain.billing import money
from domain.billing.payments import InvoiceFor, ReceivedPayment, booking_item, record_payment
from domain.billing.reconcile import (
    StarCheckpoint,
    StarTransaction,
    reconcile_stars,
    star_checkpoint,
)
from domain.clients.record import ClientRef, remember_client
from domain.notices.outbox import from_row
from domain.storage.models import Client, LedgerEntry, OutboxMessage

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ALICE = ClientRef(1001, "Alice", "en")


def paid(charge_id: str, *, booking: int = 42, amount: int = 50, minutes_ago: int = 5):
    payload = InvoiceFor(booking_item(booking), amount, "XTR").payload()
    return StarTransaction(
        id=charge_id,
        amount=amount,
        date=NOW - timedelta(minutes=minutes_ago),
        client=ALICE,
        invoice_payload=payload,
    )


def refunded(charge_id: str, amount: int = 50) -> StarTransaction:
    return StarTransaction(charge_id, amount, NOW - timedelta(minutes=1), ALICE, refund=True)


@pytest.fixture
async def alice(db_factory):
    async with db_factory() as db:
        await remember_client(db, ALICE, NOW)
        await db.commit()


async def reconcile(db_factory, transactions, listed=None, now=NOW):
    async with db_factory() as db:
        return await reconcile_stars(db, transactions, listed=listed, now=now)


async def ledger_payments(db_factory) -> list[tuple]:
    async with db_factory() as db:
        rows = await db.execute(
            select(LedgerEntry.item, LedgerEntry.amount_minor)
            .add_columns(LedgerEntry.method, LedgerEntry.charge_id)
            .where(LedgerEntry.kind == money.EntryKind.PAYMENT)
            .order_by(LedgerEntry.id)
        )
        return [tuple(row) for row in rows]


async def notices(db_factory) -> list:
    async with db_factory() as db:
        rows = await db.execute(
            select(OutboxMessage.kind, OutboxMessage.payload, OutboxMessage.recipient).order_by(
                OutboxMessage.id
            )
        )
        return [(recipient, from_row(kind, payload)) for kind, payload, recipient in rows]


async def test_a_payment_missing_from_the_ledger_is_recorded_and_the_client_told(db_factory, alice):
    found = await reconcile(db_factory, [paid("stx-lost")])

    assert found.recorded == ["stx-lost"]
    assert await ledger_payments(db_factory) == [("booking:42", 50, "stars", "stx-lost")]
    [(recipient, told)] = await notices(db_factory)
    assert recipient == ALICE.id
    assert (told.kind, told.charge_id, told.amount_minor, told.item) == (
        "payment_received",
        "stx-lost",
        50,
        "booking:42",
    )


async def test_reconciling_twice_records_and_tells_nothing_more(db_factory, alice):
    await reconcile(db_factory, [paid("stx-lost")])
    again = await reconcile(db_factory, [paid("stx-lost"), paid("stx-lost")])

    assert again.recorded == []
    assert len(await ledger_payments(db_factory)) == 1
    assert len(await notices(db_factory)) == 1


async def test_a_payment_the_live_handler_recorded_is_left_alone(db_factory, alice):
    live = ReceivedPayment(ALICE.id, paid("stx-seen").invoice_payload, 50, "XTR", "stx-seen")
    async with db_factory() as db:
        assert await record_payment(db, live, now=NOW) is not None

    found = await reconcile(db_factory, [paid("stx-seen"), paid("stx-lost", booking=43)])

    assert found.recorded == ["stx-lost"]
    assert await ledger_payments(db_factory) == [
        ("booking:42", 50, "stars", "stx-seen"),
        ("booking:43", 50, "stars", "stx-lost"),
    ]
    # the live handler's own thanks, and a late one only for the payment that was lost
    told = [(told.charge_id, told.late) for _, told in await notices(db_factory)]
    assert told == [("stx-seen", False), ("stx-lost", True)]


async def test_a_payload_we_never_issued_is_kept_as_the_live_handler_keeps_it(db_factory):
    stranger = StarTransaction("stx-odd", 7, NOW, ClientRef(2002, "Bob"), "not ours")

    found = await reconcile(db_factory, [stranger])

    assert found.recorded == ["stx-odd"]
    assert await ledger_payments(db_factory) == [("unknown", 7, "stars", "stx-odd")]
    async with db_factory() as db:  # a client row for the ledger line, never a lost payment
        assert await db.get(Client, 2002) is not None


async def test_the_checkpoint_moves_on_to_the_newest_transaction(db_factory, alice):
    async with db_factory() as db:
        assert await star_checkpoint(db) == StarCheckpoint(None, 0)

    await reconcile(db_factory, [paid("a", minutes_ago=30), paid("b", minutes_ago=10)], listed=2)
    async with db_factory() as db:
        first = await star_checkpoint(db)
    assert first == StarCheckpoint(NOW - timedelta(minutes=10), 2)

    await reconcile(db_factory, [], listed=None)  # a reading that did not count the list
    await reconcile(db_factory, [paid("a", minutes_ago=30)], listed=None)
    async with db_factory() as db:
        assert await star_checkpoint(db) == first  # never backwards

    await reconcile(db_factory, [paid("c", minutes_ago=1)], listed=3)
    async with db_factory() as db:
        assert await star_checkpoint(db) == StarCheckpoint(NOW - timedelta(minutes=1), 3)


async def test_more_than_a_page_of_transactions_is_recorded_in_full(db_factory, alice):
    many = [paid(f"stx-{n:03d}", booking=n, minutes_ago=300 - n) for n in range(150)]
    await reconcile(db_factory, many[:60])

    found = await reconcile(db_factory, many, listed=150)

    assert len(found.recorded) == 90
    assert len(await ledger_payments(db_factory)) == 150
    assert len(await notices(db_factory)) == 150
    async with db_factory() as db:
        assert (await star_checkpoint(db)).listed == 150


async def test_refunds_the_ledger_lacks_are_reported_not_recorded(db_factory, alice):
    await reconcile(db_factory, [paid("stx-1"), paid("stx-2", booking=43)])
    async with db_factory() as db:  # staff refunded stx-1 through the bot: on the ledger
        db.add(
            LedgerEntry(
                client_id=ALICE.id,
                kind=money.EntryKind.REFUND,
                amount_minor=50,
                currency="XTR",
                item="booking:42",
                method=money.Method.STARS,
                provider_charge_id="stx-1",
                created_at=NOW,
            )
        )
        await db.commit()
        lines = await db.scalar(select(func.count(LedgerEntry.id)))

    found = await reconcile(db_factory, [refunded("stx-1"), refunded("stx-2")])

    assert found.refunds_missing == ["stx-2"]
    assert found.recorded == []
    async with db_factory() as db:
        assert await db.scalar(select(func.count(LedgerEntry.id))) == lines
