"""Attendance credits on a real database: C per period (billing period, else month); booking
or enrolling needs one left (less what is already booked there) unless the policy allows going
without; a session attended uses one, once, however often the job runs; unused ones expire or
carry over one period. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update

from domain.billing.credits import count_attendance, credits_of
from domain.booking.actor import Actor, Override
from domain.booking.bookings import book_session, cancel_booking
from domain.booking.ongoing import enrol_in_class, leave_class
from domain.booking.outcomes import Booked
from domain.booking.rules import Period
from domain.clients.record import ClientRef
from domain.errors import NoAttendanceCredit
from domain.policy import Policy
from domain.storage.models import (
    AttendanceCredit,
    BillingPeriod,
    Booking,
    ClassSession,
    Programme,
    ProgrammeClass,
)
from tests.support.catalog import PRAGUE, load

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
ALICE = ClientRef(1001, "Alice")
POLICY = Policy(zone=PRAGUE, currency="EUR", reminders=())

DROP_IN = """
programmes:
  - key: dropin
    title: Drop-in yoga
    kind: pay-as-you-go
    classes:
      - key: evening
        title: Evening
        capacity: 10
        sessions:
          - 2026-11-03 18:00
          - 2026-11-10 18:00
          - 2026-11-17 18:00
          - 2026-11-30 23:30
          - 2026-12-01 18:00
"""

COURSE = """
programmes:
  - key: ballet
    title: Ballet
    kind: ongoing
    classes:
      - key: tue
        title: Tuesdays
        capacity: 10
        weekly:
          days: [tue]
          time: "17:00"
          from: 2026-11-03
          until: 2026-12-29
"""


async def with_credits(db_factory, text: str, credits: int = 2) -> list[int]:
    await load(db_factory, text)
    async with db_factory() as db:
        await db.execute(update(Programme).values(attendance_credits=credits))
        await db.commit()
        return list(await db.scalars(select(ClassSession.id).order_by(ClassSession.starts_at)))


async def book(db_factory, session_id: int, policy: Policy = POLICY, **kwargs) -> Booked:
    async with db_factory() as db:
        return await book_session(
            db, client=ALICE, session_id=session_id, now=NOW, policy=policy, **kwargs
        )


async def views(db_factory, today: date, policy: Policy = POLICY):
    async with db_factory() as db:
        return [
            (v.period, v.granted, v.used, v.left)
            for v in await credits_of(db, ALICE.id, today, policy)
        ]


async def test_bookings_beyond_the_months_credits_are_refused_and_the_next_month_is_not(
    db_factory,
):
    s = await with_credits(db_factory, DROP_IN, credits=2)
    await book(db_factory, s[0])
    await book(db_factory, s[1])

    with pytest.raises(NoAttendanceCredit):
        await book(db_factory, s[2])
    # Nov 30th 23:30 in Prague is still November there (in UTC too): refused as well
    with pytest.raises(NoAttendanceCredit):
        await book(db_factory, s[3])
    await book(db_factory, s[4])  # December has its own

    async with db_factory() as db:
        assert len(list(await db.scalars(select(Booking)))) == 3


async def test_a_cancelled_booking_gives_its_place_in_the_credits_back(db_factory):
    s = await with_credits(db_factory, DROP_IN, credits=1)
    booked = await book(db_factory, s[0])
    async with db_factory() as db:
        await cancel_booking(
            db, client_id=ALICE.id, booking_id=booked.card.id, now=NOW, policy=POLICY
        )

    await book(db_factory, s[1])


async def test_the_policy_may_allow_booking_without_credit_and_staff_are_never_refused(
    db_factory,
):
    s = await with_credits(db_factory, DROP_IN, credits=1)
    await book(db_factory, s[0])

    await book(
        db_factory, s[1], policy=Policy(zone=PRAGUE, reminders=(), enrol_without_credit=True)
    )
    await book(db_factory, s[2], actor=Actor.staff(reason=Override.DESK))


async def test_a_session_that_began_uses_one_credit_once(db_factory):
    s = await with_credits(db_factory, DROP_IN, credits=2)
    await book(db_factory, s[0])
    await book(db_factory, s[1])
    november = Period(date(2026, 11, 1), date(2026, 11, 30))
    assert await views(db_factory, date(2026, 11, 2)) == [(november, 2, 0, 2)]

    after_first = datetime(2026, 11, 3, 17, 5, tzinfo=UTC)
    async with db_factory() as db:
        counted = await count_attendance(db, after_first, POLICY)
    async with db_factory() as db:
        again = await count_attendance(db, after_first, POLICY)

    assert (counted, again) == (1, 0)
    assert await views(db_factory, date(2026, 11, 4)) == [(november, 2, 1, 1)]


async def test_two_bookings_at_once_with_one_credit_left_give_one_place(db_factory):
    s = await with_credits(db_factory, DROP_IN, credits=1)

    results = await asyncio.gather(
        book(db_factory, s[0]), book(db_factory, s[1]), return_exceptions=True
    )

    assert sorted(type(r).__name__ for r in results) == ["Booked", "NoAttendanceCredit"]


async def test_enrolling_again_in_a_period_whose_credits_are_used_is_refused(db_factory):
    await with_credits(db_factory, COURSE, credits=1)
    async with db_factory() as db:
        class_id = await db.scalar(select(ProgrammeClass.id))
        await enrol_in_class(db, client=ALICE, class_id=class_id, now=NOW, policy=POLICY)
    later = datetime(2026, 11, 4, 8, 0, tzinfo=UTC)
    async with db_factory() as db:
        await count_attendance(db, later, POLICY)  # Nov 3rd's session
    async with db_factory() as db:
        await leave_class(db, client_id=ALICE.id, class_id=class_id, now=later, policy=POLICY)

    async with db_factory() as db:
        with pytest.raises(NoAttendanceCredit):
            await enrol_in_class(db, client=ALICE, class_id=class_id, now=later, policy=POLICY)


async def test_a_billing_period_is_the_credits_period_when_one_holds_the_day(db_factory):
    s = await with_credits(db_factory, DROP_IN, credits=3)
    async with db_factory() as db:
        db.add(
            BillingPeriod(
                key="autumn",
                name="Autumn",
                starts_on=date(2026, 9, 1),
                ends_on=date(2026, 12, 20),
            )
        )
        await db.commit()
    for session_id in s[:3]:
        await book(db_factory, session_id)

    with pytest.raises(NoAttendanceCredit):  # December 1st is in the same autumn term
        await book(db_factory, s[4])
    autumn = Period(date(2026, 9, 1), date(2026, 12, 20))
    assert await views(db_factory, date(2026, 11, 2)) == [(autumn, 3, 0, 3)]


@pytest.mark.parametrize("carry_over", [False, True])
async def test_unused_credits_expire_with_their_month_unless_they_carry_over(
    db_factory, carry_over
):
    s = await with_credits(db_factory, DROP_IN, credits=2)
    await book(db_factory, s[0])
    async with db_factory() as db:
        await count_attendance(db, datetime(2026, 11, 3, 18, 0, tzinfo=UTC), POLICY)
    policy = Policy(zone=PRAGUE, reminders=(), credits_carry_over=carry_over)

    december = await views(db_factory, date(2026, 12, 1), policy)

    december_period = Period(date(2026, 12, 1), date(2026, 12, 31))
    # November: 2 granted, 1 used; its 1 left carries over, or expires
    assert december == [(december_period, 3 if carry_over else 2, 0, 3 if carry_over else 2)]


async def test_credit_rows_are_one_per_client_programme_and_period(db_factory):
    s = await with_credits(db_factory, DROP_IN, credits=5)

    await asyncio.gather(*(book(db_factory, session_id) for session_id in s[:3]))

    async with db_factory() as db:
        rows = list(await db.scalars(select(AttendanceCredit)))
    assert [(r.period_start, r.granted) for r in rows] == [(date(2026, 11, 1), 5)]
