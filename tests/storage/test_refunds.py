"""Staff money actions on a real database (SQLite and PostgreSQL): marked paid at the venue,
refunds routed by how the booking was paid (Stars whole through Telegram, Stars in part as
balance credit, card for the provider, cash), waivers; caps (also under 8 concurrent refunds) and
someone else's booking refused with nothing written."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from domain.billing import money
from domain.billing.payments import (
    InvoiceFor,
    apply_payment,
    balance,
    booking_item,
    lock_account,
)
from domain.billing.refunds import mark_paid_at_venue, refund_booking, waive_due
from domain.booking.bookings import book_session
from domain.clients.record import ClientRef
from domain.desk.staff_views import clients_owing
from domain.errors import (
    AmountNotPositive,
    BookingNotFound,
    NothingDue,
    RefundOverCap,
    StarsRefundRefused,
    WaiverOverDue,
)
from domain.policy import Policy
from domain.storage.models import ClassSession, LedgerEntry, OutboxMessage
from tests.support.catalog import PRAGUE, load

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ALICE, BOB = ClientRef(1001, "Alice"), ClientRef(1002, "Bob")
STAFF = 500
STUDIO = """
programmes:
  - key: clay
    title: Clay
    classes:
      - key: wheel
        title: Wheel
        capacity: 3
        price: "0.50"  # 50 minor units: 50 ⭐
        sessions: [2026-12-01 18:00, 2026-12-02 18:00]
"""
STARS = Policy(zone=PRAGUE, currency="XTR", reminders=())


def xtr(minor: int) -> money.Money:
    return money.Money(minor, "XTR")


class Telegram:
    """refundStarPayment as the use case sees it: records calls, or refuses them."""

    def __init__(self, refuse: str | None = None) -> None:
        self.calls: list[tuple[int, str]] = []
        self.refuse = refuse

    async def __call__(self, user_id: int, charge_id: str) -> None:
        if self.refuse:
            raise StarsRefundRefused(reason=self.refuse)
        self.calls.append((user_id, charge_id))


@pytest.fixture
async def booking(db_factory) -> int:
    return await alices_booking(db_factory)


async def alices_booking(db_factory) -> int:
    """Alice's booking of the first 50 ⭐ session (Bob holds one of the second)."""
    await load(db_factory, STUDIO)
    async with db_factory() as db:
        first, second = await db.scalars(select(ClassSession.id).order_by(ClassSession.starts_at))
    async with db_factory() as db:
        await book_session(db, client=BOB, session_id=second, now=NOW, policy=STARS)
    async with db_factory() as db:
        booked = await book_session(db, client=ALICE, session_id=first, now=NOW, policy=STARS)
    return booked.card.id


async def pay_stars(db_factory, booking: int, amount: int = 50, charge_id: str = "stx-1") -> None:
    async with db_factory() as db:
        await apply_payment(
            db,
            client_id=ALICE.id,
            paid=InvoiceFor(booking_item(booking), amount, "XTR"),
            charge_id=charge_id,
            method=money.Method.STARS,
            now=NOW,
        )


async def ledger(db_factory, client_id: int = ALICE.id) -> list[tuple]:
    async with db_factory() as db:
        rows = await db.execute(
            select(
                LedgerEntry.kind,
                LedgerEntry.amount_minor,
                LedgerEntry.method,
                LedgerEntry.staff_id,
                LedgerEntry.reason,
            )
            .where(LedgerEntry.client_id == client_id)
            .order_by(LedgerEntry.id)
        )
        return [tuple(row) for row in rows]


async def refund(db_factory, booking: int, amount: int, telegram=None, client_id=ALICE.id):
    async with db_factory() as db:
        return await refund_booking(
            db,
            client_id=client_id,
            booking_id=booking,
            amount=xtr(amount),
            reason="wheel broke",
            staff_id=STAFF,
            now=NOW,
            refund_stars=telegram or Telegram(),
        )


async def test_marking_paid_at_the_venue_records_what_is_due_once(db_factory, booking):
    async with db_factory() as db:
        paid = await mark_paid_at_venue(
            db, client_id=ALICE.id, booking_id=booking, staff_id=STAFF, now=NOW
        )
    async with db_factory() as db:
        with pytest.raises(NothingDue):
            await mark_paid_at_venue(
                db, client_id=ALICE.id, booking_id=booking, staff_id=STAFF, now=NOW
            )

    assert paid == xtr(50)
    assert (await ledger(db_factory))[1:] == [("payment", 50, "venue", STAFF, None)]


async def test_a_partial_refund_of_a_stars_payment_becomes_credit_spent_on_the_next_booking(
    db_factory, booking
):
    await pay_stars(db_factory, booking)
    telegram = Telegram()

    done = await refund(db_factory, booking, 20, telegram)

    assert telegram.calls == []
    assert done.as_credit == xtr(20)
    assert (await ledger(db_factory))[-1] == ("credit", 20, None, STAFF, "wheel broke")
    async with db_factory() as db:
        assert await balance(db, ALICE.id, "XTR") == xtr(-20)
    async with db_factory() as db:
        second = await db.scalar(select(ClassSession.id).order_by(ClassSession.starts_at.desc()))
        await book_session(db, client=ALICE, session_id=second, now=NOW, policy=STARS)
    assert (await ledger(db_factory))[-1][:3] == ("payment", 20, "credit")  # 30 left to pay


async def test_a_full_refund_of_a_stars_payment_goes_through_telegram(db_factory, booking):
    await pay_stars(db_factory, booking)
    telegram = Telegram()

    done = await refund(db_factory, booking, 50, telegram)

    assert telegram.calls == [(ALICE.id, "stx-1")]
    assert done.by_route == {money.RefundRoute.STARS_REFUND: xtr(50)}
    assert (await ledger(db_factory))[-1] == ("refund", 50, "stars", STAFF, "wheel broke")
    with pytest.raises(RefundOverCap):
        await refund(db_factory, booking, 1, telegram)
    assert len(telegram.calls) == 1


async def test_after_a_partial_refund_the_rest_of_a_stars_payment_is_credit_too(
    db_factory, booking
):
    await pay_stars(db_factory, booking)
    telegram = Telegram()
    await refund(db_factory, booking, 20, telegram)

    await refund(db_factory, booking, 30, telegram)

    assert telegram.calls == []
    async with db_factory() as db:
        assert await balance(db, ALICE.id, "XTR") == xtr(-50)


async def test_a_booking_paid_partly_with_credit_returns_the_stars_payment_whole(
    db_factory, booking
):
    async with db_factory() as db:  # 20 ⭐ of it paid from balance credit, 30 ⭐ with Stars
        db.add(
            LedgerEntry(
                client_id=ALICE.id,
                kind="payment",
                amount_minor=20,
                currency="XTR",
                item=booking_item(booking),
                method="credit",
                created_at=NOW,
            )
        )
        await db.commit()
    await pay_stars(db_factory, booking, 30)
    telegram = Telegram()

    done = await refund(db_factory, booking, 50, telegram)

    assert telegram.calls == [(ALICE.id, "stx-1")]
    assert done.by_route == {
        money.RefundRoute.STARS_REFUND: xtr(30),
        money.RefundRoute.BALANCE_CREDIT: xtr(20),
    }


async def test_when_telegram_refuses_a_stars_refund_the_money_is_held_again(db_factory, booking):
    await pay_stars(db_factory, booking)
    before = await ledger(db_factory)

    done = await refund(db_factory, booking, 50, Telegram(refuse="Bad Request: CHARGE_NOT_FOUND"))

    assert (done.amount, done.refused) == (xtr(0), xtr(50))
    assert done.refused_why == "Bad Request: CHARGE_NOT_FOUND"
    assert await ledger(db_factory) == before
    assert (await refund(db_factory, booking, 50)).by_route == {  # held: it can go back later
        money.RefundRoute.STARS_REFUND: xtr(50)
    }


async def test_card_and_venue_payments_are_refunded_as_recorded_money(db_factory, booking):
    async with db_factory() as db:
        await apply_payment(
            db,
            client_id=ALICE.id,
            paid=InvoiceFor(booking_item(booking), 30, "XTR"),
            charge_id="card-1",
            method=money.Method.CARD,
            now=NOW,
        )
        await mark_paid_at_venue(
            db, client_id=ALICE.id, booking_id=booking, staff_id=STAFF, now=NOW
        )

    done = await refund(db_factory, booking, 40)

    assert done.by_route == {money.RefundRoute.CASH: xtr(20), money.RefundRoute.PROVIDER: xtr(20)}
    assert (await ledger(db_factory))[-2:] == [
        ("refund", 20, "venue", STAFF, "wheel broke"),
        ("refund", 20, "card", STAFF, "wheel broke"),
    ]


async def test_over_the_cap_zero_or_someone_elses_booking_changes_nothing(db_factory, booking):
    await pay_stars(db_factory, booking)
    before = await ledger(db_factory)

    with pytest.raises(RefundOverCap):
        await refund(db_factory, booking, 51)
    with pytest.raises(AmountNotPositive):
        await refund(db_factory, booking, 0)
    with pytest.raises(BookingNotFound):
        await refund(db_factory, booking, 10, client_id=BOB.id)
    with pytest.raises(BookingNotFound):
        await refund(db_factory, 999_999, 10)

    assert await ledger(db_factory) == before


async def test_staff_waive_what_is_still_due_up_to_that(db_factory, booking):
    await pay_stars(db_factory, booking, 30)

    async def waive(amount: int) -> money.Money:
        async with db_factory() as db:
            return await waive_due(
                db,
                client_id=ALICE.id,
                booking_id=booking,
                amount=xtr(amount),
                reason="regular",
                staff_id=STAFF,
                now=NOW,
            )

    with pytest.raises(WaiverOverDue):
        await waive(21)
    assert await waive(20) == xtr(20)
    with pytest.raises(NothingDue):
        await waive(1)
    assert (await ledger(db_factory))[-1] == ("waiver", 20, None, STAFF, "regular")


async def test_who_owes_what_lists_clients_with_a_balance_due(db_factory, booking):
    await pay_stars(db_factory, booking, 30)

    async with db_factory() as db:
        owing = await clients_owing(db, "XTR")

    assert [(o.client_id, o.first_name, o.due) for o in owing] == [
        (BOB.id, "Bob", xtr(50)),
        (ALICE.id, "Alice", xtr(20)),
    ]


async def told(db_factory) -> list[str]:
    async with db_factory() as db:
        return list(
            await db.scalars(
                select(OutboxMessage.payload).where(OutboxMessage.kind == "money_returned")
            )
        )


async def test_the_client_is_told_of_a_refund_through_the_outbox_with_the_refund(
    db_factory, booking
):
    await pay_stars(db_factory, booking)

    await refund(db_factory, booking, 20)

    (payload,) = await told(db_factory)
    assert '"amount_minor": 20' in payload
    assert '"credit_minor": 20' in payload


async def test_a_refund_telegram_refused_tells_the_client_nothing(db_factory, booking):
    await pay_stars(db_factory, booking)

    await refund(db_factory, booking, 50, Telegram(refuse="Bad Request: CHARGE_NOT_FOUND"))

    assert await told(db_factory) == []


async def test_two_staff_refunding_at_once_cannot_return_more_than_was_paid(db_factory, booking):
    await pay_stars(db_factory, booking)

    results = await asyncio.gather(
        refund(db_factory, booking, 30), refund(db_factory, booking, 30), return_exceptions=True
    )

    assert sorted(type(r).__name__ for r in results) == ["RefundDone", "RefundOverCap"]
    credits = [line for line in await ledger(db_factory) if line[0] == "credit"]
    assert credits == [("credit", 30, None, STAFF, "wheel broke")]


class SlowTelegram(Telegram):
    """Takes a moment to answer, as the real one does: the other refunds run meanwhile."""

    async def __call__(self, user_id: int, charge_id: str) -> None:
        await asyncio.sleep(0.01)
        await super().__call__(user_id, charge_id)


async def returned(db_factory) -> int:
    """Stars given back for Alice's booking: refunds through Telegram and credit."""
    lines = await ledger(db_factory)
    return sum(amount for kind, amount, *_ in lines if kind in ("refund", "credit"))


@pytest.mark.parametrize("each", [20, 50], ids=["in part, as credit", "whole, through Telegram"])
async def test_eight_concurrent_refunds_never_return_more_than_was_paid(db_factory, booking, each):
    """The refund cap holds under a race: the client's account is locked before the ledger is
    read, so each refund sees what the ones before it wrote. The eight start while the account
    is taken, so they all contend at once (Telegram is asked outside the transaction, which
    no longer widens the race by itself)."""
    await pay_stars(db_factory, booking)
    telegram = SlowTelegram()

    async with db_factory() as holder:
        await lock_account(holder, ALICE.id)
        refunds = [
            asyncio.create_task(refund(db_factory, booking, each, telegram)) for _ in range(8)
        ]
        await asyncio.sleep(0.05)  # they start: at the lock, or (without it) reading the ledger
        await holder.rollback()
    results = await asyncio.gather(*refunds, return_exceptions=True)

    done = [r for r in results if not isinstance(r, RefundOverCap)]
    assert all(type(r).__name__ == "RefundDone" for r in done), results
    assert sum(r.amount.minor for r in done) == 50 // each * each
    assert await returned(db_factory) == 50 // each * each
    assert len(telegram.calls) == (1 if each == 50 else 0)
