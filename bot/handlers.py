"""Commands outside dialogs: /start (with deep links), /bookings, and stale buttons."""

from __future__ import annotations

import contextlib
import logging
import re

from aiogram import F, Router
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import Command, CommandObject, CommandStart, ExceptionTypeFilter
from aiogram.types import ErrorEvent, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, ShowMode, StartMode
from aiogram_dialog.api.exceptions import OutdatedIntent, UnknownIntent, UnknownState

from bot.access import is_staff
from bot.deps import Deps, client_ref
from bot.dialogs.catalog.browse import open_programme
from bot.dialogs.common import open_over_menu
from bot.dialogs.staff.desk import open_check_in
from bot.states import Catalog, MainMenu, MyBookings
from bot.text.errors import message_for
from domain.booking import client_views
from domain.clients.record import register_client
from domain.timetable import announce

log = logging.getLogger(__name__)

SESSION_LINK = re.compile(r"^s_(\d{1,18})$")
PROGRAMME_LINK = re.compile(r"^p_([A-Za-z0-9_-]{8,24})$")
CLASS_LINK = re.compile(r"^c_([A-Za-z0-9_-]{8,24})$")
CHECK_IN_LINK = re.compile(r"^ci_([A-Za-z0-9_-]{1,24})$")


def session_link_payload(session_id: int) -> str:
    """The deep-link payload for one session: t.me/<bot>?start=s_<id> (≤ 64 chars)."""
    return f"s_{session_id}"


async def start(
    message: Message, command: CommandObject, dialog_manager: DialogManager, deps: Deps
) -> None:
    async with deps.db() as db:
        await register_client(db, client_ref(message.from_user), deps.clock())
    check_in = CHECK_IN_LINK.match(command.args or "")
    if check_in is not None:
        if not is_staff(message.from_user, deps):
            await message.answer(
                _("This is your check-in code: show it at the front desk when you arrive.")
            )
            return
        if await open_check_in(dialog_manager, deps, check_in.group(1)):
            return
        await message.answer(message_for("check_in_code_unknown", _))
        return
    session_id = _linked_session(command.args)
    if session_id is not None:
        async with deps.db() as db:
            card = await client_views.session_card(db, session_id, message.from_user.id)
        if card is not None:
            await open_over_menu(
                dialog_manager, Catalog.session, {"session_id": session_id}, ShowMode.SEND
            )
            return
    linked_class = await _linked_class(deps, command.args)
    if linked_class is not None:  # an announcement's Book button: the session's spots
        class_id, programme_id = linked_class
        data = {"programme_id": programme_id, "class_id": class_id, "one_class": True}
        await open_over_menu(dialog_manager, Catalog.sessions, data, ShowMode.SEND)
        return
    programme = await _linked_programme(deps, command.args)
    if programme is not None:
        await open_programme(dialog_manager, deps, programme.id)
        return
    if command.args:
        await message.answer(_("That link doesn't lead to a session I know. Here is the menu."))
    await dialog_manager.start(MainMenu.main, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)


async def _linked_programme(deps: Deps, payload: str | None) -> client_views.ProgrammeRow | None:
    """A private programme's share link: p_<token> (its id alone would be guessable)."""
    match = PROGRAMME_LINK.match(payload or "")
    if match is None:
        return None
    async with deps.db() as db:
        return await client_views.programme_by_link(db, match.group(1))


async def _linked_class(deps: Deps, payload: str | None) -> tuple[int, int] | None:
    """A multi session's link (announcement cards): c_<token>."""
    match = CLASS_LINK.match(payload or "")
    if match is None:
        return None
    async with deps.db() as db:
        return await announce.link_target(db, match.group(1))


def _linked_session(payload: str | None) -> int | None:
    match = SESSION_LINK.match(payload or "")
    return int(match.group(1)) if match else None


async def my_bookings(_message: Message, dialog_manager: DialogManager) -> None:
    await open_over_menu(dialog_manager, MyBookings.list, show_mode=ShowMode.SEND)


async def language(_message: Message, dialog_manager: DialogManager) -> None:
    await open_over_menu(dialog_manager, MainMenu.settings, show_mode=ShowMode.SEND)


async def anything_else(_message: Message, dialog_manager: DialogManager) -> None:
    """Text outside any dialog (a new chat, or after a restart): answer with the menu."""
    await dialog_manager.start(MainMenu.main, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)


async def stale_dialog(event: ErrorEvent, dialog_manager: DialogManager) -> None:
    """A button from a finished or replaced dialog: say so, and show the menu anew."""
    log.info("stale dialog button: %s", event.exception)
    if event.update.callback_query is not None:
        await event.update.callback_query.answer(
            _("This button has expired. Here is the menu again.")
        )
    elif event.update.message is None:
        return
    await dialog_manager.start(MainMenu.main, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)


# Telegram failing the bot's answer: down (5xx), out of reach (a lost connection, a timeout),
# flood control (429), or the client blocked the bot (403)
TELEGRAM_FAULTS = (
    TelegramServerError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramForbiddenError,
)


async def telegram_failed(event: ErrorEvent) -> None:
    """Telegram failed the answer to an update. What the update did is committed already (a
    use case commits before its result is shown), and the dialog stays on the window the chat
    still shows (aiogram-dialog keeps a new state only once it is shown), so the client's next
    tap works: a warning, not a crash."""
    log.warning(
        "Telegram failed the answer to update %s: %r", event.update.update_id, event.exception
    )
    query = event.update.callback_query
    if query is not None:  # stop the button's spinner, if Telegram takes that now
        with contextlib.suppress(TelegramAPIError):
            await query.answer()


def commands_router() -> Router:
    router = Router(name="commands")
    router.message.filter(F.chat.type == "private")
    router.message.register(start, CommandStart())
    router.message.register(my_bookings, Command("bookings"))
    router.message.register(language, Command("language", "settings"))
    router.errors.register(
        stale_dialog, ExceptionTypeFilter(UnknownIntent, OutdatedIntent, UnknownState)
    )
    router.errors.register(telegram_failed, ExceptionTypeFilter(*TELEGRAM_FAULTS))
    return router


def fallback_router() -> Router:
    """Included after the dialogs, which answer text themselves while one is open."""
    router = Router(name="fallback")
    router.message.filter(F.chat.type == "private")
    router.message.register(anything_else)
    return router
