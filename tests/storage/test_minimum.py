"""Minimum participants on SQLite and PostgreSQL: the check cancels a session below its
class's minimum once, at its time, through cancel_whole_session, and tells staff in one
summary; "Run it anyway" keeps a session on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from domain.booking.bookings import book_or_wait, cancel_booking
from domain.clients.record import ClientRef
from domain.errors import (
    AlreadyKeptOn,
    MinimumCheckPassed,
    MinimumReached,
    NoMinimum,
    NotKeptOn,
    SessionCancelledByStaff,
)
from domain.notices import outbox
from domain.notices.events import UndersubscribedCancelled
from domain.policy import Policy
from domain.storage.models import Booking, BookingStatus, ClassSession, OutboxMessage
from domain.timetable import minimum
from domain.timetable.minimum import cancel_undersubscribed, keep_on, minimum_of, undo_keep_on
from tests.support.catalog import PRAGUE, load

STAFF = (900, 901)
POLICY = Policy(zone=PRAGUE, staff_ids=STAFF)
ALICE, BOB, CAROL = ClientRef(1, "Alice"), ClientRef(2, "Bob"), ClientRef(3, "Carol")
BOOKED_AT = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
DEC_1 = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 18:00 in Prague
DEC_3 = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
CHECK = DEC_1 - timedelta(hours=24)  # min_check_hours: 24

CATALOG = """
programmes:
  - key: pottery
    title: Pottery
    classes:
      - key: wheel
        title: Wheel
        capacity: 4
        min_participants: 2
        sessions: [2026-12-01 18:00, 2026-12-03 18:00]
      - key: hand
        title: Hand building
        capacity: 4
        sessions: [2026-12-01 18:00]
"""


@pytest.fixture
async def wheel(db_factory) -> int:
    await load(db_factory, CATALOG)
    return await session_at(db_factory, DEC_1, minimum=True)


async def session_at(db_factory, at: datetime, *, minimum: bool) -> int:
    async with db_factory() as db:
        ids = list(await db.scalars(select(ClassSession.id).where(ClassSession.starts_at == at)))
        for session_id in ids:
            if (await minimum_of(db, session_id) is not None) is minimum:
                return session_id
    raise AssertionError("no such session")


async def book(db_factory, client: ClientRef, session_id: int, now: datetime = BOOKED_AT):
    async with db_factory() as db:
        return await book_or_wait(db, client=client, session_id=session_id, now=now, policy=POLICY)


async def check(db_factory, now: datetime = CHECK):
    async with db_factory() as db:
        return await cancel_undersubscribed(db, now=now, policy=POLICY)


async def session_row(db_factory, session_id: int) -> ClassSession:
    async with db_factory() as db:
        return await db.get(ClassSession, session_id)


async def active(db_factory, session_id: int) -> set[int]:
    async with db_factory() as db:
        return set(
            await db.scalars(
                select(Booking.client_id).where(
                    Booking.session_id == session_id, Booking.status == BookingStatus.ACTIVE
                )
            )
        )


async def outbox_rows(db_factory, kind: str) -> list[tuple[int, str]]:
    async with db_factory() as db:
        rows = await db.execute(
            select(OutboxMessage.recipient, OutboxMessage.payload)
            .where(OutboxMessage.kind == kind)
            .order_by(OutboxMessage.recipient)
        )
        return [tuple(row) for row in rows]


async def summaries(db_factory) -> list[tuple[int, UndersubscribedCancelled]]:
    return [
        (recipient, outbox.from_row(UndersubscribedCancelled.kind, payload))
        for recipient, payload in await outbox_rows(db_factory, UndersubscribedCancelled.kind)
    ]


# --- the check ---------------------------------------------------------------------------


async def test_a_session_below_its_minimum_is_cancelled_at_its_check(db_factory, wheel):
    await book(db_factory, ALICE, wheel)

    cancelled = await check(db_factory)

    assert [(c.session_id, c.booked, c.minimum) for c in cancelled] == [(wheel, 1, 2)]
    session = await session_row(db_factory, wheel)
    assert session.cancelled_at == CHECK
    assert session.min_checked_at == CHECK
    assert await active(db_factory, wheel) == set()
    told = await outbox_rows(db_factory, "staff_cancelled")
    assert [recipient for recipient, _ in told] == [ALICE.id]
    assert '"automatic": true' in told[0][1]
    assert [(staff, s.sessions) for staff, s in await summaries(db_factory)] == [
        (STAFF[0], ((wheel, 1),)),
        (STAFF[1], ((wheel, 1),)),
    ]


THREE_DAYS_AHEAD = CATALOG.replace(
    "min_participants: 2", "min_participants: 2\n        min_check_hours: 72"
)


async def test_one_summary_per_staff_member_names_every_session_of_the_run(db_factory):
    await load(db_factory, THREE_DAYS_AHEAD)
    dec_1 = await session_at(db_factory, DEC_1, minimum=True)
    dec_3 = await session_at(db_factory, DEC_3, minimum=True)
    await book(db_factory, ALICE, dec_3)

    cancelled = await check(db_factory, DEC_1 - timedelta(hours=1))

    assert {c.session_id for c in cancelled} == {dec_1, dec_3}
    assert [(staff, s.sessions) for staff, s in await summaries(db_factory)] == [
        (STAFF[0], ((dec_1, 0), (dec_3, 1))),
        (STAFF[1], ((dec_1, 0), (dec_3, 1))),
    ]
    async with db_factory() as db:  # released at the run's end
        due = set(
            await db.scalars(
                select(OutboxMessage.due_at).where(
                    OutboxMessage.kind == UndersubscribedCancelled.kind
                )
            )
        )
    assert due == {DEC_1 - timedelta(hours=1)}


async def test_a_run_cut_short_keeps_the_summary_of_what_it_cancelled(db_factory, monkeypatch):
    await load(db_factory, THREE_DAYS_AHEAD)
    dec_1 = await session_at(db_factory, DEC_1, minimum=True)
    real = minimum.cancel_whole_session

    async def crash_on_the_second(db, **values):
        if values["session_id"] != dec_1:
            raise RuntimeError("the process died")
        return await real(db, **values)

    monkeypatch.setattr(minimum, "cancel_whole_session", crash_on_the_second)
    with pytest.raises(RuntimeError):
        await check(db_factory, DEC_1 - timedelta(hours=1))

    async with db_factory() as db:
        due = list(
            await db.scalars(
                select(OutboxMessage.due_at).where(
                    OutboxMessage.kind == UndersubscribedCancelled.kind
                )
            )
        )
    assert [(staff, s.sessions) for staff, s in await summaries(db_factory)] == [
        (STAFF[0], ((dec_1, 0),)),
        (STAFF[1], ((dec_1, 0),)),
    ]
    assert due == [DEC_1 - timedelta(hours=1) + minimum.SUMMARY_HOLD] * 2  # sent, if late


async def test_a_session_at_its_minimum_runs_and_is_not_checked_again(db_factory, wheel):
    for client in (ALICE, BOB):
        await book(db_factory, client, wheel)

    assert await check(db_factory) == []
    async with db_factory() as db:  # below the minimum after its check: it still runs
        booking = await db.scalar(select(Booking.id).where(Booking.client_id == BOB.id))
        await cancel_booking(
            db, client_id=BOB.id, booking_id=booking, now=CHECK + timedelta(hours=1), policy=POLICY
        )
    assert await check(db_factory, CHECK + timedelta(hours=2)) == []

    session = await session_row(db_factory, wheel)
    assert session.cancelled_at is None
    assert session.min_checked_at == CHECK
    assert await active(db_factory, wheel) == {ALICE.id}
    assert await summaries(db_factory) == []


async def test_nothing_is_checked_before_the_check_time_or_without_a_minimum(db_factory, wheel):
    hand = await session_at(db_factory, DEC_1, minimum=False)

    assert await check(db_factory, CHECK - timedelta(seconds=1)) == []
    assert (await session_row(db_factory, wheel)).min_checked_at is None
    assert [c.session_id for c in await check(db_factory)] == [wheel]
    assert (await session_row(db_factory, hand)).cancelled_at is None


async def test_a_session_kept_on_is_left_alone(db_factory, wheel):
    await book(db_factory, ALICE, wheel)
    async with db_factory() as db:
        await keep_on(db, session_id=wheel, staff_id=STAFF[0], now=CHECK - timedelta(hours=5))

    assert await check(db_factory) == []
    session = await session_row(db_factory, wheel)
    assert (session.cancelled_at, session.min_checked_at) == (None, None)
    assert (session.kept_on_at, session.kept_on_by) == (CHECK - timedelta(hours=5), STAFF[0])
    assert await active(db_factory, wheel) == {ALICE.id}


async def test_reaching_the_minimum_after_the_check_does_not_revive_the_session(db_factory, wheel):
    await book(db_factory, ALICE, wheel)
    await check(db_factory)

    later = CHECK + timedelta(hours=1)
    with pytest.raises(SessionCancelledByStaff):
        async with db_factory() as db:
            await book_or_wait(db, client=BOB, session_id=wheel, now=later, policy=POLICY)
    assert await check(db_factory, later) == []
    assert (await session_row(db_factory, wheel)).cancelled_at == CHECK
    assert await active(db_factory, wheel) == set()


async def test_a_session_staff_cancelled_before_the_check_is_only_marked_checked(db_factory, wheel):
    from domain.timetable.cancellation import CancelTerms, cancel_whole_session

    async with db_factory() as db:
        await cancel_whole_session(
            db,
            session_id=wheel,
            staff_id=STAFF[0],
            terms=CancelTerms(),
            now=BOOKED_AT,
            policy=POLICY,
        )

    assert await check(db_factory) == []
    assert await summaries(db_factory) == []


@pytest.mark.parametrize("runs", [2, 4])
async def test_concurrent_runs_of_the_check_cancel_the_session_once(db_factory, wheel, runs):
    await book(db_factory, ALICE, wheel)

    results = await asyncio.gather(*(check(db_factory) for _ in range(runs)))

    assert sorted(len(r) for r in results) == [0] * (runs - 1) + [1]
    assert [recipient for recipient, _ in await outbox_rows(db_factory, "staff_cancelled")] == [
        ALICE.id
    ]
    assert [staff for staff, _ in await summaries(db_factory)] == list(STAFF)


# --- Run it anyway --------------------------------------------------------------------------


async def test_run_it_anyway_is_refused_where_it_would_mean_nothing(db_factory, wheel):
    hand = await session_at(db_factory, DEC_1, minimum=False)
    early = CHECK - timedelta(hours=3)
    for client in (ALICE, BOB):
        await book(db_factory, client, wheel)

    async with db_factory() as db:
        with pytest.raises(NoMinimum):
            await keep_on(db, session_id=hand, staff_id=STAFF[0], now=early)
        with pytest.raises(MinimumReached):
            await keep_on(db, session_id=wheel, staff_id=STAFF[0], now=early)
        with pytest.raises(NotKeptOn):
            await undo_keep_on(db, session_id=wheel, staff_id=STAFF[0], now=early)
    assert (await session_row(db_factory, wheel)).kept_on_at is None


async def test_run_it_anyway_twice_keeps_on_once_and_is_undone_before_the_check(db_factory, wheel):
    early = CHECK - timedelta(hours=3)
    async with db_factory() as db:
        kept = await keep_on(db, session_id=wheel, staff_id=STAFF[0], now=early)
        with pytest.raises(AlreadyKeptOn):
            await keep_on(db, session_id=wheel, staff_id=STAFF[1], now=early)
        undone = await undo_keep_on(db, session_id=wheel, staff_id=STAFF[1], now=early)

    assert kept.kept_on_at == early
    assert undone.kept_on_at is None
    assert [c.session_id for c in await check(db_factory)] == [wheel]  # checked as usual


async def test_run_it_anyway_is_not_undone_past_the_check_time(db_factory, wheel):
    async with db_factory() as db:
        await keep_on(db, session_id=wheel, staff_id=STAFF[0], now=CHECK - timedelta(hours=3))
        with pytest.raises(MinimumCheckPassed):
            await undo_keep_on(db, session_id=wheel, staff_id=STAFF[0], now=CHECK)

    assert (await session_row(db_factory, wheel)).kept_on_at is not None


async def test_run_it_anyway_after_the_check_changes_nothing(db_factory, wheel):
    await book(db_factory, ALICE, wheel)
    for client in (BOB, CAROL):
        await book(db_factory, client, await session_at(db_factory, DEC_3, minimum=True))
    await check(db_factory)
    dec_3 = await session_at(db_factory, DEC_3, minimum=True)
    await check(db_factory, DEC_3 - timedelta(hours=1))  # reached: checked, runs

    async with db_factory() as db:
        with pytest.raises(SessionCancelledByStaff):
            await keep_on(db, session_id=wheel, staff_id=STAFF[0], now=CHECK)
        with pytest.raises(MinimumCheckPassed):
            await keep_on(
                db, session_id=dec_3, staff_id=STAFF[0], now=DEC_3 - timedelta(minutes=30)
            )
    assert (await session_row(db_factory, dec_3)).kept_on_at is None
