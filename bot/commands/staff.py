"""Staff in the chat: /admin opens the staff dialog; a catalog file sent as a document (after
/import, or just so) is imported like `python -m bot import-catalog` does it.

Only ADMIN_IDS may do any of this. Anyone else gets a plain refusal for /admin, /import and
staff buttons; their documents are not taken here and go on to the usual handlers.
"""

from __future__ import annotations

import logging
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import Document, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, ShowMode
from aiohttp import ClientError

from bot.access import IsStaff, StaffCallback, refuse
from bot.commands.catalog_report import ensure_small_enough, read_catalog, report_lines
from bot.deps import Deps
from bot.dialogs.common import open_over_menu
from bot.states import Staff
from domain.catalog import reading
from domain.catalog.file import CatalogInvalid
from domain.catalog.importer import ImportReport, dialect_id, import_catalog

log = logging.getLogger(__name__)

CATALOG_SUFFIXES = (".yaml", ".yml")
# Telegram allows 4096 characters (UTF-16 units) per message; stay clear of it.
MESSAGE_LIMIT = 4000


async def open_staff_dialog(_message: Message, dialog_manager: DialogManager) -> None:
    await open_over_menu(dialog_manager, Staff.sessions, show_mode=ShowMode.SEND)


async def open_today(_message: Message, dialog_manager: DialogManager) -> None:
    """/today: the front desk's list of today's sessions."""
    await open_over_menu(dialog_manager, Staff.today, show_mode=ShowMode.SEND)


async def ask_for_catalog(message: Message) -> None:
    reading.warm()  # the file is read in a process of its own: start it while staff pick one
    await message.answer(
        _(
            "Send me the catalog file (.yaml or .yml) as a document. I check the whole file "
            "first: nothing changes unless all of it is valid."
        )
    )


async def on_catalog_file(message: Message, bot: Bot, deps: Deps) -> None:
    document = message.document
    assert document is not None  # the F.document filter
    name = document.file_name or "catalog.yaml"
    if not name.lower().endswith(CATALOG_SUFFIXES):
        await message.answer(_("To import the catalog, send it as a .yaml or .yml file."))
        return
    outcome: ImportReport | CatalogInvalid
    try:
        ensure_small_enough(document.file_size)  # before downloading anything
        data = await _download(bot, document)
        async with deps.db() as db:  # no connection yet: the dialect is the engine's
            dialect = dialect_id(db.get_bind().dialect)
            catalog, bound = await read_catalog(data, deps.settings, dialect)
            outcome = await import_catalog(db, catalog, bound)
    except CatalogInvalid as invalid:
        outcome = invalid
    except DownloadFailed:
        await message.answer(_("I could not get the file from Telegram; please send it again."))
        return
    report = report_lines(name, outcome, (await bot.me()).username)
    for text in split_message(report.lines):
        await message.answer(escape(text, quote=False))


class DownloadFailed(Exception):
    pass


async def _download(bot: Bot, document: Document) -> bytes:
    try:
        buffer = await bot.download(document)
    except (TelegramAPIError, ClientError, TimeoutError) as error:
        log.warning("could not download catalog file %s: %s", document.file_id, error)
        raise DownloadFailed from None
    assert buffer is not None  # no destination given: aiogram returns a BytesIO
    return buffer.read()


def split_message(lines: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Lines joined into as few messages as fit; a long problem list takes several."""
    messages: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = _cut(line, limit)
        length = _utf16_len(line) + 1
        if current and size + length > limit:
            messages.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += length
    if current:
        messages.append("\n".join(current))
    return messages


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(line: str, limit: int) -> str:
    if _utf16_len(line) <= limit:
        return line
    kept, size = [], 1  # room for the ellipsis
    for char in line:
        size += _utf16_len(char)
        if size > limit:
            break
        kept.append(char)
    return "".join(kept) + "…"


def staff_router() -> Router:
    router = Router(name="staff")
    router.message.filter(F.chat.type == "private")
    router.message.register(open_staff_dialog, Command("admin"), IsStaff())
    router.message.register(open_today, Command("today"), IsStaff())
    router.message.register(ask_for_catalog, Command("import"), IsStaff())
    router.message.register(refuse, Command("admin", "import", "today"))
    router.message.register(on_catalog_file, F.document, IsStaff())
    router.callback_query.register(refuse, StaffCallback(), ~IsStaff())
    return router
