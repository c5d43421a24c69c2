"""🔁 Move booking on a client's card: staff pick the session (beyond capacity within the
class's overload, at any time), confirm, and the client is told through the outbox in their
language. A package's session moves under its package (it replaces typing /pkgmove)."""

from __future__ import annotations

from typing import Any

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, SwitchTo

from bot.access import STAFF_WIDGET_PREFIX as P
from bot.deps import Deps, deps_of, formatter_of
from bot.dialogs.common import (
    ERROR_LINE,
    choice_list,
    item_id,
    send_notices,
    show_error,
    take_error,
)
from bot.dialogs.staff.money import parse_amount
from bot.dialogs.staff.windows.parts import back_to
from bot.states import Staff
from bot.text.formatting import html
from bot.text.i18n import T
from bot.text.reader import Formatter
from domain.booking import moves
from domain.booking.actor import Actor, Override
from domain.desk import staff_views
from domain.errors import DomainError
from domain.timetable import packages

MOVE, TARGETS, CONFIRM = f"{P}mv", f"{P}mt", f"{P}mvok"


def _actor(manager: DialogManager) -> Actor:
    return Actor.staff(manager.middleware_data["event_from_user"].id, reason=Override.DESK)


async def _booking_id(deps: Deps, data: dict) -> int | None:
    async with deps.db() as db:
        return await staff_views.active_booking_id(db, data["client_id"], data["session_id"])


async def card_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    """For the client card: whether this client holds a booking of the session to move."""
    data = dialog_manager.dialog_data
    if "client_id" not in data or "session_id" not in data:
        return {"can_move_booking": False}
    return {"can_move_booking": await _booking_id(deps, data) is not None}


def target_label(fmt: Formatter, target: moves.TargetSession, overload: bool) -> str:
    """'Tue, Dec 8, 6:00 PM · Morning flow · 2 left' (+ ' · overload' beyond capacity)."""
    label = f"{fmt.short_when(target.starts_at)} · {target.class_title} · "
    label += _("{n} left").format(n=target.places_left)
    return label + (" · " + _("overload") if overload else "")


async def targets_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    booking_id = await _booking_id(deps, dialog_manager.dialog_data)
    found = []
    if booking_id is not None:
        async with deps.db() as db:
            found = await moves.move_targets(
                db,
                booking_id=booking_id,
                actor=_actor(dialog_manager),
                now=deps.clock(),
                policy=deps.settings.policy,
            )
    error = take_error(dialog_manager)
    if booking_id is None:
        error = error or _("This client no longer holds a booking of this session.")
    return {
        "targets": [(t.id, target_label(fmt, t, t.overload)) for t in found],
        "none": booking_id is not None and not found,
        "city": fmt.city(),
        "error": error,
    }


async def on_target(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    target = item_id(raw_id)
    if target is None:
        show_error(manager, "stale_button")
        return
    manager.dialog_data["move_target"] = target
    manager.dialog_data.pop("move_fee", None)
    await manager.switch_to(Staff.confirm_move)


async def confirm_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    data = dialog_manager.dialog_data
    booking_id = await _booking_id(deps, data)
    target = None
    if booking_id is not None:
        async with deps.db() as db:
            found = await moves.move_targets(
                db,
                booking_id=booking_id,
                actor=_actor(dialog_manager),
                now=deps.clock(),
                policy=deps.settings.policy,
            )
            client = await staff_views.client(db, data["client_id"])
            in_package = await packages.in_package(db, booking_id)
        target = next((t for t in found if t.id == data.get("move_target")), None)
    error = take_error(dialog_manager)
    if target is None:
        missing = error or _("That time is no longer free.")
        return {**NOT_READY, "error": missing}
    name = client.first_name if client and client.first_name else str(data["client_id"])
    fee = data.get("move_fee") if not in_package else None
    return {
        "ready": True,
        "name": html(name),
        "new": fmt.long_when(target.starts_at),
        "title": html(target.class_title),
        "fee": fmt.money(fee) if fee else "",
        "free": not fee,
        "may_charge": not in_package,
        "error": error,
    }


NOT_READY = {
    "ready": False,
    "name": "",
    "new": "",
    "title": "",
    "fee": "",
    "free": False,
    "may_charge": False,
}


async def on_fee_text(message: Message, _w: Any, manager: DialogManager) -> None:
    """Staff set a fee for this move (none unless they do): an amount, or 0 for none."""
    amount = parse_amount((message.text or "").strip(), deps_of(manager).settings.currency)
    if amount is None:
        show_error(manager, "not_a_fee")
        return
    manager.dialog_data["move_fee"] = amount.minor


async def on_confirm(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    deps = deps_of(manager)
    data = manager.dialog_data
    booking_id = await _booking_id(deps, data)
    target = data.get("move_target")
    if booking_id is None or not isinstance(target, int):
        show_error(manager, "booking_changed")
        await manager.switch_to(Staff.client)
        return
    try:
        async with deps.db() as db:
            moved = await moves.move_booking(
                db,
                booking_id=booking_id,
                new_session_id=target,
                actor=_actor(manager),
                now=deps.clock(),
                policy=deps.settings.policy,
                fee_minor=data.get("move_fee"),
            )
    except DomainError as error:
        show_error(manager, error)
        await manager.switch_to(Staff.move_to)
        return
    data.pop("move_target", None)
    data.pop("move_fee", None)
    # the card now shows the booking at its new session
    data["session_id"] = moved.session_id
    data["money_done"] = _("🔁 Moved to {when}; the client is told.").format(
        when=formatter_of(manager).long_when(moved.starts_at)
    )
    await manager.switch_to(Staff.client)
    await send_notices(manager)


move_button = SwitchTo(T("🔁 Move booking"), id=MOVE, state=Staff.move_to, when="can_move_booking")


def _ready(data: dict, *_: Any) -> bool:
    return data.get("ready", False)


move_to_window = Window(
    ERROR_LINE,
    T("Move the booking to ({city} time):", when="targets"),
    T("No other session of it has a free place, even within the overload.", when="none"),
    choice_list(TARGETS, "targets", on_target),
    back_to(Staff.client),
    state=Staff.move_to,
    getter=targets_getter,
)

confirm_move_window = Window(
    ERROR_LINE,
    T("Move {name}'s booking to <b>{title}</b>, {new}?", when=_ready),
    T("No fee is charged.", when="free"),
    T("The client is charged a fee of {fee} (credit on their balance pays it first).", when="fee"),
    T("To charge a fee for this move, send its amount (0: none).", when="may_charge"),
    MessageInput(on_fee_text, content_types=ContentType.TEXT),
    Button(T("✅ Yes, move it"), id=CONFIRM, on_click=on_confirm, when=_ready),
    back_to(Staff.move_to),
    state=Staff.confirm_move,
    getter=confirm_getter,
)

windows = [move_to_window, confirm_move_window]
