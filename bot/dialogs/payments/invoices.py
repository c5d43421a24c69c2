"""sendInvoice the one way: Stars (CURRENCY=XTR) or the card provider (PAYMENT_PROVIDER_TOKEN),
title and description cut to Telegram's limits; and buying from an offer (a pass, a course)
with it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.types import CallbackQuery, LabeledPrice
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager

from bot.deps import Deps, client_of, deps_of, formatter_of
from bot.dialogs.common import item_id, show_error
from bot.text.errors import message_for
from domain.billing.payments import InvoiceFor
from domain.clients.record import ClientRef
from domain.errors import DomainError

TITLE_MAX, DESCRIPTION_MAX = 32, 255  # Telegram's limits for an invoice


async def send_invoice(
    bot: Bot, deps: Deps, client_id: int, invoice: InvoiceFor, *, title: str, description: str
) -> None:
    token = deps.settings.payment_provider_token
    card = deps.settings.online_payment == "card" and token is not None
    await bot.send_invoice(
        chat_id=client_id,
        title=_clip(title, TITLE_MAX),
        description=_clip(description, DESCRIPTION_MAX),
        payload=invoice.payload(),
        currency=invoice.currency,
        prices=[LabeledPrice(label=_clip(title, TITLE_MAX), amount=invoice.amount_minor)],
        provider_token=token.get_secret_value() if card else None,
    )


async def buy_from_offer(
    bot: Bot,
    deps: Deps,
    *,
    client: ClientRef,
    offer_id: int,
    buy: Callable[..., Awaitable[tuple]],
    describe: Callable[[Any], str],
    bought_line: Callable[[str], Awaitable[str | None]],
    sold_at_studio: str,
) -> str | None:
    """Send the invoice for an offer (``buy`` is domain.billing.payments.buy_pass or buy_course;
    ``describe`` makes the invoice's description of the offer); a line to show instead when it
    can't be bought here, or when the client's credit bought it (``bought_line`` of the item
    says what they have now)."""
    if deps.settings.online_payment is None:
        return sold_at_studio
    try:
        async with deps.db() as db:
            offer, item, invoice = await buy(
                db, client=client, offer_id=offer_id, policy=deps.settings.policy, now=deps.clock()
            )
            title, description = offer.title, describe(offer)
    except DomainError as error:
        return message_for(error.code, _, error.params)
    if invoice is None:
        bought = await bought_line(item)
        return _("✅ Paid from your credit.") + (f"\n{bought}" if bought else "")
    await send_invoice(bot, deps, client.id, invoice, title=title, description=description)
    return None


def on_invoice_choice(
    request: Callable[[DialogManager, int], Awaitable[str | None]], note_key: str
):
    """The click on a button of a list of things to pay (offers, fees): ``request(manager,
    id)`` sends the invoice for the one chosen and returns what to say instead, if anything;
    that, or where the invoice is, is kept in ``dialog_data[note_key]`` for the window."""

    async def clicked(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
        chosen = item_id(raw_id)
        if chosen is None:
            show_error(manager, "stale_button")
            return
        note = await request(manager, chosen)
        manager.dialog_data[note_key] = note or _("The invoice is below: tap Pay on it.")

    return clicked


def on_buy(request: Callable[..., Awaitable[str | None]], note_key: str):
    """The click on an offer's button: ``request`` (bot, deps, fmt, *, client, offer_id) sends
    its invoice (see on_invoice_choice)."""

    async def buy(manager: DialogManager, offer_id: int) -> str | None:
        return await request(
            manager.middleware_data["bot"],
            deps_of(manager),
            formatter_of(manager),
            client=client_of(manager),
            offer_id=offer_id,
        )

    return on_invoice_choice(buy, note_key)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
