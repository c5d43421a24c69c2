"""The windows of an ongoing class: its card, the note, leaving, and what enrolling led to."""

from __future__ import annotations

from aiogram.enums import ContentType
from aiogram_dialog import Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.dialogs.catalog import ongoing, session
from bot.dialogs.common import ERROR_LINE, back_to, on_main_menu, present
from bot.states import Catalog
from bot.text.i18n import TP, T

ENROL, WAIT, TAKE, SKIP = "enrol", "cwait", "ctake", "cskip"
LEAVE_QUEUE, SESSIONS, LEAVE, LEAVE_YES = "cleave", "csessions", "cquit", "cquit_yes"
SKIP_NOTE, MY_BOOKINGS, HOME = "nskip", "mine", "home"


class_card_window = Window(
    ERROR_LINE,
    T(
        "<b>{title}</b>\nAn ongoing class: enrolling books all its {remaining} remaining "
        "sessions, from {first} ({city} time).\n⏱ {duration} each",
        when="can_enrol_or_wait",
    ),
    T("<b>{title}</b>", when=lambda d, *_: not d.get("can_enrol_or_wait") and present(d)),
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
    Button(T("✅ Enrol in this class"), id=ENROL, on_click=ongoing.on_enrol, when="can_enrol"),
    Button(
        T("⏳ Join the waiting list"),
        id=WAIT,
        on_click=ongoing.on_enrol,
        when="can_wait",
    ),
    Button(T("✅ Take it"), id=TAKE, on_click=ongoing.on_take, when="offered"),
    Button(T("Skip"), id=SKIP, on_click=ongoing.on_leave_queue, when="offered"),
    Button(
        T("Leave the waiting list"),
        id=LEAVE_QUEUE,
        on_click=ongoing.on_leave_queue,
        when="waiting",
    ),
    SwitchTo(T("📅 Sessions"), id=SESSIONS, state=Catalog.sessions, when=present),
    SwitchTo(T("🚪 Leave this class"), id=LEAVE, state=Catalog.leave_class, when="enrolled"),
    back_to(Catalog.classes, when="many_classes"),
    back_to(Catalog.programmes, when="one_class"),
    state=Catalog.class_card,
    getter=ongoing.class_getter,
)

enrol_note_window = Window(
    ERROR_LINE,
    T("📝 <b>{title}</b>\n\nAnything the teacher should know?", when=present),
    T(
        "Send a short note (up to {max} characters), or press Skip.",
        when="optional",
    ),
    T("Please send a short note (up to {max} characters).", when="required"),
    MessageInput(ongoing.on_note_text, content_types=ContentType.TEXT),
    MessageInput(ongoing.on_note_not_text),
    Button(T("Skip"), id=SKIP_NOTE, on_click=ongoing.on_skip_note, when="optional"),
    back_to(Catalog.class_card),
    state=Catalog.enrol_note,
    getter=ongoing.note_getter,
)

leave_class_window = Window(
    T("Leave <b>{title}</b>? Your remaining sessions will be cancelled.", when=present),
    Button(T("Yes, leave the class"), id=LEAVE_YES, on_click=ongoing.on_leave_class),
    back_to(Catalog.class_card),
    state=Catalog.leave_class,
    getter=ongoing.class_getter,
)

enrolled_window = Window(
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
    Button(T("🗂 My bookings"), id=MY_BOOKINGS, on_click=session.on_my_bookings),
    Button(T("🏠 Main menu"), id=HOME, on_click=on_main_menu),
    state=Catalog.enrolled,
    getter=ongoing.enrolled_getter,
)

class_waitlisted_window = Window(
    T(
        "⏳ <b>{title}</b> is full, so you are on its waiting list: number {position}."
        "\n\nI'll message you as soon as a place frees up."
    ),
    back_to(Catalog.class_card),
    state=Catalog.class_waitlisted,
    getter=ongoing.enrolled_getter,
)

windows = [
    class_card_window,
    enrol_note_window,
    leave_class_window,
    enrolled_window,
    class_waitlisted_window,
]
