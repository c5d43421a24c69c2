"""What staff do by hand, on SQLite and PostgreSQL: ranks, bookings over capacity, the queue."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from domain.booking.bookings import Waitlisted, book_or_wait, book_session
from domain.clients.record import ClientRef
from domain.desk import staff_views
from domain.desk.staff_bookings import book_client, book_from_waitlist, set_client_rank
from domain.errors import (
    AlreadyBooked,
    ClientNotFound,
    NotWaiting,
    RankOutOfRange,
    SessionFull,
)
from domain.storage.models import ClassSession, Client, WaitlistEntry
from tests.support.catalog import load

ALICE, BOB, CAROL = ClientRef(1001, "Alice", "en"), ClientRef(1002, "Bob"), ClientRef(1003, "Carol")

STUDIO = """
programmes:
  - key: yoga
    title: Yoga
    classes:
      - key: morning
        title: Morning flow
        capacity: 1
        max_overload: 1
        sessions: [2026-12-01 18:00, 2026-12-03 18:00]
"""


@pytest.fixture
async def sessions(db_factory) -> list[int]:
    await load(db_factory, STUDIO)
    async with db_factory() as db:
        return list(await db.scalars(select(ClassSession.id).order_by(ClassSession.starts_at)))


async def book(db_factory, client: ClientRef, session_id: int, clock):
    async with db_factory() as db:
        return await book_or_wait(db, client=client, session_id=session_id, now=clock())


async def rank_of(db_factory, client_id: int) -> int:
    async with db_factory() as db:
        return (await db.get(Client, client_id)).rank


async def test_staff_set_a_known_clients_rank(db_factory, sessions, clock):
    await book(db_factory, ALICE, sessions[0], clock)

    async with db_factory() as db:
        await set_client_rank(db, client_id=ALICE.id, rank=-100)
    assert await rank_of(db_factory, ALICE.id) == -100

    async with db_factory() as db:
        await set_client_rank(db, client_id=ALICE.id, rank=100)
    assert await rank_of(db_factory, ALICE.id) == 100


@pytest.mark.parametrize("rank", [-101, 101, 10_000])
async def test_a_rank_outside_the_scale_is_refused_and_nothing_changes(
    db_factory, sessions, clock, rank
):
    await book(db_factory, ALICE, sessions[0], clock)

    async with db_factory() as db:
        with pytest.raises(RankOutOfRange) as refused:
            await set_client_rank(db, client_id=ALICE.id, rank=rank)

    assert refused.value.params == {"min": -100, "max": 100}
    assert await rank_of(db_factory, ALICE.id) == 0


async def test_the_rank_of_an_unknown_client_cannot_be_set(db_factory, sessions):
    async with db_factory() as db:
        with pytest.raises(ClientNotFound) as refused:
            await set_client_rank(db, client_id=4242, rank=3)

    assert refused.value.code == "client_not_found"
    async with db_factory() as db:
        assert await db.get(Client, 4242) is None


async def test_staff_book_a_known_client_into_the_overload_but_no_further(
    db_factory, sessions, clock
):
    dec_1, dec_3 = sessions
    for client in (ALICE, BOB, CAROL):
        await book(db_factory, client, dec_3, clock)  # they become known clients
    await book(db_factory, ALICE, dec_1, clock)  # the one seat

    async with db_factory() as db:
        booked = await book_client(db, client_id=BOB.id, session_id=dec_1, now=clock())
    assert booked.card.session_id == dec_1

    async with db_factory() as db:
        with pytest.raises(SessionFull):
            await book_client(db, client_id=CAROL.id, session_id=dec_1, now=clock())
    async with db_factory() as db:
        with pytest.raises(AlreadyBooked):
            await book_client(db, client_id=BOB.id, session_id=dec_1, now=clock())
    async with db_factory() as db:
        with pytest.raises(ClientNotFound):
            await book_client(db, client_id=4242, session_id=dec_1, now=clock())
        roster = await staff_views.roster(db, dec_1)
        assert (await db.get(ClassSession, dec_1)).seats_taken == 2
    assert [(b.first_name, b.by_staff) for b in roster.booked] == [("Alice", False), ("Bob", True)]


async def test_clients_booking_at_once_never_take_the_seats_kept_for_staff(
    db_factory, sessions, clock
):
    dec_1, dec_3 = sessions
    await book(db_factory, ALICE, dec_3, clock)  # a known client, for staff to book later
    clients = [ClientRef(2000 + n, f"C{n}") for n in range(8)]

    async def attempt(client: ClientRef) -> str:
        try:
            async with db_factory() as db:
                await book_session(db, client=client, session_id=dec_1, now=clock())
        except SessionFull:
            return "full"
        return "booked"

    outcomes = await asyncio.gather(*(attempt(c) for c in clients))

    assert sorted(outcomes) == ["booked"] + ["full"] * 7
    async with db_factory() as db:
        assert (await db.get(ClassSession, dec_1)).seats_taken == 1
    # the overload seat is still there, for staff only
    async with db_factory() as db:
        await book_client(db, client_id=ALICE.id, session_id=dec_1, now=clock())
    async with db_factory() as db:
        assert (await db.get(ClassSession, dec_1)).seats_taken == 2


async def test_a_client_booked_by_staff_keeps_their_own_name_and_language(
    db_factory, sessions, clock
):
    await book(db_factory, ALICE, sessions[1], clock)

    async with db_factory() as db:
        await book_client(db, client_id=ALICE.id, session_id=sessions[0], now=clock())
        alice = await db.get(Client, ALICE.id)

    assert (alice.first_name, alice.language_code) == ("Alice", "en")


async def test_staff_move_the_first_waiting_client_off_the_list_by_booking_them(
    db_factory, sessions, clock
):
    dec_1 = sessions[0]
    await book(db_factory, ALICE, dec_1, clock)
    queued = await book(db_factory, BOB, dec_1, clock)
    assert isinstance(queued, Waitlisted)

    async with db_factory() as db:
        client_id, booked = await book_from_waitlist(
            db, entry_id=queued.entry_id, session_id=dec_1, now=clock()
        )

    assert (client_id, booked.card.session_id) == (BOB.id, dec_1)
    async with db_factory() as db:
        assert await db.scalar(select(WaitlistEntry.status)) == "booked"
        roster = await staff_views.roster(db, dec_1)
    assert [b.client_id for b in roster.booked] == [ALICE.id, BOB.id]
    assert roster.waiting == []

    async with db_factory() as db:  # a second press finds nobody waiting
        with pytest.raises(NotWaiting):
            await book_from_waitlist(db, entry_id=queued.entry_id, session_id=dec_1, now=clock())


async def test_a_waiting_entry_of_another_session_is_not_moved(db_factory, sessions, clock):
    dec_1, dec_3 = sessions
    await book(db_factory, ALICE, dec_1, clock)
    queued = await book(db_factory, BOB, dec_1, clock)

    async with db_factory() as db:
        with pytest.raises(NotWaiting):
            await book_from_waitlist(db, entry_id=queued.entry_id, session_id=dec_3, now=clock())
        assert await db.scalar(select(WaitlistEntry.status)) == "waiting"


async def test_the_coming_sessions_count_bookings_and_the_queue(db_factory, sessions, clock):
    dec_1, dec_3 = sessions
    await book(db_factory, ALICE, dec_1, clock)
    await book(db_factory, BOB, dec_1, clock)  # queued
    async with db_factory() as db:
        await book_session(db, client=CAROL, session_id=dec_3, now=clock())
        lines = await staff_views.upcoming_sessions(
            db, after=clock(), until=clock().replace(month=12, day=2)
        )
        clients = await staff_views.recent_clients(db)

    assert [(line.id, line.booked, line.capacity, line.waiting) for line in lines] == [
        (dec_1, 1, 1, 1)
    ]
    assert {c.id for c in clients} == {ALICE.id, BOB.id, CAROL.id}
