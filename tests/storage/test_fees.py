"""Monthly fees and custom fee schedules on a real database: raised once per due day however
often (or however concurrently) the job runs, caught up after downtime but never for months
gone by, spent from credit, nudged until paid, payable by the client only, settled by staff.
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, update

from domain.billing import money
from domain.billing.fees import FeeItem, fees_due, raise_fees
from domain.billing.payments import (
    InvoiceFor,
    apply_payment,
    check_before_payment,
    invoice_fee,
)
from domain.billing.refunds import fee_paid_at_venue, waive_fee
from domain.booking.ongoing import enrol_in_class, leave_class
from domain.clients.record import ClientRef, remember_client
from domain.errors import AlreadyPaid, AmountChanged, FeeNotFound, NothingDue
from domain.policy import Policy
from domain.storage.models import (
    LedgerEntry,
    OutboxMessage,
    Programme,
    ProgrammeClass,
    ProgrammeFee,
)
from tests.support.catalog import PRAGUE, load

ENROLLED_AT = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
ALICE = ClientRef(1001, "Alice")
BOB = ClientRef(1002, "Bob")
POLICY = Policy(zone=PRAGUE, currency="EUR", reminders=(), fee_nudge_days=(0, 3, 7))

COURSE = """
programmes:
  - key: ballet
    title: Ballet
    kind: ongoing
    classes:
      - key: tue
        title: Tuesdays
        capacity: 10
        weekly:
          days: [tue]
          time: "17:00"
          from: 2026-11-10
          until: 2027-03-30
"""


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def course(db_factory, *, fee: int | None = 4500, due_day: int = 5) -> int:
    await load(db_factory, COURSE)
    async with db_factory() as db:
        await db.execute(update(Programme).values(monthly_fee_minor=fee, fee_due_day=due_day))
        await db.commit()
        return await db.scalar(select(Programme.id))


async def enrol(db_factory, client: ClientRef = ALICE, now: datetime = ENROLLED_AT) -> None:
    async with db_factory() as db:
        class_id = await db.scalar(select(ProgrammeClass.id))
        await enrol_in_class(db, client=client, class_id=class_id, now=now, policy=POLICY)


async def run_job(db_factory, now: datetime, policy: Policy = POLICY):
    async with db_factory() as db:
        return await raise_fees(db, now, policy)


async def fee_lines(db_factory) -> list[tuple[int, str, int]]:
    async with db_factory() as db:
        rows = await db.execute(
            select(LedgerEntry.client_id, LedgerEntry.item, LedgerEntry.amount_minor)
            .where(LedgerEntry.charge_for == money.ChargeFor.MONTHLY_FEE)
            .order_by(LedgerEntry.item)
        )
        return [tuple(row) for row in rows]


async def nudges(db_factory) -> list[tuple[datetime, dict]]:
    async with db_factory() as db:
        rows = await db.execute(
            select(OutboxMessage.due_at, OutboxMessage.payload)
            .where(OutboxMessage.kind == "fee_nudge")
            .order_by(OutboxMessage.due_at)
        )
        return [(due_at, json.loads(payload)) for due_at, payload in rows]


async def test_the_month_enrolled_in_is_charged_at_once_and_running_the_job_again_adds_nothing(
    db_factory,
):
    programme_id = await course(db_factory)
    await enrol(db_factory)  # on Nov 10th: November's fee (due on the 5th) is due at once

    first = await run_job(db_factory, at(date(2026, 11, 10)))
    again = await run_job(db_factory, at(date(2026, 11, 10), 13))

    item = f"fee:{programme_id}:{ALICE.id}:2026-11"
    assert [(f.client_id, f.item, f.amount.minor) for f in first] == [(ALICE.id, item, 4500)]
    assert again == []
    assert await fee_lines(db_factory) == [(ALICE.id, item, 4500)]


async def test_the_next_fee_comes_on_its_due_day_not_before(db_factory):
    programme_id = await course(db_factory, due_day=5)
    await enrol(db_factory)
    await run_job(db_factory, at(date(2026, 11, 10)))

    assert await run_job(db_factory, at(date(2026, 12, 4), 22)) == []  # Dec 4th 23:00 Prague
    # Dec 5th 00:30 in Prague is still Dec 4th in UTC: the business's day counts
    raised = await run_job(db_factory, datetime(2026, 12, 4, 23, 30, tzinfo=UTC))

    assert [f.item for f in raised] == [f"fee:{programme_id}:{ALICE.id}:2026-12"]
    assert raised[0].due_on == date(2026, 12, 5)


async def test_a_due_day_past_the_months_end_falls_on_its_last_day(db_factory):
    await course(db_factory, due_day=31)
    await enrol(db_factory)
    await run_job(db_factory, at(date(2027, 1, 31)))

    assert await run_job(db_factory, at(date(2027, 2, 27))) == []
    raised = await run_job(db_factory, at(date(2027, 2, 28)))

    assert [f.due_on for f in raised] == [date(2027, 2, 28)]


async def test_days_the_job_missed_are_caught_up_but_not_months_gone_by(db_factory):
    programme_id = await course(db_factory, due_day=1)
    await enrol(db_factory)

    # down from November 10th to January 10th: December's fee is 40 days old, January's 9
    raised = await run_job(db_factory, at(date(2027, 1, 10)))

    assert [f.item for f in raised] == [f"fee:{programme_id}:{ALICE.id}:2027-01"]


async def test_a_custom_schedule_replaces_the_monthly_fee(db_factory):
    programme_id = await course(db_factory, fee=4500)
    async with db_factory() as db:
        db.add_all(
            [
                ProgrammeFee(
                    programme_id=programme_id, due_on=date(2026, 11, 1), amount_minor=9000
                ),
                ProgrammeFee(
                    programme_id=programme_id, due_on=date(2026, 12, 15), amount_minor=7000
                ),
            ]
        )
        await db.commit()
    await enrol(db_factory)

    november = await run_job(db_factory, at(date(2026, 11, 10)))
    early_december = await run_job(db_factory, at(date(2026, 12, 14)))
    december = await run_job(db_factory, at(date(2026, 12, 15)))

    assert [(f.item, f.amount.minor) for f in november] == [
        (f"fee:{programme_id}:{ALICE.id}:2026-11-01", 9000)
    ]
    assert early_december == []
    assert [(f.item, f.amount.minor) for f in december] == [
        (f"fee:{programme_id}:{ALICE.id}:2026-12-15", 7000)
    ]


async def test_no_fee_after_leaving_nor_after_the_classs_last_session(db_factory):
    await course(db_factory, due_day=1)
    await enrol(db_factory)
    await enrol(db_factory, BOB)
    await run_job(db_factory, at(date(2026, 11, 10)))
    async with db_factory() as db:
        class_id = await db.scalar(select(ProgrammeClass.id))
        await leave_class(
            db, client_id=BOB.id, class_id=class_id, now=at(date(2026, 11, 20)), policy=POLICY
        )

    december = await run_job(db_factory, at(date(2026, 12, 1)))
    march = await run_job(db_factory, at(date(2027, 3, 1)))  # January, February caught up
    after_the_last_session = await run_job(db_factory, at(date(2027, 4, 5)))

    assert [f.client_id for f in december] == [ALICE.id]
    assert [f.due_on for f in march] == [date(2027, 2, 1), date(2027, 3, 1)]
    assert after_the_last_session == []  # the class's last Tuesday is March 30th


async def test_credit_on_the_balance_pays_a_new_fee_and_nothing_is_nudged(db_factory):
    await course(db_factory)
    await enrol(db_factory)
    async with db_factory() as db:
        db.add(
            LedgerEntry(
                client_id=ALICE.id,
                kind=money.EntryKind.CREDIT,
                amount_minor=5000,
                currency="EUR",
                item="booking:77",
                created_at=ENROLLED_AT,
            )
        )
        await db.commit()

    await run_job(db_factory, at(date(2026, 11, 10)))

    async with db_factory() as db:
        assert await fees_due(db, ALICE.id) == []
    assert await nudges(db_factory) == []


async def test_an_unpaid_fee_is_nudged_on_the_cadence_at_10_local(db_factory):
    await course(db_factory, due_day=12)
    await enrol(db_factory)
    await run_job(db_factory, at(date(2026, 11, 10)))  # November's due on the 12th: ahead
    [raised] = await run_job(db_factory, at(date(2026, 11, 12), 6))

    times = [due_at for due_at, _ in await nudges(db_factory)]

    # 10:00 in Prague is 09:00 UTC in winter: the due day, +3 days, +7 days
    assert times == [at(date(2026, 11, d), 9) for d in (12, 15, 19)]
    assert all(payload["fee_id"] == raised.fee_id for _, payload in await nudges(db_factory))


async def test_a_fee_charged_after_its_first_nudge_time_is_nudged_at_once(db_factory):
    await course(db_factory, due_day=5)
    now = at(date(2026, 11, 10), 15)
    await enrol(db_factory, now=now)
    await run_job(db_factory, now)

    times = [due_at for due_at, _ in await nudges(db_factory)]

    assert times == [now, at(date(2026, 11, 13), 9), at(date(2026, 11, 17), 9)]


async def test_the_job_on_two_machines_at_once_charges_each_fee_once(db_factory):
    await course(db_factory)
    for n in range(6):
        await enrol(db_factory, ClientRef(2000 + n, f"C{n}"))

    results = await asyncio.gather(*(run_job(db_factory, at(date(2026, 11, 10))) for _ in range(4)))

    assert sum(len(r) for r in results) == 6
    lines = await fee_lines(db_factory)
    assert len(lines) == len({item for _, item, _ in lines}) == 6


# --- paying and settling ----------------------------------------------------------------------


@pytest.fixture
async def fee(db_factory):
    """Alice owes November's fee of 45.00."""
    await course(db_factory)
    await enrol(db_factory)
    [raised] = await run_job(db_factory, at(date(2026, 11, 10)))
    return raised


async def test_the_client_is_invoiced_for_their_own_fee_only(db_factory, fee):
    async with db_factory() as db:
        await remember_client(db, BOB, ENROLLED_AT)
        await db.commit()
    now = at(date(2026, 11, 11))

    async with db_factory() as db:
        invoice = await invoice_fee(db, client_id=ALICE.id, fee_id=fee.fee_id, now=now)
    async with db_factory() as db:
        with pytest.raises(FeeNotFound):
            await invoice_fee(db, client_id=BOB.id, fee_id=fee.fee_id, now=now)
    async with db_factory() as db:
        with pytest.raises(FeeNotFound):  # a ledger line that is not a fee
            await invoice_fee(db, client_id=ALICE.id, fee_id=fee.fee_id + 999, now=now)

    assert invoice == InvoiceFor(fee.item, 4500, "EUR")


async def test_pre_checkout_of_a_fee_checks_owner_and_amount_and_payment_settles_it(
    db_factory, fee
):
    now = at(date(2026, 11, 11))
    invoice = InvoiceFor(fee.item, 4500, "EUR")
    async with db_factory() as db:
        await check_before_payment(db, client_id=ALICE.id, invoice=invoice, now=now)
        with pytest.raises(FeeNotFound):
            await check_before_payment(db, client_id=BOB.id, invoice=invoice, now=now)
        with pytest.raises(AmountChanged):
            await check_before_payment(
                db, client_id=ALICE.id, invoice=InvoiceFor(fee.item, 4000, "EUR"), now=now
            )

    for _ in range(2):  # Telegram delivers it twice
        async with db_factory() as db:
            await apply_payment(
                db,
                client_id=ALICE.id,
                paid=invoice,
                charge_id="tg-fee-1",
                method=money.Method.STARS,
                now=now,
            )

    async with db_factory() as db:
        assert await fees_due(db, ALICE.id) == []
        with pytest.raises(AlreadyPaid):
            await check_before_payment(db, client_id=ALICE.id, invoice=invoice, now=now)
        payments = await db.scalar(
            select(func.count()).where(
                LedgerEntry.item == fee.item, LedgerEntry.kind == money.EntryKind.PAYMENT
            )
        )
    assert payments == 1


async def test_staff_mark_a_fee_paid_at_the_venue_or_waive_it_once(db_factory, fee):
    now = at(date(2026, 11, 11))
    async with db_factory() as db:
        paid = await fee_paid_at_venue(db, fee_id=fee.fee_id, staff_id=9, now=now)
    async with db_factory() as db:
        with pytest.raises(NothingDue):
            await waive_fee(db, fee_id=fee.fee_id, reason="x", staff_id=9, now=now)
    async with db_factory() as db:
        with pytest.raises(FeeNotFound):
            await waive_fee(db, fee_id=fee.fee_id + 999, reason="x", staff_id=9, now=now)

    assert paid == money.Money(4500, "EUR")
    async with db_factory() as db:
        assert await fees_due(db) == []


async def test_a_waived_fee_is_no_longer_due(db_factory, fee):
    async with db_factory() as db:
        waived = await waive_fee(
            db, fee_id=fee.fee_id, reason="hardship", staff_id=9, now=at(date(2026, 11, 11))
        )
        assert await fees_due(db) == []
    assert waived.minor == 4500


def test_fee_items_parse_back_and_forged_ones_do_not():
    assert FeeItem.parse("fee:3:1001:2026-11") == FeeItem(3, 1001, (2026, 11), None)
    assert FeeItem.parse("fee:3:1001:2026-12-15") == FeeItem(3, 1001, None, date(2026, 12, 15))
    for forged in ("fee:3:1001:2026-13", "fee:x:1:2026-11", "booking:1", "fee:3:1001", "fee:3:1:x"):
        assert FeeItem.parse(forged) is None
