"""The main menu: where /start lands."""

from __future__ import annotations

from aiogram.types import User
from aiogram_dialog import Dialog, DialogManager, Window
from aiogram_dialog.widgets.kbd import Button, Start

from bot.deps import html
from bot.dialogs.catalog import open_catalog
from bot.i18n import T
from bot.states import MainMenu, MyBookings


async def menu_getter(dialog_manager: DialogManager, event_from_user: User, **_kwargs) -> dict:
    return {"name": html(event_from_user.first_name)}


def menu_dialog() -> Dialog:
    return Dialog(
        Window(
            T("👋 Hello, <b>{name}</b>!\n\nBook a session, see your bookings or cancel one."),
            Button(T("📅 Book a session"), id="book", on_click=open_catalog),
            Start(T("🗂 My bookings"), id="mine", state=MyBookings.list),
            state=MainMenu.main,
            getter=menu_getter,
        ),
    )
