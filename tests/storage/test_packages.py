"""Session packages on a real database: N sessions booked all or none (a slot taken meanwhile
names itself and nothing is written), the price charged once, each session cancelled or
rescheduled alone under the cut-offs with its refund or fee, staff overrides recorded, and
per-day limits. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from domain.billing import money, refunds
from domain.billing.payments import (
    InvoiceFor,
    balance,
    check_before_payment,
    invoice_package,
    lock_account,
)
from domain.booking.bookings import book_session
from domain.clients.record import ClientRef, remember_client
from domain.errors import (
    AmountChanged,
    BookingNotFound,
    DayLimitReached,
    MixedServices,
    NoteRequired,
    NoteTooLong,
    PackageOnly,
    RefundOverCap,
    SlotTaken,
    TooLateToChange,
    WrongPackageCount,
)
from domain.policy import Policy
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    LedgerEntry,
    OutboxMessage,
    Package,
    PackageSlot,
    ProgrammeClass,
)
from domain.timetable import packages
from tests.support.catalog import PRAGUE, load

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ALICE, BOB = ClientRef(1001, "Alice"), ClientRef(1002, "Bob")
POLICY = Policy(zone=PRAGUE, currency="EUR", reminders=())

COACHING = """
programmes:
  - key: coaching
    title: Coaching
    cancel_notice_hours: 24
    classes:
      - key: one
        title: One to one
        capacity: 1
        duration: 60
        sessions:
          - 2026-11-23 10:00
          - 2026-11-24 10:00
          - 2026-11-25 10:00
          - 2026-11-26 10:00
          - 2026-11-27 10:00
      - key: other
        title: Other
        capacity: 1
        sessions: [2026-11-24 12:00]
"""


@pytest.fixture
async def service(db_factory) -> list[int]:
    """3 sessions for 150.00; cancel until 24 h before (50% back), move until 12 h (10% fee)."""
    await load(db_factory, COACHING)
    async with db_factory() as db:
        await db.execute(
            update(ProgrammeClass)
            .where(ProgrammeClass.key == "one")
            .values(
                package_size=3,
                package_price_minor=15000,
                cancel_cutoff_hours=24,
                reschedule_cutoff_hours=12,
                cancel_refund_percent=50,
                reschedule_fee_percent=10,
            )
        )
        for client in (ALICE, BOB):
            await remember_client(db, client, NOW)
        await db.commit()
        return list(
            await db.scalars(
                select(ClassSession.id)
                .join(ProgrammeClass)
                .where(ProgrammeClass.key == "one")
                .order_by(ClassSession.starts_at)
            )
        )


async def class_id(db_factory, key="one") -> int:
    async with db_factory() as db:
        return await db.scalar(select(ProgrammeClass.id).where(ProgrammeClass.key == key))


async def book(db_factory, session_ids, client=ALICE):
    async with db_factory() as db:
        return await packages.book_package(
            db,
            client=client,
            class_id=await class_id(db_factory),
            session_ids=session_ids,
            now=NOW,
            policy=POLICY,
        )


async def ledger(db_factory, client=ALICE) -> list[tuple[str, str, int]]:
    async with db_factory() as db:
        rows = await db.execute(
            select(LedgerEntry.kind, LedgerEntry.charge_for, LedgerEntry.amount_minor)
            .where(LedgerEntry.client_id == client.id)
            .order_by(LedgerEntry.id)
        )
        return [tuple(r) for r in rows]


async def test_a_package_books_its_n_sessions_and_charges_the_price_once(db_factory, service):
    view = await book(db_factory, service[:3])

    assert [s.slot for s in view.slots] == [1, 2, 3]
    assert all(s.active for s in view.slots)
    assert await ledger(db_factory) == [("charge", "package", 15000)]
    async with db_factory() as db:
        assert await balance(db, ALICE.id, "EUR") == money.Money(15000, "EUR")


async def test_fewer_or_more_than_n_or_another_services_session_are_refused(db_factory, service):
    with pytest.raises(WrongPackageCount):
        await book(db_factory, service[:2])
    with pytest.raises(WrongPackageCount):
        await book(db_factory, service[:4])
    async with db_factory() as db:
        other = await db.scalar(
            select(ClassSession.id).join(ProgrammeClass).where(ProgrammeClass.key == "other")
        )
    with pytest.raises(MixedServices):
        await book(db_factory, [*service[:2], other])
    async with db_factory() as db:
        assert await db.scalar(select(func.count(Booking.id))) == 0


async def test_a_slot_taken_meanwhile_is_named_and_nothing_is_booked(db_factory, service):
    await book(db_factory, service[1:4], client=BOB)  # Bob holds the 24th, 25th, 26th

    with pytest.raises(SlotTaken) as taken:
        await book(db_factory, [service[0], service[1], service[4]])

    assert taken.value.params["session_id"] == service[1]
    async with db_factory() as db:
        alices = await db.scalar(select(func.count()).where(Booking.client_id == ALICE.id))
        seats = await db.scalar(
            select(ClassSession.seats_taken).where(ClassSession.id == service[0])
        )
    assert (alices, seats) == (0, 0)
    assert await ledger(db_factory) == []


async def test_two_clients_racing_for_overlapping_packages_get_one_each_or_none(
    db_factory, service
):
    results = await asyncio.gather(
        book(db_factory, service[:3]),
        book(db_factory, service[2:5], client=BOB),
        return_exceptions=True,
    )

    kinds = sorted(type(r).__name__ for r in results)
    assert kinds == ["PackageView", "SlotTaken"]
    async with db_factory() as db:
        assert await db.scalar(select(func.count(Booking.id))) == 3


async def test_one_by_one_booking_of_a_package_service_is_refused(db_factory, service):
    async with db_factory() as db:
        with pytest.raises(PackageOnly):
            await book_session(db, client=ALICE, session_id=service[0], now=NOW, policy=POLICY)


async def test_cancelling_one_session_in_time_credits_its_share_and_leaves_the_others(
    db_factory, service
):
    view = await book(db_factory, service[:3])
    async with db_factory() as db:  # paid up front
        db.add(
            LedgerEntry(
                client_id=ALICE.id,
                kind="payment",
                method="venue",
                amount_minor=15000,
                currency="EUR",
                item=f"package:{view.id}",
                created_at=NOW,
            )
        )
        await db.commit()
    second = view.slots[1]

    async with db_factory() as db:
        done = await packages.cancel_session(
            db, client_id=ALICE.id, booking_id=second.booking_id, now=NOW, policy=POLICY
        )

    assert done.refund == money.Money(2500, "EUR")  # 50% of 150.00 / 3
    async with db_factory() as db:
        after = await packages.package_of(db, ALICE.id, view.id, "EUR")
        assert await balance(db, ALICE.id, "EUR") == money.Money(-2500, "EUR")
    assert [s.active for s in after.slots] == [True, False, True]


async def test_an_unpaid_package_cancelled_in_time_has_the_share_waived(db_factory, service):
    view = await book(db_factory, service[:3])

    async with db_factory() as db:
        await packages.cancel_session(
            db, client_id=ALICE.id, booking_id=view.slots[0].booking_id, now=NOW, policy=POLICY
        )

    async with db_factory() as db:
        assert await balance(db, ALICE.id, "EUR") == money.Money(12500, "EUR")


async def test_past_the_cut_off_the_client_cannot_but_staff_can_with_an_override(
    db_factory, service
):
    view = await book(db_factory, service[:3])
    first = view.slots[0]  # Nov 23rd 10:00 Prague; cancel cut-off 24 h before
    late = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # Nov 22nd 11:00 Prague

    async with db_factory() as db:
        with pytest.raises(TooLateToChange):
            await packages.cancel_session(
                db, client_id=ALICE.id, booking_id=first.booking_id, now=late, policy=POLICY
            )
    async with db_factory() as db:
        done = await packages.cancel_session(
            db, client_id=None, booking_id=first.booking_id, now=late, policy=POLICY, staff_id=9
        )

    async with db_factory() as db:
        slot = await db.get(PackageSlot, first.booking_id)
        booking = await db.get(Booking, first.booking_id)
    assert (slot.override_by, slot.override_at) == (9, late)
    assert booking.status == BookingStatus.CANCELLED
    assert [type(e).__name__ for e in done.events][-1] == "PackageChanged"


async def test_rescheduling_one_session_moves_it_in_its_slot_and_charges_the_fee(
    db_factory, service
):
    view = await book(db_factory, service[:3])
    first = view.slots[0]
    async with db_factory() as db:
        quote = await packages.quote(
            db, client_id=ALICE.id, booking_id=first.booking_id, now=NOW, policy=POLICY
        )
    assert (quote.fee, quote.can_reschedule) == (money.Money(500, "EUR"), True)

    async with db_factory() as db:
        moved = await packages.reschedule_session(
            db,
            client_id=ALICE.id,
            booking_id=first.booking_id,
            new_session_id=service[4],
            now=NOW,
            policy=POLICY,
        )

    async with db_factory() as db:
        after = await packages.package_of(db, ALICE.id, view.id, "EUR")
        freed = await db.scalar(
            select(ClassSession.seats_taken).where(ClassSession.id == service[0])
        )
    slot = after.slots[0]
    assert (slot.booking_id, slot.session_id, slot.sequence) == (moved.booking_id, service[4], 1)
    assert freed == 0
    assert await ledger(db_factory) == [
        ("charge", "package", 15000),
        ("charge", "reschedule_fee", 500),
    ]


async def test_a_client_cannot_change_someone_elses_package(db_factory, service):
    view = await book(db_factory, service[:3])
    async with db_factory() as db:
        with pytest.raises(BookingNotFound):
            await packages.cancel_session(
                db, client_id=BOB.id, booking_id=view.slots[0].booking_id, now=NOW, policy=POLICY
            )
        assert await packages.package_of(db, BOB.id, view.id, "EUR") is None


async def test_a_client_cannot_quote_or_reschedule_someone_elses_package_session(
    db_factory, service
):
    view = await book(db_factory, service[:3])
    first = view.slots[0]
    async with db_factory() as db:
        before = await packages.package_of(db, ALICE.id, view.id, "EUR")

    async with db_factory() as db:
        with pytest.raises(BookingNotFound):
            await packages.quote(
                db, client_id=BOB.id, booking_id=first.booking_id, now=NOW, policy=POLICY
            )
        with pytest.raises(BookingNotFound):
            await packages.reschedule_session(
                db,
                client_id=BOB.id,
                booking_id=first.booking_id,
                new_session_id=service[4],
                now=NOW,
                policy=POLICY,
            )

    async with db_factory() as db:
        after = await packages.package_of(db, ALICE.id, view.id, "EUR")
        rows = await db.execute(select(ClassSession.id, ClassSession.seats_taken))
        seats = dict(rows.all())
    assert after == before
    assert (seats[service[0]], seats[service[4]]) == (1, 0)
    assert await ledger(db_factory) == [("charge", "package", 15000)]
    assert await ledger(db_factory, BOB) == []


async def test_a_per_day_limit_refuses_a_second_booking_that_day(db_factory, service):
    more = "sessions: [2026-11-24 12:00, 2026-11-24 15:00, 2026-11-25 12:00]"
    await load(db_factory, COACHING.replace("sessions: [2026-11-24 12:00]", more))
    async with db_factory() as db:
        await db.execute(
            update(ProgrammeClass).where(ProgrammeClass.key == "other").values(max_per_day=1)
        )
        await db.commit()
        ids = list(
            await db.scalars(
                select(ClassSession.id)
                .join(ProgrammeClass)
                .where(ProgrammeClass.key == "other")
                .order_by(ClassSession.starts_at)
            )
        )
    async with db_factory() as db:
        await book_session(db, client=ALICE, session_id=ids[0], now=NOW, policy=POLICY)
    async with db_factory() as db:
        with pytest.raises(DayLimitReached):
            await book_session(db, client=ALICE, session_id=ids[1], now=NOW, policy=POLICY)
    async with db_factory() as db:
        await book_session(db, client=ALICE, session_id=ids[2], now=NOW, policy=POLICY)


async def test_staff_refund_any_amount_up_to_what_was_paid_on_a_package(db_factory, service):
    view = await book(db_factory, service[:3])
    async with db_factory() as db:
        db.add(
            LedgerEntry(
                client_id=ALICE.id,
                kind="payment",
                method="venue",
                amount_minor=15000,
                currency="EUR",
                item=f"package:{view.id}",
                created_at=NOW,
            )
        )
        await db.commit()

    async def no_stars(_user: int, _charge: str) -> None:
        raise AssertionError("a venue payment is not refunded through Telegram")

    async with db_factory() as db:
        done = await refunds.refund_package(
            db,
            package_id=view.id,
            amount=money.Money(2000, "EUR"),
            reason="teacher ill",
            staff_id=9,
            now=NOW,
            refund_stars=no_stars,
        )
    async with db_factory() as db:
        with pytest.raises(RefundOverCap):
            await refunds.refund_package(
                db,
                package_id=view.id,
                amount=money.Money(13001, "EUR"),
                reason="too much",
                staff_id=9,
                now=NOW,
                refund_stars=no_stars,
            )

    assert done.by_route == {money.RefundRoute.CASH: money.Money(2000, "EUR")}
    async with db_factory() as db:
        reason = await db.scalar(select(LedgerEntry.reason).where(LedgerEntry.kind == "refund"))
        told = await db.scalar(select(func.count()).where(OutboxMessage.kind == "money_returned"))
    assert (reason, told) == ("teacher ill", 1)


async def test_eight_concurrent_package_refunds_never_return_more_than_was_paid(
    db_factory, service
):
    """The cap holds under a race: the client's account is locked before the ledger is read.
    The eight start while the account is taken, so they all contend at once (as
    tests/storage/test_refunds.py does for a booking)."""
    view = await book(db_factory, service[:3])
    async with db_factory() as db:
        db.add(
            LedgerEntry(
                client_id=ALICE.id,
                kind="payment",
                method="venue",
                amount_minor=15000,
                currency="EUR",
                item=f"package:{view.id}",
                created_at=NOW,
            )
        )
        await db.commit()

    async def no_stars(_user: int, _charge: str) -> None:
        raise AssertionError("a venue payment is not refunded through Telegram")

    async def refund_5000():
        async with db_factory() as db:
            return await refunds.refund_package(
                db,
                package_id=view.id,
                amount=money.Money(5000, "EUR"),
                reason="teacher ill",
                staff_id=9,
                now=NOW,
                refund_stars=no_stars,
            )

    async with db_factory() as holder:
        await lock_account(holder, ALICE.id)
        tasks = [asyncio.create_task(refund_5000()) for _ in range(8)]
        await asyncio.sleep(0.05)  # they start: at the lock, or (without it) reading the ledger
        await holder.rollback()
    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert sorted(type(r).__name__ for r in results) == ["RefundDone"] * 3 + ["RefundOverCap"] * 5
    async with db_factory() as db:
        refunded = await db.scalar(
            select(func.sum(LedgerEntry.amount_minor)).where(LedgerEntry.kind == "refund")
        )
    assert refunded == 15000


async def test_the_package_is_invoiced_to_its_client_and_checked_before_payment(
    db_factory, service
):
    view = await book(db_factory, service[:3])
    async with db_factory() as db:
        invoice = await invoice_package(db, client_id=ALICE.id, package_id=view.id, now=NOW)
    async with db_factory() as db:
        with pytest.raises(BookingNotFound):
            await invoice_package(db, client_id=BOB.id, package_id=view.id, now=NOW)
        await check_before_payment(db, client_id=ALICE.id, invoice=invoice, now=NOW)
        with pytest.raises(BookingNotFound):
            await check_before_payment(db, client_id=BOB.id, invoice=invoice, now=NOW)
        with pytest.raises(AmountChanged):
            await check_before_payment(
                db,
                client_id=ALICE.id,
                invoice=InvoiceFor(invoice.item, 100, "EUR"),
                now=NOW,
            )

    assert invoice == InvoiceFor(f"package:{view.id}", 15000, "EUR")


async def test_a_bought_package_keeps_the_terms_it_was_bought_under(db_factory, service):
    view = await book(db_factory, service[:3])
    async with db_factory() as db:  # the catalog changes afterwards
        await db.execute(
            update(ProgrammeClass)
            .where(ProgrammeClass.key == "one")
            .values(cancel_refund_percent=0, reschedule_fee_percent=50, cancel_cutoff_hours=0)
        )
        await db.commit()

    async with db_factory() as db:
        quote = await packages.quote(
            db, client_id=ALICE.id, booking_id=view.slots[0].booking_id, now=NOW, policy=POLICY
        )

    assert (quote.refund, quote.fee) == (money.Money(2500, "EUR"), money.Money(500, "EUR"))


async def test_the_clients_note_is_kept_once_for_the_package_as_enrolment_notes_say(
    db_factory, service
):
    required = Policy(zone=PRAGUE, currency="EUR", reminders=(), enrolment_notes="required")

    async def book_with(note, policy, client=ALICE):
        async with db_factory() as db:
            return await packages.book_package(
                db,
                client=client,
                class_id=await class_id(db_factory),
                session_ids=service[:3],
                now=NOW,
                policy=policy,
                note=note,
            )

    with pytest.raises(NoteRequired):
        await book_with("   ", required)
    with pytest.raises(NoteTooLong):
        await book_with("x" * 501, POLICY)
    async with db_factory() as db:
        assert await db.scalar(select(func.count()).select_from(Package)) == 0

    view = await book_with("  Left-handed  ", required)
    async with db_factory() as db:
        assert await packages.package_notes(db, view.id) == "Left-handed"


async def test_a_package_class_shows_its_size_price_and_free_sessions_ahead(db_factory, service):
    view = await book(db_factory, service[:3])  # capacity 1: these three are full now
    (other,) = await session_ids_of(db_factory, "other")
    async with db_factory() as db:
        await book_session(db, client=BOB, session_id=other, now=NOW, policy=POLICY)
        plain = await db.scalar(select(Booking.id).where(Booking.session_id == other))
    one = await class_id(db_factory)
    nov_26_10_prague = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    async with db_factory() as db:
        offer = await packages.package_offer(db, one)
        not_a_package = await packages.package_offer(db, await class_id(db_factory, "other"))
        gone = await packages.package_offer(db, 999_999)
        free = await packages.free_sessions(db, one, NOW)
        free_later = await packages.free_sessions(db, one, nov_26_10_prague)
        in_package = await packages.in_package(db, view.slots[0].booking_id)
        plain_in_package = await packages.in_package(db, plain)

    assert offer == packages.PackageOffer(size=3, price_minor=15000)
    assert (not_a_package, gone) == (None, None)
    assert [s.id for s in free] == service[3:]  # the full ones left out
    assert [s.id for s in free_later] == service[4:]  # and those begun
    assert (in_package, plain_in_package) == (True, False)


async def session_ids_of(db_factory, key: str) -> list[int]:
    async with db_factory() as db:
        return list(
            await db.scalars(
                select(ClassSession.id)
                .join(ProgrammeClass)
                .where(ProgrammeClass.key == key)
                .order_by(ClassSession.starts_at)
            )
        )
