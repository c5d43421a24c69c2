"""The main menu: where /start lands."""

from __future__ import annotations

from aiogram.types import User
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, Window
from aiogram_dialog.widgets.kbd import Button, Start, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.deps import Deps, formatter_of
from bot.dialogs.catalog.browse import open_catalog
from bot.dialogs.common import ERROR_LINE, back_to, choice_list, take_error
from bot.dialogs.courses import COURSE_OFFERS, my_courses_getter, on_buy_course
from bot.dialogs.payments import fees
from bot.dialogs.payments.passes import account_lines
from bot.dialogs.settings import settings_window
from bot.states import MainMenu, MyBookings
from bot.text.formatting import html
from bot.text.i18n import T
from domain.billing.payments import account
from domain.booking import client_views
from domain.courses import units as course_units

BOOK, MY_BOOKINGS, COURSES, ACCOUNT, SETTINGS = "book", "mine", "courses", "account", "settings"


async def menu_getter(
    dialog_manager: DialogManager, deps: Deps, event_from_user: User, **_kwargs
) -> dict:
    async with deps.db() as db:
        courses = await course_units.any_courses(db, event_from_user.id)
    return {"name": html(event_from_user.first_name), "courses": courses}


async def account_getter(
    dialog_manager: DialogManager, deps: Deps, event_from_user: User, **_kwargs
) -> dict:
    """The client's balance and, when they owe, what for (their upcoming bookings)."""
    fmt = formatter_of(dialog_manager)
    client_id = event_from_user.id
    async with deps.db() as db:
        mine = await account(db, client_id, deps.settings.currency)
        cards = [
            (await client_views.booking_card(db, booking_id, client_id), amount)
            for booking_id, amount in mine.due_bookings
        ]
    lines = [
        _("• {title}, {when}: {amount}").format(
            title=html(f"{card.programme_title} — {card.class_title}"),
            when=fmt.short_when(card.starts_at),
            amount=fmt.money(amount.minor),
        )
        for card, amount in cards
        if card is not None
    ]
    balance = mine.balance.minor
    return {
        **await fees.account_data(deps, fmt, client_id),
        "error": take_error(dialog_manager),
        "pass_lines": await account_lines(deps, fmt, client_id),
        "credit": fmt.money(-balance) if balance < 0 else "",
        "owed": fmt.money(balance) if balance > 0 else "",
        "settled": balance == 0,
        "due_lines": "\n".join(lines),
    }


main_window = Window(
    T("👋 Hello, <b>{name}</b>!\n\nBook a session, see your bookings or cancel one."),
    Button(T("📅 Book a session"), id=BOOK, on_click=open_catalog),
    Start(T("🗂 My bookings"), id=MY_BOOKINGS, state=MyBookings.list),
    SwitchTo(T("🟩 My courses"), id=COURSES, state=MainMenu.courses, when="courses"),
    SwitchTo(T("👤 My account"), id=ACCOUNT, state=MainMenu.account),
    SwitchTo(T("🌐 Language and time zone"), id=SETTINGS, state=MainMenu.settings),
    state=MainMenu.main,
    getter=menu_getter,
    preview_data={"name": "Alice", "courses": True},
)

account_window = Window(
    ERROR_LINE,
    T("<b>My account</b>"),
    T("✅ Nothing to pay.", when="settled"),
    Format("{pass_lines}", when="pass_lines"),
    T("💰 Your credit: {credit}. It is spent on your next booking by itself.", when="credit"),
    T("💳 To pay: {owed}", when="owed"),
    Format("{due_lines}", when="due_lines"),
    T("Open a booking in My bookings to pay for it.", when="due_lines"),
    *fees.fee_widgets(),
    Start(T("🗂 My bookings"), id=MY_BOOKINGS, state=MyBookings.list),
    back_to(MainMenu.main),
    state=MainMenu.account,
    getter=account_getter,
)

courses_window = Window(
    ERROR_LINE,
    T("🟩 <b>My courses and packages</b>"),
    T("You have no course yet.", when="no_courses"),
    Format("{courses}", when="courses"),
    T("\n🛒 <b>On sale</b>", when="offers_text"),
    Format("{offers_text}", when="offers_text"),
    T("Courses are sold at the studio.", when="sold_at_studio"),
    Format("{course_note}", when="course_note"),
    choice_list(COURSE_OFFERS, "course_offers", on_buy_course),
    back_to(MainMenu.main),
    state=MainMenu.courses,
    getter=my_courses_getter,
)


def menu_dialog() -> Dialog:
    return Dialog(main_window, account_window, courses_window, settings_window)
