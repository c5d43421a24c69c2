"""🔁 Book another time, under the notice of a cancelled session (bot/delivery/notify.py): the
class's sessions ahead, in the catalog's own window, where cancelled ones are not listed."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, ShowMode

from bot.delivery.notify import BookAgain
from bot.deps import Deps
from bot.dialogs.common import open_over_menu
from bot.states import Catalog
from domain.timetable.cancellation import class_of_session


async def on_book_again(
    query: CallbackQuery, callback_data: BookAgain, dialog_manager: DialogManager, deps: Deps
) -> None:
    async with deps.db() as db:
        target = await class_of_session(db, callback_data.session_id)
    if target is None:
        await query.answer(_("That class is no longer on the timetable."), show_alert=True)
        return
    await query.answer()
    data = {
        "programme_id": target.programme_id,
        "class_id": target.class_id,
        "one_class": True,
        "ongoing": target.ongoing,
    }
    await open_over_menu(dialog_manager, Catalog.sessions, data, ShowMode.SEND)


def book_again_router() -> Router:
    router = Router(name="book_again")
    router.callback_query.register(on_book_again, BookAgain.filter())
    return router
