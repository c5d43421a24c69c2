"""Reminders before a session, sent by the outbox dispatcher, and their Coming / Can't come
buttons (in-process: the aiogram-dialog test client clicks the buttons of what was sent)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiogram.methods import AnswerCallbackQuery, EditMessageReplyMarkup, EditMessageText
from aiogram.types import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram_dialog.test_tools import BotClient, MockMessageManager
from aiogram_dialog.test_tools.keyboard import InlineButtonTextLocator
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage
from sqlalchemy import select

from bot.delivery.courier import send_due
from bot.deps import Deps
from bot.runtime.app import build_dispatcher
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from domain.booking.bookings import book_or_wait
from domain.booking.status import BookingStatus
from domain.clients.record import ClientRef
from domain.storage.models import Booking, ClassSession, OutboxMessage
from tests.dialogs.test_notices import Outbox
from tests.support.catalog import load

ALICE, BOB, CAROL = (
    ClientRef(n, name, "en") for n, name in [(1, "Alice"), (2, "Bob"), (3, "Carol")]
)
STAFF = 900
DEC_1 = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 18:00 in Prague
CANT, YES = "❌ Can't come", "Yes, cancel it"


def make_deps(db_factory, clock) -> Deps:
    settings = Settings(TZ="Europe/Prague", bot_token=None, admin_ids=str(STAFF))
    return Deps(db=db_factory, settings=settings, clock=clock)


async def setup(db_factory, clock) -> Outbox:
    """Alice and Bob booked Dec 1 (full), Carol waits; a day before, the reminders go out."""
    await load(db_factory)
    deps = make_deps(db_factory, clock)
    async with db_factory() as db:
        session = await db.scalar(select(ClassSession.id).where(ClassSession.starts_at == DEC_1))
    for client in (ALICE, BOB, CAROL):
        async with db_factory() as db:
            await book_or_wait(
                db, client=client, session_id=session, now=clock(), policy=deps.settings.policy
            )
    bot = Outbox()
    await send_due(bot, deps, build_i18n("en"))
    assert bot.calls == []  # nothing is due days ahead
    clock.now = DEC_1 - timedelta(hours=23, minutes=59)
    await send_due(bot, deps, build_i18n("en"))
    return bot


async def click(db_factory, clock, bot: Outbox, user: ClientRef, text: str, markup, button: str):
    dp = build_dispatcher(
        make_deps(db_factory, clock),
        build_i18n("en"),
        storage=JsonMemoryStorage(),
        message_manager=MockMessageManager(),
    )
    client = BotClient(dp, user_id=user.id, chat_id=user.id, bot=bot)
    message = Message(
        message_id=99,
        date=datetime.now(),
        chat=Chat(id=user.id, type="private"),
        text=text,
        reply_markup=markup,
    )
    await client.click(message, InlineButtonTextLocator(button))
    return [c for c in bot.calls if isinstance(c, AnswerCallbackQuery)][-1]


def last_edit(bot: Outbox) -> EditMessageText:
    return [c for c in bot.calls if isinstance(c, EditMessageText)][-1]


async def booking(db_factory, client) -> Booking:
    async with db_factory() as db:
        return await db.scalar(select(Booking).where(Booking.client_id == client.id))


async def test_a_day_before_each_booked_client_is_reminded_with_two_buttons(db_factory, clock):
    bot = await setup(db_factory, clock)

    (alices,) = bot.sent(ALICE.id)
    assert alices.text == (
        "⏰ Reminder: <b>Yoga &amp; Breath — Morning flow</b> on Tuesday, December 1, 2026, "
        "6:00\u202fPM. Are you coming?"
    )
    assert [b.text for b in alices.reply_markup.inline_keyboard[0]] == [
        "✅ Coming",
        "❌ Can't come",
    ]
    assert len(bot.sent(BOB.id)) == 1
    assert bot.sent(CAROL.id) == []  # waiting, not booked
    async with db_factory() as db:
        states = sorted(await db.scalars(select(OutboxMessage.state)))
    assert states == ["pending", "pending", "sent", "sent"]  # the 2 h reminders are still ahead


async def test_coming_keeps_the_booking_and_remembers_the_answer(db_factory, clock):
    bot = await setup(db_factory, clock)
    (reminder,) = bot.sent(ALICE.id)

    await click(db_factory, clock, bot, ALICE, reminder.text, reminder.reply_markup, "✅ Coming")

    assert "Thanks! See you at" in last_edit(bot).text
    assert last_edit(bot).reply_markup is None
    alices = await booking(db_factory, ALICE)
    assert alices.status == BookingStatus.ACTIVE
    assert alices.confirmed_at == clock()


async def test_cant_come_asks_once_more_then_cancels_and_the_place_goes_on(db_factory, clock):
    bot = await setup(db_factory, clock)
    (reminder,) = bot.sent(ALICE.id)

    await click(
        db_factory, clock, bot, ALICE, reminder.text, reminder.reply_markup, "❌ Can't come"
    )
    question = last_edit(bot)
    assert question.text.startswith("Cancel your booking for <b>Yoga &amp; Breath")
    assert (await booking(db_factory, ALICE)).status == BookingStatus.ACTIVE  # not yet

    await click(
        db_factory, clock, bot, ALICE, question.text, question.reply_markup, "Yes, cancel it"
    )

    assert "is cancelled" in last_edit(bot).text
    assert (await booking(db_factory, ALICE)).status == BookingStatus.CANCELLED
    (promoted,) = bot.sent(CAROL.id)  # auto promotion from the waiting list
    assert "it is yours: you are booked for" in promoted.text
    (staff,) = bot.sent(STAFF)  # within 24 h of the start
    assert staff.text.startswith("⚠️ Alice cancelled <b>Yoga &amp; Breath — Morning flow</b>")
    assert "Now 2 of 2 booked, 0 waiting." in staff.text


async def test_no_keep_it_shows_the_reminder_again(db_factory, clock):
    bot = await setup(db_factory, clock)
    (reminder,) = bot.sent(ALICE.id)
    await click(
        db_factory, clock, bot, ALICE, reminder.text, reminder.reply_markup, "❌ Can't come"
    )
    question = last_edit(bot)

    await click(db_factory, clock, bot, ALICE, question.text, question.reply_markup, "No, keep it")

    assert last_edit(bot).text == reminder.text
    assert last_edit(bot).reply_markup == reminder.reply_markup
    assert (await booking(db_factory, ALICE)).status == BookingStatus.ACTIVE


async def test_someone_elses_reminder_button_changes_nothing(db_factory, clock):
    bot = await setup(db_factory, clock)
    (alices,) = bot.sent(ALICE.id)
    cancel = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text="forged",
                    callback_data=f"rem:cancel:{(await booking(db_factory, ALICE)).id}",
                )
            ]
        ]
    )

    reply = await click(db_factory, clock, bot, BOB, alices.text, cancel, "forged")

    assert reply.text == "That booking doesn't exist or isn't yours."
    assert reply.show_alert
    assert any(isinstance(c, EditMessageReplyMarkup) for c in bot.calls)  # buttons gone
    assert (await booking(db_factory, ALICE)).status == BookingStatus.ACTIVE


async def test_a_reminder_of_a_cancelled_booking_is_never_sent(db_factory, clock):
    await load(db_factory)
    deps = make_deps(db_factory, clock)
    async with db_factory() as db:
        session = await db.scalar(select(ClassSession.id).where(ClassSession.starts_at == DEC_1))
        await book_or_wait(db, client=ALICE, session_id=session, now=clock())
        alices = await db.scalar(select(Booking))
        alices.status = BookingStatus.CANCELLED  # e.g. by staff, bypassing the use case
        await db.commit()
    clock.now = DEC_1 - timedelta(hours=1)
    bot = Outbox()

    await send_due(bot, deps, build_i18n("en"))

    assert bot.calls == []
    async with db_factory() as db:
        assert sorted(await db.scalars(select(OutboxMessage.state))) == ["cancelled"] * 2
