"""Staff cancellations in the staff dialog, in-process: a booking cancelled from the client
card (choices, a typed reason, the confirmation), the client told once in their notice with
🔁 Book another time; a whole session cancelled from the roster with its preview and Stars
refunded through Telegram; a stale confirmation or a forged choice changing nothing; a client
taken off a class told once (their language, their time zone, a count when many); a Stars
refund Telegram refuses after the client was told it goes back corrected in one message."""

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
    # one notice for it all, not one per session, and nothing to book instead
    [notice] = [m for m in staff.bot.of(SendMessage) if m.chat_id == ALICE.id]
    lines = notice.text.split("\n")
    assert lines[0] == "🚪 The studio took you off <b>Pottery — Tuesday wheel</b>."
    assert lines[1] == "3 sessions cancelled:"
    assert [line for line in lines if line.startswith("• ")] == [
        "• Tue, Dec 1, 6:00\u202fPM",
        "• Tue, Dec 8, 6:00\u202fPM",
        "• Tue, Dec 15, 6:00\u202fPM",
    ]
    assert "Reason: Moved away" in lines
    assert "make-up" not in notice.text
    assert notice.reply_markup is None


async def take_alice_off(db_factory, clock, catalog: str, **client) -> list[SendMessage]:
    """Alice (with ``client``'s language, time zone) enrolled in the catalog's one ongoing
    class and taken off it from her card with the default choices; what she was sent."""
    from domain.booking.ongoing import enrol_in_class
    from domain.storage.models import ProgrammeClass

    await load(db_factory, catalog)
    policy = Policy(zone=PRAGUE, currency="EUR", reminders=())
    async with db_factory() as db:
        class_id = await db.scalar(select(ProgrammeClass.id))
        await enrol_in_class(db, client=ALICE, class_id=class_id, now=clock(), policy=policy)
        if client:
            await db.execute(update(Client).where(Client.id == ALICE.id).values(**client))
        await db.commit()
    staff = staff_chats(db_factory, clock, bot_type=TelegramBot)()
    await staff.send("/admin")
    await staff.click("Tue, Dec 1")
    await staff.click("👤 Alice")
    await staff.click("🚪 Take off the class")
    await staff.click("➡️ Next")
    await staff.click("⏭ No reason")
    await staff.click("✅ Yes, cancel")
    return [m for m in staff.bot.of(SendMessage) if m.chat_id == ALICE.id]


async def test_a_client_taken_off_a_class_is_told_once_in_their_language_and_zone(
    db_factory, clock
):
    [notice] = await take_alice_off(
        db_factory, clock, POTTERY, language_code="cs", time_zone="America/New_York"
    )
    lines = notice.text.split("\n")
    assert lines[0] == "🚪 Studio vás odhlásilo z <b>Pottery — Tuesday wheel</b>."
    assert lines[1] == "Zrušeny 3 termíny:"
    starts = [line for line in lines if line.startswith("• ")]
    assert len(starts) == 3
    # 18:00 in Prague is 12:00 in New York
    assert all("12:00" in line and "18:00" not in line for line in starts)
    assert lines[-1] == "Máte 3 náhradní lekce: využijte je na jiné termíny programu."


LONG_POTTERY = POTTERY.replace(
    "sessions: [2026-12-01 18:00, 2026-12-08 18:00, 2026-12-15 18:00]",
    "sessions: [" + ", ".join(f"2026-12-{d:02} 18:00" for d in range(1, 13)) + "]",
)


async def test_a_client_taken_off_many_sessions_is_told_how_many(db_factory, clock):
    [notice] = await take_alice_off(db_factory, clock, LONG_POTTERY)
    lines = notice.text.split("\n")
    assert lines[1] == (
        "12 sessions cancelled, from Tue, Dec 1, 6:00\u202fPM to Sat, Dec 12, 6:00\u202fPM."
    )
    assert not any(line.startswith("• ") for line in lines)
    assert lines[-1] == (
        "You have 12 make-up credits: use them for other sessions of the programme."
    )


async def test_a_stars_refund_telegram_refuses_after_the_notice_is_corrected(
    chat_for, dec_1, db_factory
):
    staff = chat_for()
    staff.bot.refund_error = "Bad Request: BALANCE_TOO_LOW"
    await alices_card(staff)
    await staff.click("❌ Cancel booking")
    await staff.click("➡️ Next")
    await staff.click("⏭ No reason")

    roster = await staff.click("✅ Yes, cancel")

    assert "⚠️ Telegram refused to refund 50 ⭐" in roster
    notice, correction = [m for m in staff.bot.of(SendMessage) if m.chat_id == ALICE.id][-2:]
    assert "50 ⭐ goes back to you through Telegram." in notice.text
    assert correction.text == (
        "⚠️ The refund of 50 ⭐ for <b>Clay — Wheel</b> could not go through Telegram; the "
        "studio has been told and will sort it out."
    )
    # and the studio has been told: a message to staff, beside the screen
    (told_staff,) = [m for m in staff.bot.of(SendMessage) if m.chat_id == STAFF]
    assert told_staff.text == (
        f"⚠️ Telegram refused to refund 50 ⭐ to Alice (id {ALICE.id}) for <b>Clay — Wheel</b>: "
        "Bad Request: BALANCE_TOO_LOW. The client was told the studio will sort it out with "
        "them."
    )


async def test_a_refused_stars_refund_is_corrected_in_the_clients_language(
    chat_for, dec_1, db_factory
):
    async with db_factory() as db:
        await db.execute(update(Client).where(Client.id == ALICE.id).values(language_code="ru"))
        await db.commit()
    staff = chat_for()
    staff.bot.refund_error = "Bad Request: BALANCE_TOO_LOW"
    await staff.send("/admin")
    await staff.click("Tue, Dec 1")
    await staff.click("🚫 Cancel session")
    await staff.click("➡️ Next")
    await staff.click("⏭ No reason")
    await staff.click("✅ Yes, cancel")

    alices = [m.text for m in staff.bot.of(SendMessage) if m.chat_id == ALICE.id]
    assert alices[-1].startswith("⚠️ Возврат 50 ⭐ за <b>Clay — Wheel</b> через Telegram не прошёл")
    # Bob paid nothing: nothing to correct
    assert not any("⚠️" in m.text for m in staff.bot.of(SendMessage) if m.chat_id == BOB.id)


async def test_a_stars_refund_unanswered_is_not_corrected(chat_for, dec_1, db_factory):
    staff = chat_for()
    staff.bot.refund_error = "timeout"
    await alices_card(staff)
    await staff.click("❌ Cancel booking")
    await staff.click("➡️ Next")
    await staff.click("⏭ No reason")
    await staff.click("✅ Yes, cancel")

    assert not any(
        "could not go through" in m.text for m in staff.bot.of(SendMessage) if m.chat_id == ALICE.id
    )
