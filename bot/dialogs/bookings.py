"""My bookings: the client's upcoming bookings; open one to cancel it."""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, Window
from aiogram_dialog.widgets.kbd import Button, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.deps import Deps, client_of, deps_of, formatter_of
from bot.dialogs import courses, packages
from bot.dialogs.catalog import open_catalog
from bot.dialogs.common import (
    ERROR_LINE,
    attempt,
    back_to,
    back_to_menu,
    choice_list,
    item_id,
    on_main_menu,
    open_over_menu,
    send_notices,
    show_error,
    shown_error,
    take_error,
)
from bot.dialogs.courses import CONVERT_TO
from bot.dialogs.payments.checkout import payment_state, payment_widgets
from bot.states import Catalog, MyBookings
from bot.text.formatting import html
from bot.text.i18n import T
from domain.booking.bookings import cancel_booking
from domain.booking.status import WaitStatus
from domain.catalog.kinds import ProgrammeKind
from domain.desk.attendance import CODE_PREFIX, check_in_code, convert_to_course, desk_state
from domain.errors import DomainError
from domain.storage import queries
from domain.timetable import packages as domain_packages

BOOKINGS, WAITS, MOVE_TARGETS = "b", "w", "mv"


async def list_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    client_id = client_of(dialog_manager).id
    async with deps.db() as db:
        rows = await queries.upcoming_bookings(db, client_id, deps.clock())
        waits = await queries.open_waits(db, client_id, now=deps.clock())
        in_packages = await domain_packages.packages_of(db, client_id)
    # a package's sessions together (by package, then slot), then the rest by time
    rows = sorted(
        rows,
        key=lambda r: (
            (in_packages[r.id][0], in_packages[r.id][1], r.starts_at)
            if r.id in in_packages
            else (10**18, 0, r.starts_at)
        ),
    )
    return {
        "bookings": [
            (
                row.id,
                packages.list_label(fmt, in_packages, row.id)
                + f"{fmt.short_when(row.starts_at)} · {row.programme_title} — {row.class_title}",
            )
            for row in rows
        ],
        "waits": [(wait.id, _wait_label(wait, fmt)) for wait in waits],
        "empty": not rows and not waits,
        "city": fmt.city(),
        "error": take_error(dialog_manager),
    }


def _wait_label(wait: queries.WaitRow, fmt) -> str:
    when = fmt.short_when(wait.starts_at)
    title = f"{wait.programme_title} — {wait.class_title}"
    if wait.status == WaitStatus.OFFERED:
        return _("🎟 Place held for you · {when} · {title}").format(when=when, title=title)
    return _("⏳ Waiting list #{position} · {when} · {title}").format(
        position=wait.position, when=when, title=title
    )


async def on_wait(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    """A waiting-list entry opens its session's card, where it can be answered or left."""
    deps = deps_of(manager)
    async with deps.db() as db:
        waits = await queries.open_waits(db, client_of(manager).id)
    wait = next((w for w in waits if w.id == item_id(raw_id)), None)
    if wait is None:
        show_error(manager, "offer_not_found")
        return
    await open_over_menu(manager, Catalog.session, {"session_id": wait.session_id})


async def on_booking(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    booking_id = item_id(raw_id)
    deps = deps_of(manager)
    async with deps.db() as db:
        card = await queries.booking_card(db, booking_id or 0, client_of(manager).id)
    if card is None:
        show_error(manager, "booking_not_found")
        return
    manager.dialog_data["booking_id"] = booking_id
    manager.dialog_data.pop("move_note", None)
    await manager.switch_to(MyBookings.booking)


async def booking_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    async with deps.db() as db:
        card = await queries.booking_card(
            db, dialog_manager.dialog_data["booking_id"], client_of(dialog_manager).id
        )
    error = take_error(dialog_manager)
    if card is None:
        missing = error or _("That booking doesn't exist or isn't yours.")
        return {"error": missing, "convert_to": []}
    payment = await payment_state(deps, fmt, client_of(dialog_manager).id, card.id)
    if not card.is_active:  # nothing to pay for a cancelled booking
        payment.update(to_pay="", can_pay=False, hold="")
    package = await packages.booking_data(deps, fmt, client_of(dialog_manager).id, card.id)
    if package["in_package"]:  # paid, cancelled and moved as part of its package
        payment.update(to_pay="", can_pay=False, hold="")
    cancellable = card.is_active and card.starts_at > deps.clock()
    desk = await _desk_data(deps, fmt, card, in_package=package["in_package"])
    if desk["course_line"]:  # a course unit pays for it
        payment.update(to_pay="", can_pay=False, hold="")
    return {
        "title": html(f"{card.programme_title} — {card.class_title}"),
        "when": fmt.long_when(card.starts_at),
        "city": fmt.city(),
        "duration": fmt.duration(card.duration_minutes),
        "active": card.is_active,
        "cancelled": not card.is_active,
        "cancellable": (package["can_cancel_pkg"] if package["in_package"] else cancellable)
        and not desk["checked_out"],
        "too_late": package["in_package"] and card.is_active and not package["can_cancel_pkg"],
        "error": error,
        **payment,
        **package,
        **desk,
    }


async def _desk_data(deps: Deps, fmt, card: queries.BookingCard, *, in_package: bool) -> dict:
    """The booking at the front desk: its course, its attendance, moving it onto a course,
    its check-in code."""
    async with deps.db() as db:
        state = await desk_state(db, card.id)
        course_line = await courses.course_line(db, card.id)
        convert = []
        payg = state is not None and state.programme_kind == ProgrammeKind.PAYG
        if payg and state.open and not in_package and not course_line:
            day = deps.settings.policy.local_day(card.starts_at)
            convert = await courses.convert_choices(db, state.client_id, state.programme_id, day)
    return {
        "course_line": course_line,
        "convert_to": convert,
        "checked_in": fmt.time(state.checked_in_at) if state and state.checked_in_at else "",
        "checked_out": bool(state and state.checked_out_at),
        "no_show": bool(state and state.no_show_at),
        "can_show_code": bool(state and state.open),
    }


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
    if await packages.cancel_in_package(manager):
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


def bookings_dialog() -> Dialog:
    return Dialog(
        Window(
            ERROR_LINE,
            T("<b>My bookings</b> (times are {city} time)", when=lambda d, *_: not d["empty"]),
            T("You have no upcoming bookings.", when="empty"),
            choice_list(BOOKINGS, "bookings", on_booking),
            choice_list(WAITS, "waits", on_wait),
            Button(T("📅 Book a session"), id="book", on_click=open_catalog),
            back_to_menu(),
            state=MyBookings.list,
            getter=list_getter,
        ),
        Window(
            ERROR_LINE,
            T("<b>{title}</b>\n🗓 {when} ({city} time)\n⏱ {duration}", when="title"),
            T("❌ This booking is cancelled.", when="cancelled"),
            Format("{slot_line}", when="in_package"),
            Format(
                "{dialog_data[move_note]}", when=lambda d, *_: d["dialog_data"].get("move_note")
            ),
            T(
                "Cancelling it alone was possible until {cancel_until}; moving it until "
                "{move_until}.",
                when="too_late",
            ),
            *payment_widgets(),
            Format("{course_line}", when="course_line"),
            T("✅ Checked in at {checked_in}.", when="checked_in"),
            T("🏁 This visit is checked out.", when="checked_out"),
            T("🚫 Marked as not attended.", when="no_show"),
            choice_list(CONVERT_TO, "convert_to", on_convert),
            Button(
                T("🎫 Check-in code"), id="code", on_click=on_check_in_code, when="can_show_code"
            ),
            SwitchTo(
                T("🔁 Reschedule (fee {fee})"),
                id="move",
                state=MyBookings.move,
                when="can_move_pkg",
            ),
            Button(
                T("📅 Calendar file"), id="ics", on_click=packages.on_calendar, when="in_package"
            ),
            SwitchTo(
                T("❌ Cancel booking"),
                id="ask_cancel",
                state=MyBookings.confirm_cancel,
                when="cancellable",
            ),
            back_to(MyBookings.list),
            state=MyBookings.booking,
            getter=booking_getter,
        ),
        Window(
            ERROR_LINE,
            T("Cancel your booking for <b>{title}</b> on {when}?", when="active"),
            T("{refund} of your package is given back.", when="can_cancel_pkg"),
            Button(T("Yes, cancel it"), id="cancel", on_click=on_cancel, when="cancellable"),
            SwitchTo(T("No, keep it"), id="keep", state=MyBookings.booking),
            state=MyBookings.confirm_cancel,
            getter=booking_getter,
        ),
        Window(
            T("Your booking for <b>{title}</b> on {when} is cancelled.", when="title"),
            T(
                "🔁 You get a make-up credit: book another session of this programme with it.",
                when=lambda data, *_: data["dialog_data"].get("makeup"),
            ),
            Format(
                "{dialog_data[refund_note]}",
                when=lambda d, *_: d["dialog_data"].get("refund_note"),
            ),
            back_to(MyBookings.list),
            Button(T("🏠 Main menu"), id="home", on_click=on_main_menu),
            state=MyBookings.cancelled,
            getter=booking_getter,
        ),
        Window(
            ERROR_LINE,
            T("Move this session to (fee {fee}):", when="fee"),
            T("Move this session to:", when=lambda d, *_: not d["fee"]),
            T("No other time is free right now.", when="none"),
            choice_list(MOVE_TARGETS, "targets", packages.on_move_to),
            back_to(MyBookings.booking),
            state=MyBookings.move,
            getter=packages.move_getter,
        ),
    )
