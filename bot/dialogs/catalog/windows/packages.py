"""A package's picked sessions reviewed and confirmed, and the booked package with its Pay
button."""

from __future__ import annotations

from aiogram.enums import ContentType
from aiogram_dialog import Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button
from aiogram_dialog.widgets.text import Format

from bot.dialogs.catalog import session
from bot.dialogs.common import ERROR_LINE, back_to, on_main_menu
from bot.dialogs.packages import review
from bot.states import Catalog
from bot.text.i18n import T

CONFIRM, PAY, MY_BOOKINGS, HOME = "pkg_ok", "pkg_pay", "mine", "home"


def _pay_note(data: dict, *_: object) -> bool:
    return bool(data["dialog_data"].get("pay_note"))


review_window = Window(
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
    MessageInput(review.on_note, content_types=ContentType.TEXT),
    MessageInput(review.on_note_not_text),
    Button(T("✅ Confirm"), id=CONFIRM, on_click=review.on_confirm, when="complete"),
    back_to(Catalog.sessions),
    state=Catalog.package_review,
    getter=review.review_getter,
)

booked_window = Window(
    ERROR_LINE,
    T("🎉 <b>You're booked!</b>\n\n<b>{title}</b> ({city} time):\n{lines}", when="title"),
    T("💳 To pay: {to_pay}", when="to_pay"),
    Format("{dialog_data[pay_note]}", when=_pay_note),
    Button(T("💳 Pay {to_pay}"), id=PAY, on_click=review.on_pay_package, when="can_pay"),
    T("\nEach session can be cancelled or moved on its own under My bookings."),
    Button(T("🗂 My bookings"), id=MY_BOOKINGS, on_click=session.on_my_bookings),
    Button(T("🏠 Main menu"), id=HOME, on_click=on_main_menu),
    state=Catalog.package_booked,
    getter=review.booked_getter,
)

windows = [review_window, booked_window]
