"""Staff cancellations in the staff dialog, in-process: a booking cancelled from the client
card (choices, a typed reason, the confirmation), the client told once in their notice with
🔁 Book another time; a whole session cancelled from the roster with its preview and Stars
refunded through Telegram; a stale confirmation or a forged choice changing nothing."""

from __future__ import annotations

import pytest
from aiogram.methods import RefundStarPayment, SendMessage
from sqlalchemy import select, update

from bot.dialogs.staff.windows.cancel import MONEY
from domain.booking.bookings import book_session
from domain.policy import Policy
from domain.storage.models import Booking, ClassSession, Client, LedgerEntry
from tests.dialogs.test_staff_dialog import ForgedData, staff_chats
from tests.dialogs.test_staff_money import (
    ALICE,
    BOB,
    STAFF,
    STUDIO,
    TelegramBot,
    alices_card,
    pay_stars,
)
from tests.support.catalog import PRAGUE, load

OTHER_STAFF = 501


@pytest.fixture
def chat_for(db_factory, clock):
    return staff_chats(db_factory, clock, currency="XTR", bot_type=TelegramBot)


@pytest.fixture
async def dec_1(db_factory, clock) -> dict[str, int]:
    """Alice (50 ⭐, paid in Stars) and Bob (not paid) booked Dec 1."""
    await load(db_factory, STUDIO)
    policy = Policy(zone=PRAGUE, currency="XTR", reminders=())
    async with db_factory() as db:
        first, _second = await db.scalars(select(ClassSession.id).order_by(ClassSession.starts_at))
    ids = {"session": first}
    for client in (ALICE, BOB):
        async with db_factory() as db:
            booked = await book_session(
                db, client=client, session_id=first, now=clock(), policy=policy
            )
        ids[client.first_name] = booked.card.id
    await pay_stars(db_factory, clock, ids["Alice"])
    return ids


async def statuses(db_factory) -> list[str]:
    async with db_factory() as db:
        return list(await db.scalars(select(Booking.status).order_by(Booking.id)))


def told(staff, client_id: int) -> list[SendMessage]:
    """The notices of a cancellation the client got (not the thanks for their payment)."""
    return [
        m for m in staff.bot.of(SendMessage) if m.chat_id == client_id and "cancelled" in m.text
    ]


async def test_a_booking_is_cancelled_from_the_client_card_with_a_reason(
    chat_for, dec_1, db_factory
):
    staff = chat_for()
    await alices_card(staff)
    screen = await staff.click("❌ Cancel booking")
    assert "Cancel Alice's booking" in screen
    assert "Paid with: ⭐ paid in Stars: 50 ⭐" in screen
    await staff.click("💰 All as credit")
    assert "✅ 💰 All as credit" in staff.buttons()
    await staff.click("➡️ Next")
    screen = await staff.send("The teacher is ill")
    assert "Money: 💰 All as credit" in screen
    assert "Reason: The teacher is ill" in screen

    roster = await staff.click("✅ Yes, cancel")

    assert "✅ Booking cancelled; the client has been told." in roster
    assert "💰 50 ⭐ as credit on the clients' balances." in roster
    assert "👤 Alice" not in staff.buttons()
    assert await statuses(db_factory) == ["cancelled", "active"]
    assert staff.bot.of(RefundStarPayment) == []
    [notice] = told(staff, ALICE.id)
    assert "The studio cancelled your booking of <b>Clay — Wheel</b>" in notice.text
    assert "Reason: The teacher is ill" in notice.text
    assert "50 ⭐ is credit on your balance" in notice.text
    assert notice.reply_markup.inline_keyboard[0][0].text == "🔁 Book another time"
    async with db_factory() as db:
        line = await db.scalar(select(LedgerEntry).order_by(LedgerEntry.id.desc()))
    assert (line.kind, line.amount_minor, line.staff_id) == ("credit", 50, STAFF)


async def test_the_client_card_shows_the_override(chat_for, dec_1, db_factory, clock):
    async with db_factory() as db:
        _first, dec_3 = await db.scalars(select(ClassSession.id).order_by(ClassSession.starts_at))
        policy = Policy(zone=PRAGUE, currency="XTR", reminders=())
        await book_session(db, client=ALICE, session_id=dec_3, now=clock(), policy=policy)
    staff = chat_for()
    await alices_card(staff)
    await staff.click("❌ Cancel booking")
    await staff.click("🔒 The studio keeps it")
    await staff.click("➡️ Next")
    await staff.send("Too late")
    await staff.click("✅ Yes, cancel")
    await staff.click("◀️ Back")  # the sessions
    await staff.click("Thu, Dec 3")

    card = await staff.click("👤 Alice")

    assert "🛡 <b>Cancelled by staff</b>" in card
    assert f"cancelled by staff {STAFF}" in card
    assert "waived: the money · Too late" in card


async def test_a_whole_session_is_cancelled_from_the_roster(chat_for, dec_1, db_factory):
    staff = chat_for()
    await staff.send("/admin")
    await staff.click("Tue, Dec 1")
    preview = await staff.click("🚫 Cancel session")
    assert "Cancel the whole session" in preview
    assert "Clients booked: 2" in preview
    assert "1. Alice · ⭐ paid in Stars: 50 ⭐" in preview
    assert "2. Bob · ⏳ not paid" in preview
    await staff.click("➡️ Next")
    await staff.click("⏭ No reason")

    roster = await staff.click("✅ Yes, cancel")

    assert "✅ Session cancelled: 2 clients told." in roster
    assert "↩️ 50 ⭐ back through Telegram Stars." in roster
    assert "This session was cancelled." in roster
    assert "🚫 Cancel session" not in staff.buttons()
    assert "➕ Book a client" not in staff.buttons()
    [call] = staff.bot.of(RefundStarPayment)
    assert (call.user_id, call.telegram_payment_charge_id) == (ALICE.id, "stx-1")
    assert await statuses(db_factory) == ["cancelled", "cancelled"]
    for client in (ALICE, BOB):
        [notice] = told(staff, client.id)
        assert "The studio cancelled <b>Clay — Wheel</b>" in notice.text
    assert "50 ⭐ goes back to you through Telegram." in told(staff, ALICE.id)[0].text
    await staff.click("◀️ Back")
    assert any(b.startswith("Tue, Dec 1") and b.endswith("· ❌ Cancelled") for b in staff.buttons())


async def test_a_booking_another_staff_member_cancelled_first_changes_nothing(
    db_factory, clock, dec_1
):
    both = frozenset({STAFF, OTHER_STAFF})
    first, second = (  # each with a screen of their own
        staff_chats(db_factory, clock, currency="XTR", bot_type=TelegramBot)(user, both)
        for user in (STAFF, OTHER_STAFF)
    )
    for staff in (first, second):
        await alices_card(staff)
        await staff.click("❌ Cancel booking")
        await staff.click("➡️ Next")
        await staff.click("⏭ No reason")
    await first.click("✅ Yes, cancel")

    card = await second.click("✅ Yes, cancel")

    assert "This booking is already cancelled." in card
    assert await statuses(db_factory) == ["cancelled", "active"]
    assert len(told(first, ALICE.id)) == 1
    assert told(second, ALICE.id) == []


async def test_a_forged_money_choice_changes_nothing(chat_for, dec_1):
    staff = chat_for()
    await alices_card(staff)
    await staff.click("❌ Cancel booking")

    await staff.press(ForgedData("Refund as paid", f"{MONEY}:gift"))

    assert "✅ ✨ Automatic: Stars back through Telegram, the rest as credit" in staff.buttons()
    assert "↩️ Refund as paid" in staff.buttons()


async def test_each_client_is_told_in_their_own_language(chat_for, dec_1, db_factory):
    async with db_factory() as db:
        await db.execute(update(Client).where(Client.id == BOB.id).values(language_code="ru"))
        await db.commit()
    staff = chat_for()
    await staff.send("/admin")
    await staff.click("Tue, Dec 1")
    await staff.click("🚫 Cancel session")
    await staff.click("➡️ Next")
    await staff.send("Преподаватель заболел")
    await staff.click("✅ Yes, cancel")

    [bobs] = [m for m in staff.bot.of(SendMessage) if m.chat_id == BOB.id]
    assert "❌ Студия отменила <b>Clay — Wheel</b>" in bobs.text
    assert "Причина: Преподаватель заболел" in bobs.text
    assert bobs.reply_markup.inline_keyboard[0][0].text == "🔁 Записаться на другое время"
    assert "The studio cancelled" in told(staff, ALICE.id)[0].text


POTTERY = """
billing_periods:
  - {key: winter, name: Winter, from: 2026-09-01, until: 2026-12-31}
programmes:
  - key: pottery
    title: Pottery
    kind: ongoing
    classes:
      - key: tue
        title: Tuesday wheel
        capacity: 4
        sessions: [2026-12-01 18:00, 2026-12-08 18:00, 2026-12-15 18:00]
"""


async def test_a_client_is_taken_off_an_ongoing_class_from_their_card(db_factory, clock):
    from domain.booking.ongoing import enrol_in_class
    from domain.storage.models import Enrolment, MakeupCredit, ProgrammeClass

    await load(db_factory, POTTERY)
    policy = Policy(zone=PRAGUE, currency="EUR", reminders=())
    async with db_factory() as db:
        class_id = await db.scalar(select(ProgrammeClass.id))
        await enrol_in_class(db, client=ALICE, class_id=class_id, now=clock(), policy=policy)
    staff = staff_chats(db_factory, clock, bot_type=TelegramBot)()
    await staff.send("/admin")
    await staff.click("Tue, Dec 1")
    await staff.click("👤 Alice")

    screen = await staff.click("🚪 Take off the class")
    assert "Take Alice off Pottery — Tuesday wheel" in screen
    await staff.click("Give a make-up credit")  # off: no make-up credits
    assert "⬜ Give a make-up credit" in staff.buttons()
    await staff.click("➡️ Next")
    await staff.send("Moved away")
    roster = await staff.click("✅ Yes, cancel")

    assert "✅ Taken off the class: 3 sessions cancelled, the client told." in roster
    async with db_factory() as db:
        assert await db.scalar(select(Enrolment.status)) == "left"
        assert await db.scalar(select(MakeupCredit.id)) is None
    assert await statuses(db_factory) == ["cancelled"] * 3
    assert len(told(staff, ALICE.id)) == 3
