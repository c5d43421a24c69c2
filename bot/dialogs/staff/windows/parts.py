"""Pieces the staff windows share."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.state import State
from aiogram_dialog.widgets.kbd import SwitchTo

from bot.access import STAFF_WIDGET_PREFIX as P
from bot.text.i18n import T

BACK = f"{P}back"


def back_to(state: State) -> SwitchTo:
    return SwitchTo(T("◀️ Back"), id=BACK, state=state)


def present(data: dict, *_: Any) -> bool:
    """`when` for a window's main text: the session or client it shows still exists."""
    return data.get("present", False)
