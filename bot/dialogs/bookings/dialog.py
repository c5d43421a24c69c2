"""The My bookings dialog: the client's upcoming bookings; open one to pay, cancel or move it."""

from __future__ import annotations

from aiogram_dialog import Dialog, Window
from aiogram_dialog.widgets.kbd import Button, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.dialogs.bookings import getters, handlers, moving
from bot.dialogs.catalog.browse import open_catalog
from bot.dialogs.common import ERROR_LINE, back_to, back_to_menu, choice_list, on_main_menu
from bot.dialogs.courses import CONVERT_TO
from bot.dialogs.packages import slots
from bot.dialogs.payments.checkout import payment_widgets
from bot.states import MyBookings
from bot.text.i18n import T

BOOKINGS, WAITS, MOVE_TARGETS, TARGETS = "b", "w", "mv", "mt"
MOVE_BOOKING, BOOKING_ICS, CONFIRM_MOVE = "mvb", "icsb", "mvok"
BOOK, CODE, MOVE, CALENDAR, ASK_CANCEL = "book", "code", "move", "ics", "ask_cancel"
CANCEL, KEEP, HOME = "cancel", "keep", "home"

BOOKING_PREVIEW = {
    "title": "Yoga — Private lessons, 3 sessions",
    "when": "Wednesday, December 2, 2026, 12:00 PM",
    "city": "Prague",
    "duration": "60 minutes",
    "active": True,
    "cancelled": False,
    "cancellable": True,
    "too_late": False,
    "error": None,
    "to_pay": "",
    "paid": False,
    "can_pay": False,
    "hold": "",
    "in_package": True,
    "slot_line": "📦 Session 1 of 3 of your package",
    "refund": "€25.00",
    "fee": "€5.00",
    "can_cancel_pkg": True,
    "can_move_pkg": True,
    "cancel_until": "Tuesday, December 1, 2026, 12:00 PM",
    "move_until": "Wednesday, December 2, 2026, 12:00 AM",
    "course_line": "",
    "convert_to": [],
    "checked_in": "",
    "checked_out": False,
    "no_show": False,
    "can_show_code": True,
    "can_move": False,
    "move_too_late": False,
    "move_limit": "",
    "can_ics": False,
}


def _any(data: dict, *_: object) -> bool:
    return not data["empty"]


def _noted(key: str):
    """`when` for a line a handler left in the dialog data (dialog_data[key])."""

    def when(data: dict, *_: object) -> bool:
        return bool(data["dialog_data"].get(key))

    return when


def _free_move(data: dict, *_: object) -> bool:
    return not data["fee"]


list_window = Window(
    ERROR_LINE,
    T("<b>My bookings</b> (times are {city} time)", when=_any),
    T("You have no upcoming bookings.", when="empty"),
    choice_list(BOOKINGS, "bookings", handlers.on_booking),
    choice_list(WAITS, "waits", handlers.on_wait),
    Button(T("📅 Book a session"), id=BOOK, on_click=open_catalog),
    back_to_menu(),
    state=MyBookings.list,
    getter=getters.list_getter,
)

booking_window = Window(
    ERROR_LINE,
    T("<b>{title}</b>\n🗓 {when} ({city} time)\n⏱ {duration}", when="title"),
    T("❌ This booking is cancelled.", when="cancelled"),
    Format("{slot_line}", when="in_package"),
    Format("{dialog_data[move_note]}", when=_noted("move_note")),
    T(
        "Cancelling it alone was possible until {cancel_until}; moving it until {move_until}.",
        when="too_late",
    ),
    T("Moving it to another time was possible until {move_until}.", when="move_too_late"),
    Format("{move_limit}", when="move_limit"),
    *payment_widgets(),
    Format("{course_line}", when="course_line"),
    T("✅ Checked in at {checked_in}.", when="checked_in"),
    T("🏁 This visit is checked out.", when="checked_out"),
    T("🚫 Marked as not attended.", when="no_show"),
    choice_list(CONVERT_TO, "convert_to", handlers.on_convert),
    Button(
        T("🎫 Check-in code"), id=CODE, on_click=handlers.on_check_in_code, when="can_show_code"
    ),
    SwitchTo(T("🔁 Reschedule (fee {fee})"), id=MOVE, state=MyBookings.move, when="can_move_pkg"),
    SwitchTo(
        T("🔁 Move to another time"), id=MOVE_BOOKING, state=MyBookings.move_to, when="can_move"
    ),
    Button(T("📅 Calendar file"), id=CALENDAR, on_click=slots.on_calendar, when="in_package"),
    Button(T("📅 Calendar file"), id=BOOKING_ICS, on_click=moving.on_calendar, when="can_ics"),
    SwitchTo(
        T("❌ Cancel booking"),
        id=ASK_CANCEL,
        state=MyBookings.confirm_cancel,
        when="cancellable",
    ),
    back_to(MyBookings.list),
    state=MyBookings.booking,
    getter=getters.booking_getter,
    preview_data=BOOKING_PREVIEW,
)

confirm_cancel_window = Window(
    ERROR_LINE,
    T("Cancel your booking for <b>{title}</b> on {when}?", when="active"),
    T("{refund} of your package is given back.", when="can_cancel_pkg"),
    Button(T("Yes, cancel it"), id=CANCEL, on_click=handlers.on_cancel, when="cancellable"),
    SwitchTo(T("No, keep it"), id=KEEP, state=MyBookings.booking),
    state=MyBookings.confirm_cancel,
    getter=getters.booking_getter,
)

cancelled_window = Window(
    T("Your booking for <b>{title}</b> on {when} is cancelled.", when="title"),
    T(
        "🔁 You get a make-up credit: book another session of this programme with it.",
        when=_noted("makeup"),
    ),
    Format("{dialog_data[refund_note]}", when=_noted("refund_note")),
    back_to(MyBookings.list),
    Button(T("🏠 Main menu"), id=HOME, on_click=on_main_menu),
    state=MyBookings.cancelled,
    getter=getters.booking_getter,
)

move_window = Window(
    ERROR_LINE,
    T("Move this session to (fee {fee}):", when="fee"),
    T("Move this session to:", when=_free_move),
    T("No other time is free right now.", when="none"),
    choice_list(MOVE_TARGETS, "targets", slots.on_move_to),
    back_to(MyBookings.booking),
    state=MyBookings.move,
    getter=slots.move_getter,
)


move_to_window = Window(
    ERROR_LINE,
    T("Move it to ({city} time):", when="targets"),
    T("Moving costs {fee}.", when="fee"),
    T("No other time has a free place right now.", when="none"),
    choice_list(TARGETS, "targets", moving.on_target),
    back_to(MyBookings.booking),
    state=MyBookings.move_to,
    getter=moving.targets_getter,
)


def _ready(data: dict, *_: object) -> bool:
    return data.get("ready", False)


confirm_move_window = Window(
    ERROR_LINE,
    T("Move <b>{title}</b> from {old} to <b>{new}</b>?", when=_ready),
    T("Moving costs {fee}; credit on your balance pays it first.", when="fee"),
    Button(T("✅ Yes, move it"), id=CONFIRM_MOVE, on_click=moving.on_confirm, when=_ready),
    back_to(MyBookings.move_to),
    state=MyBookings.confirm_move,
    getter=moving.confirm_getter,
)


def bookings_dialog() -> Dialog:
    return Dialog(
        list_window,
        booking_window,
        confirm_cancel_window,
        cancelled_window,
        move_window,
        move_to_window,
        confirm_move_window,
    )
