"""A small clinic where several clients hold bookings, a course and a waiting-list place:
the world the reliability tests press forged buttons and type garbage into."""

from __future__ import annotations

from sqlalchemy import select

from domain.booking.bookings import book_or_wait, book_session
from domain.clients.record import ClientRef, remember_client
from domain.courses import units as course_units
from domain.policy import Policy
from domain.storage.models import (
    Booking,
    ClassSession,
    ClientCourse,
    CourseOffer,
    CourseUnit,
    Enrolment,
    LedgerEntry,
    WaitlistEntry,
)
from tests.support.catalog import PRAGUE, load

STAFF = 500
ALICE, BOB, CAROL, DAN = (
    ClientRef(1001, "Alice"),
    ClientRef(1002, "Bob"),
    ClientRef(1003, "Carol"),
    ClientRef(1004, "Dan"),
)
POLICY = Policy(zone=PRAGUE, currency="EUR", reminders=())
STUDIO = """
programmes:
  - key: massage
    title: Massage
    classes:
      - key: room
        title: Room 1
        capacity: 2
        price: 40
        sessions: [2026-11-23 10:00, 2026-11-24 10:00, 2026-11-25 10:00]
courses:
  - key: five
    title: Massage ×5
    price: 150
    units: {massage: 5}
"""


async def build_world(db_factory, clock) -> dict:
    """Bob holds a course with a booking from it (with Carol's, the first session is full;
    Dan waits for it) and a plain booking of the second; Alice (who presses) holds one plain
    booking of the third and nothing else: the second still has a place for her."""
    await load(db_factory, STUDIO)
    async with db_factory() as db:
        first, second, third = await db.scalars(
            select(ClassSession.id).order_by(ClassSession.starts_at)
        )
        offer = await db.scalar(select(CourseOffer.id))
        for client in (ALICE, BOB, CAROL, DAN):
            await remember_client(db, client, clock())
        await db.commit()
    async with db_factory() as db:
        course = await course_units.sell_at_venue(
            db, client_id=BOB.id, offer_id=offer, staff_id=STAFF, policy=POLICY, now=clock()
        )
    ids = {"sessions": [first, second, third], "offer": offer, "course": course}
    async with db_factory() as db:
        from_course = await book_session(
            db, client=BOB, session_id=first, now=clock(), policy=POLICY, course_id=course
        )
    async with db_factory() as db:
        plain = await book_session(db, client=BOB, session_id=second, now=clock(), policy=POLICY)
    async with db_factory() as db:
        mine = await book_session(db, client=ALICE, session_id=third, now=clock(), policy=POLICY)
    async with db_factory() as db:
        await book_session(db, client=CAROL, session_id=first, now=clock(), policy=POLICY)
    async with db_factory() as db:
        waiting = await book_or_wait(db, client=DAN, session_id=first, now=clock(), policy=POLICY)
        units = list(await db.scalars(select(CourseUnit.id)))
    ids.update(
        bobs=[from_course.card.id, plain.card.id],
        mine=mine.card.id,
        wait=waiting.entry_id,
        units=units,
    )
    return ids


async def snapshot(db_factory) -> list:
    """Everything a press could change."""
    async with db_factory() as db:
        tables = []
        for model in (Booking, CourseUnit, ClientCourse, LedgerEntry, WaitlistEntry, Enrolment):
            rows = await db.execute(select(model.__table__).order_by(*model.__table__.primary_key))
            tables.append([tuple(row) for row in rows])
        return tables
