"""What a Book tap returns: all its result window shows, so nothing is read again after it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select, update

from domain.booking import bookings, client_views
from domain.booking.bookings import Booked, Waitlisted, book_or_wait, book_session
from domain.booking.outcomes import SessionLabel
from domain.clients.record import ClientRef
from domain.errors import PackageOnly
from domain.storage.models import ClassSession, Client, ProgrammeClass, WaitlistEntry
from tests.support.catalog import load

ALICE, BOB, CAROL = ClientRef(1, "Alice"), ClientRef(2, "Bob"), ClientRef(3, "Carol")
SWIM = """
programmes:
  - key: swim
    title: Swim & Sauna
    classes:
      - key: lanes
        title: Open lanes
        capacity: 1
        duration: 45
        price: "8.00"
        sessions: [2026-12-05 09:00]
"""
NINE_IN_PRAGUE = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


async def swim(db_factory) -> int:
    await load(db_factory, SWIM)
    async with db_factory() as db:
        return await db.scalar(select(ClassSession.id))


async def tap(db_factory, client, session_id, clock):
    async with db_factory() as db:
        return await book_or_wait(db, client=client, session_id=session_id, now=clock())


async def test_a_booked_tap_returns_the_booking_as_it_is_stored(db_factory, clock):
    session_id = await swim(db_factory)

    booked = await tap(db_factory, ALICE, session_id, clock)

    assert isinstance(booked, Booked)
    async with db_factory() as db:
        assert booked.card == await client_views.booking_card(db, booked.card.id, ALICE.id)
    assert (booked.card.programme_title, booked.card.class_title) == ("Swim & Sauna", "Open lanes")
    assert booked.card.starts_at == NINE_IN_PRAGUE
    assert (booked.card.price_minor, booked.card.duration_minutes) == (800, 45)
    assert booked.enrolled  # a first booking in a pay-as-you-go programme enrols them
    assert (booked.pass_left, booked.pass_problem) == (None, None)


async def test_a_queued_tap_returns_its_place_and_names_the_session(db_factory, clock):
    session_id = await swim(db_factory)
    await tap(db_factory, ALICE, session_id, clock)

    queued = await tap(db_factory, BOB, session_id, clock)
    carol = await tap(db_factory, CAROL, session_id, clock)

    assert isinstance(queued, Waitlisted)
    assert queued.session == SessionLabel("Swim & Sauna", "Open lanes", NINE_IN_PRAGUE)
    assert (queued.position, carol.position) == (1, 2)
    async with db_factory() as db:
        assert await db.scalar(
            select(WaitlistEntry.id).where(WaitlistEntry.client_id == BOB.id)
        ) == (queued.entry_id)


async def test_a_tap_that_loses_the_last_place_still_names_the_session(
    db_factory, clock, monkeypatch
):
    """The tap read a place left, lost it to a rival and was rolled back (which forgets the
    session it read): the queue's answer names the session all the same."""
    session_id = await swim(db_factory)
    real = bookings.claim_own_offer

    async def rival_first(db, *args):
        monkeypatch.setattr(bookings, "claim_own_offer", real)
        async with db_factory() as other:
            await book_session(other, client=CAROL, session_id=session_id, now=clock())
        return await real(db, *args)

    monkeypatch.setattr(bookings, "claim_own_offer", rival_first)

    queued = await tap(db_factory, BOB, session_id, clock)

    assert isinstance(queued, Waitlisted)
    assert queued.session == SessionLabel("Swim & Sauna", "Open lanes", NINE_IN_PRAGUE)


async def test_a_booked_tap_sends_nothing_once_it_has_committed(db_factory, clock):
    session_id = await swim(db_factory)
    engine = db_factory.kw["bind"].sync_engine
    sent: list[str] = []

    def statement(*_args) -> None:
        sent.append("statement")

    def commit(*_args) -> None:
        sent.append("commit")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        assert isinstance(await tap(db_factory, ALICE, session_id, clock), Booked)
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)

    assert sent.count("commit") == 1
    assert sent[-1] == "commit"


async def test_a_refused_booking_leaves_nothing_half_written_in_the_session(db_factory, clock):
    """Refused after its first writes (the client remembered, then a package-only class): the
    unit of work rolls them back, so the caller's session holds nothing of it."""
    session_id = await swim(db_factory)
    async with db_factory() as db:
        await db.execute(update(ProgrammeClass).values(package_size=3))
        await db.commit()

    async with db_factory() as db:
        with pytest.raises(PackageOnly):
            await book_session(db, client=ALICE, session_id=session_id, now=clock())
        assert not db.in_transaction()
        await db.commit()  # were anything left, this would store it
    async with db_factory() as db:
        assert await db.get(Client, ALICE.id) is None
