"""Two taps of one chat at once are handled one after the other, the dialog's state included:
the second sees what the first left, never the screen from before it (bot/runtime/chatlock.py).
On one dispatcher, and on two sharing one Redis (two instances); and a tap on a window shown
a moment ago, before its dialog was saved, waits for the save instead of being "expired"."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.methods import AnswerCallbackQuery
from aiogram_dialog.test_tools import BotClient, MockMessageManager
from aiogram_dialog.test_tools.keyboard import InlineButtonTextLocator
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage
from sqlalchemy import select

from bot.deps import Deps
from bot.runtime.app import build_dispatcher, dialog_options
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from domain.storage.models import ClassSession
from tests.support.catalog import TWO_CLASSES, YOGA, load
from tests.support.dialogs import Chat, RecordingBot, active_bookings
from tests.support.services import REDIS_URL, redis_prefix

BOOK = InlineButtonTextLocator(".*✅ Book.*")


async def open_the_card(chat: Chat):
    await chat.start()
    await chat.click("Book a session")
    await chat.click("Yoga & Breath")
    return await chat.click("Tue, Dec 1")


async def tap_twice_at_once(clients: list[BotClient], messages: MockMessageManager) -> list[str]:
    """Both taps press ✅ Book on the same card (the first client's, then the last one's);
    the screens they led to, in order."""
    card = messages.one_message()
    messages.reset_history()
    await asyncio.gather(clients[0].click(card, BOOK), clients[-1].click(card, BOOK))
    return [str(message.text) for message in messages.sent_messages]


class HeldAnswers(MockMessageManager):
    """Answers a tap only once let: aiogram-dialog shows the new window, answers the tap, and
    only then saves the dialog, so a held answer keeps the window shown and the dialog unsaved."""

    def __init__(self) -> None:
        super().__init__()
        self.let = asyncio.Event()
        self.let.set()
        self.held = asyncio.Event()

    async def answer_callback(self, bot, callback_query) -> None:
        if not self.let.is_set():
            self.held.set()
        await self.let.wait()
        await super().answer_callback(bot, callback_query)


def assert_booked_then_still_booked(screens: list[str]) -> None:
    assert screens, "no screen shown"
    assert "You're booked!" in screens[0]
    for screen in screens[1:]:  # the booked screen again, never the card from before
        assert "You're booked!" in screen, screens
    assert not any("already booked" in screen for screen in screens), screens


async def test_two_book_taps_at_once_book_once_and_both_end_on_the_booked_screen(chat, db_factory):
    await open_the_card(chat)

    screens = await tap_twice_at_once([chat.client], chat.messages)

    assert_booked_then_still_booked(screens)
    assert [client for client, _ in await active_bookings(db_factory)] == [42]


@pytest.fixture
async def shared_redis() -> AsyncIterator[tuple[str, list[RedisStorage]]]:
    async with redis_prefix() as prefix:
        made: list[RedisStorage] = []

        def storage() -> RedisStorage:
            made.append(
                RedisStorage.from_url(
                    REDIS_URL,
                    key_builder=DefaultKeyBuilder(
                        prefix=prefix, with_bot_id=True, with_destiny=True
                    ),
                )
            )
            return made[-1]

        yield storage
        for each in made:
            await each.close()


async def test_two_book_taps_at_once_on_two_instances_sharing_redis_book_once(
    db_factory, clock, shared_redis
):
    await load(db_factory, YOGA + TWO_CLASSES.replace("programmes:\n", ""))
    i18n = build_i18n("en")
    settings = Settings(TZ="Europe/Prague", currency="EUR", bot_token=None)
    deps = Deps(db=db_factory, settings=settings, clock=clock)
    messages = MockMessageManager()  # one chat: what either instance shows, in order
    clients = []
    for _ in range(2):
        storage = shared_redis()
        options = {**dialog_options(storage), "message_manager": messages}  # as the bot's run
        clients.append(BotClient(build_dispatcher(deps, i18n, storage, **options), 42))
    await open_the_card(Chat(clients[0], messages))

    screens = await tap_twice_at_once(clients, messages)

    assert_booked_then_still_booked(screens)
    assert [client for client, _ in await active_bookings(db_factory)] == [42]


async def test_a_tap_on_a_window_not_yet_saved_waits_for_the_save_instead_of_expiring(
    db_factory, clock
):
    await load(db_factory, YOGA + TWO_CLASSES.replace("programmes:\n", ""))
    settings = Settings(TZ="Europe/Prague", currency="EUR", bot_token=None)
    deps = Deps(db=db_factory, settings=settings, clock=clock)
    messages, bot = HeldAnswers(), RecordingBot()
    dp = build_dispatcher(deps, build_i18n("en"), JsonMemoryStorage(), message_manager=messages)
    chat = Chat(BotClient(dp, 42, bot=bot), messages)
    await open_the_card(chat)
    booked = await chat.click("✅ Book")
    messages.reset_history()
    messages.let.clear()

    # My bookings starts a new dialog: its list is shown, the tap not yet answered
    first = asyncio.create_task(chat.client.click(booked, InlineButtonTextLocator(".*My bookings")))
    await messages.held.wait()
    listing = messages.last_message()
    second = asyncio.create_task(
        chat.client.click(listing, InlineButtonTextLocator(".*Morning flow"))
    )
    for _ in range(200):  # the second tap goes as far as it can while the first is held
        await asyncio.sleep(0)
    messages.let.set()
    await asyncio.gather(first, second)

    assert not [text for text in bot.texts() if "expired" in text]
    assert "Cancel booking" in str(messages.last_message().reply_markup)


class HeldBot(RecordingBot):
    """Answers a tap (as the stale-button handler does, through the bot) only once let."""

    def __init__(self) -> None:
        super().__init__()
        self.let = asyncio.Event()
        self.let.set()
        self.held = asyncio.Event()

    async def __call__(self, method, request_timeout=None):
        if isinstance(method, AnswerCallbackQuery) and not self.let.is_set():
            self.held.set()
            await self.let.wait()
        return await super().__call__(method, request_timeout)


async def test_a_session_link_waits_for_the_stale_tap_before_it_to_be_handled_whole(
    db_factory, clock
):
    """The error handler of a stale tap ("expired", and the menu it resets to) runs under the
    chat's lock too: a link sent meanwhile is handled after it, not lost under its menu."""
    await load(db_factory, YOGA + TWO_CLASSES.replace("programmes:\n", ""))
    settings = Settings(TZ="Europe/Prague", currency="EUR", bot_token=None)
    deps = Deps(db=db_factory, settings=settings, clock=clock)
    messages, bot = MockMessageManager(), HeldBot()
    dp = build_dispatcher(deps, build_i18n("en"), JsonMemoryStorage(), message_manager=messages)
    chat = Chat(BotClient(dp, 42, bot=bot), messages)
    card = await open_the_card(chat)
    await chat.client.send("/start")  # the card's dialog is replaced: its buttons are stale
    async with db_factory() as db:
        session_id = await db.scalar(select(ClassSession.id).order_by(ClassSession.id.desc()))
    messages.reset_history()
    bot.let.clear()

    stale = asyncio.create_task(chat.client.click(card, BOOK))
    await bot.held.wait()  # answering "expired", the menu not yet shown
    link = asyncio.create_task(chat.client.send(f"/start s_{session_id}"))
    for _ in range(200):  # the link goes as far as it can while the stale tap is held
        await asyncio.sleep(0)
    bot.let.set()
    await asyncio.gather(stale, link)

    assert [text for text in bot.texts() if "expired" in text]
    assert "🗓" in str(messages.last_message().text)  # the linked session's card, last
