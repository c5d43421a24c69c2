"""The notification outbox on a real database: rows are written, cancelled and moved in the
transaction of the change that causes them; claims are exclusive leases; unanswered bookings
are released. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from domain.booking.bookings import book_or_wait, book_session, cancel_booking
from domain.booking.ongoing import enrol_or_wait, leave_class
from domain.clients.record import ClientRef
from domain.errors import BookingNotFound, SessionFull
from domain.notices import batch, outbox
from domain.notices.events import EnrolmentConfirmed, Promoted, SessionReminder
from domain.notices.reminders import confirm_attendance, release_unconfirmed
from domain.policy import Policy
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    OutboxMessage,
    ProgrammeClass,
)
from tests.support.catalog import PRAGUE, load

ALICE, BOB, CAROL = ClientRef(1, "Alice"), ClientRef(2, "Bob"), ClientRef(3, "Carol")
STAFF = 900
POLICY = Policy(zone=PRAGUE, staff_ids=(STAFF,))
# 2026-12-01 18:00 in Prague (CET)
DEC_1 = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)

CLASS = """
programmes:
  - key: pottery
    title: Pottery course
    kind: ongoing
    classes:
      - key: tue
        title: Tuesday wheel
        capacity: 2
        sessions: [2026-12-01 18:00, 2026-12-08 18:00]
"""


async def rows(db_factory, **where) -> list[tuple]:
    """(kind, recipient, state, due_at) of the outbox, oldest first."""
    async with db_factory() as db:
        query = select(
            OutboxMessage.kind, OutboxMessage.recipient, OutboxMessage.state, OutboxMessage.due_at
        ).order_by(OutboxMessage.due_at, OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return [tuple(row) for row in await db.execute(query)]


async def dec_1(db_factory) -> int:
    async with db_factory() as db:
        return await db.scalar(select(ClassSession.id).where(ClassSession.starts_at == DEC_1))


async def book(db_factory, client, session_id, now, policy=POLICY):
    async with db_factory() as db:
        return await book_or_wait(db, client=client, session_id=session_id, now=now, policy=policy)


async def booking_of(db_factory, client) -> int:
    async with db_factory() as db:
        return await db.scalar(select(Booking.id).where(Booking.client_id == client.id))


@pytest.fixture
async def yoga(db_factory):
    await load(db_factory)
    return await dec_1(db_factory)


async def test_booking_schedules_its_reminders_in_the_same_transaction(db_factory, yoga, clock):
    await book(db_factory, ALICE, yoga, clock())

    assert await rows(db_factory) == [
        ("reminder", ALICE.id, "pending", DEC_1 - timedelta(hours=24)),
        ("reminder", ALICE.id, "pending", DEC_1 - timedelta(hours=2)),
    ]


async def test_a_booking_made_late_gets_only_the_reminders_still_ahead(db_factory, yoga, clock):
    await book(db_factory, ALICE, yoga, DEC_1 - timedelta(hours=5))

    assert await rows(db_factory) == [("reminder", ALICE.id, "pending", DEC_1 - timedelta(hours=2))]


async def test_no_reminders_when_the_business_turned_them_off(db_factory, yoga, clock):
    await book(db_factory, ALICE, yoga, clock(), policy=Policy(zone=PRAGUE, reminders=()))

    assert await rows(db_factory) == []


async def test_a_refused_booking_writes_nothing_to_the_outbox(db_factory, yoga, clock):
    for client in (ALICE, BOB):  # capacity 2
        await book(db_factory, client, yoga, clock())
    before = await rows(db_factory)

    with pytest.raises(SessionFull):
        async with db_factory() as db:
            await book_session(db, client=CAROL, session_id=yoga, now=clock(), policy=POLICY)

    assert await rows(db_factory) == before


async def test_a_failed_commit_takes_the_cancellation_and_its_messages_with_it(
    db_factory, yoga, clock
):
    await book(db_factory, ALICE, yoga, clock())
    await book(db_factory, BOB, yoga, clock())
    await book(db_factory, CAROL, yoga, clock())  # waiting
    before = await rows(db_factory)

    class Crash(Exception):
        pass

    async with db_factory() as db:

        async def commit_fails() -> None:
            raise Crash

        db.commit = commit_fails  # the process dies at the commit
        with pytest.raises(Crash):
            await cancel_booking(
                db,
                client_id=ALICE.id,
                booking_id=await booking_of(db_factory, ALICE),
                now=DEC_1 - timedelta(hours=3),
                policy=POLICY,
            )
        await db.rollback()

    assert await rows(db_factory) == before  # no staff notice, no promotion notice
    async with db_factory() as db:
        statuses = sorted(await db.scalars(select(Booking.status)))
    assert statuses == [BookingStatus.ACTIVE] * 2


async def test_cancelling_cancels_the_reminders_and_tells_staff_when_close(db_factory, yoga, clock):
    await book(db_factory, ALICE, yoga, clock())
    await book(db_factory, BOB, yoga, clock())
    await book(db_factory, CAROL, yoga, clock())  # waiting: auto promotion
    now = DEC_1 - timedelta(hours=3)  # the 24 h reminders went out already

    async with db_factory() as db:
        await db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.due_at <= now)
            .values(state="sent", sent_at=now)
        )
        await db.commit()
        await cancel_booking(
            db,
            client_id=ALICE.id,
            booking_id=await booking_of(db_factory, ALICE),
            now=now,
            policy=POLICY,
        )

    alice = await rows(db_factory, recipient=ALICE.id)
    assert alice == [
        ("reminder", ALICE.id, "sent", DEC_1 - timedelta(hours=24)),  # history stays
        ("reminder", ALICE.id, "cancelled", DEC_1 - timedelta(hours=2)),
    ]
    assert await rows(db_factory, recipient=STAFF) == [("late_cancellation", STAFF, "pending", now)]
    # Carol got the place: told now, and reminded 2 h before like everyone else
    assert await rows(db_factory, recipient=CAROL.id) == [
        ("promoted", CAROL.id, "pending", now),
        ("reminder", CAROL.id, "pending", DEC_1 - timedelta(hours=2)),
    ]


async def test_staff_are_not_told_of_cancellations_well_ahead(db_factory, yoga, clock):
    await book(db_factory, ALICE, yoga, clock())
    async with db_factory() as db:
        await cancel_booking(
            db,
            client_id=ALICE.id,
            booking_id=await booking_of(db_factory, ALICE),
            now=DEC_1 - timedelta(hours=30),
            policy=POLICY,
        )

    assert await rows(db_factory, recipient=STAFF) == []


async def test_leaving_a_class_cancels_the_reminders_of_every_future_session(db_factory, clock):
    await load(db_factory, CLASS)
    async with db_factory() as db:
        class_id = await db.scalar(select(ProgrammeClass.id))
        await enrol_or_wait(db, client=ALICE, class_id=class_id, now=clock(), policy=POLICY)
    assert [r[2] for r in await rows(db_factory)] == ["pending"] * 4  # 2 sessions x 2

    async with db_factory() as db:
        await leave_class(
            db,
            client_id=ALICE.id,
            class_id=class_id,
            now=DEC_1 - timedelta(hours=4),
            policy=POLICY,
        )

    states = [(kind, state) for kind, _, state, _ in await rows(db_factory)]
    # the 24 h reminder of Dec 1 was due already but not sent: it goes too
    assert sorted(states) == [("late_cancellation", "pending")] + [("reminder", "cancelled")] * 4


async def test_moving_a_booking_moves_its_reminders(db_factory, yoga, clock):
    await book(db_factory, ALICE, yoga, clock())
    booking_id = await booking_of(db_factory, ALICE)
    later = DEC_1 + timedelta(days=2)

    async with db_factory() as db:
        await outbox.move(db, outbox.BookedSeat(booking_id, ALICE.id, later), clock(), POLICY)
        await db.commit()

    assert [(state, due) for _, _, state, due in await rows(db_factory)] == [
        ("cancelled", DEC_1 - timedelta(hours=24)),
        ("cancelled", DEC_1 - timedelta(hours=2)),
        ("pending", later - timedelta(hours=24)),
        ("pending", later - timedelta(hours=2)),
    ]


async def test_recording_the_same_happening_twice_makes_one_row(db_factory, clock):
    event = EnrolmentConfirmed(ALICE.id, 7)
    for _ in range(2):
        async with db_factory() as db:
            await outbox.record(db, [event, event], clock())
            await db.commit()

    assert await rows(db_factory) == [("enrolment_confirmed", ALICE.id, "pending", clock())]


async def put_due(db_factory, count: int, now: datetime) -> None:
    async with db_factory() as db:
        await outbox.put_many(
            db,
            [(Promoted(n, n), now - timedelta(seconds=count - n)) for n in range(1, count + 1)],
            now=now,
        )
        await db.commit()


async def claim(db_factory, now, limit=10, lease=60) -> list[outbox.Claimed]:
    async with db_factory() as db:
        return await outbox.claim_due(db, now, limit=limit, lease=timedelta(seconds=lease))


async def test_a_claim_takes_due_rows_oldest_first_and_nobody_else_gets_them(db_factory, clock):
    await put_due(db_factory, 5, clock())
    async with db_factory() as db:  # not due yet
        await outbox.put(db, Promoted(99, 99), due_at=clock() + timedelta(minutes=1), now=clock())
        await db.commit()

    first = await claim(db_factory, clock(), limit=3)
    second = await claim(db_factory, clock(), limit=10)

    assert [c.event for c in first] == [Promoted(n, n) for n in (1, 2, 3)]
    assert [c.event for c in second] == [Promoted(n, n) for n in (4, 5)]
    assert await claim(db_factory, clock()) == []
    assert {c.attempts for c in first + second} == {1}


async def test_rows_of_a_dispatcher_that_died_are_claimed_again_after_the_lease(db_factory, clock):
    await put_due(db_factory, 2, clock())
    await claim(db_factory, clock(), lease=60)  # ... and the process is killed

    assert await claim(db_factory, clock() + timedelta(seconds=59)) == []
    again = await claim(db_factory, clock() + timedelta(seconds=61))

    assert [(c.event, c.attempts) for c in again] == [(Promoted(1, 1), 2), (Promoted(2, 2), 2)]


async def test_sent_rows_are_never_claimed_again_and_given_back_rows_are(db_factory, clock):
    await put_due(db_factory, 3, clock())
    one, two, three = await claim(db_factory, clock())
    async with db_factory() as db:
        await outbox.mark_sent(db, [one.id], clock())
        await outbox.release(db, [two.id])
        await outbox.mark_failed(db, three.id, "Forbidden: bot was blocked by the user", clock())

    later = clock() + timedelta(hours=1)
    assert [(c.id, c.attempts) for c in await claim(db_factory, later)] == [(two.id, 1)]
    async with db_factory() as db:
        failed = await db.get(OutboxMessage, three.id)
    assert (failed.state, failed.error) == ("failed", "Forbidden: bot was blocked by the user")


async def test_a_row_this_code_cannot_read_fails_instead_of_blocking_the_queue(db_factory, clock):
    await put_due(db_factory, 1, clock())
    async with db_factory() as db:
        await db.execute(update(OutboxMessage).values(kind="carrier_pigeon"))
        await db.commit()

    assert await claim(db_factory, clock()) == []
    assert [r[2] for r in await rows(db_factory)] == ["failed"]


# --- answering and not answering reminders ---------------------------------------------------

RELEASE_12H = Policy(zone=PRAGUE, staff_ids=(STAFF,), release_unconfirmed_hours=12)


async def remind_sent(db_factory, now: datetime) -> None:
    async with db_factory() as db:
        await db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.kind == SessionReminder.kind, OutboxMessage.due_at <= now)
            .values(state="sent", sent_at=now)
        )
        await db.commit()


async def statuses(db_factory) -> dict[int, str]:
    async with db_factory() as db:
        return dict((await db.execute(select(Booking.client_id, Booking.status))).all())


async def test_an_unanswered_reminder_releases_the_booking_at_the_deadline(db_factory, yoga, clock):
    for client in (ALICE, BOB, CAROL):  # Carol waits
        await book(db_factory, client, yoga, clock(), policy=RELEASE_12H)
    await remind_sent(db_factory, DEC_1 - timedelta(hours=24))
    async with db_factory() as db:
        await confirm_attendance(
            db,
            client_id=BOB.id,
            booking_id=await booking_of(db_factory, BOB),
            now=DEC_1 - timedelta(hours=20),
        )

        assert await release_unconfirmed(db, DEC_1 - timedelta(hours=13), RELEASE_12H) == []
        events = await release_unconfirmed(db, DEC_1 - timedelta(hours=12), RELEASE_12H)

    assert {type(e).__name__ for e in events} == {"BookingReleased", "Promoted"}
    assert (await statuses(db_factory))[ALICE.id] == BookingStatus.CANCELLED
    assert [r[:3] for r in await rows(db_factory, kind="released")] == [
        ("released", ALICE.id, "pending")
    ]
    assert [r[:3] for r in await rows(db_factory, kind="promoted")] == [
        ("promoted", CAROL.id, "pending")
    ]
    assert [r[:3] for r in await rows(db_factory, recipient=STAFF)] == [
        ("late_cancellation", STAFF, "pending")
    ]
    active = {c for c, s in (await statuses(db_factory)).items() if s == BookingStatus.ACTIVE}
    assert active == {BOB.id, CAROL.id}


async def test_a_booking_never_asked_is_not_released(db_factory, yoga, clock):
    # booked 5 h before: no 24 h reminder went out before the 12 h deadline
    await book(db_factory, ALICE, yoga, DEC_1 - timedelta(hours=30), policy=RELEASE_12H)
    async with db_factory() as db:
        assert await release_unconfirmed(db, DEC_1 - timedelta(hours=11), RELEASE_12H) == []
    assert (await statuses(db_factory))[ALICE.id] == BookingStatus.ACTIVE


async def test_without_a_release_setting_nothing_is_released(db_factory, yoga, clock):
    await book(db_factory, ALICE, yoga, clock())
    await remind_sent(db_factory, DEC_1)
    async with db_factory() as db:
        assert await release_unconfirmed(db, DEC_1 - timedelta(hours=1), POLICY) == []
    assert (await statuses(db_factory))[ALICE.id] == BookingStatus.ACTIVE


async def test_nobody_confirms_someone_elses_booking(db_factory, yoga, clock):
    await book(db_factory, ALICE, yoga, clock())
    async with db_factory() as db:
        with pytest.raises(BookingNotFound):
            await confirm_attendance(
                db,
                client_id=BOB.id,
                booking_id=await booking_of(db_factory, ALICE),
                now=clock(),
            )
        booking = await db.scalar(select(Booking))
    assert booking.confirmed_at is None


@contextmanager
def statements_sent(db):
    """The SQL the unit of work ``db`` sends to the database meanwhile."""
    sent: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        sent.append(statement)

    engine = db.bind.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_preloaded_batch_is_rendered_without_reading_again(db_factory, yoga, clock):
    dana = ClientRef(4, "Dana", "cs")
    for client in (ALICE, dana):
        await book(db_factory, client, yoga, clock())
    alices, danas = await booking_of(db_factory, ALICE), await booking_of(db_factory, dana)
    events = [
        SessionReminder(ALICE.id, alices, DEC_1, "24h"),
        SessionReminder(dana.id, danas, DEC_1, "24h"),
    ]

    async with db_factory() as db:
        with statements_sent(db) as preloading:
            await batch.preload(db, events)
        with statements_sent(db) as rendering:
            cards = [await batch.booking_card(db, e.booking_id, e.client_id) for e in events]
            recipients = [await batch.recipient(db, e.recipient) for e in events]
            someone_elses = await batch.booking_card(db, danas, ALICE.id)

    assert len(preloading) == 2  # the recipients, then the bookings with their sessions
    assert rendering == []
    assert [(c.id, c.class_title, c.starts_at, c.is_active) for c in cards] == [
        (alices, "Morning flow", DEC_1, True),
        (danas, "Morning flow", DEC_1, True),
    ]
    assert recipients == [batch.Recipient(None, None), batch.Recipient("cs", None)]
    assert someone_elses is None
