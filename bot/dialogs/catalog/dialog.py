"""The catalog dialog's windows: browse, a session's card, and what booking led to."""

from __future__ import annotations

from typing import Any

from aiogram.enums import ContentType
from aiogram_dialog import Dialog, DialogManager, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Row, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.deps import client_of, deps_of
from bot.dialogs import packages
from bot.dialogs.catalog import browse, session
from bot.dialogs.catalog.browse import open_catalog, open_programme
from bot.dialogs.catalog.class_windows import class_windows
from bot.dialogs.common import (
    ERROR_LINE,
    back_to,
    back_to_menu,
    choice_list,
    on_main_menu,
    present,
)
from bot.dialogs.courses import BOOK_FROM, course_widgets
from bot.dialogs.payments.checkout import payment_widgets
from bot.dialogs.payments.passes import pass_widgets
from bot.states import Catalog
from bot.text.i18n import TP, T
from domain.catalog.kinds import ProgrammeKind
from domain.storage import queries

CATEGORIES, PROGRAMMES, CLASSES, SESSIONS = "g", "p", "c", "s"

__all__ = ["catalog_dialog", "open_catalog", "open_programme"]


async def on_start(start_data: Any, manager: DialogManager) -> None:
    """Opened by a deep link: a programme (its ids come along) or one session."""
    if isinstance(start_data, dict) and "programme_id" in start_data:
        manager.dialog_data.update(start_data)
        return
    if not isinstance(start_data, dict) or "session_id" not in start_data:
        return
    deps = deps_of(manager)
    session_id = start_data["session_id"]
    manager.dialog_data["session_id"] = session_id
    async with deps.db() as db:
        card = await queries.session_card(db, session_id, client_of(manager).id)
        classes = await queries.classes_of(db, card.programme_id, deps.clock()) if card else []
    if card is not None:
        manager.dialog_data.update(
            programme_id=card.programme_id,
            class_id=card.class_id,
            one_class=len(classes) == 1,
            ongoing=card.kind == ProgrammeKind.ONGOING,
        )


def _week(step: int):
    async def on_click(_c: Any, _b: Any, manager: DialogManager) -> None:
        await packages.on_week(manager, step)

    return on_click


def _package_windows() -> list[Window]:
    return [
        Window(
            ERROR_LINE,
            T("<b>{title}</b>\n📦 Your package:\n{lines}", when="title"),
            T("💶 {price} for the package", when="price"),
            Format("{policy}", when="price"),
            T("📝 Your note for the studio: {note}", when="note"),
            T(
                "📝 Anything the studio should know (your details, wishes)? Send it here, up to "
                "{max} characters, before you confirm.",
                when="asks_note",
            ),
            T("A note is needed before you confirm.", when="needs_note"),
            MessageInput(packages.on_note, content_types=ContentType.TEXT),
            MessageInput(packages.on_note_not_text),
            Button(T("✅ Confirm"), id="pkg_ok", on_click=packages.on_confirm, when="complete"),
            back_to(Catalog.sessions),
            state=Catalog.package_review,
            getter=packages.review_getter,
        ),
        Window(
            ERROR_LINE,
            T("🎉 <b>You're booked!</b>\n\n<b>{title}</b> ({city} time):\n{lines}", when="title"),
            T("💳 To pay: {to_pay}", when="to_pay"),
            Format("{dialog_data[pay_note]}", when=lambda d, *_: d["dialog_data"].get("pay_note")),
            Button(
                T("💳 Pay {to_pay}"), id="pkg_pay", on_click=packages.on_pay_package, when="can_pay"
            ),
            T("\nEach session can be cancelled or moved on its own under My bookings."),
            Button(T("🗂 My bookings"), id="mine", on_click=session.on_my_bookings),
            Button(T("🏠 Main menu"), id="home", on_click=on_main_menu),
            state=Catalog.package_booked,
            getter=packages.booked_getter,
        ),
    ]


def catalog_dialog() -> Dialog:
    return Dialog(
        Window(
            ERROR_LINE,
            T("<b>What would you like to book?</b>"),
            choice_list(CATEGORIES, "categories", browse.on_category),
            back_to_menu(),
            state=Catalog.categories,
            getter=browse.categories_getter,
        ),
        Window(
            ERROR_LINE,
            T("<b>Choose a programme</b>", when=lambda d, *_: not d["empty"]),
            T("There is nothing to book yet. Please check back later.", when="empty"),
            choice_list(PROGRAMMES, "programmes", browse.on_programme),
            back_to(Catalog.categories, when="by_category"),
            back_to_menu(when="from_menu"),
            state=Catalog.programmes,
            getter=browse.programmes_getter,
        ),
        Window(
            ERROR_LINE,
            T("<b>{programme}</b>\n{description}\n\nChoose a class:", when=present),
            T("This programme is no longer available.", when="missing"),
            *pass_widgets(),
            *course_widgets(),
            choice_list(CLASSES, "classes", browse.on_class),
            back_to(Catalog.programmes),
            state=Catalog.classes,
            getter=browse.classes_getter,
        ),
        *class_windows(),
        Window(
            ERROR_LINE,
            T(
                "<b>{title}</b>\nChoose a session (times are {city} time):",
                when=lambda d, *_: present(d) and not d["package"],
            ),
            T(
                "<b>{title}</b>\n📦 A package of {size} sessions for {package_price}: pick "
                "{size} times ({city} time). Still to pick: {to_pick}.",
                when="package",
            ),
            T("Week of {week_label}:", when="week_label"),
            T("No upcoming sessions right now.", when="empty"),
            T("This class is no longer available.", when="missing"),
            choice_list(SESSIONS, "sessions", browse.on_session),
            Row(
                Button(T("◀️ Earlier"), id="wk_prev", on_click=_week(-1), when="prev_week"),
                Button(T("Later ▶️"), id="wk_next", on_click=_week(1), when="next_week"),
            ),
            SwitchTo(
                T("👀 Review the {size} sessions"),
                id="pkg_review",
                state=Catalog.package_review,
                when="ready",
            ),
            *pass_widgets(),
            *course_widgets(),
            back_to(Catalog.classes, when="many_classes"),
            back_to(Catalog.programmes, when="one_class"),
            back_to(Catalog.class_card, when="ongoing"),
            state=Catalog.sessions,
            getter=browse.sessions_getter,
        ),
        Window(
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
            Button(T("✅ Book"), id="book", on_click=session.on_book, when="can_book"),
            choice_list(BOOK_FROM, "from_course", session.on_book_from_course),
            Button(
                T("⏳ Join the waiting list"), id="wait", on_click=session.on_book, when="can_wait"
            ),
            Button(
                T("🔁 Book with a make-up credit"),
                id="makeup",
                on_click=session.on_makeup,
                when="can_makeup",
            ),
            Button(T("✅ Take it"), id="take", on_click=session.on_take, when="offered"),
            Button(T("Skip"), id="skip", on_click=session.on_leave_queue, when="offered"),
            Button(
                T("Leave the waiting list"),
                id="leave",
                on_click=session.on_leave_queue,
                when="waiting",
            ),
            Button(T("🗂 My bookings"), id="mine", on_click=session.on_my_bookings, when="mine"),
            back_to(Catalog.sessions),
            state=Catalog.session,
            getter=session.session_getter,
        ),
        Window(
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
            Button(T("🗂 My bookings"), id="mine", on_click=session.on_my_bookings),
            Button(T("🏠 Main menu"), id="home", on_click=on_main_menu),
            state=Catalog.booked,
            getter=session.booked_getter,
        ),
        Window(
            T(
                "⏳ <b>{title}</b> on {when} is full, so you are on the waiting list: "
                "number {position}.\n\nI'll message you as soon as a place frees up."
            ),
            Button(T("🗂 My bookings"), id="mine", on_click=session.on_my_bookings),
            back_to(Catalog.session),
            state=Catalog.waitlisted,
            getter=session.waitlisted_getter,
        ),
        *_package_windows(),
        on_start=on_start,
    )
