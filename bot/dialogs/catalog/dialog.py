"""The catalog dialog's windows: browse, a session's card, and what booking led to."""

from __future__ import annotations

from typing import Any

from aiogram.enums import ContentType
from aiogram_dialog import Dialog, DialogManager, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.deps import client_of, deps_of
from bot.dialogs.catalog import browse, ongoing, session
from bot.dialogs.catalog.browse import open_catalog, open_programme
from bot.dialogs.common import (
    ERROR_LINE,
    back_to,
    back_to_menu,
    choice_list,
    on_main_menu,
)
from bot.i18n import TP, T
from bot.states import Catalog
from domain.storage import queries
from domain.storage.models import ProgrammeKind

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


def _present(data: dict, *_: Any) -> bool:
    return not data.get("missing")


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
            T("<b>{programme}</b>\n{description}\n\nChoose a class:", when=_present),
            T("This programme is no longer available.", when="missing"),
            choice_list(CLASSES, "classes", browse.on_class),
            back_to(Catalog.programmes),
            state=Catalog.classes,
            getter=browse.classes_getter,
        ),
        Window(
            ERROR_LINE,
            T(
                "<b>{title}</b>\nAn ongoing class: enrolling books all its {remaining} remaining "
                "sessions, from {first} ({city} time).\n⏱ {duration} each",
                when="can_enrol_or_wait",
            ),
            T("<b>{title}</b>", when=lambda d, *_: not d.get("can_enrol_or_wait") and _present(d)),
            T("💶 {price} per session", when="price"),
            TP("🪑 {spots} place left", "🪑 {spots} places left", count="spots", when="can_enrol"),
            T("🚫 This class is full.", when="full"),
            T("This class has no sessions left.", when="finished"),
            T(
                "✅ You are enrolled in this class. Cancel single sessions under My bookings.",
                when="confirmed",
            ),
            T(
                "⏳ Your enrolment in this class waits for the studio to confirm it; your places "
                "are held. Cancel single sessions under My bookings.",
                when="pending",
            ),
            T("⏳ You are number {position} on the waiting list.", when="waiting"),
            T("🎟 A place in this class is offered to you until {until}.", when="offered"),
            T(
                "You are enrolled in another class of this programme; use a make-up credit "
                "to attend a session of this one.",
                when="enrolled_elsewhere",
            ),
            T("This class is no longer available.", when="missing"),
            Button(
                T("✅ Enrol in this class"), id="enrol", on_click=ongoing.on_enrol, when="can_enrol"
            ),
            Button(
                T("⏳ Join the waiting list"),
                id="cwait",
                on_click=ongoing.on_enrol,
                when="can_wait",
            ),
            Button(T("✅ Take it"), id="ctake", on_click=ongoing.on_take, when="offered"),
            Button(T("Skip"), id="cskip", on_click=ongoing.on_leave_queue, when="offered"),
            Button(
                T("Leave the waiting list"),
                id="cleave",
                on_click=ongoing.on_leave_queue,
                when="waiting",
            ),
            SwitchTo(T("📅 Sessions"), id="csessions", state=Catalog.sessions, when=_present),
            SwitchTo(
                T("🚪 Leave this class"), id="cquit", state=Catalog.leave_class, when="enrolled"
            ),
            back_to(Catalog.classes, when="many_classes"),
            back_to(Catalog.programmes, when="one_class"),
            state=Catalog.class_card,
            getter=ongoing.class_getter,
        ),
        Window(
            ERROR_LINE,
            T("📝 <b>{title}</b>\n\nAnything the teacher should know?", when=_present),
            T(
                "Send a short note (up to {max} characters), or press Skip.",
                when="optional",
            ),
            T("Please send a short note (up to {max} characters).", when="required"),
            MessageInput(ongoing.on_note_text, content_types=ContentType.TEXT),
            MessageInput(ongoing.on_note_not_text),
            Button(T("Skip"), id="nskip", on_click=ongoing.on_skip_note, when="optional"),
            back_to(Catalog.class_card),
            state=Catalog.enrol_note,
            getter=ongoing.note_getter,
        ),
        Window(
            T("Leave <b>{title}</b>? Your remaining sessions will be cancelled.", when=_present),
            Button(T("Yes, leave the class"), id="cquit_yes", on_click=ongoing.on_leave_class),
            back_to(Catalog.class_card),
            state=Catalog.leave_class,
            getter=ongoing.class_getter,
        ),
        Window(
            TP(
                "🎉 <b>You're enrolled in {title}!</b>\nYou are booked for its {count} remaining "
                "session, from {first} ({city} time).",
                "🎉 <b>You're enrolled in {title}!</b>\nYou are booked for its {count} remaining "
                "sessions, from {first} ({city} time).",
                count="count",
                when="now_enrolled",
            ),
            TP(
                "📝 <b>Thank you! The studio will confirm your enrolment in {title}.</b>\n"
                "Your place in its {count} remaining session is held, from {first} ({city} time); "
                "I'll message you once it is confirmed.",
                "📝 <b>Thank you! The studio will confirm your enrolment in {title}.</b>\n"
                "Your places in its {count} remaining sessions are held, from {first} "
                "({city} time); I'll message you once it is confirmed.",
                count="count",
                when="now_pending",
            ),
            Format("{dates}", when=lambda d, *_: d.get("dates") and d.get("count")),
            T(
                "\nCancel single sessions under My bookings; cancelling in time gives you a "
                "make-up credit for another session."
            ),
            Button(T("🗂 My bookings"), id="mine", on_click=session.on_my_bookings),
            Button(T("🏠 Main menu"), id="home", on_click=on_main_menu),
            state=Catalog.enrolled,
            getter=ongoing.enrolled_getter,
        ),
        Window(
            T(
                "⏳ <b>{title}</b> is full, so you are on its waiting list: number {position}."
                "\n\nI'll message you as soon as a place frees up."
            ),
            back_to(Catalog.class_card),
            state=Catalog.class_waitlisted,
            getter=ongoing.enrolled_getter,
        ),
        Window(
            ERROR_LINE,
            T("<b>{title}</b>\nChoose a session (times are {city} time):", when=_present),
            T("No upcoming sessions right now.", when="empty"),
            T("This class is no longer available.", when="missing"),
            choice_list(SESSIONS, "sessions", browse.on_session),
            back_to(Catalog.classes, when="many_classes"),
            back_to(Catalog.programmes, when="one_class"),
            back_to(Catalog.class_card, when="ongoing"),
            state=Catalog.sessions,
            getter=browse.sessions_getter,
        ),
        Window(
            ERROR_LINE,
            T("<b>{title}</b>\n🗓 {when} ({city} time)\n⏱ {duration}", when=_present),
            T("💶 {price}", when="price"),
            TP("🪑 {spots} spot left", "🪑 {spots} spots left", count="spots", when="can_book"),
            T("🚫 This session is full.", when="full"),
            T("⏳ This session has already started.", when="started"),
            T("✅ You are booked for this session.", when="mine"),
            T("⏳ You are number {position} on the waiting list.", when="waiting"),
            T("🎟 A place is held for you until {until}.", when="offered"),
            T("Sessions of this class are booked by enrolling in the whole class.", when="ongoing"),
            Button(T("✅ Book"), id="book", on_click=session.on_book, when="can_book"),
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
        on_start=on_start,
    )
