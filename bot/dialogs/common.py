"""Pieces every dialog shares: Back buttons, the error line, reading a Select item id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from operator import itemgetter
from typing import TypeVar

from aiogram.fsm.state import State
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.common import WhenCondition
from aiogram_dialog.widgets.kbd import Button, Cancel, ScrollingGroup, Select, SwitchTo
from aiogram_dialog.widgets.kbd.select import OnItemClick
from aiogram_dialog.widgets.text import Format

from bot.delivery.courier import send_due
from bot.deps import deps_of, formatter_of, i18n_of
from bot.states import MainMenu
from bot.text.errors import describe, message_for
from bot.text.i18n import T
from domain.errors import DomainError

R = TypeVar("R")
PAGE_SIZE = 8
ERROR_LINE = T("⚠️ {error}\n", when="error")


def present(data: dict, *_: object) -> bool:
    """`when` for a window's main text: what it shows still exists."""
    return not data.get("missing")


def back_to_menu(when: WhenCondition = None) -> Cancel:
    return Cancel(T("◀️ Back"), id="menu", when=when)


def back_to(state: State, when: WhenCondition = None) -> SwitchTo:
    return SwitchTo(T("◀️ Back"), id=f"back_{state.state.rsplit(':')[-1]}", state=state, when=when)


def choice_list(select_id: str, items: str, on_click: OnItemClick) -> ScrollingGroup:
    """One button per (id, label) item, a page at a time."""
    return ScrollingGroup(
        Select(
            Format("{item[1]}"),
            id=select_id,
            item_id_getter=itemgetter(0),
            items=items,
            on_click=on_click,
        ),
        id=f"{select_id}_page",
        width=1,
        height=PAGE_SIZE,
        hide_on_single_page=True,
    )


async def on_main_menu(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await manager.start(MainMenu.main, mode=StartMode.RESET_STACK)


async def open_over_menu(
    manager: DialogManager,
    state: State,
    data: dict | None = None,
    show_mode: ShowMode = ShowMode.AUTO,
) -> None:
    """Start a dialog with a fresh main menu under it, so Back always leads home."""
    await manager.start(MainMenu.main, mode=StartMode.RESET_STACK, show_mode=ShowMode.NO_UPDATE)
    await manager.start(state, data=data, show_mode=show_mode)


async def attempt(
    manager: DialogManager, use_case: Callable[..., Awaitable[R]], **values
) -> R | None:
    """Run a use case in its own unit of work at the current time; a broken rule is shown on
    the window (the next render) and gives None."""
    deps = deps_of(manager)
    try:
        async with deps.db() as db:
            return await use_case(db, now=deps.clock(), **values)
    except DomainError as error:
        show_error(manager, error)
        return None


def show_error(manager: DialogManager, error: DomainError | str) -> None:
    """The next render shows the error on top of the window, once."""
    if isinstance(error, str):
        manager.dialog_data["error"] = {"code": error}
        return
    if any(not isinstance(v, str | int) for v in error.params.values()):
        # times and money are shown for the reader now (dialog data must stay JSON)
        text = describe(error, _, formatter_of(manager))
        manager.dialog_data["error"] = {"code": error.code, "text": text}
        return
    manager.dialog_data["error"] = {"code": error.code, "params": error.params}


def shown_error(manager: DialogManager) -> str | None:
    """The code of the error the next render will show, if any."""
    error = manager.dialog_data.get("error")
    return error["code"] if error else None


def take_error(manager: DialogManager) -> str | None:
    error = manager.dialog_data.pop("error", None)
    if error is None:
        return None
    return error.get("text") or message_for(error["code"], _, error.get("params"))


def item_id(value: str) -> int | None:
    """Select item ids come back from Telegram as text, and may be forged."""
    return int(value) if value.isdigit() and len(value) <= 18 else None


async def send_notices(manager: DialogManager) -> None:
    """The use case just run may have written notices (the freed place's new owner, staff):
    have the outbox dispatcher send them now."""
    await send_due(manager.middleware_data["bot"], deps_of(manager), i18n_of(manager))
