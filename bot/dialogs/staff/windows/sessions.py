"""The coming sessions, a session's roster, and booking a client into it."""

from __future__ import annotations

from aiogram.enums import ContentType
from aiogram_dialog import Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Cancel, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.access import STAFF_WIDGET_PREFIX as P
from bot.dialogs.common import ERROR_LINE, choice_list
from bot.dialogs.staff import cancel_getters, desk, getters, handlers, minimum
from bot.dialogs.staff.windows import cancel
from bot.dialogs.staff.windows.parts import back_to, present
from bot.states import Staff
from bot.text.i18n import TP, T

SESSIONS, TODAY, OWING, MENU = f"{P}s", f"{P}today", f"{P}owe", f"{P}menu"
ADD, WAITS, CLIENTS, ROSTER_BACK = f"{P}add", f"{P}w", f"{P}c", f"{P}rback"
KNOWN = f"{P}k"

ROSTER_PREVIEW = {
    "present": True,
    "title": "Yoga — Evening calm",
    "when": "Tuesday, December 1, 2026, 6:30 PM",
    "city": "Prague",
    "booked": 2,
    "capacity": 16,
    "overload": 0,
    "booked_lines": "1. Alice · id 42 · ✅ checked in\n2. Bob · id 43 · 🟩 course",
    "nobody": False,
    "waiting_lines": "",
    "booked_name": "",
    "open": True,
    "started": False,
    "waits": [],
    "clients": [(42, "👤 Alice"), (43, "👤 Bob")],
    "error": None,
    "cancel_done": "",
    "session_cancelled": False,
    "can_cancel_session": True,
}

sessions_window = Window(
    ERROR_LINE,
    TP(
        "🗂 <b>Sessions in the next {days} day</b> ({city} time):",
        "🗂 <b>Sessions in the next {days} days</b> ({city} time):",
        count="days",
        when="any",
    ),
    TP(
        "No sessions in the next {days} day.",
        "No sessions in the next {days} days.",
        count="days",
        when="empty",
    ),
    choice_list(SESSIONS, "sessions", handlers.on_session),
    SwitchTo(T("📋 Today's sessions"), id=TODAY, state=Staff.today),
    SwitchTo(T("💰 Who owes what"), id=OWING, state=Staff.owing),
    Cancel(T("◀️ Back"), id=MENU),
    state=Staff.sessions,
    getter=getters.sessions_getter,
)

roster_window = Window(
    ERROR_LINE,
    cancel.roster_done,
    T("✅ {booked_name} is booked.\n", when="booked_name"),
    T("<b>{title}</b>\n🗓 {when} ({city} time)", when=present),
    T("\n👥 <b>Booked: {booked}/{capacity}</b>", when=present),
    TP(
        "Staff may book {overload} client over capacity.",
        "Staff may book {overload} clients over capacity.",
        count="overload",
        when="overload",
    ),
    Format("{booked_lines}", when="booked_lines"),
    T("Nobody is booked yet.", when="nobody"),
    T("\n⏳ <b>Waiting list</b>", when="waiting_lines"),
    Format("{waiting_lines}", when="waiting_lines"),
    T("\n⏳ This session has already started.", when="started"),
    cancel.roster_cancelled,
    *minimum.widgets,
    SwitchTo(T("➕ Book a client"), id=ADD, state=Staff.book_client, when="open"),
    choice_list(WAITS, "waits", handlers.on_book_waiting),
    choice_list(CLIENTS, "clients", handlers.on_client),
    *minimum.buttons,
    cancel.roster_button,
    Button(T("◀️ Back"), id=ROSTER_BACK, on_click=desk.on_roster_back),
    state=Staff.roster,
    getter=[getters.roster_getter, cancel_getters.roster_cancel_getter, minimum.minimum_getter],
    preview_data=ROSTER_PREVIEW | minimum.PREVIEW,
)

book_client_window = Window(
    ERROR_LINE,
    T("➕ <b>Book a client</b> into {title} on {when}.", when=present),
    T(
        "\nSend the client's Telegram id, or choose a client (the newest first):",
        when="any_known",
    ),
    T("\nSend the client's Telegram id.", when="no_known"),
    choice_list(KNOWN, "known", handlers.on_pick_client),
    MessageInput(handlers.on_client_id_text, content_types=ContentType.TEXT),
    back_to(Staff.roster),
    state=Staff.book_client,
    getter=getters.book_client_getter,
)

windows = [sessions_window, roster_window, book_client_window]
