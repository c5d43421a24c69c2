"""The front desk: today's sessions, "Redeem from course?" at check-in, a client's courses."""

from __future__ import annotations

from aiogram_dialog import Window
from aiogram_dialog.widgets.kbd import Button
from aiogram_dialog.widgets.text import Format

from bot.access import STAFF_WIDGET_PREFIX as P
from bot.dialogs.common import ERROR_LINE, choice_list
from bot.dialogs.staff import desk
from bot.dialogs.staff.windows.parts import back_to
from bot.states import Staff
from bot.text.i18n import T

TODAY, TODAY_BACK = f"{P}t", f"{P}tback"
REDEEM_YES, REDEEM_WITH, REDEEM_NO = f"{P}ry", f"{P}rd", f"{P}rn"
SELL = f"{P}sell"

today_window = Window(
    ERROR_LINE,
    T("📋 <b>Today's sessions</b>, {day} ({city} time):", when="any"),
    T("No sessions today ({day}).", when="empty"),
    choice_list(TODAY, "sessions", desk.on_today_session),
    Button(T("◀️ Back"), id=TODAY_BACK, on_click=desk.on_sessions),
    state=Staff.today,
    getter=desk.today_getter,
)

redeem_window = Window(
    ERROR_LINE,
    T("🛎 <b>Redeem from course?</b>\n{name} holds a course for this service.", when="desk"),
    Format("{held_line}", when="held_line"),
    T(
        "Yes: this visit is redeemed from the course at check-out. No: it is a single "
        "visit at its price.",
        when="desk",
    ),
    Button(T("✅ Yes, redeem"), id=REDEEM_YES, on_click=desk.on_redeem_yes, when="held"),
    choice_list(REDEEM_WITH, "convert_to", desk.on_redeem_with),
    Button(T("No, single price"), id=REDEEM_NO, on_click=desk.on_redeem_no, when="desk"),
    back_to(Staff.client),
    state=Staff.redeem,
    getter=desk.redeem_getter,
)

courses_window = Window(
    ERROR_LINE,
    T("🟩 <b>Courses of {name}</b>"),
    T("No course yet.", when="no_courses"),
    Format("{courses}", when="courses"),
    Format("{sold}", when="sold"),
    choice_list(SELL, "sell", desk.on_sell),
    back_to(Staff.client),
    state=Staff.courses,
    getter=desk.courses_getter,
)

windows = [today_window, redeem_window, courses_window]
