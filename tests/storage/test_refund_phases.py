"""Stars refunds in two phases, on both databases: the refund is recorded (requested) and
committed before Telegram is asked, Telegram is asked with no transaction open, and its answer
is recorded after. A slow call holds no database lock; no answer leaves the refund unknown
(settled from Telegram's list of refunds); a crash between the phases is completed by the
recovery run exactly once; and a read-then-write use case takes its write lock at its start
(BEGIN IMMEDIATE on SQLite, the client's row FOR UPDATE on PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, select

from domain.billing import money
from domain.billing.payments import balance, booking_item
from domain.billing.refunds import (
    mark_paid_at_venue,
    retry_stars_refunds,
    settle_from_telegram,
)
from domain.booking.bookings import book_session, cancel_booking
from domain.errors import RefundOverCap, StarsRefundRefused, StarsRefundUnanswered
from domain.storage.models import Booking, ClassSession, LedgerEntry, RefundRequest
from tests.storage.test_refunds import (
    ALICE,
    BOB,
    NOW,
    STAFF,
    STARS,
    alices_booking,
    ledger,
    pay_stars,
    refund,
    told,
    xtr,
)


@pytest.fixture
async def booking(db_factory) -> int:
    return await alices_booking(db_factory)


class Telegram:
    """refundStarPayment as Telegram answers it: a payment is refunded once; asked again, it
    answers CHARGE_ALREADY_REFUNDED."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.refunded: list[str] = []

    async def __call__(self, user_id: int, charge_id: str) -> None:
        self.calls.append(charge_id)
        if charge_id in self.refunded:
            raise StarsRefundRefused(reason="Bad Request: CHARGE_ALREADY_REFUNDED")
        self.refunded.append(charge_id)


class PendingTelegram(Telegram):
    """Answers only when the test lets it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked, self.answer = asyncio.Event(), asyncio.Event()

    async def __call__(self, user_id: int, charge_id: str) -> None:
        self.asked.set()
        await self.answer.wait()
        await super().__call__(user_id, charge_id)


class LostAnswer(Telegram):
    """Refunds, but the answer never arrives (a timeout after Telegram acted)."""

    async def __call__(self, user_id: int, charge_id: str) -> None:
        await super().__call__(user_id, charge_id)
        raise StarsRefundUnanswered()


class CrashBeforeAsking(Telegram):
    async def __call__(self, user_id: int, charge_id: str) -> None:
        raise asyncio.CancelledError()  # the process stops before the call goes out


class CrashAfterRefund(Telegram):
    async def __call__(self, user_id: int, charge_id: str) -> None:
        await super().__call__(user_id, charge_id)
        raise SystemExit()  # Telegram refunded; the process died before recording it


async def requests(db_factory) -> list[tuple]:
    async with db_factory() as db:
        rows = await db.execute(
            select(RefundRequest.charge_id, RefundRequest.state, RefundRequest.amount_minor)
        )
        return [tuple(row) for row in rows]


def stars_refund_lines(lines: list[tuple]) -> list[tuple]:
    return [line for line in lines if line[:3] == ("refund", 50, "stars")]


async def test_a_slow_telegram_call_holds_no_database_lock(db_factory, booking):
    """Another client books while the refund waits for Telegram (on SQLite the refund used to
    hold the database's writer lock through the call: the booking failed "database is
    locked" after the busy timeout)."""
    await pay_stars(db_factory, booking)
    telegram = PendingTelegram()
    refunding = asyncio.create_task(refund(db_factory, booking, 50, telegram))
    await telegram.asked.wait()

    async with db_factory() as db:
        first = await db.scalar(select(ClassSession.id).order_by(ClassSession.starts_at))
        booked = await book_session(db, client=BOB, session_id=first, now=NOW, policy=STARS)
    telegram.answer.set()
    done = await refunding

    async with db_factory() as db:
        assert (await db.get(Booking, booked.card.id)).client_id == BOB.id
    assert done.by_route == {money.RefundRoute.STARS_REFUND: xtr(50)}
    assert await requests(db_factory) == [("stx-1", "done", 50)]


async def test_while_telegram_is_asked_the_payment_counts_as_going_back(db_factory, booking):
    await pay_stars(db_factory, booking)
    telegram = PendingTelegram()
    refunding = asyncio.create_task(refund(db_factory, booking, 50, telegram))
    await telegram.asked.wait()

    with pytest.raises(RefundOverCap):
        await refund(db_factory, booking, 1)
    assert await requests(db_factory) == [("stx-1", "requested", 50)]
    assert stars_refund_lines(await ledger(db_factory)) == []  # not recorded as done yet
    assert await told(db_factory) == []
    telegram.answer.set()
    await refunding

    assert stars_refund_lines(await ledger(db_factory)) == [
        ("refund", 50, "stars", STAFF, "wheel broke")
    ]
    (payload,) = await told(db_factory)
    assert '"amount_minor": 50' in payload


async def test_no_answer_leaves_the_refund_unknown_and_telegrams_list_settles_it(
    db_factory, booking
):
    await pay_stars(db_factory, booking)
    telegram = LostAnswer()

    done = await refund(db_factory, booking, 50, telegram)

    assert (done.amount, done.refused, done.unanswered) == (xtr(0), None, xtr(50))
    assert await requests(db_factory) == [("stx-1", "unknown", 50)]
    assert stars_refund_lines(await ledger(db_factory)) == []
    assert await told(db_factory) == []
    with pytest.raises(RefundOverCap):  # still counted as going back
        await refund(db_factory, booking, 1)

    async with db_factory() as db:
        settled = await settle_from_telegram(db, refunded_charge_ids={"stx-0", "stx-1"}, now=NOW)
    async with db_factory() as db:
        again = await settle_from_telegram(db, refunded_charge_ids=["stx-1"], now=NOW)

    assert (settled, again) == (1, 0)
    assert await requests(db_factory) == [("stx-1", "done", 50)]
    assert stars_refund_lines(await ledger(db_factory)) == [
        ("refund", 50, "stars", STAFF, "wheel broke")
    ]
    (payload,) = await told(db_factory)
    assert '"amount_minor": 50' in payload
    assert telegram.refunded == ["stx-1"]


async def test_telegrams_list_leaves_a_refund_it_does_not_show(db_factory, booking):
    await pay_stars(db_factory, booking)
    await refund(db_factory, booking, 50, LostAnswer())

    async with db_factory() as db:
        settled = await settle_from_telegram(db, refunded_charge_ids={"stx-9"}, now=NOW)

    assert settled == 0
    assert await requests(db_factory) == [("stx-1", "unknown", 50)]


async def test_a_crash_before_telegram_is_asked_is_completed_once_by_recovery(db_factory, booking):
    await pay_stars(db_factory, booking)
    with pytest.raises(asyncio.CancelledError):
        await refund(db_factory, booking, 50, CrashBeforeAsking())
    assert await requests(db_factory) == [("stx-1", "requested", 50)]
    telegram = Telegram()

    async with db_factory() as db:
        completed = await retry_stars_refunds(db, refund_stars=telegram, now=NOW)
    async with db_factory() as db:
        again = await retry_stars_refunds(db, refund_stars=telegram, now=NOW)

    assert (completed, again) == (1, 0)
    assert telegram.calls == ["stx-1"]
    assert stars_refund_lines(await ledger(db_factory)) == [
        ("refund", 50, "stars", STAFF, "wheel broke")
    ]
    assert len(await told(db_factory)) == 1


async def test_a_crash_after_telegram_refunded_never_refunds_twice_nor_credits_that_money(
    db_factory, booking
):
    await pay_stars(db_factory, booking)
    telegram = CrashAfterRefund()
    with pytest.raises(SystemExit):
        await refund(db_factory, booking, 50, telegram)
    assert telegram.refunded == ["stx-1"]
    assert await requests(db_factory) == [("stx-1", "requested", 50)]

    with pytest.raises(RefundOverCap):  # the money counts as gone back: no refund...
        await refund(db_factory, booking, 20)
    async with db_factory() as db:  # ...and no credit when the booking is cancelled in time
        await cancel_booking(db, client_id=ALICE.id, booking_id=booking, now=NOW, policy=STARS)
    async with db_factory() as db:
        assert await balance(db, ALICE.id, "XTR") == xtr(0)

    recovery = Telegram()
    recovery.refunded = telegram.refunded  # the same Telegram, after the restart
    async with db_factory() as db:
        completed = await retry_stars_refunds(db, refund_stars=recovery, now=NOW)

    assert completed == 1
    assert recovery.calls == ["stx-1"]  # answered CHARGE_ALREADY_REFUNDED: done
    assert recovery.refunded == ["stx-1"]  # refunded once
    assert await requests(db_factory) == [("stx-1", "done", 50)]
    assert stars_refund_lines(await ledger(db_factory)) == [
        ("refund", 50, "stars", STAFF, "wheel broke")
    ]
    assert [line for line in await ledger(db_factory) if line[0] == "credit"] == []
    async with db_factory() as db:
        assert await balance(db, ALICE.id, "XTR") == xtr(0)


async def test_recovery_leaves_a_refund_asked_recently_to_the_staff_member_asking(
    db_factory, booking
):
    await pay_stars(db_factory, booking)
    with pytest.raises(asyncio.CancelledError):
        await refund(db_factory, booking, 50, CrashBeforeAsking())
    telegram = Telegram()

    async with db_factory() as db:
        completed = await retry_stars_refunds(db, refund_stars=telegram, now=NOW, asked_before=NOW)

    assert completed == 0
    assert telegram.calls == []


async def test_a_refused_stars_part_keeps_the_credit_part_and_tells_the_client_of_it(
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

    class Refusing(Telegram):
        async def __call__(self, user_id: int, charge_id: str) -> None:
            raise StarsRefundRefused(reason="Bad Request: BOT_PRECHECKOUT_FAILED")

    done = await refund(db_factory, booking, 50, Refusing())

    assert done.by_route == {money.RefundRoute.BALANCE_CREDIT: xtr(20)}
    assert (done.refused, done.refused_why) == (xtr(30), "Bad Request: BOT_PRECHECKOUT_FAILED")
    assert await requests(db_factory) == [("stx-1", "refused", 30)]
    (payload,) = await told(db_factory)
    assert '"amount_minor": 20' in payload
    assert '"credit_minor": 20' in payload


async def test_a_read_then_write_use_case_takes_its_write_lock_first(db_factory, booking):
    """SQLite: BEGIN IMMEDIATE before the ledger is read (not a dummy write on the client's
    row); PostgreSQL: the client's row FOR UPDATE."""
    engine = db_factory.kw["bind"].sync_engine
    statements: list[str] = []

    def record(_connection, _cursor, sql, *_args) -> None:
        statements.append(" ".join(sql.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        async with db_factory() as db:
            await mark_paid_at_venue(
                db, client_id=ALICE.id, booking_id=booking, staff_id=STAFF, now=NOW
            )
    finally:
        event.remove(engine, "before_cursor_execute", record)

    reads_ledger = next(i for i, s in enumerate(statements) if "FROM ledger" in s)
    if engine.dialect.name == "sqlite":
        locks = [i for i, s in enumerate(statements) if s == "BEGIN IMMEDIATE"]
    else:
        locks = [
            i for i, s in enumerate(statements) if s.endswith("FOR UPDATE") and "FROM clients" in s
        ]
    assert locks, statements
    assert locks[0] < reads_ledger
    assert not any(s.startswith("UPDATE clients") for s in statements)
