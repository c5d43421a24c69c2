"""What My bookings does: open a booking or a wait, move a booking onto a course, show the
check-in code, cancel."""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Button

from bot.deps import client_of, deps_of
from bot.dialogs.common import (
    attempt,
    item_id,
    open_over_menu,
    send_notices,
    show_error,
    shown_error,
)
from bot.dialogs.packages import slots
from bot.states import Catalog, MyBookings
from bot.text.formatting import html
from domain.booking import client_views
from domain.booking.bookings import cancel_booking
from domain.desk.attendance import CODE_PREFIX, check_in_code, convert_to_course
from domain.errors import DomainError


async def on_wait(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    """A waiting-list entry opens its session's card, where it can be answered or left."""
    deps = deps_of(manager)
    async with deps.db() as db:
        waits = await client_views.open_waits(db, client_of(manager).id)
    wait = next((w for w in waits if w.id == item_id(raw_id)), None)
    if wait is None:
        show_error(manager, "offer_not_found")
        return
    await open_over_menu(manager, Catalog.session, {"session_id": wait.session_id})


async def on_booking(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    booking_id = item_id(raw_id)
    deps = deps_of(manager)
    async with deps.db() as db:
        card = await client_views.booking_card(db, booking_id or 0, client_of(manager).id)
    if card is None:
        show_error(manager, "booking_not_found")
        return
    manager.dialog_data["booking_id"] = booking_id
    manager.dialog_data.pop("move_note", None)
    await manager.switch_to(MyBookings.booking)


async def on_convert(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    """Move this plain booking onto the client's course: it is then paid by a unit."""
    course_id = item_id(raw_id)
    if course_id is None:
        show_error(manager, "stale_button")
        return
    deps = deps_of(manager)
    await attempt(
        manager,
        convert_to_course,
        booking_id=manager.dialog_data["booking_id"],
        course_id=course_id,
        client_id=client_of(manager).id,
        policy=deps.settings.policy,
    )
    if shown_error(manager):
        return
    manager.dialog_data["move_note"] = _(
        "✅ This booking is now from your course: its single price is no longer due (what you "
        "paid for it is credit on your balance)."
    )


async def on_check_in_code(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    """The link to show at the front desk: staff open it to check this booking in."""
    deps = deps_of(manager)
    try:
        async with deps.db() as db:
            token = await check_in_code(
                db, booking_id=manager.dialog_data["booking_id"], client_id=client_of(manager).id
            )
    except DomainError as error:
        show_error(manager, error)
        return
    me = await manager.middleware_data["bot"].me()
    link = f"https://t.me/{me.username}?start={CODE_PREFIX}{token}"
    manager.dialog_data["move_note"] = _(
        "🎫 Show this at the front desk; staff open it to check you in:\n{link}"
    ).format(link=html(link))


async def on_cancel(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    if await slots.cancel_in_package(manager):
        return
    deps = deps_of(manager)
    try:
        async with deps.db() as db:
            cancelled = await cancel_booking(
                db,
                client_id=client_of(manager).id,
                booking_id=manager.dialog_data["booking_id"],
                now=deps.clock(),
                policy=deps.settings.policy,
            )
    except DomainError as error:
        show_error(manager, error)
        await manager.switch_to(MyBookings.booking)
        return
    manager.dialog_data["makeup"] = cancelled.makeup
    await manager.switch_to(MyBookings.cancelled)
    # the freed place may have gone to someone on the waiting list; staff may hear of it
    await send_notices(manager)
