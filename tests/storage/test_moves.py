"""Moving a booking (domain/booking/moves.py) on a real database: the booking moves in place,
so what paid it still does; the class's cut-off, fee and most moves; staff beyond capacity
within the overload; the old seat to the waiting list; reminders follow; someone else's
booking reads as missing; and under concurrency (200 clients into 10 places, two devices, a
cancel racing a move) the seats always match the bookings. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, insert, select, update

from domain.billing.payments import (
    InvoiceFor,
    ReceivedPayment,
    balance,
    booking_due,
    booking_item,
    record_payment,
)
from domain.booking import moves
from domain.booking.actor import Actor, Override
from domain.booking.bookings import (
    book_or_wait,
    book_session,
    cancel_booking,
    cancel_loaded,
    load_booking,
)
from domain.booking.ongoing import enrol_in_class
from domain.clients.record import ClientRef
from domain.errors import (
    AlreadyBooked,
    BookingAlreadyCancelled,
    BookingChanged,
    BookingNotFound,
    DayLimitReached,
    MoveNotAllowed,
    MovesUsedUp,
    MoveTargetFull,
    NotAMoveTarget,
    SessionCancelledByStaff,
    TooLateToChange,
)
from domain.notices.events import BookingMoved, SessionReminder
from domain.notices.rules import parse_reminder_offsets
from domain.policy import Policy
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    Client,
    ClientCourse,
    ClientPass,
    CourseUnit,
    OutboxMessage,
    OutboxState,
    PackageSlot,
    ProgrammeClass,
    WaitlistEntry,
    WaitStatus,
)
from domain.timetable import packages
from domain.timetable.cancellation import CancelTerms, cancel_whole_session
from tests.support.catalog import PRAGUE, load

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ALICE, BOB, CAROL = ClientRef(1001, "Alice"), ClientRef(1002, "Bob"), ClientRef(1003, "Carol")
POLICY = Policy(zone=PRAGUE, currency="EUR", reminders=parse_reminder_offsets("24h"))
STAFF = Actor.staff(9, reason=Override.DESK)

STUDIO = """
programmes:
  - key: yoga
    title: Yoga
    cancel_notice_hours: 24
    classes:
      - key: flow
        title: Flow
        capacity: 2
        max_overload: 1
        price: "20.00"
        reschedule_until: 12
        reschedule_fee: 25
        reschedules_max: 2
        sessions:
          - 2026-11-23 18:00
          - 2026-11-24 18:00
          - 2026-11-25 18:00
          - 2026-11-26 18:00
      - key: calm
        title: Calm
        capacity: 5
        price: "20.00"
        sessions: [2026-11-24 20:00]
      - key: fixed
        title: Fixed
        capacity: 5
        reschedules_max: 0
        sessions: [2026-11-24 09:00, 2026-11-25 09:00]
      - key: daily
        title: Daily
        capacity: 5
        max_per_day: 1
        sessions: [2026-11-24 08:00, 2026-11-24 12:00, 2026-11-25 08:00, 2026-11-25 12:00]
      - key: big
        title: Big
        capacity: 250
        sessions: [2026-11-27 18:00, 2026-11-28 18:00]
      - key: trio
        title: Trio
        capacity: 3
        package:
          sessions: 2
          price: "30.00"
          reschedule_until: 12
          reschedule_fee: 10
        sessions: [2026-11-23 10:00, 2026-11-24 10:00, 2026-11-25 10:00]
"""


@pytest.fixture
async def sessions(db_factory) -> dict[str, list[int]]:
    """Each class's session ids by start."""
    await load(db_factory, STUDIO)
    async with db_factory() as db:
        rows = await db.execute(
            select(ProgrammeClass.key, ClassSession.id)
            .join(ClassSession, ClassSession.class_id == ProgrammeClass.id)
            .order_by(ClassSession.starts_at)
        )
        found: dict[str, list[int]] = {}
        for key, session_id in rows:
            found.setdefault(key, []).append(session_id)
    return found


async def book(db_factory, client: ClientRef, session_id: int, now: datetime = NOW) -> int:
    async with db_factory() as db:
        booked = await book_session(
            db, client=client, session_id=session_id, now=now, policy=POLICY
        )
    return booked.card.id


async def move(db_factory, booking_id: int, target: int, actor: Actor, now: datetime = NOW):
    async with db_factory() as db:
        return await moves.move_booking(
            db,
            booking_id=booking_id,
            new_session_id=target,
            actor=actor,
            now=now,
            policy=POLICY,
        )


async def pay(db_factory, client: ClientRef, booking_id: int, minor: int = 2000) -> None:
    payload = InvoiceFor(booking_item(booking_id), minor, "EUR").payload()
    paid = ReceivedPayment(client.id, payload, minor, "EUR", f"ch-{booking_id}")
    async with db_factory() as db:
        await record_payment(db, paid, now=NOW, policy=POLICY)


async def booking(db_factory, booking_id: int) -> Booking:
    async with db_factory() as db:
        return await db.get(Booking, booking_id)


async def seats_match_bookings(db_factory) -> None:
    """Every session's seats_taken is its active bookings plus its open offers."""
    async with db_factory() as db:
        for session in await db.scalars(select(ClassSession)):
            active = await db.scalar(
                select(func.count(Booking.id)).where(
                    Booking.session_id == session.id, Booking.status == BookingStatus.ACTIVE
                )
            )
            offered = await db.scalar(
                select(func.count(WaitlistEntry.id)).where(
                    WaitlistEntry.session_id == session.id,
                    WaitlistEntry.status == WaitStatus.OFFERED,
                )
            )
            assert session.seats_taken == active + offered, session.id


async def test_a_paid_booking_moves_in_place_and_stays_paid(db_factory, sessions):
    flow = sessions["flow"]
    booking_id = await book(db_factory, ALICE, flow[0])
    await pay(db_factory, ALICE, booking_id)

    moved = await move(db_factory, booking_id, flow[2], Actor.client(ALICE.id))

    assert moved.booking_id == booking_id
    assert moved.session_id == flow[2]
    assert moved.sequence == 1
    assert moved.fee.minor == 500  # 25 % of 20.00
    row = await booking(db_factory, booking_id)
    assert row.session_id == flow[2]
    assert row.moves == 1
    assert row.status == BookingStatus.ACTIVE
    async with db_factory() as db:
        due = await booking_due(db, ALICE.id, booking_id)
        # the price stays paid; only the fee is to pay, nothing charged twice
        assert due.charged.minor == 2500
        assert due.due.minor == 500
        assert (await balance(db, ALICE.id, "EUR")).minor == 500
    await seats_match_bookings(db_factory)


async def test_the_pass_entry_that_paid_it_follows_the_booking(db_factory, sessions):
    flow = sessions["flow"]
    async with db_factory() as db:
        db.add(Client(id=ALICE.id, first_name="Alice", created_at=NOW))
        await db.flush()
        programme_id = await db.scalar(
            select(ProgrammeClass.programme_id).where(ProgrammeClass.key == "flow")
        )
        db.add(
            ClientPass(
                client_id=ALICE.id,
                programme_id=programme_id,
                title="5 visits",
                entries=5,
                used=0,
                expires_on=date(2026, 12, 31),
                bought_at=NOW,
                item="pass:test",
            )
        )
        await db.commit()
    booking_id = await book(db_factory, ALICE, flow[0])

    await move(db_factory, booking_id, flow[1], STAFF)

    row = await booking(db_factory, booking_id)
    assert row.pass_id is not None
    assert row.session_id == flow[1]
    async with db_factory() as db:
        assert (await db.get(ClientPass, row.pass_id)).used == 1
        assert await booking_due(db, ALICE.id, booking_id) is None  # no price charged


async def test_past_the_cut_off_a_client_cannot_move_but_staff_can_for_free(db_factory, sessions):
    flow = sessions["flow"]
    booking_id = await book(db_factory, ALICE, flow[0])
    late = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 11 hours before 18:00 Prague

    with pytest.raises(TooLateToChange) as refused:
        await move(db_factory, booking_id, flow[1], Actor.client(ALICE.id), now=late)
    assert refused.value.params["deadline"] == datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    assert (await booking(db_factory, booking_id)).session_id == flow[0]

    moved = await move(db_factory, booking_id, flow[1], STAFF, now=late)
    assert moved.fee.minor == 0
    async with db_factory() as db:
        told = await db.scalar(select(OutboxMessage).where(OutboxMessage.kind == BookingMoved.kind))
    assert told.recipient == ALICE.id


async def test_the_quote_says_until_when_moving_was_possible(db_factory, sessions):
    booking_id = await book(db_factory, ALICE, sessions["flow"][0])
    late = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    async with db_factory() as db:
        quote = await moves.move_quote(
            db, booking_id=booking_id, client_id=ALICE.id, now=late, policy=POLICY
        )
        foreign = await moves.move_quote(
            db, booking_id=booking_id, client_id=BOB.id, now=late, policy=POLICY
        )
    assert quote.allowed
    assert not quote.can_move
    assert quote.until == datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    assert foreign is None


async def test_a_booking_moves_at_most_reschedules_max_times(db_factory, sessions):
    flow = sessions["flow"]
    booking_id = await book(db_factory, ALICE, flow[0])
    await move(db_factory, booking_id, flow[1], Actor.client(ALICE.id))
    await move(db_factory, booking_id, flow[2], Actor.client(ALICE.id))

    with pytest.raises(MovesUsedUp):
        await move(db_factory, booking_id, flow[3], Actor.client(ALICE.id))
    assert (await booking(db_factory, booking_id)).session_id == flow[2]


async def test_a_class_with_reschedules_max_0_is_not_movable_by_clients(db_factory, sessions):
    fixed = sessions["fixed"]
    booking_id = await book(db_factory, ALICE, fixed[0])

    with pytest.raises(MoveNotAllowed):
        await move(db_factory, booking_id, fixed[1], Actor.client(ALICE.id))
    await move(db_factory, booking_id, fixed[1], STAFF)  # staff still may


async def test_someone_elses_booking_reads_as_missing_and_stays(db_factory, sessions):
    flow = sessions["flow"]
    booking_id = await book(db_factory, ALICE, flow[0])

    with pytest.raises(BookingNotFound):
        await move(db_factory, booking_id, flow[1], Actor.client(BOB.id))
    with pytest.raises(BookingNotFound):
        await move(db_factory, 999_999, flow[1], Actor.client(ALICE.id))
    async with db_factory() as db:
        assert (
            await moves.move_targets(
                db, booking_id=booking_id, actor=Actor.client(BOB.id), now=NOW, policy=POLICY
            )
            == []
        )
    assert (await booking(db_factory, booking_id)).session_id == flow[0]


async def test_another_class_or_a_session_already_held_is_refused(db_factory, sessions):
    flow = sessions["flow"]
    booking_id = await book(db_factory, ALICE, flow[0])
    await book(db_factory, ALICE, flow[1])

    with pytest.raises(NotAMoveTarget):
        await move(db_factory, booking_id, sessions["calm"][0], Actor.client(ALICE.id))
    with pytest.raises(NotAMoveTarget):
        await move(db_factory, booking_id, flow[0], Actor.client(ALICE.id))
    with pytest.raises(AlreadyBooked):
        await move(db_factory, booking_id, flow[1], Actor.client(ALICE.id))
    await seats_match_bookings(db_factory)


async def test_a_full_session_refuses_clients_but_staff_fill_the_overload(db_factory, sessions):
    flow = sessions["flow"]
    await book(db_factory, BOB, flow[1])
    await book(db_factory, CAROL, flow[1])
    booking_id = await book(db_factory, ALICE, flow[0])

    async with db_factory() as db:
        listed = await moves.move_targets(
            db, booking_id=booking_id, actor=Actor.client(ALICE.id), now=NOW, policy=POLICY
        )
        staff_listed = await moves.move_targets(
            db, booking_id=booking_id, actor=STAFF, now=NOW, policy=POLICY
        )
    assert flow[1] not in [t.id for t in listed]
    assert [(t.id, t.overload) for t in staff_listed if t.id == flow[1]] == [(flow[1], True)]
    with pytest.raises(MoveTargetFull):
        await move(db_factory, booking_id, flow[1], Actor.client(ALICE.id))
    assert (await booking(db_factory, booking_id)).session_id == flow[0]

    await move(db_factory, booking_id, flow[1], STAFF)
    async with db_factory() as db:
        assert (await db.get(ClassSession, flow[1])).seats_taken == 3
    await seats_match_bookings(db_factory)


async def test_the_old_seat_goes_to_the_waiting_list(db_factory, sessions):
    flow = sessions["flow"]
    alice = await book(db_factory, ALICE, flow[0])
    await book(db_factory, BOB, flow[0])
    async with db_factory() as db:
        waited = await book_or_wait(db, client=CAROL, session_id=flow[0], now=NOW, policy=POLICY)
    assert waited.position == 1

    moved = await move(db_factory, alice, flow[1], Actor.client(ALICE.id))

    async with db_factory() as db:
        carol = await db.scalar(
            select(Booking).where(Booking.client_id == CAROL.id, Booking.session_id == flow[0])
        )
    assert carol is not None
    assert carol.status == BookingStatus.ACTIVE
    assert any(e.kind == "promoted" for e in moved.events)
    await seats_match_bookings(db_factory)


async def test_reminders_follow_the_booking_to_its_new_time(db_factory, sessions):
    flow = sessions["flow"]
    booking_id = await book(db_factory, ALICE, flow[0])

    moved = await move(db_factory, booking_id, flow[2], Actor.client(ALICE.id))

    async with db_factory() as db:
        rows = (
            await db.execute(
                select(OutboxMessage.state, OutboxMessage.due_at).where(
                    OutboxMessage.booking_id == booking_id,
                    OutboxMessage.kind == SessionReminder.kind,
                )
            )
        ).all()
    pending = [due for state, due in rows if state == OutboxState.PENDING]
    assert pending == [datetime(2026, 11, 24, 17, 0, tzinfo=UTC)]  # 24 h before 25 Nov 18:00
    assert moved.starts_at == datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    assert [state for state, _ in rows].count(OutboxState.CANCELLED) == 1

    # moved back: the first time's reminder is pending again, not lost to its dedupe key
    await move(db_factory, booking_id, flow[0], Actor.client(ALICE.id))
    async with db_factory() as db:
        pending = await db.scalars(
            select(OutboxMessage.due_at).where(
                OutboxMessage.booking_id == booking_id,
                OutboxMessage.kind == SessionReminder.kind,
                OutboxMessage.state == OutboxState.PENDING,
            )
        )
        assert list(pending) == [datetime(2026, 11, 22, 17, 0, tzinfo=UTC)]


async def test_a_package_session_moves_under_its_package_policy(db_factory, sessions):
    trio = sessions["trio"]
    async with db_factory() as db:
        view = await packages.book_package(
            db,
            client=ALICE,
            class_id=(await db.get(ClassSession, trio[0])).class_id,
            session_ids=trio[:2],
            now=NOW,
            policy=POLICY,
        )
    first = view.slots[0]

    moved = await move(db_factory, first.booking_id, trio[2], Actor.client(ALICE.id))

    assert moved.package_id == view.id
    assert moved.slot == 1
    assert moved.booking_id != first.booking_id  # a package slot's move is a new booking
    assert moved.fee.minor == 150  # the package's 10 % of 30.00 / 2
    assert moved.sequence == 1


async def test_two_devices_of_one_client_move_a_booking_once(db_factory, sessions):
    flow = sessions["flow"]
    booking_id = await book(db_factory, ALICE, flow[0])

    async def attempt(target):
        try:
            await move(db_factory, booking_id, target, Actor.client(ALICE.id))
        except (BookingChanged, MoveTargetFull):
            return "refused"
        return "moved"

    outcomes = await asyncio.gather(attempt(flow[1]), attempt(flow[2]), attempt(flow[3]))

    assert outcomes.count("moved") == 1
    assert (await booking(db_factory, booking_id)).moves == 1
    await seats_match_bookings(db_factory)


async def race_move_and_cancel(db_factory, client_id: int, booking_id: int, target: int):
    async def moving():
        try:
            await move(db_factory, booking_id, target, STAFF)
        except (BookingChanged, BookingAlreadyCancelled):
            return "refused"
        return "moved"

    async def cancelling():
        try:
            async with db_factory() as db:
                await cancel_booking(
                    db, client_id=client_id, booking_id=booking_id, now=NOW, policy=POLICY
                )
        except BookingAlreadyCancelled:
            return "refused"
        return "cancelled"

    return await asyncio.gather(moving(), cancelling())


async def test_a_move_racing_a_cancel_of_the_same_booking_leaves_one_consistent_state(
    db_factory, sessions
):
    flow = sessions["flow"]
    for round_ in range(4):
        client = ClientRef(3000 + round_, "R")
        booking_id = await book(db_factory, client, flow[0])

        outcomes = await race_move_and_cancel(
            db_factory, client.id, booking_id, flow[1 + round_ % 3]
        )

        row = await booking(db_factory, booking_id)
        assert sorted(outcomes) in (["moved", "refused"], ["cancelled", "refused"])
        if "moved" in outcomes:
            assert row.status == BookingStatus.ACTIVE
            assert row.session_id != flow[0]
        else:
            assert row.status == BookingStatus.CANCELLED
            assert row.session_id == flow[0]
        await seats_match_bookings(db_factory)


async def test_200_clients_moving_into_10_places_at_once_move_exactly_10(db_factory, sessions):
    source, target = sessions["big"]
    clients = list(range(5000, 5200))
    async with db_factory() as db:
        await db.execute(
            insert(Client), [{"id": c, "first_name": "", "created_at": NOW} for c in clients]
        )
        await db.execute(
            insert(Booking),
            [{"session_id": source, "client_id": c, "created_at": NOW} for c in clients],
        )
        await db.execute(
            update(ClassSession).where(ClassSession.id == source).values(seats_taken=200)
        )
        # 240 of the target's 250 places are held by others: 10 are left
        await db.execute(
            update(ClassSession).where(ClassSession.id == target).values(seats_taken=240)
        )
        await db.commit()
        ids = dict(
            (
                await db.execute(
                    select(Booking.client_id, Booking.id).where(Booking.session_id == source)
                )
            ).all()
        )

    async def attempt(client_id):
        try:
            await move(db_factory, ids[client_id], target, Actor.client(client_id))
        except MoveTargetFull:
            return "full"
        return "moved"

    outcomes = await asyncio.gather(*(attempt(c) for c in clients))

    assert outcomes.count("moved") == 10
    assert outcomes.count("full") == 190
    async with db_factory() as db:
        assert (await db.get(ClassSession, target)).seats_taken == 250
        assert (await db.get(ClassSession, source)).seats_taken == 190
        still = await db.scalar(
            select(func.count(Booking.id)).where(
                Booking.session_id == source,
                Booking.status == BookingStatus.ACTIVE,
                Booking.moves == 0,
            )
        )
        assert still == 190


async def test_a_move_keeps_to_the_classs_per_day_limit_counting_other_bookings(
    db_factory, sessions
):
    daily = sessions["daily"]
    booking_id = await book(db_factory, ALICE, daily[0])
    await book(db_factory, ALICE, daily[2])

    # within its own day: the booking itself doesn't count against it
    await move(db_factory, booking_id, daily[1], Actor.client(ALICE.id))
    with pytest.raises(DayLimitReached):  # Nov 25 already holds her other booking
        await move(db_factory, booking_id, daily[3], Actor.client(ALICE.id))
    assert (await booking(db_factory, booking_id)).session_id == daily[1]


ONGOING = """
billing_periods:
  - {key: winter, name: Winter, from: 2026-09-01, until: 2026-12-31}
  - {key: spring, name: Spring, from: 2027-01-01, until: 2027-06-30}
programmes:
  - key: pottery
    title: Pottery course
    kind: ongoing
    classes:
      - key: tue
        title: Tuesday wheel
        capacity: 2
        sessions: [2026-12-01 18:00, 2026-12-29 18:00]
      - key: thu
        title: Thursday wheel
        capacity: 2
        sessions: [2026-12-03 18:00, 2027-01-07 18:00]
"""


async def test_an_ongoing_class_session_moves_within_its_programme_and_billing_period(
    db_factory,
):
    await load(db_factory, ONGOING)
    async with db_factory() as db:
        ids = dict((await db.execute(select(ClassSession.starts_at, ClassSession.id))).all())
        tue = await db.scalar(select(ProgrammeClass.id).where(ProgrammeClass.key == "tue"))
        await enrol_in_class(db, client=ALICE, class_id=tue, now=NOW, policy=POLICY)
    by_day = {starts.date().isoformat(): session_id for starts, session_id in ids.items()}
    async with db_factory() as db:
        dec_1 = await db.scalar(
            select(Booking.id).where(Booking.session_id == by_day["2026-12-01"])
        )
        listed = await moves.move_targets(
            db, booking_id=dec_1, actor=Actor.client(ALICE.id), now=NOW, policy=POLICY
        )
    # Thursday's class of the same period; not her own Dec 29, not January (another period)
    assert [t.id for t in listed] == [by_day["2026-12-03"]]

    with pytest.raises(NotAMoveTarget):
        await move(db_factory, dec_1, by_day["2027-01-07"], Actor.client(ALICE.id))
    moved = await move(db_factory, dec_1, by_day["2026-12-03"], Actor.client(ALICE.id))

    assert moved.session_id == by_day["2026-12-03"]
    row = await booking(db_factory, dec_1)
    assert row.enrolment_id is not None  # still a session of her enrolment
    await seats_match_bookings(db_factory)


async def test_the_course_unit_that_paid_it_follows_and_its_expiry_bounds_the_move(
    db_factory, sessions
):
    flow = sessions["flow"]
    async with db_factory() as db:
        db.add(Client(id=ALICE.id, first_name="Alice", created_at=NOW))
        programme_id = await db.scalar(
            select(ProgrammeClass.programme_id).where(ProgrammeClass.key == "flow")
        )
        course = ClientCourse(
            client_id=ALICE.id,
            title="Flow ×2",
            price_minor=3000,
            expires_on=date(2026, 11, 25),  # the last day it is good for
            late_policy="forfeit",
            bought_at=NOW,
            item="course:test",
        )
        db.add(course)
        await db.flush()
        for position in (1, 2):
            db.add(CourseUnit(course_id=course.id, position=position, programme_id=programme_id))
        await db.commit()
        booked = await book_session(
            db, client=ALICE, session_id=flow[0], now=NOW, policy=POLICY, course_id=course.id
        )
    booking_id = booked.card.id

    await move(db_factory, booking_id, flow[2], Actor.client(ALICE.id))  # Nov 25: still valid
    with pytest.raises(NotAMoveTarget):  # Nov 26: past the course
        await move(db_factory, booking_id, flow[3], Actor.client(ALICE.id))

    async with db_factory() as db:
        units = list(await db.scalars(select(CourseUnit).order_by(CourseUnit.position)))
        due = await booking_due(db, ALICE.id, booking_id)
    assert due.charged.minor == 500  # the class's move fee only: the unit still pays the price
    assert [(u.state, u.booking_id) for u in units] == [("booked", booking_id), ("free", None)]
    assert (await booking(db_factory, booking_id)).session_id == flow[2]


async def test_a_cancel_that_read_the_booking_before_a_move_changes_nothing(db_factory, sessions):
    flow = sessions["flow"]
    booking_id = await book(db_factory, ALICE, flow[0])
    async with db_factory() as cancelling:
        stale = await load_booking(cancelling, booking_id)  # still at its first session
        await cancelling.commit()
        await move(db_factory, booking_id, flow[1], Actor.client(ALICE.id))

        with pytest.raises(BookingAlreadyCancelled):
            await cancel_loaded(cancelling, stale, NOW, POLICY)
        await cancelling.rollback()

    row = await booking(db_factory, booking_id)
    assert row.status == BookingStatus.ACTIVE
    assert row.session_id == flow[1]
    await seats_match_bookings(db_factory)


async def test_staff_move_a_package_session_past_its_cut_off_recorded_as_an_override(
    db_factory, sessions
):
    trio = sessions["trio"]
    async with db_factory() as db:
        view = await packages.book_package(
            db,
            client=ALICE,
            class_id=(await db.get(ClassSession, trio[0])).class_id,
            session_ids=trio[:2],
            now=NOW,
            policy=POLICY,
        )
    late = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # an hour before the first session

    moved = await move(db_factory, view.slots[0].booking_id, trio[2], STAFF, now=late)

    assert moved.fee.minor == 0
    assert [type(e).__name__ for e in moved.events][-1] == "PackageChanged"
    async with db_factory() as db:
        slot = await db.get(PackageSlot, moved.booking_id)
    assert slot.override_by == 9


async def test_a_session_cancelled_by_staff_is_no_target_and_is_not_listed(db_factory, sessions):
    flow = sessions["flow"]
    booking_id = await book(db_factory, ALICE, flow[0])
    async with db_factory() as db:
        await cancel_whole_session(
            db, session_id=flow[2], staff_id=9, terms=CancelTerms(), now=NOW, policy=POLICY
        )
    async with db_factory() as db:
        listed = await moves.move_targets(
            db, booking_id=booking_id, actor=Actor.client(ALICE.id), now=NOW, policy=POLICY
        )

    assert flow[2] not in [target.id for target in listed]
    assert flow[1] in [target.id for target in listed]
    for actor in (Actor.client(ALICE.id), STAFF):
        with pytest.raises(SessionCancelledByStaff):
            await move(db_factory, booking_id, flow[2], actor)
    row = await booking(db_factory, booking_id)
    assert (row.session_id, row.status, row.moves) == (flow[0], BookingStatus.ACTIVE, 0)
    await seats_match_bookings(db_factory)
