"""🔁 Move to another time, in My bookings, for a booking that is not a package's session
(those move with bot/dialogs/packages/slots.py): the sessions with room, a confirmation with
the fee, then the booking's card with a fresh .ics (same UID, higher SEQUENCE)."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Button

from bot.deps import Deps, client_of, deps_of, formatter_of
from bot.dialogs.common import item_id, send_notices, show_error, take_error
from bot.dialogs.packages.calendar import send_calendar
from bot.states import MyBookings
from bot.text.formatting import html
from bot.text.reader import Formatter
from domain.booking import moves
from domain.booking.actor import Actor
from domain.errors import DomainError
from domain.timetable import ics, packages

NOT_MOVABLE = {"can_move": False, "move_too_late": False, "move_limit": "", "can_ics": False}


async def card_data(deps: Deps, fmt: Formatter, client_id: int, booking_id: int) -> dict:
    """Getter data of a booking's card: whether it may be moved now, or until when it could."""
    async with deps.db() as db:
        quote = await moves.move_quote(
            db,
            booking_id=booking_id,
            client_id=client_id,
            now=deps.clock(),
            policy=deps.settings.policy,
        )
        event = await moves.booking_event(db, booking_id, client_id)
    if quote is None or quote.in_package:
        return dict(NOT_MOVABLE)
    ahead = event is not None and event.active and event.starts_at > deps.clock()
    limit = ""
    if quote.allowed and quote.moves_max is not None and quote.moves:
        limit = _("🔁 Moved {moves} of {max} time(s) allowed.").format(
            moves=quote.moves, max=quote.moves_max
        )
    return {
        "can_move": quote.can_move,
        "move_too_late": ahead and quote.allowed and not quote.can_move and not limit_used(quote),
        "move_until": fmt.long_when(quote.until),
        "move_limit": limit,
        "can_ics": ahead,
    }


def limit_used(quote: moves.MoveQuote) -> bool:
    return quote.moves_max is not None and quote.moves >= quote.moves_max


async def targets_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    client_id = client_of(dialog_manager).id
    booking_id = dialog_manager.dialog_data["booking_id"]
    async with deps.db() as db:
        found = await moves.move_targets(
            db,
            booking_id=booking_id,
            actor=Actor.client(client_id),
            now=deps.clock(),
            policy=deps.settings.policy,
        )
        quote = await moves.move_quote(
            db,
            booking_id=booking_id,
            client_id=client_id,
            now=deps.clock(),
            policy=deps.settings.policy,
        )
    fee = quote.fee.minor if quote else 0
    return {
        "targets": [(t.id, target_label(fmt, t)) for t in found],
        "none": not found,
        "fee": fmt.money(fee) if fee else "",
        "city": fmt.city(),
        "error": take_error(dialog_manager),
    }


def target_label(fmt: Formatter, target: moves.TargetSession) -> str:
    """'Tue, Dec 8, 6:00 PM · Morning flow · 3 left' (a button: plain text)."""
    left = _("{n} left").format(n=target.places_left)
    return f"{fmt.short_when(target.starts_at)} · {target.class_title} · {left}"


async def on_target(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    target = item_id(raw_id)
    if target is None:
        show_error(manager, "stale_button")
        return
    manager.dialog_data["move_target"] = target
    await manager.switch_to(MyBookings.confirm_move)


async def confirm_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    client_id = client_of(dialog_manager).id
    data = dialog_manager.dialog_data
    async with deps.db() as db:
        event = await moves.booking_event(db, data["booking_id"], client_id)
        found = await moves.move_targets(
            db,
            booking_id=data["booking_id"],
            actor=Actor.client(client_id),
            now=deps.clock(),
            policy=deps.settings.policy,
        )
        quote = await moves.move_quote(
            db,
            booking_id=data["booking_id"],
            client_id=client_id,
            now=deps.clock(),
            policy=deps.settings.policy,
        )
    target = next((t for t in found if t.id == data.get("move_target")), None)
    error = take_error(dialog_manager)
    if event is None or target is None or quote is None:
        # gone, full or never offered (a forged id): the list says what is left
        missing = error or _("That time is no longer free.")
        return {"ready": False, "title": "", "old": "", "new": "", "fee": "", "error": missing}
    return {
        "ready": True,
        "title": html(event.title),
        "old": fmt.long_when(event.starts_at),
        "new": fmt.long_when(target.starts_at),
        "fee": fmt.money(quote.fee.minor) if quote.fee.minor else "",
        "error": error,
    }


async def on_confirm(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    deps = deps_of(manager)
    fmt = formatter_of(manager)
    client_id = client_of(manager).id
    data = manager.dialog_data
    target = data.get("move_target")
    if not isinstance(target, int):
        show_error(manager, "stale_button")
        await manager.switch_to(MyBookings.move_to)
        return
    try:
        async with deps.db() as db:
            moved = await moves.move_booking(
                db,
                booking_id=data["booking_id"],
                new_session_id=target,
                actor=Actor.client(client_id),
                now=deps.clock(),
                policy=deps.settings.policy,
            )
    except DomainError as error:
        show_error(manager, error)
        await manager.switch_to(MyBookings.move_to)
        return
    data.pop("move_target", None)
    data["booking_id"] = moved.booking_id
    note = _("🔁 Moved to {when}. What paid for it still does.").format(
        when=fmt.long_when(moved.starts_at)
    )
    if moved.fee.minor:
        note += " " + _("Moving fee: {fee} (on this booking).").format(
            fee=fmt.money(moved.fee.minor)
        )
    data["move_note"] = note
    await manager.switch_to(MyBookings.booking)
    await send_notices(manager)  # the freed place may have gone to someone waiting
    await send_booking_calendar(manager.middleware_data["bot"], deps, fmt, client_id, moved)


async def send_booking_calendar(
    bot: Bot, deps: Deps, fmt: Formatter, client_id: int, moved: moves.Moved
) -> None:
    """The moved booking's calendar file: its package's slot, or the booking itself."""
    async with deps.db() as db:
        if moved.package_id is not None:
            view = await packages.package_of(
                db, client_id, moved.package_id, deps.settings.currency
            )
        else:
            event = await moves.booking_event(db, moved.booking_id, client_id)
    if moved.package_id is not None:
        if view is not None:
            await send_calendar(bot, deps, fmt, view, client_id, slots=[moved.slot])
        return
    if event is not None:
        await send_event(bot, deps, event, client_id)


async def send_event(bot: Bot, deps: Deps, event: moves.BookingEvent, chat_id: int) -> None:
    data = ics.calendar_file(
        [
            ics.CalendarEvent(
                uid=ics.booking_uid(event.booking_id),
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                summary=event.title,
                sequence=event.sequence,
                cancelled=not event.active,
            )
        ],
        now=deps.clock(),
    )
    await bot.send_document(
        chat_id,
        BufferedInputFile(data, filename=f"booking-{event.booking_id}.ics"),
        caption=_("📅 Add this to your calendar."),
    )


async def on_calendar(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    deps = deps_of(manager)
    client_id = client_of(manager).id
    async with deps.db() as db:
        event = await moves.booking_event(db, manager.dialog_data["booking_id"], client_id)
    if event is None:
        show_error(manager, "booking_not_found")
        return
    await send_event(manager.middleware_data["bot"], deps, event, client_id)
