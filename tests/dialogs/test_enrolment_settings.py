"""Seed 003's enrolment settings in the dialogs: the note to the teacher, and staff confirming."""

from __future__ import annotations

from aiogram.methods import SendMessage
from aiogram.types import Message
from aiogram_dialog.test_tools import BotClient, MockMessageManager
from aiogram_dialog.test_tools.keyboard import InlineButtonTextLocator
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage
from sqlalchemy import select

from bot.deps import Deps
from bot.runtime.app import build_dispatcher
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from domain.storage.models import Enrolment
from tests.support.catalog import load
from tests.support.dialogs import Chat, RecordingBot

ALICE, STAFF = 1001, 500
NOTE_QUESTION = "Anything the teacher should know?"

STUDIO = """
programmes:
  - key: ceramics
    title: Ceramics
    kind: ongoing
    classes:
      - key: tue
        title: Tuesday
        capacity: 3
        sessions: [2026-12-01 18:00, 2026-12-08 18:00]
  - key: yoga
    title: Yoga
    classes:
      - key: flow
        title: Flow
        capacity: 5
        sessions: [2026-12-02 18:00]
"""


async def open_ceramics(chat: Chat) -> Message:
    chat.messages.reset_history()
    await chat.start()
    await chat.click("Book a session")
    return await chat.click("Ceramics")  # one class: straight to its card


async def send(chat: Chat, text: str) -> Message:
    chat.messages.reset_history()
    await chat.client.send(text)
    return chat.messages.one_message()


async def enrolments(db_factory) -> list[tuple[int, str, str | None]]:
    async with db_factory() as db:
        rows = await db.execute(
            select(Enrolment.client_id, Enrolment.status, Enrolment.notes).order_by(Enrolment.id)
        )
    return [tuple(row) for row in rows]


async def test_an_optional_note_is_asked_with_skip(db_factory, chat_for):
    await load(db_factory, STUDIO)
    chat = chat_for(ALICE)  # ENROLMENT_NOTES=optional by default
    await open_ceramics(chat)

    question = await chat.click("Enrol in this class")

    assert NOTE_QUESTION in question.text
    assert "Send a short note (up to 500 characters), or press Skip." in question.text
    assert chat.buttons() == ["Skip", "◀️ Back"]
    enrolled = await chat.click("Skip")
    assert "You're enrolled in Ceramics — Tuesday!" in enrolled.text
    assert await enrolments(db_factory) == [(ALICE, "active", None)]


async def test_a_required_note_has_no_skip_and_the_note_typed_is_stored(db_factory, chat_for):
    await load(db_factory, STUDIO)
    chat = chat_for(ALICE, enrolment_notes="required")
    await open_ceramics(chat)

    question = await chat.click("Enrol in this class")

    assert NOTE_QUESTION in question.text
    assert "Please send a short note (up to 500 characters)." in question.text
    assert chat.buttons() == ["◀️ Back"]
    enrolled = await send(chat, "Bad left knee <3")
    assert "You're enrolled in Ceramics — Tuesday!" in enrolled.text
    assert await enrolments(db_factory) == [(ALICE, "active", "Bad left knee <3")]


async def test_with_notes_off_enrolling_asks_nothing(db_factory, chat_for):
    await load(db_factory, STUDIO)
    chat = chat_for(ALICE, enrolment_notes="off")
    await open_ceramics(chat)

    enrolled = await chat.click("Enrol in this class")

    assert "You're enrolled in Ceramics — Tuesday!" in enrolled.text
    assert await enrolments(db_factory) == [(ALICE, "active", None)]


async def test_a_too_long_note_is_refused_on_the_same_window_and_nothing_is_written(
    db_factory, chat_for
):
    await load(db_factory, STUDIO)
    chat = chat_for(ALICE)
    await open_ceramics(chat)
    await chat.click("Enrol in this class")

    refused = await send(chat, "x" * 501)

    assert "That note is 501 characters long; please keep it to 500" in refused.text
    assert NOTE_QUESTION in refused.text
    assert chat.buttons() == ["Skip", "◀️ Back"]
    assert await enrolments(db_factory) == []
    enrolled = await send(chat, "x" * 500)
    assert "You're enrolled" in enrolled.text
    assert await enrolments(db_factory) == [(ALICE, "active", "x" * 500)]


async def test_while_staff_confirm_enrolments_the_client_is_told_their_places_are_held(
    db_factory, chat_for
):
    await load(db_factory, STUDIO)
    chat = chat_for(ALICE, enrolment_active_by_default="false")
    await open_ceramics(chat)
    await chat.click("Enrol in this class")

    held = await send(chat, "First time on a wheel")

    assert "The studio will confirm your enrolment in Ceramics — Tuesday." in held.text
    assert "Your places in its 2 remaining sessions are held" in held.text
    assert await enrolments(db_factory) == [(ALICE, "pending", "First time on a wheel")]
    card = await open_ceramics(chat)
    assert "Your enrolment in this class waits for the studio to confirm it" in card.text
    assert "Leave this class" in str(card.reply_markup)


async def test_a_first_pay_as_you_go_booking_says_the_enrolment_waits_for_the_studio(
    db_factory, chat_for
):
    await load(db_factory, STUDIO)
    chat = chat_for(ALICE, enrolment_active_by_default="no")
    await chat.start()
    await chat.click("Book a session")
    await chat.click("Yoga")
    await chat.click("Wed, Dec 2")

    booked = await chat.click("✅ Book")  # no note: pay-as-you-go has no enrol step

    assert "You're booked!" in booked.text
    assert "The studio will confirm your enrolment in this programme" in booked.text
    assert await enrolments(db_factory) == [(ALICE, "pending", None)]


def staff_chat(db_factory, clock) -> tuple[Chat, RecordingBot]:
    settings = Settings(
        TZ="Europe/Prague",
        bot_token=None,
        admin_ids=frozenset({STAFF}),
        enrolment_active_by_default=False,
    )
    deps = Deps(db=db_factory, settings=settings, clock=clock)
    messages = MockMessageManager()
    dp = build_dispatcher(
        deps, build_i18n("en"), storage=JsonMemoryStorage(), message_manager=messages
    )
    bot = RecordingBot()
    return Chat(BotClient(dp, user_id=STAFF, chat_id=STAFF, bot=bot), messages), bot


async def test_staff_see_the_note_confirm_from_the_roster_and_the_client_is_told(
    db_factory, chat_for, clock
):
    await load(db_factory, STUDIO)
    alice = chat_for(ALICE, enrolment_active_by_default="false")
    await open_ceramics(alice)
    await alice.click("Enrol in this class")
    await send(alice, "Bad left knee")
    staff, bot = staff_chat(db_factory, clock)

    await send(staff, "/admin")
    roster = await staff.click("Tue, Dec 1")
    assert "1. User_1001 · id 1001 ⏳ enrolment to confirm" in roster.text
    card = await staff.click("👤 User_1001")
    assert "📝 Note: Bad left knee" in card.text
    assert "waits for your confirmation" in card.text
    assert staff.buttons() == [
        "🛎 Check in",
        "✅ Confirm enrolment",
        "🔁 Move booking",
        "❌ Cancel booking",
        "🚪 Take off the class",
        "◀️ Back",
    ]

    confirmed = await staff.click("Confirm enrolment")

    assert "✅ Enrolment confirmed; the client has been told." in confirmed.text
    assert staff.buttons() == [
        "🛎 Check in",
        "🔁 Move booking",
        "❌ Cancel booking",
        "🚪 Take off the class",
        "◀️ Back",
    ]
    assert "📝 Note: Bad left knee" in confirmed.text  # still there for the teacher
    assert await enrolments(db_factory) == [(ALICE, "active", "Bad left knee")]
    (notice,) = [call for call in bot.calls if isinstance(call, SendMessage)]
    assert notice.chat_id == ALICE
    assert notice.text == (
        "✅ The studio confirmed your enrolment in <b>Ceramics — Tuesday</b>. See you there!"
    )
    roster = await staff.click("Back")
    assert "enrolment to confirm" not in roster.text


async def test_a_second_confirm_from_an_old_card_changes_nothing(db_factory, chat_for, clock):
    await load(db_factory, STUDIO)
    alice = chat_for(ALICE, enrolment_active_by_default="false")
    await open_ceramics(alice)
    await alice.click("Enrol in this class")
    await alice.click("Skip")
    staff, bot = staff_chat(db_factory, clock)
    await send(staff, "/admin")
    await staff.click("Tue, Dec 1")
    await staff.click("👤 User_1001")
    old_card = staff.messages.one_message()
    await staff.click("Confirm enrolment")

    staff.messages.reset_history()
    await staff.client.click(old_card, InlineButtonTextLocator(".*Confirm enrolment.*"))

    assert "This enrolment is no longer waiting to be confirmed." in (
        staff.messages.one_message().text
    )
    assert len([call for call in bot.calls if isinstance(call, SendMessage)]) == 1
