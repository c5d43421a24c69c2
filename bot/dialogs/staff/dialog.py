"""The staff dialog (/admin): the coming sessions → a roster → book a client, or a client's rank.

Every widget id starts with STAFF_WIDGET_PREFIX, so a staff button is recognised (and refused
to anyone else) before any dialog handles it; the StaffOnly middleware guards the rest.
"""

from __future__ import annotations

from typing import Any

from aiogram.enums import ContentType
from aiogram.fsm.state import State
from aiogram_dialog import Dialog, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Cancel, Row, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.access import STAFF_WIDGET_PREFIX as P
from bot.access import StaffOnly
from bot.dialogs.common import ERROR_LINE, choice_list
from bot.dialogs.staff import desk, getters, handlers, money
from bot.states import Staff
from bot.text.i18n import TP, T

SESSIONS, WAITS, CLIENTS, KNOWN = f"{P}s", f"{P}w", f"{P}c", f"{P}k"
FEES, TODAY, CONVERT, REDEEM, SELL = f"{P}f", f"{P}t", f"{P}cv", f"{P}rd", f"{P}sell"


def _back(state: State) -> SwitchTo:
    return SwitchTo(T("◀️ Back"), id=f"{P}back", state=state)


def _present(data: dict, *_: Any) -> bool:
    return data.get("present", False)


def _account_lines() -> list:
    """The client's booking of this session, in money (its getter merges account_getter)."""
    return [
        Format("{package_line}", when="package_line"),
        T("💳 Charged {charged} · paid {paid_so_far}", when="charged"),
        T("Due: {due}", when="due"),
        T("✅ Nothing due", when="settled"),
        T("💰 Credit on their balance: {credit}", when="credit"),
        Format("{money_done}", when="money_done"),
    ]


def staff_dialog() -> Dialog:
    dialog = Dialog(
        Window(
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
            SwitchTo(T("📋 Today's sessions"), id=f"{P}today", state=Staff.today),
            SwitchTo(T("💰 Who owes what"), id=f"{P}owe", state=Staff.owing),
            Cancel(T("◀️ Back"), id=f"{P}menu"),
            state=Staff.sessions,
            getter=getters.sessions_getter,
        ),
        Window(
            ERROR_LINE,
            T("✅ {booked_name} is booked.\n", when="booked_name"),
            T("<b>{title}</b>\n🗓 {when} ({city} time)", when=_present),
            T("\n👥 <b>Booked: {booked}/{capacity}</b>", when=_present),
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
            SwitchTo(T("➕ Book a client"), id=f"{P}add", state=Staff.book_client, when="open"),
            choice_list(WAITS, "waits", handlers.on_book_waiting),
            choice_list(CLIENTS, "clients", handlers.on_client),
            Button(T("◀️ Back"), id=f"{P}rback", on_click=desk.on_roster_back),
            state=Staff.roster,
            getter=getters.roster_getter,
        ),
        Window(
            ERROR_LINE,
            T("➕ <b>Book a client</b> into {title} on {when}.", when=_present),
            T(
                "\nSend the client's Telegram id, or choose a client (the newest first):",
                when="any_known",
            ),
            T("\nSend the client's Telegram id.", when="no_known"),
            choice_list(KNOWN, "known", handlers.on_pick_client),
            MessageInput(handlers.on_client_id_text, content_types=ContentType.TEXT),
            _back(Staff.roster),
            state=Staff.book_client,
            getter=getters.book_client_getter,
        ),
        Window(
            ERROR_LINE,
            T("✅ Rank set to {rank}.\n", when="rank_changed"),
            T("✅ Enrolment confirmed; the client has been told.\n", when="confirmed"),
            T("👤 <b>{name}</b> · id {client_id}\n🎖 Rank: {rank}", when=_present),
            T("📝 Note: {note}", when="note"),
            *_account_lines(),
            T("⏳ Their enrolment in this programme waits for your confirmation.", when="pending"),
            Format("\n{attendance}", when="desk"),
            Format("{held_line}", when="held_line"),
            T("🟩 Courses:\n{course_summary}", when="course_summary"),
            T(
                "\nTo change the rank, send a whole number from {min} to {max}.",
                when=_present,
            ),
            MessageInput(handlers.on_rank_text, content_types=ContentType.TEXT),
            Row(
                Button(
                    T("🛎 Check in"), id=f"{P}in", on_click=desk.on_check_in, when="can_check_in"
                ),
                Button(
                    T("🏁 Check out"),
                    id=f"{P}out",
                    on_click=desk.on_check_out,
                    when="can_check_out",
                ),
                Button(
                    T("🚫 No-show"), id=f"{P}noshow", on_click=desk.on_no_show, when="can_no_show"
                ),
            ),
            choice_list(CONVERT, "convert_to", desk.on_convert),
            SwitchTo(T("🟩 Courses"), id=f"{P}courses", state=Staff.courses, when="any_courses"),
            Button(
                T("✅ Confirm enrolment"),
                id=f"{P}ok",
                on_click=handlers.on_confirm_enrolment,
                when="pending",
            ),
            Button(
                T("💵 Paid at the venue: {due}"),
                id=f"{P}venue",
                on_click=money.on_paid_at_venue,
                when="due",
            ),
            Button(T("↩️ Refund"), id=f"{P}refund", on_click=money.on_refund, when="refundable"),
            Button(T("🙅 Waive"), id=f"{P}waive", on_click=money.on_waive, when="due"),
            _back(Staff.roster),
            state=Staff.client,
            getter=desk.client_desk_getter,
        ),
        Window(
            ERROR_LINE,
            T("📋 <b>Today's sessions</b>, {day} ({city} time):", when="any"),
            T("No sessions today ({day}).", when="empty"),
            choice_list(TODAY, "sessions", desk.on_today_session),
            Button(T("◀️ Back"), id=f"{P}tback", on_click=desk.on_sessions),
            state=Staff.today,
            getter=desk.today_getter,
        ),
        Window(
            ERROR_LINE,
            T("🛎 <b>Redeem from course?</b>\n{name} holds a course for this service.", when="desk"),
            Format("{held_line}", when="held_line"),
            T(
                "Yes: this visit is redeemed from the course at check-out. No: it is a single "
                "visit at its price.",
                when="desk",
            ),
            Button(T("✅ Yes, redeem"), id=f"{P}ry", on_click=desk.on_redeem_yes, when="held"),
            choice_list(REDEEM, "convert_to", desk.on_redeem_with),
            Button(T("No, single price"), id=f"{P}rn", on_click=desk.on_redeem_no, when="desk"),
            _back(Staff.client),
            state=Staff.redeem,
            getter=desk.redeem_getter,
        ),
        Window(
            ERROR_LINE,
            T("🟩 <b>Courses of {name}</b>"),
            T("No course yet.", when="no_courses"),
            Format("{courses}", when="courses"),
            Format("{sold}", when="sold"),
            choice_list(SELL, "sell", desk.on_sell),
            _back(Staff.client),
            state=Staff.courses,
            getter=desk.courses_getter,
        ),
        Window(
            ERROR_LINE,
            T("↩️ <b>Refund</b> {name}: at most {refundable}.", when="refunding"),
            T("🙅 <b>Waive</b> for {name}: at most {due}.", when="waiving"),
            T(
                "\nSend the amount and the reason, e.g. <code>{example} wheel broke</code>.",
            ),
            MessageInput(money.on_amount_text, content_types=ContentType.TEXT),
            _back(Staff.client),
            state=Staff.money_amount,
            getter=money.amount_getter,
        ),
        Window(
            ERROR_LINE,
            T("💰 <b>Who owes what</b>", when="anyone"),
            Format("{owing_lines}", when="anyone"),
            T("💰 Nobody owes anything.", when="nobody_owes"),
            Button(T("📄 CSV"), id=f"{P}csv", on_click=money.on_export_owing, when="anyone"),
            T("🧾 Fees due: tap one to mark it paid or waive it.", when="fees_due"),
            choice_list(FEES, "fees_due", money.on_fee_chosen),
            _back(Staff.sessions),
            state=Staff.owing,
            getter=money.owing_getter,
        ),
        Window(
            ERROR_LINE,
            Format("{fee}", when="fee"),
            T("Nothing is due for this fee any more.", when=lambda d, *_: not d["open"]),
            Format("{done}", when="done"),
            Button(
                T("✅ Paid at the venue"),
                id=f"{P}feepaid",
                on_click=money.on_fee_paid_at_venue,
                when="open",
            ),
            Button(T("🙅 Waive"), id=f"{P}feewaive", on_click=money.on_fee_waive, when="open"),
            _back(Staff.owing),
            state=Staff.fee,
            getter=money.fee_getter,
        ),
        on_start=desk.start_with_data,
    )
    # an open staff dialog outlives its owner's rights (ADMIN_IDS changed, storage kept)
    dialog.message.middleware(StaffOnly())
    dialog.callback_query.middleware(StaffOnly())
    return dialog
