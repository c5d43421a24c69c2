"""Staff actions: read the input, call the use case, show the roster or the translated error.

Item ids and typed text are never trusted: each handler checks them against the database
(the dialog's StaffOnly middleware has already checked the sender's rights).
"""

from __future__ import annotations

import re
from typing import Any

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager

from bot.deps import deps_of
from bot.dialogs.common import item_id, send_notices, show_error
from bot.states import Staff
from domain.catalog.file import RANK_RANGE
from domain.desk import staff_views
from domain.desk.staff_bookings import (
    book_client,
    book_from_waitlist,
    confirm_enrolment,
    set_client_rank,
)
from domain.errors import AlreadyBooked, DomainError, RankOutOfRange, SessionFull

# Telegram user ids are positive and fit in 52 bits.
_CLIENT_ID_RE = re.compile(r"[0-9]{1,16}")
_RANK_RE = re.compile(r"[+-]?[0-9]{1,4}")
_MINUS_SIGN = "\u2212"  # what some keyboards type for "-"


def _show_staff_error(manager: DialogManager, error: DomainError) -> None:
    """Clients read "You are already booked"; staff book someone else, so say it their way."""
    if isinstance(error, AlreadyBooked):
        show_error(manager, "staff_already_booked")
    elif isinstance(error, SessionFull):
        show_error(manager, "staff_session_full")
    else:
        show_error(manager, error)


async def on_session(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    session_id = item_id(raw_id)
    async with deps_of(manager).db() as db:
        roster = await staff_views.roster(db, session_id) if session_id else None
    if roster is None:
        show_error(manager, "session_not_found")
        return
    manager.dialog_data["session_id"] = session_id
    await manager.switch_to(Staff.roster)


async def on_client(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    client_id = item_id(raw_id)
    async with deps_of(manager).db() as db:
        client = await staff_views.client(db, client_id) if client_id else None
    if client is None:
        show_error(manager, "client_not_found")
        return
    manager.dialog_data["client_id"] = client_id
    await manager.switch_to(Staff.client)


async def on_pick_client(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    await _book(manager, item_id(raw_id))


async def on_client_id_text(message: Message, _w: Any, manager: DialogManager) -> None:
    text = (message.text or "").strip()
    if not _CLIENT_ID_RE.fullmatch(text):
        show_error(manager, "not_a_client_id")
        return
    await _book(manager, int(text))


async def _book(manager: DialogManager, client_id: int | None) -> None:
    deps = deps_of(manager)
    try:
        async with deps.db() as db:
            await book_client(
                db,
                client_id=client_id or 0,
                session_id=manager.dialog_data["session_id"],
                now=deps.clock(),
                policy=deps.settings.policy,
            )
    except DomainError as error:
        _show_staff_error(manager, error)
        return
    manager.dialog_data["booked_id"] = client_id
    await manager.switch_to(Staff.roster)


async def on_book_waiting(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    deps = deps_of(manager)
    try:
        async with deps.db() as db:
            client_id, _booked = await book_from_waitlist(
                db,
                entry_id=item_id(raw_id) or 0,
                session_id=manager.dialog_data["session_id"],
                now=deps.clock(),
                policy=deps.settings.policy,
            )
    except DomainError as error:
        _show_staff_error(manager, error)
        return
    manager.dialog_data["booked_id"] = client_id


async def on_rank_text(message: Message, _w: Any, manager: DialogManager) -> None:
    text = (message.text or "").strip().replace(_MINUS_SIGN, "-")
    low, high = RANK_RANGE
    if not _RANK_RE.fullmatch(text):
        show_error(manager, RankOutOfRange(min=low, max=high))
        return
    try:
        async with deps_of(manager).db() as db:
            await set_client_rank(db, client_id=manager.dialog_data["client_id"], rank=int(text))
    except DomainError as error:
        show_error(manager, error)
        return
    manager.dialog_data["rank_changed"] = True


async def on_confirm_enrolment(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    """The client's pending enrolment in this session's programme becomes active; they are told."""
    deps = deps_of(manager)
    data = manager.dialog_data
    try:
        async with deps.db() as db:
            enrolment = await staff_views.enrolment_for_session(
                db, data["client_id"], data["session_id"]
            )
            await confirm_enrolment(
                db, enrolment_id=enrolment.id if enrolment else 0, now=deps.clock()
            )
    except DomainError as error:
        show_error(manager, error)
        return
    data["enrolment_confirmed"] = True
    await send_notices(manager)
