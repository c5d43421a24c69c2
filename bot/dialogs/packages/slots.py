"""One session (slot) of a package in My bookings: cancelled or moved on its own, with its
refund or fee shown first (and a new .ics for a moved one)."""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager

from bot.deps import Deps, client_of, deps_of, formatter_of
from bot.dialogs.common import item_id, send_notices, show_error, take_error
from bot.dialogs.packages.calendar import send_calendar
from bot.states import MyBookings
from bot.text.reader import Formatter
from domain.errors import DomainError
from domain.timetable import packages

# what My bookings' windows read of a booking that is not a package's session
NOT_IN_A_PACKAGE = {
    "in_package": False,
    "slot_line": "",
    "refund": "",
    "fee": "",
    "can_cancel_pkg": False,
    "can_move_pkg": False,
    "cancel_until": "",
    "move_until": "",
}


async def booking_data(deps: Deps, fmt: Formatter, client_id: int, booking_id: int) -> dict:
    """Getter data for a booking of a package: its slot, and what cancelling or moving it
    now means (or until when it was possible)."""
    async with deps.db() as db:
        mine = await packages.packages_of(db, client_id)
        if booking_id not in mine:
            return dict(NOT_IN_A_PACKAGE)
        quote = await packages.quote(
            db,
            client_id=client_id,
            booking_id=booking_id,
            now=deps.clock(),
            policy=deps.settings.policy,
        )
    _package_id, slot, size = mine[booking_id]
    return {
        "in_package": True,
        "slot_line": _("📦 Session {slot} of {size} of your package").format(slot=slot, size=size),
        "refund": fmt.money(quote.refund.minor),
        "fee": fmt.money(quote.fee.minor),
        "can_cancel_pkg": quote.can_cancel,
        "can_move_pkg": quote.can_reschedule,
        "cancel_until": fmt.long_when(quote.cancel_until),
        "move_until": fmt.long_when(quote.reschedule_until),
    }


async def cancel_in_package(manager: DialogManager) -> bool:
    """My bookings' cancel of a package's session; False when the booking is not one."""
    deps = deps_of(manager)
    client_id = client_of(manager).id
    booking_id = manager.dialog_data["booking_id"]
    async with deps.db() as db:
        if booking_id not in await packages.packages_of(db, client_id):
            return False
    try:
        async with deps.db() as db:
            done = await packages.cancel_session(
                db,
                client_id=client_id,
                booking_id=booking_id,
                now=deps.clock(),
                policy=deps.settings.policy,
            )
    except DomainError as error:
        show_error(manager, error)
        await manager.switch_to(MyBookings.booking)
        return True
    manager.dialog_data["refund_note"] = (
        _("{amount} of the package is given back (credit on your balance, or less to pay).").format(
            amount=formatter_of(manager).money(done.refund.minor)
        )
        if done.refund.minor
        else ""
    )
    await manager.switch_to(MyBookings.cancelled)
    await send_notices(manager)
    return True


async def move_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    client_id = client_of(dialog_manager).id
    booking_id = dialog_manager.dialog_data["booking_id"]
    async with deps.db() as db:
        mine = await packages.packages_of(db, client_id)
        if booking_id not in mine:
            return {"targets": [], "fee": "", "none": False, "error": take_error(dialog_manager)}
        view = await packages.package_of(db, client_id, mine[booking_id][0], deps.settings.currency)
        quote = await packages.quote(
            db,
            client_id=client_id,
            booking_id=booking_id,
            now=deps.clock(),
            policy=deps.settings.policy,
        )
        free = await packages.free_sessions(db, view.class_id, deps.clock())
    taken = {s.session_id for s in view.slots if s.active}
    return {
        "targets": [(s.id, fmt.short_when(s.starts_at)) for s in free if s.id not in taken][:30],
        "fee": fmt.money(quote.fee.minor) if quote.fee.minor else "",
        "none": not free,
        "error": take_error(dialog_manager),
    }


async def on_move_to(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    target = item_id(raw_id)
    deps = deps_of(manager)
    fmt = formatter_of(manager)
    client_id = client_of(manager).id
    if target is None:
        show_error(manager, "stale_button")
        return
    try:
        async with deps.db() as db:
            done = await packages.reschedule_session(
                db,
                client_id=client_id,
                booking_id=manager.dialog_data["booking_id"],
                new_session_id=target,
                now=deps.clock(),
                policy=deps.settings.policy,
            )
            view = await packages.package_of(db, client_id, done.package_id, deps.settings.currency)
    except DomainError as error:
        show_error(manager, error)
        return
    manager.dialog_data["booking_id"] = done.booking_id
    note = _("🔁 Moved.")
    if done.fee.minor:
        note += " " + _("Reschedule fee: {fee} (added to your package).").format(
            fee=fmt.money(done.fee.minor)
        )
    manager.dialog_data["move_note"] = note
    await manager.switch_to(MyBookings.booking)
    await send_notices(manager)
    await send_calendar(
        manager.middleware_data["bot"], deps, fmt, view, client_id, slots=[done.slot]
    )


async def on_calendar(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    deps = deps_of(manager)
    client_id = client_of(manager).id
    booking_id = manager.dialog_data["booking_id"]
    async with deps.db() as db:
        mine = await packages.packages_of(db, client_id)
        if booking_id not in mine:
            return
        view = await packages.package_of(db, client_id, mine[booking_id][0], deps.settings.currency)
    await send_calendar(
        manager.middleware_data["bot"],
        deps,
        formatter_of(manager),
        view,
        client_id,
        slots=[mine[booking_id][1]],
    )


def list_label(fmt: Formatter, slot_of: dict[int, tuple[int, int, int]], booking_id: int) -> str:
    found = slot_of.get(booking_id)
    return "" if found is None else f"📦 {found[1]}/{found[2]} · "
