"""Payments into the ledger on a real database: Telegram's successful_payment is applied
exactly once, also when it arrives twice at the same moment; bookings charged, invoiced,
checked at checkout and settled when cancelled. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from domain.billing import money
from domain.billing.payments import (
    InvoiceFor,
    apply_payment,
    balance,
    booking_item,
    check_before_payment,
    invoice_booking,
)
from domain.booking.bookings import book_session, cancel_booking
from domain.clients.record import ClientRef, remember_client
from domain.errors import AlreadyPaid, AmountChanged, BookingNotFound, InvalidPayment
from domain.policy import Policy
from domain.storage.models import ClassSession, LedgerEntry, OutboxMessage
from tests.support.catalog import PRAGUE, load

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ALICE = ClientRef(1001, "Alice")
BOOKING = InvoiceFor(booking_item(42), 1250, "EUR")


@pytest.fixture
async def alice(db_factory):
    async with db_factory() as db:
        await remember_client(db, ALICE, NOW)
        await db.commit()


async def pay(db_factory, charge_id: str, paid: InvoiceFor = BOOKING) -> bool:
    async with db_factory() as db:
        return await apply_payment(
            db,
            client_id=ALICE.id,
            paid=paid,
            charge_id=charge_id,
            method=money.Method.STARS,
            now=NOW,
        )


async def payments(db_factory) -> list[tuple]:
    async with db_factory() as db:
        rows = await db.execute(
            select(LedgerEntry.item, LedgerEntry.amount_minor, LedgerEntry.charge_id).where(
                LedgerEntry.kind == money.EntryKind.PAYMENT
            )
        )
        return [tuple(row) for row in rows]


async def test_a_payment_delivered_twice_is_applied_once(db_factory, alice):
    assert await pay(db_factory, "stx-1") is True
    assert await pay(db_factory, "stx-1") is False

    assert await payments(db_factory) == [("booking:42", 1250, "stx-1")]


async def test_the_same_payment_arriving_concurrently_is_applied_once(db_factory, alice):
    applied = await asyncio.gather(*(pay(db_factory, "stx-2") for _ in range(8)))

    assert sorted(applied) == [False] * 7 + [True]
    async with db_factory() as db:
        count = await db.scalar(select(func.count(LedgerEntry.id)))
    assert count == 1


async def test_two_payments_of_one_item_are_two_lines(db_factory, alice):
    await pay(db_factory, "stx-3")
    await pay(db_factory, "stx-4")

    assert len(await payments(db_factory)) == 2
    async with db_factory() as db:  # paid twice for nothing charged: credit
        assert await balance(db, ALICE.id, "EUR") == money.Money(-2500, "EUR")


async def test_the_balance_is_read_from_the_ledger_by_the_money_rules(db_factory, alice):
    lines = [
        ("charge", 3000, "EUR", None, "booking"),
        ("payment", 3000, "EUR", "stars", None),
        ("credit", 500, "EUR", None, None),  # half a partial refund, as credit
        ("refund", 1000, "EUR", "card", None),  # money back: price and payment both go down
        ("charge", 99, "XTR", None, "booking"),
    ]
    async with db_factory() as db:
        for kind, amount, currency, method, charge_for in lines:
            db.add(
                LedgerEntry(
                    client_id=ALICE.id,
                    kind=kind,
                    amount_minor=amount,
                    currency=currency,
                    item="booking:1",
                    method=method,
                    charge_for=charge_for,
                    created_at=NOW,
                )
            )
        await db.commit()

        assert await balance(db, ALICE.id, "EUR") == money.Money(-500, "EUR")  # in credit
        assert await balance(db, ALICE.id, "XTR") == money.Money(99, "XTR")


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "v1|booking:1|12|EUR|x",
        "v2|booking:1|12|EUR",
        "v1|booking:1|-5|EUR",
        "v1||12|EUR",
        "v1|booking:1|0|EUR",
        "v1|booking:1|12|EURO",
    ],
)
def test_a_payload_this_bot_did_not_issue_is_refused(payload):
    with pytest.raises(InvalidPayment):
        InvoiceFor.from_payload(payload)


def test_a_payload_reads_back_and_fits_telegrams_limit():
    assert InvoiceFor.from_payload(BOOKING.payload()) == BOOKING
    with pytest.raises(ValueError, match="over 128 bytes"):
        InvoiceFor("x" * 130, 1, "EUR").payload()


# --- bookings: charged, invoiced, checked, settled on cancelling ------------------------------

PRICED = """
programmes:
  - key: clay
    title: Clay
    kind: one-off
    cancel_notice_hours: 24
    classes:
      - key: wheel
        title: Wheel
        capacity: 3
        price: "12.50"
        sessions: [2026-12-01 18:00]
"""
EUR = Policy(zone=PRAGUE, currency="EUR", reminders=())
DEC_1 = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


async def booked(db_factory, client=ALICE) -> int:
    await load(db_factory, PRICED)
    async with db_factory() as db:
        session = await db.scalar(select(ClassSession.id))
        result = await book_session(db, client=client, session_id=session, now=NOW, policy=EUR)
    return result.card.id


async def lines(db_factory) -> list[tuple]:
    async with db_factory() as db:
        rows = await db.execute(
            select(LedgerEntry.kind, LedgerEntry.amount_minor, LedgerEntry.method).order_by(
                LedgerEntry.id
            )
        )
        return [tuple(row) for row in rows]


async def test_a_priced_booking_is_charged_and_invoiced_for_what_is_due(db_factory):
    booking = await booked(db_factory)
    async with db_factory() as db:
        invoice = await invoice_booking(db, client_id=ALICE.id, booking_id=booking, now=NOW)

    assert await lines(db_factory) == [("charge", 1250, None)]
    assert invoice == InvoiceFor(booking_item(booking), 1250, "EUR")


async def test_the_checkout_refuses_another_amount_someone_else_and_a_paid_booking(db_factory):
    booking = await booked(db_factory)
    item = booking_item(booking)
    async with db_factory() as db:
        with pytest.raises(AmountChanged):
            await check_before_payment(
                db, client_id=ALICE.id, invoice=InvoiceFor(item, 1000, "EUR"), now=NOW
            )
        with pytest.raises(BookingNotFound):
            await check_before_payment(
                db, client_id=4242, invoice=InvoiceFor(item, 1250, "EUR"), now=NOW
            )
        await check_before_payment(
            db, client_id=ALICE.id, invoice=InvoiceFor(item, 1250, "EUR"), now=NOW
        )
    await pay(db_factory, "card-1", InvoiceFor(item, 1250, "EUR"))
    async with db_factory() as db:
        with pytest.raises(AlreadyPaid):
            await check_before_payment(
                db, client_id=ALICE.id, invoice=InvoiceFor(item, 1250, "EUR"), now=NOW
            )
        with pytest.raises(AlreadyPaid):
            await invoice_booking(db, client_id=ALICE.id, booking_id=booking, now=NOW)


@pytest.mark.parametrize(
    ("cancelled_at", "credited"),
    [(DEC_1 - timedelta(hours=30), True), (DEC_1 - timedelta(hours=3), False)],
)
async def test_a_paid_booking_cancelled_in_time_becomes_credit_late_it_does_not(
    db_factory, cancelled_at, credited
):
    booking = await booked(db_factory)
    await pay(db_factory, "card-2", InvoiceFor(booking_item(booking), 1250, "EUR"))
    async with db_factory() as db:
        await cancel_booking(
            db, client_id=ALICE.id, booking_id=booking, now=cancelled_at, policy=EUR
        )
        owed = await balance(db, ALICE.id, "EUR")

    expected = [("charge", 1250, None), ("payment", 1250, "stars")]
    if credited:
        expected.append(("credit", 1250, None))
    assert await lines(db_factory) == expected
    assert owed == money.Money(-1250 if credited else 0, "EUR")


# --- nudges to pay -----------------------------------------------------------------------------

NUDGING = Policy(zone=PRAGUE, currency="EUR", reminders=(), payment_nudge_days=(1, 3, 20))


async def nudges(db_factory) -> list[tuple]:
    async with db_factory() as db:
        rows = await db.execute(
            select(OutboxMessage.due_at, OutboxMessage.state)
            .where(OutboxMessage.kind == "payment_nudge")
            .order_by(OutboxMessage.due_at)
        )
        return [tuple(row) for row in rows]


async def book_priced(db_factory, policy) -> int:
    await load(db_factory, PRICED)
    async with db_factory() as db:
        session = await db.scalar(select(ClassSession.id))
        result = await book_session(db, client=ALICE, session_id=session, now=NOW, policy=policy)
    return result.card.id


async def test_an_unpaid_booking_is_nudged_at_ten_on_the_cadence_days_before_it(db_factory):
    await book_priced(db_factory, NUDGING)

    # booked Sat 21 Nov; 10:00 in Prague (CET) on the 22nd and 24th; day 20 is after Dec 1
    assert await nudges(db_factory) == [
        (datetime(2026, 11, 22, 9, 0, tzinfo=UTC), "pending"),
        (datetime(2026, 11, 24, 9, 0, tzinfo=UTC), "pending"),
    ]


async def test_cancelling_the_booking_cancels_its_nudges(db_factory):
    booking = await book_priced(db_factory, NUDGING)
    async with db_factory() as db:
        await cancel_booking(db, client_id=ALICE.id, booking_id=booking, now=NOW, policy=NUDGING)

    assert [state for _, state in await nudges(db_factory)] == ["cancelled", "cancelled"]


async def test_a_booking_paid_from_credit_is_not_nudged(db_factory):
    await remember_client_with_credit(db_factory, 1250)

    await book_priced(db_factory, NUDGING)

    assert await nudges(db_factory) == []
    assert await lines(db_factory) == [
        ("credit", 1250, None),
        ("charge", 1250, None),
        ("payment", 1250, "credit"),
    ]


async def test_without_online_payment_nobody_is_nudged(db_factory):
    await book_priced(db_factory, EUR)  # payment_nudge_days empty: pay at the venue

    assert await nudges(db_factory) == []


async def remember_client_with_credit(db_factory, amount: int) -> None:
    async with db_factory() as db:
        await remember_client(db, ALICE, NOW)
        db.add(
            LedgerEntry(
                client_id=ALICE.id,
                kind="credit",
                amount_minor=amount,
                currency="EUR",
                item="booking:0",
                created_at=NOW,
            )
        )
        await db.commit()
