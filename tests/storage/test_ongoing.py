"""Ongoing classes (enrol for every remaining session), their waiting list, and make-ups."""

from __future__ import annotations

from datetime import date
from unittest.mock import ANY

import pytest
from sqlalchemy import func, select, update

from domain.booking.bookings import book_session, cancel_booking, take_offer
from domain.booking.makeups import UsableCredit, book_with_makeup, usable_credit
from domain.booking.ongoing import (
    ClassWaitlisted,
    Enrolled,
    enrol_in_class,
    enrol_or_wait,
    leave_class,
)
from domain.clients.record import ClientRef
from domain.desk import staff_views
from domain.desk.staff_bookings import book_from_waitlist
from domain.errors import (
    AlreadyEnrolled,
    ClassFull,
    MakeupNotUsable,
    NeedsEnrolment,
    NotEnrolled,
    RankTooLow,
)
from domain.notices.events import EnrolledFromWaitlist, SpotOffered
from domain.policy import DEFAULT_POLICY, Policy
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    Client,
    MakeupCredit,
    ProgrammeClass,
)
from tests.support.catalog import PRAGUE, load

ALICE, BOB, CAROL = ClientRef(1, "Alice"), ClientRef(2, "Bob"), ClientRef(3, "Carol")
POLICY = Policy(zone=PRAGUE)

POTTERY = """
billing_periods:
  - {key: winter, name: Winter, from: 2026-09-01, until: 2026-12-31}
  - {key: spring, name: Spring, from: 2027-01-01, until: 2027-06-30}
programmes:
  - key: pottery
    title: Pottery course
    kind: ongoing
    cancel_notice_hours: 24
    classes:
      - key: tue
        title: Tuesday wheel
        capacity: 2
        sessions: [2026-11-17 18:00, 2026-12-01 18:00, 2026-12-08 18:00, 2026-12-15 18:00]
      - key: thu
        title: Thursday wheel
        capacity: 2
        sessions: [2026-12-03 18:00, 2026-12-10 18:00]
"""


async def class_id(db_factory, key: str) -> int:
    async with db_factory() as db:
        return await db.scalar(select(ProgrammeClass.id).where(ProgrammeClass.key == key))


async def session_ids(db_factory, key: str) -> list[int]:
    async with db_factory() as db:
        return list(
            await db.scalars(
                select(ClassSession.id)
                .join(ProgrammeClass)
                .where(ProgrammeClass.key == key)
                .order_by(ClassSession.starts_at)
            )
        )


async def active(db_factory, client) -> list[int]:
    async with db_factory() as db:
        return sorted(
            await db.scalars(
                select(Booking.session_id).where(
                    Booking.client_id == client.id, Booking.status == BookingStatus.ACTIVE
                )
            )
        )


async def enrol(db_factory, client, key, clock, **kwargs):
    cls = await class_id(db_factory, key)
    async with db_factory() as db:
        return await enrol_or_wait(
            db, client=client, class_id=cls, now=kwargs.get("now", clock()), policy=POLICY
        )


@pytest.fixture
async def pottery(db_factory):
    await load(db_factory, POTTERY)


async def test_enrolling_books_exactly_the_sessions_that_have_not_started(
    db_factory, pottery, clock
):
    enrolled = await enrol(db_factory, ALICE, "tue", clock)

    assert isinstance(enrolled, Enrolled)
    assert len(enrolled.sessions) == 3  # Nov 17 is past on Nov 21
    assert await active(db_factory, ALICE) == (await session_ids(db_factory, "tue"))[1:]


async def test_one_enrolment_per_programme(db_factory, pottery, clock):
    await enrol(db_factory, ALICE, "tue", clock)
    with pytest.raises(AlreadyEnrolled):
        await enrol(db_factory, ALICE, "thu", clock)


async def test_single_sessions_of_an_ongoing_class_are_not_booked_one_by_one(
    db_factory, pottery, clock
):
    (_, dec_1, *_) = await session_ids(db_factory, "tue")
    async with db_factory() as db:
        with pytest.raises(NeedsEnrolment):
            await book_session(db, client=ALICE, session_id=dec_1, now=clock())


async def test_a_full_class_puts_the_next_client_on_its_waiting_list(db_factory, pottery, clock):
    await enrol(db_factory, ALICE, "tue", clock)
    await enrol(db_factory, BOB, "tue", clock)

    carol = await enrol(db_factory, CAROL, "tue", clock)

    assert carol == ClassWaitlisted(carol.entry_id, 1)
    assert await active(db_factory, CAROL) == []


async def test_leaving_cancels_the_future_sessions_and_enrols_the_first_waiting(
    db_factory, pottery, clock
):
    await enrol(db_factory, ALICE, "tue", clock)
    await enrol(db_factory, BOB, "tue", clock)
    await enrol(db_factory, CAROL, "tue", clock)

    async with db_factory() as db:
        events = await leave_class(
            db, client_id=ALICE.id, class_id=await class_id(db_factory, "tue"), now=clock()
        )

    assert events == [
        EnrolledFromWaitlist(CAROL.id, await class_id(db_factory, "tue"), entry_id=ANY)
    ]
    assert await active(db_factory, ALICE) == []
    assert await active(db_factory, CAROL) == (await session_ids(db_factory, "tue"))[1:]
    async with db_factory() as db:
        taken = await db.scalar(select(func.max(ClassSession.seats_taken)))
    assert taken == 2


async def test_an_offered_class_place_is_taken_with_the_offer(db_factory, pottery, clock):
    async with db_factory() as db:
        await db.execute(update(ProgrammeClass).values(promotion="offer"))
        await db.commit()
    await enrol(db_factory, ALICE, "tue", clock)
    await enrol(db_factory, BOB, "tue", clock)
    await enrol(db_factory, CAROL, "tue", clock)
    tue = await class_id(db_factory, "tue")
    async with db_factory() as db:
        (offer,) = await leave_class(db, client_id=ALICE.id, class_id=tue, now=clock())
    assert isinstance(offer, SpotOffered)
    assert offer.class_id == tue

    async with db_factory() as db:
        taken = await take_offer(db, client=CAROL, entry_id=offer.entry_id, now=clock())

    assert isinstance(taken, Enrolled)
    assert len(await active(db_factory, CAROL)) == 3


async def test_leaving_a_class_you_are_not_in_is_refused(db_factory, pottery, clock):
    async with db_factory() as db:
        with pytest.raises(NotEnrolled):
            await leave_class(
                db, client_id=BOB.id, class_id=await class_id(db_factory, "tue"), now=clock()
            )


async def test_enrolment_respects_the_rank_allowance(db_factory, clock):
    await load(db_factory, POTTERY.replace("kind: ongoing", "kind: ongoing\n    rank: 2"))
    with pytest.raises(RankTooLow):
        await enrol(db_factory, ALICE, "tue", clock)
    async with db_factory() as db:  # staff record Alice's rank
        db.add(Client(id=ALICE.id, first_name="Alice", rank=2, created_at=clock()))
        await db.commit()

    assert isinstance(await enrol(db_factory, ALICE, "tue", clock), Enrolled)


async def my_booking(db_factory, client, session_id) -> int:
    async with db_factory() as db:
        return await db.scalar(
            select(Booking.id).where(
                Booking.client_id == client.id,
                Booking.session_id == session_id,
                Booking.status == BookingStatus.ACTIVE,
            )
        )


async def test_cancelling_in_time_gives_a_makeup_for_another_session_of_the_programme(
    db_factory, pottery, clock
):
    await enrol(db_factory, ALICE, "tue", clock)
    (_, dec_1, *_) = await session_ids(db_factory, "tue")
    (thu_dec_3, _) = await session_ids(db_factory, "thu")

    async with db_factory() as db:
        cancelled = await cancel_booking(
            db,
            client_id=ALICE.id,
            booking_id=await my_booking(db_factory, ALICE, dec_1),
            now=clock(),
            policy=POLICY,
        )
    async with db_factory() as db:
        await book_with_makeup(db, client=ALICE, session_id=thu_dec_3, now=clock(), policy=POLICY)

    assert cancelled.makeup
    assert thu_dec_3 in await active(db_factory, ALICE)
    async with db_factory() as db:
        credit = await db.scalar(select(MakeupCredit))
    assert str(credit.usable_until) == "2026-12-31"  # the winter period, no carry-over
    assert credit.status == "used"


async def test_a_late_cancellation_gives_no_makeup(db_factory, pottery, clock):
    await enrol(db_factory, ALICE, "tue", clock)
    (_, dec_1, *_) = await session_ids(db_factory, "tue")
    (thu_dec_3, _) = await session_ids(db_factory, "thu")
    late = clock().replace(day=30, hour=18)  # Nov 30 19:00 Prague: under 24 h before Dec 1

    async with db_factory() as db:
        cancelled = await cancel_booking(
            db,
            client_id=ALICE.id,
            booking_id=await my_booking(db_factory, ALICE, dec_1),
            now=late,
            policy=POLICY,
        )
    assert not cancelled.makeup
    async with db_factory() as db:
        with pytest.raises(MakeupNotUsable):
            await book_with_makeup(db, client=ALICE, session_id=thu_dec_3, now=late, policy=POLICY)


async def test_a_makeup_lapses_with_its_billing_period_unless_carry_over_is_allowed(
    db_factory, clock
):
    spring_session = "- 2027-01-07 18:00"
    text = POTTERY.replace(
        "sessions: [2026-12-03 18:00, 2026-12-10 18:00]", f"sessions:\n          {spring_session}"
    )
    await load(db_factory, text)
    await enrol(db_factory, ALICE, "tue", clock)
    (_, dec_1, *_) = await session_ids(db_factory, "tue")
    (jan_7,) = await session_ids(db_factory, "thu")
    async with db_factory() as db:
        await cancel_booking(
            db,
            client_id=ALICE.id,
            booking_id=await my_booking(db_factory, ALICE, dec_1),
            now=clock(),
            policy=POLICY,
        )
    async with db_factory() as db:
        with pytest.raises(MakeupNotUsable):
            await book_with_makeup(db, client=ALICE, session_id=jan_7, now=clock(), policy=POLICY)

    await load(
        db_factory, text.replace("kind: ongoing", "kind: ongoing\n    makeups_carry_over: yes")
    )
    async with db_factory() as db:  # credits issued before keep their date: issue a new one
        (_, _, dec_8, _) = await session_ids(db_factory, "tue")
        await cancel_booking(
            db,
            client_id=ALICE.id,
            booking_id=await my_booking(db_factory, ALICE, dec_8),
            now=clock(),
            policy=POLICY,
        )
    async with db_factory() as db:
        await book_with_makeup(db, client=ALICE, session_id=jan_7, now=clock(), policy=POLICY)
    assert jan_7 in await active(db_factory, ALICE)


async def test_enrolment_is_all_or_nothing_when_one_session_is_full(db_factory, pottery, clock):
    """A make-up visitor filled one session: enrolling would leave it overbooked, so nobody is."""
    await enrol(db_factory, ALICE, "thu", clock)
    await enrol(db_factory, BOB, "thu", clock)
    (_, dec_1, *_) = await session_ids(db_factory, "tue")
    async with db_factory() as db:
        await db.execute(update(ClassSession).where(ClassSession.id == dec_1).values(seats_taken=2))
        await db.commit()

    tue = await class_id(db_factory, "tue")
    async with db_factory() as db:
        with pytest.raises(ClassFull):
            await enrol_in_class(db, client=CAROL, class_id=tue, now=clock(), policy=DEFAULT_POLICY)
    assert await active(db_factory, CAROL) == []
    async with db_factory() as db:
        assert await db.scalar(select(func.sum(ClassSession.seats_taken))) == 2 + 2 + 2


async def test_staff_see_a_class_queue_on_the_roster_and_enrol_from_it_into_the_overload(
    db_factory, clock
):
    await load(
        db_factory,
        POTTERY.replace(
            "capacity: 2\n        sessions: [2026-11-17",
            "capacity: 2\n        max_overload: 1\n        sessions: [2026-11-17",
        ),
    )
    await enrol(db_factory, ALICE, "tue", clock)
    await enrol(db_factory, BOB, "tue", clock)
    carol = await enrol(db_factory, CAROL, "tue", clock)
    (_, dec_1, *_) = await session_ids(db_factory, "tue")

    async with db_factory() as db:
        roster = await staff_views.roster(db, dec_1)
    (waiting,) = roster.waiting
    assert (waiting.client_id, waiting.whole_class) == (CAROL.id, True)

    async with db_factory() as db:
        client_id, _ = await book_from_waitlist(
            db, entry_id=carol.entry_id, session_id=dec_1, now=clock()
        )

    assert client_id == CAROL.id
    assert len(await active(db_factory, CAROL)) == 3  # every remaining session, over capacity
    async with db_factory() as db:
        assert (await staff_views.roster(db, dec_1)).waiting == []


async def test_the_usable_makeup_is_the_one_soonest_to_lapse_and_never_a_used_or_lapsed_one(
    db_factory, pottery, clock
):
    await enrol(db_factory, ALICE, "tue", clock)
    dec_1, dec_8, dec_15 = [
        await my_booking(db_factory, ALICE, s) for s in (await session_ids(db_factory, "tue"))[1:]
    ]
    async with db_factory() as db:
        programme_id = await db.scalar(select(ProgrammeClass.programme_id).limit(1))

        def credit(source: int, until: date | None, status: str = "available") -> MakeupCredit:
            return MakeupCredit(
                client_id=ALICE.id,
                programme_id=programme_id,
                source_booking_id=source,
                issued_at=clock(),
                usable_until=until,
                status=status,
            )

        credits = [
            credit(dec_1, None),
            credit(dec_8, date(2026, 12, 31)),
            credit(dec_15, date(2026, 12, 5), status="used"),
        ]
        db.add_all(credits)
        await db.commit()
        ids = [credit.id for credit in credits]

    async with db_factory() as db:
        in_december = await usable_credit(db, ALICE.id, programme_id, date(2026, 12, 3))
        in_january = await usable_credit(db, ALICE.id, programme_id, date(2027, 1, 5))
        bobs = await usable_credit(db, BOB.id, programme_id, date(2026, 12, 3))

    assert in_december == UsableCredit(ids[1], date(2026, 12, 31))
    assert in_january == UsableCredit(ids[0], None)
    assert bobs is None
