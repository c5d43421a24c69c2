"""sendInvoice the one way: Stars (CURRENCY=XTR) or the card provider (PAYMENT_PROVIDER_TOKEN),
title and description cut to Telegram's limits."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import LabeledPrice

from bot.deps import Deps
from domain.payments import InvoiceFor

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


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
