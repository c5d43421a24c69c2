"""Staff commands on packages: /pkgcancel and /pkgmove override the client's cut-offs,
/pkgrefund gives money back on a package."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n

from bot.access import IsStaff, refuse
from bot.commands.sessions import usage_hint
from bot.delivery.courier import send_due
from bot.delivery.refunds import stars_refunder
from bot.deps import Deps
from bot.dialogs.staff.money import parse_amount, refund_summary
from bot.text.errors import describe
from bot.text.reader import Formatter
from domain.billing.refunds import refund_package
from domain.errors import DomainError
from domain.timetable import packages


async def staff_cancel(
    message: Message, command: CommandObject, bot: Bot, deps: Deps, i18n: I18n
) -> None:
    raw = (command.args or "").strip()
    if not raw.isdigit():
        await message.answer(usage_hint("/pkgcancel 42"))
        return
    fmt = Formatter(deps.settings, get_i18n().current_locale)
    try:
        async with deps.db() as db:
            done = await packages.cancel_session(
                db,
                client_id=None,
                booking_id=int(raw),
                now=deps.clock(),
                policy=deps.settings.policy,
                staff_id=message.from_user.id,
            )
    except DomainError as error:
        await message.answer("⚠️ " + describe(error, _, fmt))
        return
    await send_due(bot, deps, i18n)
    await message.answer(
        _("✅ Cancelled (staff override); {amount} back to the client.").format(
            amount=fmt.money(done.refund.minor)
        )
    )


async def staff_move(
    message: Message, command: CommandObject, bot: Bot, deps: Deps, i18n: I18n
) -> None:
    parts = (command.args or "").split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        await message.answer(usage_hint("/pkgmove 42 SPOT_ID"))
        return
    fmt = Formatter(deps.settings, get_i18n().current_locale)
    try:
        async with deps.db() as db:
            await packages.reschedule_session(
                db,
                client_id=None,
                booking_id=int(parts[0]),
                new_session_id=int(parts[1]),
                now=deps.clock(),
                policy=deps.settings.policy,
                staff_id=message.from_user.id,
            )
    except DomainError as error:
        await message.answer("⚠️ " + describe(error, _, fmt))
        return
    await send_due(bot, deps, i18n)
    await message.answer(_("✅ Moved (staff override); the client is told."))


async def staff_refund(
    message: Message, command: CommandObject, bot: Bot, deps: Deps, i18n: I18n
) -> None:
    """/pkgrefund PACKAGE AMOUNT REASON: any amount up to what was paid, with a reason."""
    parts = (command.args or "").split(maxsplit=2)
    fmt = Formatter(deps.settings, get_i18n().current_locale)
    amount = parse_amount(parts[1], deps.settings.currency) if len(parts) == 3 else None
    if len(parts) != 3 or not parts[0].isdigit() or amount is None:
        await message.answer(usage_hint("/pkgrefund 12 20.00 the teacher was ill"))
        return
    try:
        async with deps.db() as db:
            done = await refund_package(
                db,
                package_id=int(parts[0]),
                amount=amount,
                reason=" ".join(parts[2].split())[:300],
                staff_id=message.from_user.id,
                now=deps.clock(),
                refund_stars=stars_refunder(bot),
            )
    except DomainError as error:
        await message.answer("⚠️ " + describe(error, _, fmt))
        return
    await send_due(bot, deps, i18n)
    await message.answer(refund_summary(done, fmt))


def packages_router() -> Router:
    router = Router(name="packages")
    private = F.chat.type == "private"
    router.message.register(staff_cancel, Command("pkgcancel"), private, IsStaff())
    router.message.register(staff_move, Command("pkgmove"), private, IsStaff())
    router.message.register(staff_refund, Command("pkgrefund"), private, IsStaff())
    router.message.register(refuse, Command("pkgcancel", "pkgmove", "pkgrefund"), private)
    return router
