"""Booking and cancelling on a real database with the migrations applied."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from domain.booking.bookings import book_session, cancel_booking
from domain.booking.status import BookingStatus
from domain.clients.record import ClientRef
from domain.errors import (
    AlreadyBooked,
    BookingAlreadyCancelled,
    BookingNotFound,
    SessionAlreadyStarted,
    SessionFull,
    SessionNotFound,
)
from domain.storage.models import Booking, ClassSession, Client
from tests.support.catalog import load

ALICE = ClientRef(id=1001, first_name="Alice", language_code="en")
BOB = ClientRef(id=1002, first_name="Bob")
CAROL = ClientRef(id=1003, first_name="Carol")


async def session_at(db_factory, day: int) -> ClassSession:
    async with db_factory() as db:
        sessions = (await db.scalars(select(ClassSession).order_by(ClassSession.starts_at))).all()
    return next(s for s in sessions if s.starts_at.day == day)


async def book(db_factory, client, session_id, clock):
    async with db_factory() as db:
        booked = await book_session(db, client=client, session_id=session_id, now=clock())
    return booked.card


async def active_bookings(db_factory, session_id) -> int:
    async with db_factory() as db:
        return await db.scalar(
            select(func.count(Booking.id)).where(
                Booking.session_id == session_id, Booking.status == BookingStatus.ACTIVE
            )
        )


@pytest.fixture
async def dec_1(db_factory):
    await load(db_factory)
    return await session_at(db_factory, 1)


async def test_booking_a_session_records_the_booking_and_the_client(db_factory, dec_1, clock):
    card = await book(db_factory, ALICE, dec_1.id, clock)

    assert card.session_id == dec_1.id
    assert card.is_active
    assert card.class_title == "Morning flow"
    async with db_factory() as db:
        client = await db.get(Client, ALICE.id)
        session = await db.get(ClassSession, dec_1.id)
    assert client.first_name == "Alice"
    assert session.seats_taken == 1


async def test_a_full_session_refuses_the_next_client(db_factory, dec_1, clock):
    await book(db_factory, ALICE, dec_1.id, clock)
    await book(db_factory, BOB, dec_1.id, clock)

    with pytest.raises(SessionFull):
        await book(db_factory, CAROL, dec_1.id, clock)
    assert await active_bookings(db_factory, dec_1.id) == 2


async def test_the_same_client_cannot_book_a_session_twice(db_factory, dec_1, clock):
    await book(db_factory, ALICE, dec_1.id, clock)

    with pytest.raises(AlreadyBooked):
        await book(db_factory, ALICE, dec_1.id, clock)
    assert await active_bookings(db_factory, dec_1.id) == 1


async def test_a_past_session_cannot_be_booked(db_factory, clock):
    await load(db_factory)
    past = await session_at(db_factory, 20)

    with pytest.raises(SessionAlreadyStarted):
        await book(db_factory, ALICE, past.id, clock)


async def test_a_missing_session_cannot_be_booked(db_factory, clock):
    await load(db_factory)
    with pytest.raises(SessionNotFound):
        await book(db_factory, ALICE, 999_999, clock)


async def test_cancelling_frees_the_spot_for_someone_else(db_factory, dec_1, clock):
    alice = await book(db_factory, ALICE, dec_1.id, clock)
    await book(db_factory, BOB, dec_1.id, clock)

    async with db_factory() as db:
        cancelled = await cancel_booking(db, client_id=ALICE.id, booking_id=alice.id, now=clock())

    assert not cancelled.card.is_active
    await book(db_factory, CAROL, dec_1.id, clock)
    assert await active_bookings(db_factory, dec_1.id) == 2


async def test_a_cancelled_booking_cannot_be_cancelled_again(db_factory, dec_1, clock):
    alice = await book(db_factory, ALICE, dec_1.id, clock)
    async with db_factory() as db:
        await cancel_booking(db, client_id=ALICE.id, booking_id=alice.id, now=clock())

    async with db_factory() as db:
        with pytest.raises(BookingAlreadyCancelled):
            await cancel_booking(db, client_id=ALICE.id, booking_id=alice.id, now=clock())
    async with db_factory() as db:
        assert (await db.get(ClassSession, dec_1.id)).seats_taken == 0


async def test_nobody_can_cancel_someone_elses_booking(db_factory, dec_1, clock):
    alice = await book(db_factory, ALICE, dec_1.id, clock)

    async with db_factory() as db:
        with pytest.raises(BookingNotFound):
            await cancel_booking(db, client_id=BOB.id, booking_id=alice.id, now=clock())
    assert await active_bookings(db_factory, dec_1.id) == 1


async def test_a_client_may_book_again_after_cancelling(db_factory, dec_1, clock):
    first = await book(db_factory, ALICE, dec_1.id, clock)
    async with db_factory() as db:
        await cancel_booking(db, client_id=ALICE.id, booking_id=first.id, now=clock())

    again = await book(db_factory, ALICE, dec_1.id, clock)
    assert again.id != first.id
    assert await active_bookings(db_factory, dec_1.id) == 1


async def test_concurrent_bookings_never_exceed_capacity(db_factory, dec_1, clock):
    clients = [ClientRef(id=2000 + n, first_name=f"C{n}") for n in range(12)]

    async def attempt(client):
        try:
            await book(db_factory, client, dec_1.id, clock)
        except SessionFull:
            return "full"
        return "booked"

    outcomes = await asyncio.gather(*(attempt(c) for c in clients))

    assert outcomes.count("booked") == 2
    assert outcomes.count("full") == 10
    assert await active_bookings(db_factory, dec_1.id) == 2
    async with db_factory() as db:
        assert (await db.get(ClassSession, dec_1.id)).seats_taken == 2


async def test_a_double_tap_books_once(db_factory, dec_1, clock):
    async def attempt():
        try:
            await book(db_factory, ALICE, dec_1.id, clock)
        except AlreadyBooked:
            return "refused"
        return "booked"

    outcomes = await asyncio.gather(attempt(), attempt(), attempt())

    assert outcomes.count("booked") == 1
    assert await active_bookings(db_factory, dec_1.id) == 1
    async with db_factory() as db:
        assert (await db.get(ClassSession, dec_1.id)).seats_taken == 1
