"""The front desk and courses in the dialogs, in-process: today's sessions, check-in with
"Redeem from course?" (Yes moves a plain booking onto the course; No makes a course booking a
single visit at its price), check-out, no-show by the course's policy, selling a course at the
venue, check-in codes; forged buttons change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.booking.bookings import book_session
from domain.clients.record import ClientRef, remember_client
from domain.courses import units as course_units
from domain.policy import Policy
from domain.storage.models import Booking, ClassSession, CourseOffer, CourseUnit, LedgerEntry
from tests.dialogs.test_staff_dialog import Conversation, ForgedData, staff_chats
from tests.support.catalog import PRAGUE, load

STAFF = 500
ALICE, BOB = ClientRef(1001, "Alice"), ClientRef(1002, "Bob")
POLICY = Policy(zone=PRAGUE, currency="EUR", reminders=())
# the suite's now is Sat 2026-11-21 13:00 in Prague: two sessions today, one tomorrow
CLINIC = """
programmes:
  - key: massage
    title: Massage
    classes:
      - key: room
        title: Room 1
        capacity: 3
        price: 40
        sessions: [2026-11-21 15:00, 2026-11-21 18:00, 2026-11-22 10:00]
courses:
  - key: five
    title: Massage ×5
    price: 150
    units: {massage: 5}
  - key: kind
    title: Kind course
    price: 100
    late_cancel: return
    units: {massage: 2}
"""


@pytest.fixture
def chat_for(db_factory, clock):
    return staff_chats(db_factory, clock)


@pytest.fixture
async def clinic(db_factory, clock) -> dict:
    await load(db_factory, CLINIC)
    async with db_factory() as db:
        sessions = list(await db.scalars(select(ClassSession.id).order_by(ClassSession.starts_at)))
        offers = {o.key: o.id for o in await db.scalars(select(CourseOffer))}
        for client in (ALICE, BOB):
            await remember_client(db, client, clock())
        await db.commit()
    return {"sessions": sessions, "offers": offers}


async def sell(db_factory, clock, offer_id: int, client: ClientRef = ALICE) -> int:
    async with db_factory() as db:
        return await course_units.sell_at_venue(
            db, client_id=client.id, offer_id=offer_id, staff_id=STAFF, policy=POLICY, now=clock()
        )


async def book(db_factory, clock, session_id: int, course_id: int | None = None) -> int:
    async with db_factory() as db:
        booked = await book_session(
            db, client=ALICE, session_id=session_id, now=clock(), policy=POLICY, course_id=course_id
        )
    return booked.card.id


async def units(db_factory) -> list[tuple]:
    async with db_factory() as db:
        rows = await db.execute(
            select(CourseUnit.state, CourseUnit.booking_id, CourseUnit.forfeited).order_by(
                CourseUnit.course_id, CourseUnit.position
            )
        )
        return [tuple(row) for row in rows]


async def booking_lines(db_factory, booking_id: int) -> list[tuple]:
    async with db_factory() as db:
        rows = await db.execute(
            select(LedgerEntry.kind, LedgerEntry.amount_minor)
            .where(LedgerEntry.item == f"booking:{booking_id}")
            .order_by(LedgerEntry.id)
        )
        return [tuple(row) for row in rows]


async def alices_card(staff: Conversation, when: str = "3:00") -> str:
    await staff.send("/today")
    await staff.click(when)
    return await staff.click("👤 Alice")


async def test_today_lists_only_todays_sessions_and_the_roster_marks_attendance(
    chat_for, clinic, db_factory, clock
):
    course = await sell(db_factory, clock, clinic["offers"]["five"])
    await book(db_factory, clock, clinic["sessions"][0], course_id=course)
    staff = chat_for()

    today = await staff.send("/today")

    assert "Today's sessions" in today
    labels = [b for b in staff.buttons() if "Massage" in b]
    assert len(labels) == 2
    assert all("Sat, Nov 21" in b for b in labels)
    roster = await staff.click("3:00")
    assert "1. Alice · id 1001 · 🟩 course" in roster
    await staff.click("◀️ Back")
    assert "Today's sessions" in staff.text()  # back where the desk came from


async def test_yes_at_check_in_moves_a_plain_booking_onto_the_course_then_check_out_redeems(
    chat_for, clinic, db_factory, clock
):
    await sell(db_factory, clock, clinic["offers"]["five"])
    booking = await book(db_factory, clock, clinic["sessions"][0])
    assert await booking_lines(db_factory, booking) == [("charge", 4000)]
    staff = chat_for()
    card = await alices_card(staff)
    assert "🛎 Not checked in yet." in card
    assert "Due: €40.00" in card

    ask = await staff.click("🛎 Check in")

    assert "Redeem from course?" in ask
    assert "🟩 Use course Massage ×5 (5 left)" in staff.buttons()
    card = await staff.click("🟩 Use course Massage ×5 (5 left)")
    assert "✅ Checked in at" in card
    assert "🟩 From course Massage ×5: 🟧🟩🟩🟩🟩" in card
    assert await booking_lines(db_factory, booking) == [("charge", 4000), ("waiver", 4000)]

    card = await staff.click("🏁 Check out")

    assert "🏁 Checked out: redeemed from Massage ×5 🟥🟩🟩🟩🟩" in card
    assert (await units(db_factory))[0] == ("redeemed", booking, False)
    assert "🏁 Check out" not in staff.buttons()
    assert "🛎 Check in" not in staff.buttons()


async def test_no_at_check_in_makes_a_course_booking_a_single_visit_at_its_price(
    chat_for, clinic, db_factory, clock
):
    course = await sell(db_factory, clock, clinic["offers"]["five"])
    booking = await book(db_factory, clock, clinic["sessions"][0], course_id=course)
    staff = chat_for()
    await alices_card(staff)

    ask = await staff.click("🛎 Check in")
    assert "🟩 From course Massage ×5: 🟧🟩🟩🟩🟩" in ask
    card = await staff.click("No, single price")

    assert "✅ Checked in at" in card
    assert (await units(db_factory))[0] == ("free", None, False)
    assert await booking_lines(db_factory, booking) == [("charge", 4000)]
    out = await staff.click("🏁 Check out")
    assert "🏁 Checked out. Still due for this visit: €40.00" in out


async def test_a_plain_booking_without_a_course_checks_in_at_once(
    chat_for, clinic, db_factory, clock
):
    booking = await book(db_factory, clock, clinic["sessions"][0])
    staff = chat_for()
    await alices_card(staff)

    card = await staff.click("🛎 Check in")

    assert "Redeem from course?" not in card
    assert "✅ Checked in at" in card
    async with db_factory() as db:
        assert (await db.get(Booking, booking)).checked_in_at is not None


@pytest.mark.parametrize(
    ("offer", "after"), [("five", ("redeemed", True)), ("kind", ("free", False))]
)
async def test_a_no_show_is_marked_once_begun_and_its_unit_follows_the_policy(
    chat_for, clinic, db_factory, clock, offer, after
):
    course = await sell(db_factory, clock, clinic["offers"][offer])
    booking = await book(db_factory, clock, clinic["sessions"][0], course_id=course)
    staff = chat_for()
    await alices_card(staff)
    assert "🚫 No-show" not in staff.buttons()  # not begun yet

    clock.now += timedelta(hours=2, minutes=30)  # 15:30 in Prague
    card = await alices_card(staff)
    card = await staff.click("🚫 No-show")

    assert "🚫 Marked as a no-show." in card
    state, forfeited = after
    unit = (await units(db_factory))[0]
    assert (unit[0], unit[2]) == (state, forfeited)
    assert unit[1] == (booking if state == "redeemed" else None)


async def test_staff_sell_a_course_at_the_venue_and_see_its_grid(
    chat_for, clinic, db_factory, clock
):
    await book(db_factory, clock, clinic["sessions"][0])
    staff = chat_for()
    await alices_card(staff)

    await staff.click("🟩 Courses")
    assert "No course yet." in staff.text()
    page = await staff.click("💵 Sold at the venue: Massage ×5 — €150.00")

    assert "✅ Sold and paid at the venue." in page
    assert "Massage ×5" in page
    assert "🟩🟩🟩🟩🟩" in page
    async with db_factory() as db:
        rows = await db.execute(
            select(LedgerEntry.kind, LedgerEntry.amount_minor, LedgerEntry.method)
            .where(LedgerEntry.item.like("course:%"))
            .order_by(LedgerEntry.id)
        )
        assert [tuple(r) for r in rows] == [("charge", 15000, None), ("payment", 15000, "venue")]


async def test_forged_course_buttons_change_nothing(chat_for, clinic, db_factory, clock):
    mine = await sell(db_factory, clock, clinic["offers"]["five"])
    bobs = await sell(db_factory, clock, clinic["offers"]["five"], client=BOB)
    alice = chat_for(ALICE.id)
    await alice.send("/start")
    await alice.click("📅 Book a session")
    await alice.click("Massage")
    await alice.click("Sun, Nov 22")
    assert "🟩 Book from Massage ×5 (5 left)" in alice.buttons()

    shown = await alice.press(ForgedData("Book from", f"cb:{bobs}"))

    assert "That course isn't yours, or it no longer exists." in shown
    async with db_factory() as db:
        assert list(await db.scalars(select(Booking.id))) == []
    shown = await alice.press(ForgedData("Book from", "cb:not-a-number"))
    assert "That button is no longer valid" in shown

    booking = await book(db_factory, clock, clinic["sessions"][2])
    await alice.send("/bookings")
    await alice.click("Sun, Nov 22")
    assert "🟩 Use my course Massage ×5 (5 left)" in alice.buttons()
    shown = await alice.press(ForgedData("Use my course", f"cv:{bobs}"))
    assert "That course isn't yours, or it no longer exists." in shown
    assert all(unit[1] is None for unit in await units(db_factory))
    assert await booking_lines(db_factory, booking) == [("charge", 4000)]
    assert mine != bobs


async def test_a_check_in_code_is_a_hint_for_clients_and_unknown_codes_are_said_so(
    chat_for, clinic
):
    alice = chat_for(ALICE.id)
    await alice.client.send("/start ci_abcdef")
    assert any("show it at the front desk" in text for text in alice.bot.texts())
    staff = chat_for()
    await staff.client.send("/start ci_abcdef")
    assert any("This check-in code names no booking" in text for text in staff.bot.texts())
