"""Gettext at the edge: catalogs compiled from locales/*.po, widgets that translate."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiogram import Dispatcher
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware, gettext, ngettext
from aiogram_dialog.api.protocols import DialogManager
from aiogram_dialog.widgets.common import WhenCondition
from aiogram_dialog.widgets.text import Text
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.text.reader import READER_ZONE
from domain.clients.record import preferences

LOCALES = Path(__file__).resolve().parents[2] / "locales"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


def compile_catalogs(path: Path = LOCALES) -> None:
    """aiogram reads only .mo files; build them from the .po sources when missing or stale."""
    for po_path in path.glob(f"*/LC_MESSAGES/{DOMAIN}.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as source:
            catalog = read_po(source)
        # a file of this call's own: test workers and bot processes starting together compile
        # at once, and each replaces the .mo with a whole one
        tmp = mo_path.with_suffix(f".mo.{uuid.uuid4().hex}.tmp")
        with tmp.open("wb") as target:
            write_mo(target, catalog)
        tmp.replace(mo_path)


def build_i18n(default_locale: str, path: Path = LOCALES) -> I18n:
    compile_catalogs(path)
    return I18n(path=path, default_locale=default_locale, domain=DOMAIN)


def setup_i18n(dp: Dispatcher, i18n: I18n) -> None:
    """Call after setup_dialogs, so background dialog updates see the middleware too."""
    ReaderI18nMiddleware(i18n).setup(dp)


# The reader's choices, kept in their FSM data (shared by every instance through Redis) so
# that an update reads the database only the first time it meets them after a restart.
PREFERENCES_KEY = "spotbook_prefs"


class ReaderI18nMiddleware(I18nMiddleware):
    """Speaks each user's language and shows their time zone: what they chose in the bot
    (clients.language_code / time_zone, remembered from Telegram's language on first
    contact), else Telegram's language and the business's zone."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        preferences = await self._preferences(user, data) if user is not None else {}
        data["reader_preferences"] = preferences
        token = READER_ZONE.set(zone_named(preferences.get("time_zone")))
        try:
            return await super().__call__(handler, event, data)
        finally:
            READER_ZONE.reset(token)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        preferences = data.get("reader_preferences") or {}
        wanted = preferences.get("language") or (user.language_code if user else None)
        return available_locale(self.i18n, wanted)

    async def _preferences(self, user: User, data: dict[str, Any]) -> dict[str, Any]:
        state: FSMContext | None = data.get("state")
        if state is not None:
            kept = (await state.get_data()).get(PREFERENCES_KEY)
            if kept is not None:
                return kept
        deps = data.get("deps")
        if deps is None:
            return {}
        async with deps.db() as db:
            found = await preferences(db, user.id)
        kept = {
            "language": found.language if found else None,
            "time_zone": found.time_zone if found else None,
        }
        if state is not None:
            await state.update_data({PREFERENCES_KEY: kept})
        return kept


async def remember_preferences(state: FSMContext | None, **changes: str | None) -> None:
    """After the client changed a preference: every instance sees it from the next update."""
    if state is None:
        return
    kept = dict((await state.get_data()).get(PREFERENCES_KEY) or {})
    kept.update(changes)
    await state.update_data({PREFERENCES_KEY: kept})


def available_locale(i18n: I18n, wanted: str | None) -> str:
    """``wanted`` ("pt-BR" → "pt") if there is a catalog for it, else the default."""
    language = (wanted or "").replace("_", "-").split("-")[0].lower()
    return language if language in i18n.available_locales else i18n.default_locale


def zone_named(name: str | None) -> ZoneInfo | None:
    """A stored zone name as a zone; None when unset or no longer known to the system."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


class T(Text):
    """A translated Format: the message id goes through gettext, then gets the window's data."""

    def __init__(self, msgid: str, when: WhenCondition = None) -> None:
        super().__init__(when=when)
        self.msgid = msgid

    async def _render_text(self, data: dict, manager: DialogManager) -> str:
        return gettext(self.msgid).format_map(data)


class TP(Text):
    """A translated plural Format; `count` names the number in the window's data."""

    def __init__(self, singular: str, plural: str, count: str, when: WhenCondition = None) -> None:
        super().__init__(when=when)
        self.singular, self.plural, self.count = singular, plural, count

    async def _render_text(self, data: dict, manager: DialogManager) -> str:
        n = int(data[self.count])
        return ngettext(self.singular, self.plural, n).format_map(data)
