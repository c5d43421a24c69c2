"""A client's card: their rank and note, this booking's money and attendance, and what staff
can do about them."""

from __future__ import annotations

from aiogram.enums import ContentType
from aiogram_dialog import Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Row, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.access import STAFF_WIDGET_PREFIX as P
from bot.dialogs.common import ERROR_LINE, choice_list
from bot.dialogs.staff import cancel_getters, desk, handlers, money
from bot.dialogs.staff.windows import cancel, move
from bot.dialogs.staff.windows.parts import back_to, present
from bot.states import Staff
from bot.text.i18n import T

CHECK_IN, CHECK_OUT, NO_SHOW, CONVERT = f"{P}in", f"{P}out", f"{P}noshow", f"{P}cv"
COURSES, CONFIRM, PAID_AT_VENUE = f"{P}courses", f"{P}ok", f"{P}venue"
REFUND, WAIVE = f"{P}refund", f"{P}waive"

# the client's booking of this session, in money (desk.client_desk_getter merges
# money.account_getter)
account_lines = [
    Format("{package_line}", when="package_line"),
    T("💳 Charged {charged} · paid {paid_so_far}", when="charged"),
    T("Due: {due}", when="due"),
    T("✅ Nothing due", when="settled"),
    T("💰 Credit on their balance: {credit}", when="credit"),
    Format("{money_done}", when="money_done"),
]

attendance_buttons = Row(
    Button(T("🛎 Check in"), id=CHECK_IN, on_click=desk.on_check_in, when="can_check_in"),
    Button(T("🏁 Check out"), id=CHECK_OUT, on_click=desk.on_check_out, when="can_check_out"),
    Button(T("🚫 No-show"), id=NO_SHOW, on_click=desk.on_no_show, when="can_no_show"),
)

client_window = Window(
    ERROR_LINE,
    T("✅ Rank set to {rank}.\n", when="rank_changed"),
    T("✅ Enrolment confirmed; the client has been told.\n", when="confirmed"),
    T("👤 <b>{name}</b> · id {client_id}\n🎖 Rank: {rank}", when=present),
    T("📝 Note: {note}", when="note"),
    *account_lines,
    T("⏳ Their enrolment in this programme waits for your confirmation.", when="pending"),
    Format("\n{attendance}", when="desk"),
    Format("{held_line}", when="held_line"),
    T("🟩 Courses:\n{course_summary}", when="course_summary"),
    cancel.client_overrides,
    T("\nTo change the rank, send a whole number from {min} to {max}.", when=present),
    MessageInput(handlers.on_rank_text, content_types=ContentType.TEXT),
    attendance_buttons,
    choice_list(CONVERT, "convert_to", desk.on_convert),
    SwitchTo(T("🟩 Courses"), id=COURSES, state=Staff.courses, when="any_courses"),
    Button(
        T("✅ Confirm enrolment"),
        id=CONFIRM,
        on_click=handlers.on_confirm_enrolment,
        when="pending",
    ),
    Button(
        T("💵 Paid at the venue: {due}"),
        id=PAID_AT_VENUE,
        on_click=money.on_paid_at_venue,
        when="due",
    ),
    Button(T("↩️ Refund"), id=REFUND, on_click=money.on_refund, when="refundable"),
    Button(T("🙅 Waive"), id=WAIVE, on_click=money.on_waive, when="due"),
    move.move_button,
    cancel.client_buttons,
    back_to(Staff.roster),
    state=Staff.client,
    getter=[desk.client_desk_getter, move.card_getter, cancel_getters.client_cancel_getter],
)

windows = [client_window]
