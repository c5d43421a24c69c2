"""Who is staff (ADMIN_IDS), checked on every staff update: rights may change between them.

Callback data and dialog state come from the client and may be forged or outlive someone's
rights, so nothing staff-only trusts them: the filter and the middleware below look at the
sender's id and the settings each time.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, TelegramObject, User
from aiogram.utils.i18n import gettext as _

from bot.deps import Deps

# Every widget of the staff dialog has an id with this prefix, so a staff button can be told
# apart in callback data ("<intent id>\x1d<widget id>...") before any dialog looks at it.
STAFF_WIDGET_PREFIX = "adm_"
_STAFF_CALLBACK = re.compile(r"^[^\x1d]*\x1d" + re.escape(STAFF_WIDGET_PREFIX))


def is_staff(user: User | None, deps: Deps) -> bool:
    return user is not None and user.id in deps.settings.admin_ids


class IsStaff(Filter):
    async def __call__(self, _event: TelegramObject, event_from_user: User, deps: Deps) -> bool:
        return is_staff(event_from_user, deps)


class StaffCallback(Filter):
    """A press of a staff dialog's button (whoever sent it)."""

    async def __call__(self, callback: CallbackQuery) -> bool:
        return bool(callback.data and _STAFF_CALLBACK.match(callback.data))


async def refuse(event: TelegramObject) -> None:
    text = _("This command is for staff only.")
    if isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    elif isinstance(event, Message):
        await event.answer(text)


class StaffOnly(BaseMiddleware):
    """Guards a staff dialog: an open one outlives the rights of whoever opened it."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if is_staff(data.get("event_from_user"), data["deps"]):
            return await handler(event, data)
        await refuse(event)
        return None
