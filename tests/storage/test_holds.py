"""Unpaid bookings held for PAYMENT_HOLD_MINUTES, then released to the waiting list; SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from domain.billing import money
from domain.billing.payments import InvoiceFor, apply_payment, booking_item
from domain.booking.bookings import book_or_wait
from domain.booking.holds import hold_ends_at, release_unpaid
from domain.clients.record import ClientRef
from domain.policy import Policy
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    OutboxMessage,
    ProgrammeClass,
)
from tests.support.catalog import PRAGUE, load

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ALICE, BOB, CAROL = ClientRef(1, "Alice"), ClientRef(2, "Bob"), ClientRef(3, "Carol")
HOLD = Policy(zone=PRAGUE, currency="EUR", reminders=(), payment_hold_minutes=30)
CATALOG = """
programmes:
  - key: clay
    title: Clay
    kind: one-off
    classes:
      - key: wheel
        title: Wheel
        capacity: 2
        price: "12.50"
        sessions: [2026-12-01 18:00]
      - key: free
        title: Open studio
        capacity: 2
        sessions: [2026-12-02 18:00]
"""


async def book(db_factory, client, title="Wheel", policy=HOLD) -> None:
    async with db_factory() as db:
        session = await db.scalar(
            select(ClassSession.id)
            .join(ProgrammeClass, ClassSession.class_id == ProgrammeClass.id)
            .where(ProgrammeClass.title == title)
        )
        await book_or_wait(db, client=client, session_id=session, now=NOW, policy=policy)


async def statuses(db_factory) -> dict[int, str]:
    async with db_factory() as db:
        rows = await db.execute(select(Booking.client_id, Booking.status).order_by(Booking.id))
        return dict(rows.all())


async def release(db_factory, at: datetime, policy=HOLD):
    async with db_factory() as db:
        return await release_unpaid(db, at, policy)


async def test_an_unpaid_booking_is_released_after_the_hold_and_the_place_goes_on(db_factory):
    await load(db_factory, CATALOG)
    for client in (ALICE, BOB, CAROL):  # Carol waits
        await book(db_factory, client)
    async with db_factory() as db:  # Bob pays
        bobs = await db.scalar(select(Booking.id).where(Booking.client_id == BOB.id))
        await apply_payment(
            db,
            client_id=BOB.id,
            paid=InvoiceFor(booking_item(bobs), 1250, "EUR"),
            charge_id="stx-bob",
            method=money.Method.STARS,
            now=NOW,
        )

    assert await release(db_factory, NOW + timedelta(minutes=29)) == []
    events = await release(db_factory, NOW + timedelta(minutes=30))

    assert {type(e).__name__ for e in events} == {"BookingReleased", "Promoted"}
    assert await statuses(db_factory) == {
        ALICE.id: BookingStatus.CANCELLED,
        BOB.id: BookingStatus.ACTIVE,  # paid: kept
        CAROL.id: BookingStatus.ACTIVE,  # from the waiting list, with her own hold
    }
    async with db_factory() as db:
        told = await db.scalar(
            select(OutboxMessage.payload).where(OutboxMessage.kind == "released")
        )
    assert '"unpaid": true' in told


async def test_free_bookings_are_kept_and_without_a_hold_unpaid_ones_too(db_factory):
    await load(db_factory, CATALOG)
    await book(db_factory, ALICE, title="Open studio")  # free
    await book(db_factory, BOB)  # 12.50, unpaid
    no_hold = Policy(zone=PRAGUE, currency="EUR", reminders=())

    assert await release(db_factory, NOW + timedelta(days=1), no_hold) == []
    assert set((await statuses(db_factory)).values()) == {BookingStatus.ACTIVE}

    await release(db_factory, NOW + timedelta(days=1))

    assert await statuses(db_factory) == {
        ALICE.id: BookingStatus.ACTIVE,
        BOB.id: BookingStatus.CANCELLED,
    }


def test_the_hold_ends_the_configured_minutes_after_booking():
    assert hold_ends_at(NOW, HOLD) == NOW + timedelta(minutes=30)
    assert hold_ends_at(NOW, Policy()) is None


async def test_paid_bookings_never_hide_an_unpaid_one_from_a_small_batch(db_factory):
    await load(db_factory, CATALOG)
    await book(db_factory, BOB)  # booked first, then paid
    await book(db_factory, ALICE)  # unpaid
    async with db_factory() as db:
        bobs = await db.scalar(select(Booking.id).where(Booking.client_id == BOB.id))
        await apply_payment(
            db,
            client_id=BOB.id,
            paid=InvoiceFor(booking_item(bobs), 1250, "EUR"),
            charge_id="stx-bob",
            method=money.Method.STARS,
            now=NOW,
        )

    async with db_factory() as db:
        await release_unpaid(db, NOW + timedelta(hours=1), HOLD, batch=1)

    assert await statuses(db_factory) == {
        BOB.id: BookingStatus.ACTIVE,
        ALICE.id: BookingStatus.CANCELLED,
    }
