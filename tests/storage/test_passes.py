"""Entry passes on a real database: bought once per payment however often Telegram delivers
it, one entry per booking instead of the price, back when cancelled in time, valid to the end
of the local day, and never more entries used than bought, also under concurrent bookings.
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from domain.billing import money
from domain.billing.passes import offers
from domain.billing.payments import (
    InvoiceFor,
    OfferTerms,
    apply_payment,
    balance,
    buy_pass,
    check_before_payment,
)
from domain.booking.bookings import book_or_wait, book_session, cancel_booking
from domain.clients.record import ClientRef, remember_client
from domain.errors import PassAlreadyBought, PassExpired, PassNotOnSale, PassUsedUp
from domain.policy import Policy
from domain.storage.models import (
    Booking,
    ClassSession,
    ClientPass,
    LedgerEntry,
    PassOffer,
    ProgrammeClass,
)
from tests.support.catalog import PRAGUE, load

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ALICE = ClientRef(1001, "Alice")
POLICY = Policy(zone=PRAGUE, currency="EUR")

DROP_IN = """
programmes:
  - key: dropin
    title: Drop-in yoga
    kind: pay-as-you-go
    cancel_notice_hours: 24
    passes:
      - key: three
        title: 3-entry pass
        entries: 3
        price: "20.00"
        valid_days: 10
    classes:
      - key: evening
        title: Evening
        capacity: 10
        price: "9.00"
        sessions:
          - 2026-11-23 18:00
          - 2026-11-24 18:00
          - 2026-11-25 18:00
          - 2026-11-26 18:00
          - 2026-11-27 18:00
          - 2026-11-28 18:00
          - 2026-11-30 23:30
          - 2026-12-01 00:30
"""


@pytest.fixture
async def offer(db_factory) -> PassOffer:
    await load(db_factory, DROP_IN)
    async with db_factory() as db:
        await remember_client(db, ALICE, NOW)
        await db.commit()
        return await db.scalar(select(PassOffer))


async def sessions(db_factory) -> list[ClassSession]:
    async with db_factory() as db:
        return list(await db.scalars(select(ClassSession).order_by(ClassSession.starts_at)))


def pass_invoice(offer: PassOffer, nonce: str = "n1", amount: int = 2000) -> InvoiceFor:
    return InvoiceFor(f"pass:{offer.id}:{nonce}", amount, "EUR")


async def buy(db_factory, offer, charge_id="stx-1", nonce="n1", now=NOW) -> bool:
    async with db_factory() as db:
        return await apply_payment(
            db,
            client_id=ALICE.id,
            paid=pass_invoice(offer, nonce),
            charge_id=charge_id,
            method=money.Method.STARS,
            now=now,
            policy=POLICY,
        )


async def the_pass(db_factory) -> ClientPass:
    async with db_factory() as db:
        return await db.scalar(select(ClientPass))


async def book(db_factory, session_id, client=ALICE, now=NOW):
    async with db_factory() as db:
        return await book_session(db, client=client, session_id=session_id, now=now, policy=POLICY)


async def test_the_catalog_import_of_passes_is_idempotent(db_factory, offer):
    again = await load(db_factory, DROP_IN)
    dearer = await load(db_factory, DROP_IN.replace('"20.00"', '"25.00"'))

    assert (again.added["passes"], again.updated["passes"]) == (0, 0)
    assert (dearer.added["passes"], dearer.updated["passes"]) == (0, 1)
    async with db_factory() as db:
        offers = list(await db.scalars(select(PassOffer)))
    assert [(o.key, o.entries, o.price_minor, o.valid_days) for o in offers] == [
        ("three", 3, 2500, 10)
    ]


async def test_a_pass_is_created_once_even_when_the_payment_is_delivered_twice(db_factory, offer):
    assert await buy(db_factory, offer) is True
    assert await buy(db_factory, offer) is False

    async with db_factory() as db:
        rows = list(await db.scalars(select(ClientPass)))
        ledger = await db.execute(select(LedgerEntry.kind, LedgerEntry.amount_minor))
        lines = sorted(tuple(row) for row in ledger)
    assert [(r.entries, r.used, r.expires_on) for r in rows] == [(3, 0, date(2026, 11, 30))]
    assert lines == [("charge", 2000), ("payment", 2000)]


async def test_a_payment_delivered_concurrently_creates_one_pass(db_factory, offer):
    applied = await asyncio.gather(*(buy(db_factory, offer) for _ in range(6)))

    assert sorted(applied) == [False] * 5 + [True]
    async with db_factory() as db:
        assert await db.scalar(select(func.count(ClientPass.id))) == 1


async def test_checkout_for_a_pass_checks_its_price_and_that_it_is_not_paid_yet(db_factory, offer):
    async def check(invoice):
        async with db_factory() as db:
            await check_before_payment(
                db, client_id=ALICE.id, invoice=invoice, now=NOW, currency="EUR"
            )

    await check(pass_invoice(offer))
    with pytest.raises(PassNotOnSale):
        await check(pass_invoice(offer, amount=1500))
    await buy(db_factory, offer)
    with pytest.raises(PassAlreadyBought):
        await check(pass_invoice(offer))


async def test_booking_with_a_pass_uses_an_entry_instead_of_the_price(db_factory, offer):
    await buy(db_factory, offer)
    first = (await sessions(db_factory))[0]

    booked = await book(db_factory, first.id)

    assert booked.pass_left == 2
    assert (await the_pass(db_factory)).used == 1
    async with db_factory() as db:
        booking = await db.get(Booking, booked.card.id)
        items = list(await db.scalars(select(LedgerEntry.item)))
    assert booking.pass_id == (await the_pass(db_factory)).id
    assert not any(item.startswith("booking:") for item in items)


async def test_cancelling_in_time_gives_the_entry_back(db_factory, offer):
    await buy(db_factory, offer)
    booked = await book(db_factory, (await sessions(db_factory))[0].id)

    async with db_factory() as db:
        await cancel_booking(
            db, client_id=ALICE.id, booking_id=booked.card.id, now=NOW, policy=POLICY
        )

    assert (await the_pass(db_factory)).used == 0


async def test_cancelling_late_keeps_the_entry_used(db_factory, offer):
    await buy(db_factory, offer)
    first = (await sessions(db_factory))[0]
    booked = await book(db_factory, first.id)

    async with db_factory() as db:
        late = first.starts_at - timedelta(hours=2)
        await cancel_booking(
            db, client_id=ALICE.id, booking_id=booked.card.id, now=late, policy=POLICY
        )

    assert (await the_pass(db_factory)).used == 1


async def test_a_pass_is_valid_to_the_end_of_its_last_local_day(db_factory, offer):
    await buy(db_factory, offer)  # bought on 21 November: valid until 30 November, Prague time
    *_, last_day, next_day = await sessions(db_factory)

    on_last_day = await book(db_factory, last_day.id)  # 23:30 in Prague, 22:30 UTC
    after = await book(db_factory, next_day.id)  # 00:30 on 1 December in Prague

    assert on_last_day.pass_left == 2
    assert after.pass_left is None
    assert isinstance(after.pass_problem, PassExpired)
    assert (await the_pass(db_factory)).used == 1


async def test_a_used_up_pass_is_not_used_and_says_so(db_factory, offer):
    await buy(db_factory, offer)
    first, second, third, fourth, *_ = await sessions(db_factory)
    for session in (first, second, third):
        await book(db_factory, session.id)

    fourth_booked = await book(db_factory, fourth.id)

    assert isinstance(fourth_booked.pass_problem, PassUsedUp)
    async with db_factory() as db:
        charges = await db.scalar(
            select(func.count(LedgerEntry.id)).where(LedgerEntry.item.like("booking:%"))
        )
    assert charges == 1  # the fourth session is charged its price


async def test_concurrent_bookings_never_use_more_entries_than_the_pass_has(db_factory, offer):
    await buy(db_factory, offer)
    six = (await sessions(db_factory))[:6]

    outcomes = await asyncio.gather(*(book(db_factory, s.id) for s in six))

    assert sum(1 for o in outcomes if o.pass_left is not None) == 3
    assert (await the_pass(db_factory)).used == 3
    async with db_factory() as db:
        on_pass = await db.scalar(
            select(func.count(Booking.id)).where(Booking.pass_id.is_not(None))
        )
    assert on_pass == 3


# --- credit on the balance buys passes; offers go off sale; promotion uses a pass ---------


async def give_credit(db_factory, minor: int) -> None:
    async with db_factory() as db:
        db.add(
            LedgerEntry(
                client_id=ALICE.id,
                kind=money.EntryKind.CREDIT,
                amount_minor=minor,
                currency="EUR",
                item="booking:999",
                created_at=NOW,
            )
        )
        await db.commit()


async def balance_of(db_factory) -> money.Money:
    async with db_factory() as db:
        return await balance(db, ALICE.id, "EUR")


async def test_credit_covering_the_price_buys_the_pass_at_once(db_factory, offer):
    await give_credit(db_factory, 2500)

    async with db_factory() as db:
        _, item, invoice = await buy_pass(
            db, client=ALICE, offer_id=offer.id, policy=POLICY, now=NOW
        )

    assert invoice is None
    the = await the_pass(db_factory)
    assert (the.item, the.entries, the.used) == (item, 3, 0)
    assert await balance_of(db_factory) == money.Money(-500, "EUR")  # 5.00 credit left


async def test_part_credit_is_left_out_of_the_invoice_and_spent_when_it_is_paid(db_factory, offer):
    await give_credit(db_factory, 500)
    async with db_factory() as db:
        _, item, invoice = await buy_pass(
            db, client=ALICE, offer_id=offer.id, policy=POLICY, now=NOW
        )
    assert invoice == InvoiceFor(item, 1500, "EUR")

    async def check(amount: int) -> None:
        async with db_factory() as db:
            await check_before_payment(
                db,
                client_id=ALICE.id,
                invoice=InvoiceFor(item, amount, "EUR"),
                now=NOW,
                currency="EUR",
            )

    await check(1500)
    with pytest.raises(PassNotOnSale):  # the full price: the credit would be left unspent
        await check(2000)
    async with db_factory() as db:
        await apply_payment(
            db,
            client_id=ALICE.id,
            paid=invoice,
            charge_id="stx-part",
            method=money.Method.STARS,
            now=NOW,
            policy=POLICY,
        )

    assert (await the_pass(db_factory)).item == item
    assert await balance_of(db_factory) == money.Money(0, "EUR")


async def test_a_pass_the_catalog_drops_goes_off_sale_and_bought_ones_stay_valid(db_factory, offer):
    await buy(db_factory, offer)
    without = DROP_IN.replace(
        DROP_IN[DROP_IN.index("    passes:") : DROP_IN.index("    classes:")], ""
    )

    report = await load(db_factory, without)

    assert report.updated["passes"] == 1
    async with db_factory() as db:
        assert await offers(db, offer.programme_id) == []
        with pytest.raises(PassNotOnSale):
            await buy_pass(db, client=ALICE, offer_id=offer.id, policy=POLICY, now=NOW)
    async with db_factory() as db:
        with pytest.raises(PassNotOnSale):
            await check_before_payment(
                db, client_id=ALICE.id, invoice=pass_invoice(offer, "n2"), now=NOW, currency="EUR"
            )
    [first, *_] = await sessions(db_factory)
    booked = await book(db_factory, first.id)
    assert booked.pass_left == 2  # the pass bought before still pays
    again = await load(db_factory, DROP_IN)  # listed again: back on sale
    assert again.updated["passes"] == 1
    async with db_factory() as db:
        assert [o.key for o in await offers(db, offer.programme_id)] == ["three"]


async def test_a_place_given_from_the_waiting_list_is_paid_with_the_clients_pass(db_factory, offer):
    bob = ClientRef(1002, "Bob")
    async with db_factory() as db:
        await db.execute(update(ProgrammeClass).values(capacity=1))
        await db.commit()
    [first, *_] = await sessions(db_factory)
    bobs = await book(db_factory, first.id, client=bob)
    await buy(db_factory, offer)
    async with db_factory() as db:
        await book_or_wait(db, client=ALICE, session_id=first.id, now=NOW, policy=POLICY)

    async with db_factory() as db:  # Bob cancels: Alice gets the place (promotion: auto)
        await cancel_booking(db, client_id=bob.id, booking_id=bobs.card.id, now=NOW, policy=POLICY)

    async with db_factory() as db:
        alices = await db.scalar(select(Booking).where(Booking.client_id == ALICE.id))
        charged = await db.scalar(
            select(func.count()).where(LedgerEntry.item == f"booking:{alices.id}")
        )
    assert alices.pass_id == (await the_pass(db_factory)).id
    assert (await the_pass(db_factory)).used == 1
    assert charged == 0


async def test_buying_a_pass_names_what_the_invoice_sells(db_factory, offer):
    async with db_factory() as db:
        terms, _, _ = await buy_pass(db, client=ALICE, offer_id=offer.id, policy=POLICY, now=NOW)

    assert terms == OfferTerms(offer.id, "3-entry pass", 2000, valid_days=10, entries=3)
