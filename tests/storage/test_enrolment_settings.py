"""Seed 003's enrolment settings: enrolments that wait for staff, and a note to the teacher."""

from __future__ import annotations

from unittest.mock import ANY

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from domain.booking.bookings import book_session
from domain.booking.ongoing import ClassWaitlisted, Enrolled, enrol_or_wait, leave_class
from domain.booking.rules import EnrolmentNotes
from domain.clients.record import ClientRef
from domain.desk.staff_bookings import book_client, confirm_enrolment
from domain.errors import AlreadyEnrolled, EnrolmentNotPending, NoteRequired, NoteTooLong
from domain.notices.events import EnrolledFromWaitlist, EnrolmentConfirmed
from domain.policy import Policy
from domain.storage.migrate import alembic_config
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    Client,
    Enrolment,
    Programme,
    ProgrammeClass,
    WaitlistEntry,
)
from tests.support.catalog import PRAGUE, load

ALICE, BOB, CAROL = ClientRef(1, "Alice"), ClientRef(2, "Bob"), ClientRef(3, "Carol")
CONFIRMED_BY_STAFF = Policy(zone=PRAGUE, enrolment_active_by_default=False)
ACTIVE_AT_ONCE = Policy(zone=PRAGUE)

STUDIO = """
programmes:
  - key: pottery
    title: Pottery course
    kind: ongoing
    classes:
      - key: tue
        title: Tuesday wheel
        capacity: 2
        sessions: [2026-12-01 18:00, 2026-12-08 18:00]
      - key: thu
        title: Thursday wheel
        capacity: 2
        sessions: [2026-12-03 18:00]
  - key: yoga
    title: Yoga
    classes:
      - key: flow
        title: Flow
        capacity: 5
        sessions: [2026-12-02 18:00, 2026-12-04 18:00]
"""


@pytest.fixture
async def studio(db_factory):
    await load(db_factory, STUDIO)


async def class_id(db_factory, key: str) -> int:
    async with db_factory() as db:
        return await db.scalar(select(ProgrammeClass.id).where(ProgrammeClass.key == key))


async def yoga_sessions(db_factory) -> list[int]:
    async with db_factory() as db:
        return list(
            await db.scalars(
                select(ClassSession.id)
                .join(ProgrammeClass)
                .where(ProgrammeClass.key == "flow")
                .order_by(ClassSession.starts_at)
            )
        )


async def enrol(db_factory, client, key, clock, policy=CONFIRMED_BY_STAFF, note=None):
    cls = await class_id(db_factory, key)
    async with db_factory() as db:
        return await enrol_or_wait(
            db, client=client, class_id=cls, now=clock(), policy=policy, note=note
        )


async def enrolments(db_factory) -> list[tuple[int, str, str | None]]:
    async with db_factory() as db:
        rows = await db.execute(
            select(Enrolment.client_id, Enrolment.status, Enrolment.notes).order_by(Enrolment.id)
        )
    return [tuple(row) for row in rows]


async def active_bookings(db_factory, client) -> int:
    async with db_factory() as db:
        return await db.scalar(
            select(func.count(Booking.id)).where(
                Booking.client_id == client.id, Booking.status == BookingStatus.ACTIVE
            )
        )


# --- enrolments that wait for staff ------------------------------------------------------


async def test_enrolling_in_a_class_books_its_sessions_and_waits_for_staff(
    db_factory, studio, clock
):
    enrolled = await enrol(db_factory, ALICE, "tue", clock)

    assert isinstance(enrolled, Enrolled)
    assert enrolled.pending
    assert await enrolments(db_factory) == [(ALICE.id, "pending", None)]
    assert await active_bookings(db_factory, ALICE) == 2  # the places are held
    async with db_factory() as db:
        assert await db.scalar(select(func.sum(ClassSession.seats_taken))) == 2


async def test_enrolments_are_active_at_once_by_default(db_factory, studio, clock):
    enrolled = await enrol(db_factory, ALICE, "tue", clock, policy=ACTIVE_AT_ONCE)

    assert not enrolled.pending
    assert await enrolments(db_factory) == [(ALICE.id, "active", None)]


async def test_a_first_pay_as_you_go_booking_enrols_pending_and_the_next_adds_nothing(
    db_factory, studio, clock
):
    dec_2, dec_4 = await yoga_sessions(db_factory)
    async with db_factory() as db:
        first = await book_session(
            db, client=ALICE, session_id=dec_2, now=clock(), policy=CONFIRMED_BY_STAFF
        )
    async with db_factory() as db:
        second = await book_session(
            db, client=ALICE, session_id=dec_4, now=clock(), policy=CONFIRMED_BY_STAFF
        )

    assert (first.enrolled, first.enrolment_pending) == (True, True)
    assert (second.enrolled, second.enrolment_pending) == (False, False)
    assert await enrolments(db_factory) == [(ALICE.id, "pending", None)]
    assert await active_bookings(db_factory, ALICE) == 2


async def test_a_client_booked_by_staff_needs_no_confirming(db_factory, studio, clock):
    dec_2, _ = await yoga_sessions(db_factory)
    async with db_factory() as db:
        db.add(Client(id=BOB.id, first_name="Bob", created_at=clock()))
        await db.commit()
    async with db_factory() as db:
        booked = await book_client(
            db, client_id=BOB.id, session_id=dec_2, now=clock(), policy=CONFIRMED_BY_STAFF
        )

    assert booked.enrolled
    assert not booked.enrolment_pending
    assert await enrolments(db_factory) == [(BOB.id, "active", None)]


async def test_staff_confirming_makes_a_pending_enrolment_active(db_factory, studio, clock):
    enrolled = await enrol(db_factory, ALICE, "tue", clock)

    async with db_factory() as db:
        event = await confirm_enrolment(db, enrolment_id=enrolled.enrolment_id, now=clock())

    assert event == EnrolmentConfirmed(ALICE.id, enrolled.enrolment_id)
    assert await enrolments(db_factory) == [(ALICE.id, "active", None)]
    async with db_factory() as db:
        assert (await db.get(Enrolment, enrolled.enrolment_id)).confirmed_at == clock()
    async with db_factory() as db:  # a second press, from another device
        with pytest.raises(EnrolmentNotPending):
            await confirm_enrolment(db, enrolment_id=enrolled.enrolment_id, now=clock())
    async with db_factory() as db:
        with pytest.raises(EnrolmentNotPending):
            await confirm_enrolment(db, enrolment_id=999_999, now=clock())


async def test_a_pending_enrolment_counts_as_the_one_enrolment_in_the_programme(
    db_factory, studio, clock
):
    await enrol(db_factory, ALICE, "tue", clock)

    with pytest.raises(AlreadyEnrolled):
        await enrol(db_factory, ALICE, "thu", clock)
    assert await enrolments(db_factory) == [(ALICE.id, "pending", None)]


@pytest.mark.parametrize("first", ["pending", "active"])
@pytest.mark.parametrize("second", ["pending", "active"])
async def test_the_database_holds_one_pending_or_active_enrolment_per_programme(
    db_factory, studio, clock, first, second
):
    async with db_factory() as db:
        programme_id = await db.scalar(select(Programme.id).where(Programme.key == "pottery"))
        db.add(Client(id=ALICE.id, first_name="Alice", created_at=clock()))
        for status in ("left", first):
            db.add(
                Enrolment(
                    client_id=ALICE.id, programme_id=programme_id, status=status, created_at=clock()
                )
            )
        await db.commit()
    async with db_factory() as db:
        db.add(
            Enrolment(
                client_id=ALICE.id, programme_id=programme_id, status=second, created_at=clock()
            )
        )
        with pytest.raises(IntegrityError):
            await db.commit()


async def test_a_pending_enrolment_can_be_left(db_factory, studio, clock):
    await enrol(db_factory, ALICE, "tue", clock)

    async with db_factory() as db:
        await leave_class(
            db,
            client_id=ALICE.id,
            class_id=await class_id(db_factory, "tue"),
            now=clock(),
            policy=CONFIRMED_BY_STAFF,
        )

    assert await enrolments(db_factory) == [(ALICE.id, "left", None)]
    assert await active_bookings(db_factory, ALICE) == 0
    assert isinstance(await enrol(db_factory, ALICE, "thu", clock), Enrolled)  # a new one


async def test_a_place_freed_in_a_class_enrols_the_waiting_client_pending_with_their_note(
    db_factory, studio, clock
):
    await enrol(db_factory, ALICE, "tue", clock)
    await enrol(db_factory, BOB, "tue", clock)
    waiting = await enrol(db_factory, CAROL, "tue", clock, note="I use a wheelchair")
    assert isinstance(waiting, ClassWaitlisted)
    async with db_factory() as db:
        assert await db.scalar(select(WaitlistEntry.notes)) == "I use a wheelchair"

    tue = await class_id(db_factory, "tue")
    async with db_factory() as db:
        events = await leave_class(
            db, client_id=ALICE.id, class_id=tue, now=clock(), policy=CONFIRMED_BY_STAFF
        )

    assert events == [EnrolledFromWaitlist(CAROL.id, tue, pending=True, entry_id=ANY)]
    assert (CAROL.id, "pending", "I use a wheelchair") in await enrolments(db_factory)


# --- the note to the teacher ------------------------------------------------------------


async def test_the_note_is_stored_with_the_enrolment_trimmed(db_factory, studio, clock):
    await enrol(db_factory, ALICE, "tue", clock, note="  Bad left knee, please go easy.\n")

    assert await enrolments(db_factory) == [(ALICE.id, "pending", "Bad left knee, please go easy.")]


async def test_a_note_of_500_characters_is_fine(db_factory, studio, clock):
    await enrol(db_factory, ALICE, "tue", clock, note="ü" * 500)

    assert await enrolments(db_factory) == [(ALICE.id, "pending", "ü" * 500)]


async def test_a_too_long_note_is_refused_and_nothing_is_written(db_factory, studio, clock):
    with pytest.raises(NoteTooLong) as refused:
        await enrol(db_factory, ALICE, "tue", clock, note="x" * 501)

    assert refused.value.params == {"max": 500, "length": 501}
    assert await enrolments(db_factory) == []
    assert await active_bookings(db_factory, ALICE) == 0
    async with db_factory() as db:
        assert await db.scalar(select(func.sum(ClassSession.seats_taken))) == 0
        assert await db.scalar(select(func.count(Client.id))) == 0


async def test_a_required_note_must_be_given(db_factory, studio, clock):
    required = Policy(zone=PRAGUE, enrolment_notes=EnrolmentNotes.REQUIRED)
    for blank in (None, "", "   "):
        with pytest.raises(NoteRequired):
            await enrol(db_factory, ALICE, "tue", clock, policy=required, note=blank)
    assert await enrolments(db_factory) == []

    await enrol(db_factory, ALICE, "tue", clock, policy=required, note="Beginner")
    assert await enrolments(db_factory) == [(ALICE.id, "active", "Beginner")]


async def test_with_notes_off_no_note_is_kept(db_factory, studio, clock):
    off = Policy(zone=PRAGUE, enrolment_notes=EnrolmentNotes.OFF)

    await enrol(db_factory, ALICE, "tue", clock, policy=off, note="x" * 600)

    assert await enrolments(db_factory) == [(ALICE.id, "active", None)]


# --- migration 0004 ---------------------------------------------------------------------


@pytest.mark.migrated_from_scratch
async def test_migration_0004_keeps_enrolments_and_comes_back_down(db_factory, clock):
    """From 0003 up (enrolments written before stay active), down (pending ones become
    active: 0003 knows no other open status) and up again."""

    def migrate(connection, direction: str, revision: str) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        getattr(command, direction)(config, revision)

    async def run(direction: str, revision: str) -> None:
        async with db_factory() as db:
            await (await db.connection()).run_sync(migrate, direction, revision)
            await db.commit()

    await run("downgrade", "0003")
    async with db_factory() as db:
        await db.execute(
            text(
                "INSERT INTO clients (id, first_name, rank, created_at) "
                "VALUES (1, 'Alice', 0, :now), (2, 'Bob', 0, :now)"
            ),
            {"now": clock().replace(tzinfo=None)},
        )
        await db.execute(
            text(
                "INSERT INTO programmes (key, title, description, kind, category, public, "
                "cancel_notice_hours, makeups_carry_over) "
                "VALUES ('p', 'P', '', 'payg', '', true, 24, false)"
            )
        )
        await db.execute(
            text(
                "INSERT INTO enrolments (client_id, programme_id, status, created_at) "
                "SELECT 1, id, 'active', :now FROM programmes"
            ),
            {"now": clock().replace(tzinfo=None)},
        )
        await db.commit()

    await run("upgrade", "head")
    assert await enrolments(db_factory) == [(1, "active", None)]
    async with db_factory() as db:
        programme_id = await db.scalar(select(Programme.id))
        db.add(
            Enrolment(client_id=2, programme_id=programme_id, status="pending", created_at=clock())
        )
        await db.commit()

    await run("downgrade", "0003")
    await run("upgrade", "head")
    assert await enrolments(db_factory) == [(1, "active", None), (2, "active", None)]
