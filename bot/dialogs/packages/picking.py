"""Picking a package's N sessions on the class's sessions window: the sessions are toggles (✅
picked), a week at a time, counting what is still to pick."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram_dialog import DialogManager

from bot.deps import Deps
from bot.dialogs.common import show_error
from bot.text.reader import Formatter
from domain.booking.rules import week_of
from domain.errors import WrongPackageCount
from domain.storage.db import UnitOfWork
from domain.timetable import packages

PICKED = "picked"
SHOWN_PACKAGE = "package_shown"  # the package size of the sessions window last shown
# what the sessions window reads of a class that is not a package: nothing to pick, no weeks
NOT_A_PACKAGE = {
    "package": False,
    "week_label": "",
    "prev_week": False,
    "next_week": False,
    "ready": False,
}


async def pick_data(
    db: UnitOfWork, manager: DialogManager, deps: Deps, fmt: Formatter, class_id: int
) -> dict:
    """Getter data for a package class's sessions window: the week's free sessions as
    toggles (✅ picked), what is still to pick, and week paging; read in the getter's
    session ``db``."""
    offer = await packages.package_offer(db, class_id)
    # what the window shows decides what a click on a session does (browse.on_session)
    manager.dialog_data[SHOWN_PACKAGE] = offer.size if offer else None
    if offer is None:  # most classes: nothing more to read
        return dict(NOT_A_PACKAGE)
    free = await packages.free_sessions(db, class_id, deps.clock())
    size = offer.size
    if manager.dialog_data.get("picked_for") != class_id:  # another class: start afresh
        manager.dialog_data.update({"picked_for": class_id, PICKED: [], "week": 0})
    free_ids = {s.id for s in free}
    # a pick taken by someone else meanwhile is dropped (it could not be unpicked otherwise)
    kept = [i for i in manager.dialog_data.get(PICKED, []) if i in free_ids]
    manager.dialog_data[PICKED] = kept
    picked = set(manager.dialog_data[PICKED])
    zone = fmt.zone

    def week(session) -> date:
        return week_of(session.starts_at.astimezone(zone).date())[0]

    weeks = sorted({week(s) for s in free})
    page = min(manager.dialog_data.get("week", 0), max(len(weeks) - 1, 0))
    shown = [s for s in free if weeks and week(s) == weeks[page]]
    left = size - len(picked)
    price = offer.price_minor
    return {
        "package": True,
        "size": size,
        "to_pick": max(left, 0),
        "ready": left == 0,
        "package_price": fmt.money(price) if price else "",
        "week_label": fmt.day(weeks[page]) if weeks else "",
        "prev_week": page > 0,
        "next_week": page + 1 < len(weeks),
        "sessions": [
            (s.id, ("✅ " if s.id in picked else "▫️ ") + fmt.short_when(s.starts_at)) for s in shown
        ],
        "empty": not free,
    }


async def on_pick(manager: DialogManager, session_id: int, size: int) -> None:
    picked: list[int] = list(manager.dialog_data.get(PICKED, []))
    if session_id in picked:
        picked.remove(session_id)
    elif len(picked) >= size:
        show_error(manager, WrongPackageCount(need=size, got=len(picked) + 1))
        return
    else:
        picked.append(session_id)
    manager.dialog_data[PICKED] = picked


async def on_week(manager: DialogManager, step: int) -> None:
    manager.dialog_data["week"] = max(manager.dialog_data.get("week", 0) + step, 0)


async def on_earlier_week(_c: Any, _b: Any, manager: DialogManager) -> None:
    await on_week(manager, -1)


async def on_later_week(_c: Any, _b: Any, manager: DialogManager) -> None:
    await on_week(manager, 1)
