"""Gettext at the edge: catalogs compiled from locales/*.po, widgets that translate."""

from __future__ import annotations

from pathlib import Path

from aiogram import Dispatcher
from aiogram.utils.i18n import I18n, SimpleI18nMiddleware, gettext, ngettext
from aiogram_dialog.api.protocols import DialogManager
from aiogram_dialog.widgets.common import WhenCondition
from aiogram_dialog.widgets.text import Text
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = Path(__file__).resolve().parent.parent / "locales"
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
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as target:
            write_mo(target, catalog)
        tmp.replace(mo_path)


def build_i18n(default_locale: str, path: Path = LOCALES) -> I18n:
    compile_catalogs(path)
    return I18n(path=path, default_locale=default_locale, domain=DOMAIN)


def setup_i18n(dp: Dispatcher, i18n: I18n) -> None:
    """Call after setup_dialogs, so background dialog updates see the middleware too."""
    SimpleI18nMiddleware(i18n).setup(dp)


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
