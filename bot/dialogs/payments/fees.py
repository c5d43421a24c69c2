"""Monthly fees and attendance credits in the bot: a fee's Pay button (under its reminder and
in My account) sends its invoice, or settles it from the client's credit; My account lists the
fees due and the attendance credits left this period."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.text import Format

from bot.delivery.notify import PayFee, fee_label
from bot.deps import Deps, client_of, deps_of, i18n_of
from bot.dialogs.common import choice_list
from bot.dialogs.payments.invoices import on_invoice_choice, send_invoice
from bot.text.errors import message_for
from bot.text.formatting import html
from bot.text.reader import Formatter
from domain.billing import credits, fees
from domain.billing.payments import invoice_fee
from domain.errors import DomainError

FEES_DUE = "fees"


async def request_fee_payment(
    bot: Bot, deps: Deps, i18n: I18n, *, client_id: int, fee_id: int
) -> str | None:
    """The invoice for the client's own fee (or why not); None when an invoice went out."""
    fmt = Formatter(deps.settings, i18n.current_locale)
    try:
        async with deps.db() as db:
            invoice = await invoice_fee(db, client_id=client_id, fee_id=fee_id, now=deps.clock())
            due = [f for f in await fees.fees_due(db, client_id) if f.fee_id == fee_id]
    except DomainError as error:
        return message_for(error.code, _, error.params)
    if invoice is None:
        return _("✅ Paid from your credit. Nothing more is due.")
    if deps.settings.online_payment is None or not due:
        return _("Please pay {amount} at the studio.").format(
            amount=fmt.money(invoice.amount_minor)
        )
    label = fee_label(fmt, due[0].item, due[0].programme_title)
    await send_invoice(bot, deps, client_id, invoice, title=label, description=label)
    return None


async def on_pay_fee_button(
    callback: CallbackQuery, callback_data: PayFee, deps: Deps, i18n: I18n, bot: Bot
) -> None:
    """Pay under a fee reminder; someone else's fee id reads as missing."""
    note = await request_fee_payment(
        bot, deps, i18n, client_id=callback.from_user.id, fee_id=callback_data.fee_id
    )
    if note is not None and isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
    await callback.answer(note, show_alert=note is not None)


def fees_router() -> Router:
    router = Router(name="fees")
    router.callback_query.register(on_pay_fee_button, PayFee.filter())
    return router


# --- My account --------------------------------------------------------------------------------


async def account_data(deps: Deps, fmt: Formatter, client_id: int) -> dict[str, Any]:
    """Getter data: ``fees_due`` (id, "label: amount") to pay, ``credit_lines`` (one line per
    programme with attendance credits)."""
    policy = deps.settings.policy
    async with deps.db() as db:
        due = await fees.fees_due(db, client_id)
        views = await credits.credits_of(db, client_id, policy.today(deps.clock()), policy)
    lines = [
        ngettext(
            "🎫 {title}: {left} of {granted} session left until {until}",
            "🎫 {title}: {left} of {granted} sessions left until {until}",
            view.granted,
        ).format(
            title=html(view.programme_title),
            left=view.left,
            granted=view.granted,
            until=fmt.day(view.period.ends_on),
        )
        for view in views
    ]
    return {
        "fees_due": [
            (
                f.fee_id,
                _("💳 {fee}: {amount}").format(
                    fee=fee_label(fmt, f.item, f.programme_title), amount=fmt.money(f.due.minor)
                ),
            )
            for f in due
        ],
        "credit_lines": "\n".join(lines),
    }


async def _pay_fee(manager: DialogManager, fee_id: int) -> str | None:
    return await request_fee_payment(
        manager.middleware_data["bot"],
        deps_of(manager),
        i18n_of(manager),
        client_id=client_of(manager).id,
        fee_id=fee_id,
    )


on_fee_chosen = on_invoice_choice(_pay_fee, "fee_note")


def fee_widgets() -> list:
    """What My account shows of fees and credits (its getter merges account_data)."""
    return [
        Format("{credit_lines}", when="credit_lines"),
        Format("{dialog_data[fee_note]}", when=lambda d, *_: d["dialog_data"].get("fee_note")),
        choice_list(FEES_DUE, "fees_due", on_fee_chosen),
    ]
