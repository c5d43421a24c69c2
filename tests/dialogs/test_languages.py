"""Languages and time zones in-process: the menu in every catalog's language, taken from
Telegram's language on first contact; the client switches language and time zone in 🌐 and
the next screen follows; bad input changes nothing; a reminder sent unasked is in the
recipient's language and time zone across a summer-time change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiogram_dialog.test_tools import BotClient, MockMessageManager
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage
from sqlalchemy import select

from bot.delivery import notify
from bot.deps import Deps
from bot.dialogs.settings import language_name
from bot.runtime.app import build_dispatcher
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from domain.booking.bookings import book_or_wait
from domain.clients.record import ClientRef
from domain.notices.events import SessionReminder
from domain.storage.models import ClassSession, Client
from tests.support.catalog import load
from tests.support.dialogs import Chat

I18N = build_i18n("en")
LANGUAGES = sorted(I18N.available_locales)
MENU = "👋 Hello, <b>{name}</b>!\n\nBook a session, see your bookings or cancel one."
SETTINGS = "🌐 Language and time zone"
TITLE = "🌐 <b>Language and time zone</b>\n\nPick the language I speak with you:"


def translated(msgid: str, locale: str) -> str:
    with I18N.context(), I18N.use_locale(locale):
        return I18N.gettext(msgid)


def chat_in(db_factory, clock, language: str | None, user_id: int = 42) -> Chat:
    settings = Settings(TZ="Europe/Prague", currency="EUR", bot_token=None)
    deps = Deps(db=db_factory, settings=settings, clock=clock)
    messages = MockMessageManager()
    dp = build_dispatcher(deps, I18N, storage=JsonMemoryStorage(), message_manager=messages)
    client = BotClient(dp, user_id=user_id)
    client.user = client.user.model_copy(update={"language_code": language})
    return Chat(client, messages)


async def language_of(db_factory, user_id: int = 42) -> tuple[str | None, str | None]:
    async with db_factory() as db:
        client = await db.get(Client, user_id)
        return client.language_code, client.time_zone


def test_there_are_at_least_the_four_languages():
    assert {"en", "cs", "hu", "ru"} <= set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_menu_speaks_the_clients_telegram_language(db_factory, clock, language):
    chat = chat_in(db_factory, clock, language)

    menu = await chat.start()

    name = chat.client.user.first_name
    assert menu.text == translated(MENU, language).format(name=name)
    if language != "en":
        assert menu.text != MENU.format(name=name)
        assert "Book a session" not in " ".join(chat.buttons())
    assert await language_of(db_factory) == (language, None)  # remembered on first contact


async def test_a_language_without_a_catalog_gets_the_default(db_factory, clock):
    chat = chat_in(db_factory, clock, "pt-BR")

    menu = await chat.start()

    assert menu.text == MENU.format(name=chat.client.user.first_name)


async def test_a_client_switches_from_hungarian_to_czech_and_the_next_screen_is_czech(
    db_factory, clock
):
    chat = chat_in(db_factory, clock, "hu")
    await chat.start()

    await chat.click(translated(SETTINGS, "hu"))
    picked = await chat.click(language_name("cs"))

    assert picked.text.startswith(translated(TITLE, "cs"))
    assert "✅ " + language_name("cs") in chat.buttons()
    assert (await language_of(db_factory))[0] == "cs"
    chat.messages.reset_history()
    menu = await chat.start()
    assert menu.text == translated(MENU, "cs").format(name=chat.client.user.first_name)


async def test_a_forged_language_is_refused_and_nothing_changes(db_factory, clock):
    chat = chat_in(db_factory, clock, "en")
    await chat.start()
    await chat.click(SETTINGS)
    message = chat.messages.one_message()
    button = next(
        b for row in message.reply_markup.inline_keyboard for b in row if b.text == "Magyar"
    )
    forged = button.model_copy(update={"callback_data": button.callback_data[:-2] + "xx"})
    chat.messages.reset_history()

    await chat.client.click(message, _Exactly(forged))

    assert "I don't speak that language yet." in chat.messages.one_message().text
    assert await language_of(db_factory) == ("en", None)


async def test_a_time_zone_is_remembered_and_a_wrong_one_changes_nothing(db_factory, clock):
    chat = chat_in(db_factory, clock, "en")
    await chat.start()
    await chat.click(SETTINGS)

    chat.messages.reset_history()
    await chat.client.send("Mars/Olympus")
    assert 'I don\'t know the time zone "Mars/Olympus"' in chat.messages.one_message().text
    assert await language_of(db_factory) == ("en", None)

    chat.messages.reset_history()
    await chat.client.send("america/new_york")
    shown = chat.messages.one_message()
    assert "(America/New_York)" in shown.text
    assert await language_of(db_factory) == ("en", "America/New_York")

    back = await chat.click("🏢 Use the studio's time zone")
    assert "(Europe/Prague)" in back.text
    assert await language_of(db_factory) == ("en", None)


class _Exactly:
    def __init__(self, button) -> None:
        self.button = button

    def find_button(self, _message):
        return self.button


SPRING = """
programmes:
  - key: yoga
    title: Yoga
    classes:
      - key: morning
        title: Morning flow
        capacity: 5
        sessions: ["2027-03-15 15:00"]
"""


async def test_a_reminder_is_in_the_recipients_language_and_time_zone_across_summer_time(
    db_factory, clock
):
    # New York moved its clocks on 2027-03-14, Prague only on 2027-03-28: the gap is 5 h
    await load(db_factory, SPRING)
    settings = Settings(TZ="Europe/Prague", currency="EUR", bot_token=None)
    deps = Deps(db=db_factory, settings=settings, clock=clock)
    async with db_factory() as db:
        session = await db.scalar(select(ClassSession))
        assert session.starts_at == datetime(2027, 3, 15, 14, 0, tzinfo=UTC)
        booked = await book_or_wait(
            db,
            client=ClientRef(7, "Věra", "cs"),
            session_id=session.id,
            now=clock(),
            policy=settings.policy,
        )
        client = await db.get(Client, 7)
        client.time_zone = "America/New_York"
        await db.commit()
    event = SessionReminder(7, booked.card.id, session.starts_at, "24h")

    async with db_factory() as db:
        rendered = await notify.render(db, deps, I18N, event)
    async with db_factory() as db:
        client = await db.get(Client, 7)
        client.time_zone = None
        await db.commit()
        at_home = await notify.render(db, deps, I18N, event)

    assert "10:00" in rendered.text  # 14:00 UTC on New York's summer clock
    assert "15:00" in at_home.text  # and on Prague's winter clock
    english = await _rendered_in(db_factory, deps, event, "en")
    assert rendered.text != english
    assert translated("✅ Coming", "cs") in [
        b.text for row in rendered.markup.inline_keyboard for b in row
    ]


async def _rendered_in(db_factory, deps, event, language: str) -> str:
    async with db_factory() as db:
        client = await db.get(Client, 7)
        client.language_code, client.time_zone = language, "America/New_York"
        await db.commit()
        return (await notify.render(db, deps, I18N, event)).text
