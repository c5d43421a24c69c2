"""▶️ Run it anyway on a session's roster: shown below the class's minimum before the check,
keeps the session on (and can be taken back); a stale button changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.booking.bookings import book_session
from domain.clients.record import ClientRef
from domain.storage.models import ClassSession
from tests.dialogs.test_staff_dialog import STAFF, open_roster, staff_chats
from tests.support.catalog import load

ALICE, BOB = ClientRef(1001, "Alice"), ClientRef(1002, "Bob")

STUDIO = """
programmes:
  - key: pottery
    title: Pottery
    classes:
      - key: wheel
        title: Wheel
        capacity: 4
        min_participants: 2
        min_check_hours: 48
        sessions: [2026-12-01 18:00]
"""


@pytest.fixture
async def wheel(db_factory, clock) -> int:
    await load(db_factory, STUDIO)
    async with db_factory() as db:
        session_id = await db.scalar(select(ClassSession.id))
        await book_session(db, client=ALICE, session_id=session_id, now=clock())
    return session_id


@pytest.fixture
def staff(db_factory, clock, wheel):
    return staff_chats(db_factory, clock)()


async def kept_on(db_factory, session_id: int) -> tuple:
    async with db_factory() as db:
        session = await db.get(ClassSession, session_id)
        return session.kept_on_at, session.kept_on_by


async def test_below_its_minimum_the_roster_warns_and_offers_run_it_anyway(staff):
    roster = await open_roster(staff)

    assert "Minimum 2: below it, this session is cancelled automatically on" in roster
    assert "Sunday, November 29, 2026" in roster  # 48 hours before, Prague time
    assert "▶️ Run it anyway" in staff.buttons()


async def test_run_it_anyway_keeps_the_session_on_and_can_be_taken_back(
    staff, db_factory, wheel, clock
):
    await open_roster(staff)

    roster = await staff.click("Run it anyway")

    assert "Kept on: this session runs even below its minimum of 2." in roster
    assert "▶️ Run it anyway" not in staff.buttons()
    assert await kept_on(db_factory, wheel) == (clock(), STAFF)

    roster = await staff.click("Don't run it anyway")

    assert "below it, this session is cancelled automatically" in roster
    assert await kept_on(db_factory, wheel) == (None, None)


async def test_a_stale_run_it_anyway_after_the_session_filled_up_changes_nothing(
    staff, db_factory, wheel, clock
):
    await open_roster(staff)
    async with db_factory() as db:  # Bob books while the button is on screen
        await book_session(db, client=BOB, session_id=wheel, now=clock())

    roster = await staff.click("Run it anyway")

    assert "This session has reached its minimum: it runs anyway." in roster
    assert "Minimum 2 reached" in roster
    assert "▶️ Run it anyway" not in staff.buttons()
    assert await kept_on(db_factory, wheel) == (None, None)


async def test_a_class_without_a_minimum_shows_none(db_factory, clock):
    await load(
        db_factory,
        STUDIO.replace("        min_participants: 2\n", "").replace(
            "        min_check_hours: 48\n", ""
        ),
    )
    staff = staff_chats(db_factory, clock)()

    roster = await open_roster(staff)

    assert "Minimum" not in roster
    assert "▶️ Run it anyway" not in staff.buttons()
