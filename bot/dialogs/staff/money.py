"""Staff money actions on the client card: the booking's account, Paid at the venue, Refund,
Waive, and who owes what (with a CSV export). Handlers read the input, call domain.billing.refunds,
and show the outcome or the translated error; the client is told of a refund directly."""

from __future__ import annotations

import csv
import io
import logging
import re
from decimal import Decimal
from typing import Any

from aiogram import Bot
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager
from babel.numbers import get_currency_precision

from bot.delivery.notify import fee_label
from bot.delivery.refunds import stars_refunder
from bot.deps import Deps, deps_of, formatter_of
from bot.dialogs.common import item_id, send_notices, show_error, take_error
from bot.states import Staff
from bot.text.formatting import html
from bot.text.reader import Formatter
from domain.billing import fees, money
from domain.billing.payments import booking_item, entries
from domain.billing.refunds import (
    RefundDone,
    fee_paid_at_venue,
    mark_paid_at_venue,
    refund_booking,
    waive_due,
    waive_fee,
)
from domain.desk import staff_views
from domain.errors import DomainError, FeeNotFound

log = logging.getLogger(__name__)

REFUND, WAIVE = "refund", "waive"
_AMOUNT_RE = re.compile(r"([0-9]{1,9})(?:[.,]([0-9]{1,4}))?")
MAX_REASON = 300


def parse_amount(text: str, currency: str) -> money.Money | None:
    """An amount typed in the business currency, strictly: digits, and at most the currency's
    decimals (none for Stars). Signs, spaces inside and other symbols are refused."""
    match = _AMOUNT_RE.fullmatch(text)
    if match is None:
        return None
    whole, fraction = match.groups()
    digits = 0 if currency == money.STARS else get_currency_precision(currency)
    if fraction is not None and len(fraction) > digits:
        return None
    minor = int((Decimal(f"{whole}.{fraction or 0}") * 10**digits).to_integral_exact())
    return money.Money(minor, currency)


def _show_money_error(manager: DialogManager, error: DomainError) -> None:
    """Money params (caps, amounts) are shown in the business's format."""
    fmt = formatter_of(manager)
    params = {
        k: fmt.money(v.minor) if isinstance(v, money.Money) else v for k, v in error.params.items()
    }
    show_error(manager, type(error)(**params))


# --- the client card's account of the booking ------------------------------------------------


async def account_getter(deps: Deps, fmt: Formatter, client_id: int, session_id: int) -> dict:
    async with deps.db() as db:
        booking_id = await staff_views.active_booking_id(db, client_id, session_id)
        lines = await entries(db, client_id)
    currency = deps.settings.currency
    lines = [e for e in lines if e.amount.currency == currency]
    credit = money.available_credit(lines, currency).minor if lines else 0
    item = booking_item(booking_id) if booking_id else None
    account = money.item_account(item, lines, currency) if item else None
    charged = account is not None and account.charged.minor > 0
    due = account.due.minor if charged else 0
    refundable = account.refundable.minor if charged else 0
    return {
        "charged": fmt.money(account.charged.minor) if charged else "",
        "paid_so_far": fmt.money(account.paid.minor) if charged else "",
        "due": fmt.money(due) if due else "",
        "settled": charged and not due,
        "refundable": fmt.money(refundable) if refundable > 0 else "",
        "credit": fmt.money(credit) if credit else "",
    }


def _booking_id_or_error(manager: DialogManager, booking_id: int | None) -> int | None:
    if booking_id is None:
        show_error(manager, "staff_no_booking")
    return booking_id


async def _current_booking(manager: DialogManager) -> int | None:
    data = manager.dialog_data
    async with deps_of(manager).db() as db:
        booking_id = await staff_views.active_booking_id(db, data["client_id"], data["session_id"])
    return _booking_id_or_error(manager, booking_id)


async def on_paid_at_venue(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    booking_id = await _current_booking(manager)
    if booking_id is None:
        return
    deps = deps_of(manager)
    user = manager.middleware_data["event_from_user"]
    try:
        async with deps.db() as db:
            paid = await mark_paid_at_venue(
                db,
                client_id=manager.dialog_data["client_id"],
                booking_id=booking_id,
                staff_id=user.id,
                now=deps.clock(),
            )
    except DomainError as error:
        _show_money_error(manager, error)
        return
    amount = formatter_of(manager).money(paid.minor)
    manager.dialog_data["money_done"] = _("✅ {amount} marked paid at the venue.").format(
        amount=amount
    )


async def on_refund(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    await _ask_amount(manager, REFUND)


async def on_waive(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    await _ask_amount(manager, WAIVE)


async def _ask_amount(manager: DialogManager, action: str) -> None:
    if await _current_booking(manager) is None:
        return
    manager.dialog_data["money_action"] = action
    await manager.switch_to(Staff.money_amount)


async def amount_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    data = dialog_manager.dialog_data
    fmt = formatter_of(dialog_manager)
    async with deps.db() as db:
        client = await staff_views.client(db, data["client_id"])
    account = await account_getter(deps, fmt, data["client_id"], data["session_id"])
    action = data.get("money_action")
    example = "20" if deps.settings.currency == money.STARS else "12.50"
    return {
        **account,
        "name": html(client.first_name or str(client.id)) if client else "?",
        "refunding": action == REFUND,
        "waiving": action == WAIVE,
        "example": example,
        "error": take_error(dialog_manager),
    }


async def on_amount_text(message: Message, _w: Any, manager: DialogManager) -> None:
    amount_text, _space, reason = (message.text or "").strip().partition(" ")
    deps = deps_of(manager)
    amount = parse_amount(amount_text.replace("\u2212", "-"), deps.settings.currency)
    if amount is None:
        show_error(manager, "not_an_amount")
        return
    reason = " ".join(reason.split())
    if not reason or len(reason) > MAX_REASON:
        show_error(manager, "reason_required")
        return
    booking_id = await _current_booking(manager)
    if booking_id is None:
        return
    bot: Bot = manager.middleware_data["bot"]
    values = {
        "client_id": manager.dialog_data["client_id"],
        "booking_id": booking_id,
        "amount": amount,
        "reason": reason,
        "staff_id": message.from_user.id,
    }
    fmt = formatter_of(manager)
    try:
        async with deps.db() as db:
            if manager.dialog_data.get("money_action") == WAIVE:
                await waive_due(db, now=deps.clock(), **values)
                done = _("✅ {amount} waived.").format(amount=fmt.money(amount.minor))
            else:
                refunded = await refund_booking(
                    db, now=deps.clock(), refund_stars=stars_refunder(bot), **values
                )
                done = refund_summary(refunded, fmt)
    except DomainError as error:
        _show_money_error(manager, error)
        return
    manager.dialog_data["money_done"] = done
    await manager.switch_to(Staff.client)
    if manager.dialog_data.get("money_action") == REFUND:
        await send_notices(manager)  # the client hears of it through the outbox


def refund_summary(done: RefundDone, fmt: Formatter) -> str:
    texts = {
        money.RefundRoute.STARS_REFUND: _("✅ {amount} refunded through Telegram Stars."),
        money.RefundRoute.BALANCE_CREDIT: _(
            "✅ {amount} added to the client's balance as credit (Telegram refunds a Stars "
            "payment only whole); it pays their next booking."
        ),
        money.RefundRoute.PROVIDER: _(
            "⚠️ {amount} recorded as a card refund: carry it out at your payment provider "
            "(Telegram has no refund for card payments)."
        ),
        money.RefundRoute.CASH: _("✅ {amount} recorded as cash back: hand it to the client."),
    }
    lines = [
        texts[route].format(amount=fmt.money(amount.minor))
        for route, amount in done.by_route.items()
    ]
    if done.refused is not None:
        lines.append(
            _("⚠️ Telegram refused to refund {amount}: {why}. The studio still holds it.").format(
                amount=fmt.money(done.refused.minor), why=html(done.refused_why or "?")
            )
        )
    if done.unanswered is not None:
        lines.append(
            _(
                "⏳ {amount} asked back from Telegram Stars: Telegram did not answer; it will be "
                "checked again, and the client told once it is refunded."
            ).format(amount=fmt.money(done.unanswered.minor))
        )
    return "\n".join(lines)


# --- who owes what -----------------------------------------------------------------------------


async def owing_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    fees_due = await fees_getter(deps, fmt)
    async with deps.db() as db:
        owing = await staff_views.clients_owing(db, deps.settings.currency)
    lines = [
        _("{name} · id {client_id} · {amount}").format(
            name=html(o.first_name or str(o.client_id)),
            client_id=o.client_id,
            amount=fmt.money(o.due.minor),
        )
        for o in owing
    ]
    return {
        **fees_due,
        "owing_lines": "\n".join(lines),
        "anyone": bool(owing),
        "nobody_owes": not owing,
        "error": take_error(dialog_manager),
    }


async def on_export_owing(callback: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    deps = deps_of(manager)
    fmt = formatter_of(manager)
    async with deps.db() as db:
        owing = await staff_views.clients_owing(db, deps.settings.currency)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["client_id", "name", "amount_due", "currency", "amount_minor"])
    for o in owing:
        name = o.first_name or ""
        if name[:1] in ("=", "+", "-", "@"):  # a spreadsheet would run it as a formula
            name = "'" + name
        writer.writerow([o.client_id, name, fmt.money(o.due.minor), o.due.currency, o.due.minor])
    bot: Bot = manager.middleware_data["bot"]
    await bot.send_document(
        callback.from_user.id,
        BufferedInputFile(out.getvalue().encode("utf-8"), filename="who-owes-what.csv"),
    )


# --- fees due: paid at the venue, waived ------------------------------------------------------


async def fees_getter(deps: Deps, fmt: Formatter) -> dict:
    """Every fee still due, for the Who owes what window: (fee id, "who · fee: amount")."""
    async with deps.db() as db:
        due = await fees.fees_due(db)
        names = await staff_views.client_names(db, {f.item.client_id for f in due})
    return {
        "fees_due": [
            (
                f.fee_id,
                _("🧾 {name} · {fee}: {amount}").format(
                    name=names.get(f.item.client_id) or str(f.item.client_id),
                    fee=fee_label(fmt, f.item, f.programme_title),
                    amount=fmt.money(f.due.minor),
                ),
            )
            for f in due
        ]
    }


async def on_fee_chosen(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    fee_id = item_id(raw_id)
    if fee_id is None:
        show_error(manager, "stale_button")
        return
    manager.dialog_data["fee_id"] = fee_id
    manager.dialog_data.pop("fee_done", None)
    await manager.switch_to(Staff.fee)


async def fee_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    fee_id = dialog_manager.dialog_data.get("fee_id")
    async with deps.db() as db:
        due = next((f for f in await fees.fees_due(db) if f.fee_id == fee_id), None)
        names = await staff_views.client_names(db, {due.item.client_id} if due else set())
    done = dialog_manager.dialog_data.get("fee_done")
    if due is None:
        return {"fee": "", "error": take_error(dialog_manager), "done": done, "open": False}
    return {
        "fee": _("{name} (id {client_id})\n{fee}\nDue: {amount}").format(
            name=html(names.get(due.item.client_id) or ""),
            client_id=due.item.client_id,
            fee=html(fee_label(fmt, due.item, due.programme_title)),
            amount=fmt.money(due.due.minor),
        ),
        "error": take_error(dialog_manager),
        "done": done,
        "open": True,
    }


async def on_fee_paid_at_venue(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    await _settle_fee(manager, waive=False)


async def on_fee_waive(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    await _settle_fee(manager, waive=True)


async def _settle_fee(manager: DialogManager, *, waive: bool) -> None:
    deps = deps_of(manager)
    user = manager.middleware_data["event_from_user"]
    fee_id = manager.dialog_data.get("fee_id")
    try:
        async with deps.db() as db:
            if fee_id is None:
                raise FeeNotFound()
            if waive:
                amount = await waive_fee(
                    db, fee_id=fee_id, reason="waived", staff_id=user.id, now=deps.clock()
                )
            else:
                amount = await fee_paid_at_venue(
                    db, fee_id=fee_id, staff_id=user.id, now=deps.clock()
                )
    except DomainError as error:
        _show_money_error(manager, error)
        return
    text = _("🙅 {amount} waived.") if waive else _("✅ {amount} marked paid at the venue.")
    manager.dialog_data["fee_done"] = text.format(amount=formatter_of(manager).money(amount.minor))
