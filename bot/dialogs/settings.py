"""🌐 Language and time zone: the client picks the bot's language (the next message is in it)
and, if they live elsewhere, their own time zone for the dates they are shown."""

from __future__ import annotations

from typing import Any

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Select
from aiogram_dialog.widgets.text import Format
from babel import Locale

from bot.deps import client_of, deps_of, formatter_of, i18n_of
from bot.dialogs.common import ERROR_LINE, back_to, show_error, take_error
from bot.states import MainMenu
from bot.text.i18n import T, remember_preferences
from bot.text.reader import READER_ZONE
from domain.clients import record as clients
from domain.errors import DomainError

LANGUAGES, STUDIO_ZONE = "lang", "studio_tz"


def language_name(code: str) -> str:
    """A language in its own words: "Čeština", "Magyar", "Русский"."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


async def settings_getter(dialog_manager: DialogManager, **_kwargs) -> dict:
    i18n = i18n_of(dialog_manager)
    fmt = formatter_of(dialog_manager)
    current = i18n.current_locale
    languages = [
        (code, ("✅ " if code == current else "") + language_name(code))
        for code in sorted(i18n.available_locales)
    ]
    return {
        "error": take_error(dialog_manager),
        "languages": languages,
        "zone": fmt.zone.key,
        "city": fmt.city(),
        "own_zone": fmt.own_zone is not None,
    }


async def on_language(_c: CallbackQuery, _w: Any, manager: DialogManager, code: str) -> None:
    deps = deps_of(manager)
    i18n = i18n_of(manager)
    try:
        async with deps.db() as db:
            await clients.set_language(
                db, client_of(manager), code, i18n.available_locales, deps.clock()
            )
    except DomainError as error:  # a forged or stale language id
        show_error(manager, error)
        return
    await remember_preferences(manager.middleware_data.get("state"), language=code)
    i18n.current_locale = code  # this very answer is in it already


async def on_zone_text(message: Message, _w: Any, manager: DialogManager) -> None:
    await _set_zone(manager, message.text or "")


async def on_zone_not_text(_m: Message, _w: Any, manager: DialogManager) -> None:
    show_error(manager, "time_zone_not_text")


async def on_studio_zone(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    await _set_zone(manager, None)


async def _set_zone(manager: DialogManager, name: str | None) -> None:
    deps = deps_of(manager)
    try:
        async with deps.db() as db:
            zone = await clients.set_time_zone(db, client_of(manager), name, deps.clock())
    except DomainError as error:
        show_error(manager, error)
        return
    await remember_preferences(manager.middleware_data.get("state"), time_zone=zone and zone.key)
    READER_ZONE.set(zone)  # the re-rendered window shows it


settings_window = Window(
    ERROR_LINE,
    T("🌐 <b>Language and time zone</b>\n\nPick the language I speak with you:"),
    Select(
        Format("{item[1]}"),
        id=LANGUAGES,
        item_id_getter=lambda item: item[0],
        items="languages",
        on_click=on_language,
    ),
    T("\n🕒 Times are shown for {city} ({zone}).", when="zone"),
    T(
        "Living elsewhere? Send your time zone, like Europe/Budapest or America/New_York.",
    ),
    MessageInput(on_zone_text, content_types=ContentType.TEXT),
    MessageInput(on_zone_not_text),
    Button(
        T("🏢 Use the studio's time zone"),
        id=STUDIO_ZONE,
        on_click=on_studio_zone,
        when="own_zone",
    ),
    back_to(MainMenu.main),
    state=MainMenu.settings,
    getter=settings_getter,
)
