"""Paying for a booking in the bot with Telegram Payments: Stars (CURRENCY=XTR) or a card
provider (PAYMENT_PROVIDER_TOKEN), per PAYMENT_METHODS.

Pay → the client's available credit is spent first, the rest is invoiced (sendInvoice with a
payload naming the booking and the amount) → Telegram's pre_checkout_query re-checks that
exactly that amount is still due for a live booking of theirs (answered at once, well inside
Telegram's 10 s) → successful_payment is recorded in the ledger once per Telegram charge id,
however often Telegram delivers it.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, Message, PreCheckoutQuery
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Button
from aiogram_dialog.widgets.text import Format

from bot.delivery.courier import send_due
from bot.delivery.notify import PayBooking
from bot.deps import Deps, client_of, deps_of, i18n_of
from bot.dialogs.payments.invoices import send_invoice
from bot.text.errors import message_for
from bot.text.i18n import T
from bot.text.reader import Formatter
from domain.billing.payments import (
    InvoiceFor,
    ReceivedPayment,
    booking_due,
    check_before_payment,
    invoice_booking,
    record_payment,
)
from domain.booking import client_views
from domain.errors import DomainError, InvalidPayment

log = logging.getLogger(__name__)


async def request_payment(
    bot: Bot, deps: Deps, i18n: I18n, *, client_id: int, booking_id: int
) -> str | None:
    """Send the client an invoice for their booking (or settle it from their credit).

    Returns a line to show where they pressed Pay, or None when an invoice went out."""
    method = deps.settings.online_payment
    fmt = Formatter(deps.settings, i18n.current_locale)
    try:
        async with deps.db() as db:
            card = await client_views.booking_card(db, booking_id, client_id)
            invoice = await invoice_booking(
                db, client_id=client_id, booking_id=booking_id, now=deps.clock()
            )
    except DomainError as error:
        return message_for(error.code, _, error.params)
    if invoice is None:
        return _("✅ Paid from your credit. Nothing more is due.")
    if method is None or card is None:  # paid at the venue only
        return _("Please pay {amount} at the studio.").format(
            amount=fmt.money(invoice.amount_minor)
        )
    title = f"{card.programme_title} — {card.class_title}"
    description = _("{title}, {when}").format(title=title, when=fmt.long_when(card.starts_at))
    await send_invoice(bot, deps, client_id, invoice, title=title, description=description)
    return None


async def on_pre_checkout(query: PreCheckoutQuery, deps: Deps) -> None:
    """Telegram asks whether to take the money: only for exactly what is due now."""
    try:
        invoice = InvoiceFor.from_payload(query.invoice_payload)
        if (invoice.amount_minor, invoice.currency) != (query.total_amount, query.currency):
            raise InvalidPayment()
        async with deps.db() as db:
            await check_before_payment(
                db,
                client_id=query.from_user.id,
                invoice=invoice,
                now=deps.clock(),
                currency=deps.settings.currency,
            )
    except DomainError as error:
        await query.answer(ok=False, error_message=message_for(error.code, _, error.params))
        return
    await query.answer(ok=True)


async def on_successful_payment(message: Message, deps: Deps, i18n: I18n, bot: Bot) -> None:
    payment = message.successful_payment
    received = ReceivedPayment(
        client_id=message.from_user.id,
        payload=payment.invoice_payload,
        amount_minor=payment.total_amount,
        currency=payment.currency,
        charge_id=payment.telegram_payment_charge_id,
        provider_charge_id=payment.provider_payment_charge_id,
    )
    async with deps.db() as db:
        paid = await record_payment(db, received, now=deps.clock(), policy=deps.settings.policy)
    if paid is None:  # Telegram delivered it again: already recorded and thanked for
        log.info("payment %s delivered again: ignored", payment.telegram_payment_charge_id)
        return
    # the thanks was written to the outbox with the payment: sent now, and once
    await send_due(bot, deps, i18n)


async def on_pay_button(
    callback: CallbackQuery, callback_data: PayBooking, deps: Deps, i18n: I18n, bot: Bot
) -> None:
    """Pay under a "please pay" reminder: the invoice (or why not) for the presser's own
    booking; someone else's booking id reads as missing."""
    note = await request_payment(
        bot, deps, i18n, client_id=callback.from_user.id, booking_id=callback_data.booking_id
    )
    if note is not None and isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
    await callback.answer(note, show_alert=note is not None)


def payments_router() -> Router:
    router = Router(name="payments")
    router.callback_query.register(on_pay_button, PayBooking.filter())
    router.pre_checkout_query.register(on_pre_checkout)
    router.message.register(on_successful_payment, F.successful_payment)
    return router


# --- in the dialogs: the booking's payment line and its Pay button ---------------------------


async def payment_state(deps: Deps, fmt: Formatter, client_id: int, booking_id: int) -> dict:
    """Getter data for a booking's payment: ``to_pay`` (formatted, "" when nothing is due),
    ``paid`` (paid in full), ``can_pay`` (a Pay button makes sense)."""
    async with deps.db() as db:
        due = await booking_due(db, client_id, booking_id)
    if due is None:
        return {"to_pay": "", "paid": False, "can_pay": False, "hold": ""}
    hold = deps.settings.policy.payment_hold_minutes
    return {
        "to_pay": fmt.money(due.due.minor) if due.due.minor else "",
        "paid": due.paid_in_full,
        "can_pay": due.due.minor > 0 and deps.settings.online_payment is not None,
        "hold": fmt.duration(hold) if hold and due.due.minor else "",
    }


async def on_pay(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    note = await request_payment(
        manager.middleware_data["bot"],
        deps_of(manager),
        i18n_of(manager),
        client_id=client_of(manager).id,
        booking_id=manager.dialog_data["booking_id"],
    )
    manager.dialog_data["pay_note"] = note or _("The invoice is below: tap Pay on it.")


def payment_widgets() -> list:
    """What a booking's window shows of its payment (its getter merges payment_state)."""
    return [
        T("💳 To pay: {to_pay}", when="to_pay"),
        T("Pay within {hold} of booking to keep your place.", when="hold"),
        T("✅ Paid", when="paid"),
        Format("{dialog_data[pay_note]}", when=lambda d, *_: d["dialog_data"].get("pay_note")),
        Button(T("💳 Pay {to_pay}"), id="pay", on_click=on_pay, when="can_pay"),
    ]
