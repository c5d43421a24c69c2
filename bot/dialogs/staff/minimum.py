"""The minimum-participants part of a session's roster: where the session stands against
its class's minimum, and "▶️ Run it anyway" (with its undo) before the check
(domain/timetable/minimum.py)."""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Button

from bot.access import STAFF_WIDGET_PREFIX as P
from bot.deps import Deps, formatter_of
from bot.dialogs.common import attempt
from bot.text.i18n import T
from domain.timetable import minimum as domain_minimum

KEEP_ON, UNDO_KEEP_ON = f"{P}keep", f"{P}unkeep"

PREVIEW = {
    "minimum": 4,
    "check_at": "Monday, December 7, 2026, 6:30 PM",
    "checked_at": "",
    "min_below": True,
    "min_met": False,
    "min_kept": False,
    "min_checked": False,
    "can_keep_on": True,
    "can_undo_keep_on": False,
}

_NONE = {
    "min_below": False,
    "min_met": False,
    "min_kept": False,
    "min_checked": False,
    "can_keep_on": False,
    "can_undo_keep_on": False,
}


async def minimum_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    session_id = dialog_manager.dialog_data.get("session_id")
    async with deps.db() as db:
        found = await domain_minimum.minimum_of(db, session_id) if session_id else None
    now = deps.clock()
    if found is None or found.starts_at <= now:
        return _NONE
    fmt = formatter_of(dialog_manager)
    checked, kept = found.checked_at is not None, found.kept_on_at is not None
    return {
        "minimum": found.participants,
        "check_at": fmt.long_when(found.check_at),
        "checked_at": fmt.long_when(found.checked_at) if checked else "",
        "min_checked": checked,
        "min_kept": kept and not checked,
        "min_below": found.below and not checked and not kept,
        "min_met": not found.below and not checked and not kept,
        "can_keep_on": found.may_keep_on(now),
        "can_undo_keep_on": found.may_undo_keep_on(now),
    }


async def on_keep_on(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    await _act(manager, domain_minimum.keep_on)


async def on_undo_keep_on(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    await _act(manager, domain_minimum.undo_keep_on)


async def _act(manager: DialogManager, use_case: Any) -> None:
    user = manager.event.from_user
    await attempt(
        manager,
        use_case,
        session_id=manager.dialog_data.get("session_id", 0),
        staff_id=user.id if user else 0,
    )


# what the roster window shows of it, under the head
widgets = [
    T(
        "\n⚠️ Minimum {minimum}: below it, this session is cancelled automatically on "
        "{check_at} unless it fills up or you run it anyway.",
        when="min_below",
    ),
    T("\n👥 Minimum {minimum} reached; it is checked on {check_at}.", when="min_met"),
    T(
        "\n▶️ Kept on: this session runs even below its minimum of {minimum}.",
        when="min_kept",
    ),
    T("\n👥 Minimum {minimum} checked on {checked_at}.", when="min_checked"),
]
buttons = [
    Button(T("▶️ Run it anyway"), id=KEEP_ON, on_click=on_keep_on, when="can_keep_on"),
    Button(
        T("↩️ Don't run it anyway"),
        id=UNDO_KEEP_ON,
        on_click=on_undo_keep_on,
        when="can_undo_keep_on",
    ),
]
