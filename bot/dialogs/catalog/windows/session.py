"""One session's card (book it, queue for it, answer an offer for it) and what booking led to."""

from __future__ import annotations

from aiogram_dialog import Window
from aiogram_dialog.widgets.kbd import Button
from aiogram_dialog.widgets.text import Format

from bot.dialogs.catalog import session
from bot.dialogs.common import ERROR_LINE, back_to, choice_list, on_main_menu, present
from bot.dialogs.courses import BOOK_FROM
from bot.dialogs.payments.checkout import payment_widgets
from bot.states import Catalog
from bot.text.i18n import TP, T

BOOK, WAIT, MAKEUP, TAKE, SKIP, LEAVE = "book", "wait", "makeup", "take", "skip", "leave"
MY_BOOKINGS, HOME = "mine", "home"

SESSION_PREVIEW = {
    "missing": False,
    "title": "Yoga — Evening calm",
    "when": "Thursday, December 3, 2026, 6:30 PM",
    "city": "Prague",
    "duration": "75 minutes",
    "price": "€14.00",
    "spots": 3,
    "mine": False,
    "started": False,
    "full": False,
    "waiting": False,
    "position": 0,
    "offered": False,
    "until": "",
    "ongoing": False,
    "can_makeup": False,
    "can_book": True,
    "can_wait": False,
    "from_course": [(1, "🟩 Book from Yoga ×5 (4 left)")],
    "error": None,
}
BOOKED_PREVIEW = {
    "title": "Yoga — Evening calm",
    "when": "Thursday, December 3, 2026, 6:30 PM",
    "city": "Prague",
    "enrolled": False,
    "enrolment_pending": False,
    "on_pass": False,
    "pass_left": 0,
    "pass_problem": "",
    "course_line": "",
    "to_pay": "€14.00",
    "paid": False,
    "can_pay": True,
    "hold": "",
}

session_window = Window(
    ERROR_LINE,
    T("<b>{title}</b>\n🗓 {when} ({city} time)\n⏱ {duration}", when=present),
    T("💶 {price}", when="price"),
    TP("🪑 {spots} spot left", "🪑 {spots} spots left", count="spots", when="can_book"),
    T("🚫 This session is full.", when="full"),
    T("⏳ This session has already started.", when="started"),
    T("✅ You are booked for this session.", when="mine"),
    T("⏳ You are number {position} on the waiting list.", when="waiting"),
    T("🎟 A place is held for you until {until}.", when="offered"),
    T("Sessions of this class are booked by enrolling in the whole class.", when="ongoing"),
    Button(T("✅ Book"), id=BOOK, on_click=session.on_book, when="can_book"),
    choice_list(BOOK_FROM, "from_course", session.on_book_from_course),
    Button(T("⏳ Join the waiting list"), id=WAIT, on_click=session.on_book, when="can_wait"),
    Button(
        T("🔁 Book with a make-up credit"),
        id=MAKEUP,
        on_click=session.on_makeup,
        when="can_makeup",
    ),
    Button(T("✅ Take it"), id=TAKE, on_click=session.on_take, when="offered"),
    Button(T("Skip"), id=SKIP, on_click=session.on_leave_queue, when="offered"),
    Button(T("Leave the waiting list"), id=LEAVE, on_click=session.on_leave_queue, when="waiting"),
    Button(T("🗂 My bookings"), id=MY_BOOKINGS, on_click=session.on_my_bookings, when="mine"),
    back_to(Catalog.sessions),
    state=Catalog.session,
    getter=session.session_getter,
    preview_data=SESSION_PREVIEW,
)

booked_window = Window(
    T("🎉 <b>You're booked!</b>\n\n<b>{title}</b>\n🗓 {when} ({city} time)"),
    T("You are now enrolled in this programme.", when="enrolled"),
    T(
        "The studio will confirm your enrolment in this programme; your place is held. "
        "I'll message you once it is confirmed.",
        when="enrolment_pending",
    ),
    *payment_widgets(),
    TP(
        "🎟 Booked with your pass: {pass_left} entry left.",
        "🎟 Booked with your pass: {pass_left} entries left.",
        count="pass_left",
        when="on_pass",
    ),
    Format("{pass_problem}", when="pass_problem"),
    Format("{course_line}", when="course_line"),
    T("\nYou can cancel it under My bookings."),
    Button(T("🗂 My bookings"), id=MY_BOOKINGS, on_click=session.on_my_bookings),
    Button(T("🏠 Main menu"), id=HOME, on_click=on_main_menu),
    state=Catalog.booked,
    getter=session.booked_getter,
    preview_data=BOOKED_PREVIEW,
)

waitlisted_window = Window(
    T(
        "⏳ <b>{title}</b> on {when} is full, so you are on the waiting list: "
        "number {position}.\n\nI'll message you as soon as a place frees up."
    ),
    Button(T("🗂 My bookings"), id=MY_BOOKINGS, on_click=session.on_my_bookings),
    back_to(Catalog.session),
    state=Catalog.waitlisted,
    getter=session.waitlisted_getter,
)

windows = [session_window, booked_window, waitlisted_window]
