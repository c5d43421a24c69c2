"""Entry passes in the bot: offered on a pay-as-you-go programme's card, bought with an
invoice (Telegram Payments), shown with their entries left there and in My account."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram_dialog.widgets.text import Format

from bot.deps import Deps
from bot.dialogs.common import choice_list
from bot.dialogs.payments.invoices import buy_from_offer, on_buy
from bot.text import purchases
from bot.text.formatting import html
from bot.text.reader import Formatter
from domain.billing import passes
from domain.billing.payments import OfferTerms, buy_pass
from domain.clients.record import ClientRef
from domain.storage.db import UnitOfWork

PASS_OFFERS = "po"


def offer_label(fmt: Formatter, entries: int, price_minor: int) -> str:
    return _("🎟 Buy a {entries}-entry pass — {price}").format(
        entries=entries, price=fmt.money(price_minor)
    )


def pass_line(fmt: Formatter, view: passes.PassView) -> str:
    return ngettext(
        "🎟 Your pass: {left} entry left, valid until {until}",
        "🎟 Your pass: {left} entries left, valid until {until}",
        view.left,
    ).format(left=view.left, until=fmt.day(view.expires_on))


async def pass_data(
    db: UnitOfWork, deps: Deps, fmt: Formatter, client_id: int, programme_id: int | None
) -> dict[str, Any]:
    """Getter data for a programme's passes: ``pass_offers`` to buy (online payment only),
    ``my_passes`` (the client's valid passes here, one line each); read in the getter's
    session ``db``."""
    if programme_id is None:
        return {"pass_offers": [], "my_passes": ""}
    today = deps.settings.policy.today(deps.clock())
    on_sale = await passes.offers(db, programme_id)
    mine = await passes.passes_of(db, client_id, today=today, programme_id=programme_id)
    payable = deps.settings.online_payment is not None
    return {
        "pass_offers": [
            (o.id, offer_label(fmt, o.entries, o.price_minor)) for o in on_sale if payable
        ],
        "my_passes": "\n".join(pass_line(fmt, view) for view in mine),
    }


def pass_widgets() -> list:
    """What a programme's card shows of its passes (its getter merges pass_data)."""
    return [
        Format("{my_passes}", when="my_passes"),
        Format("{dialog_data[pass_note]}", when=lambda d, *_: d["dialog_data"].get("pass_note")),
        choice_list(PASS_OFFERS, "pass_offers", on_buy_pass),
    ]


async def request_pass_payment(
    bot: Bot, deps: Deps, fmt: Formatter, *, client: ClientRef, offer_id: int
) -> str | None:
    """Send the invoice for a pass; a line to show instead when it can't be bought here, or
    when the client's credit bought it."""

    def describe(offer: OfferTerms) -> str:
        return ngettext(
            "An entry pass: {entries} session, valid for {days} days from today.",
            "An entry pass: {entries} sessions, valid for {days} days from today.",
            offer.entries,
        ).format(entries=offer.entries, days=offer.valid_days)

    return await buy_from_offer(
        bot,
        deps,
        client=client,
        offer_id=offer_id,
        buy=buy_pass,
        describe=describe,
        bought_line=lambda item: bought_text(deps, fmt, item),
        sold_at_studio=_("Passes are sold at the studio."),
    )


on_buy_pass = on_buy(request_pass_payment, "pass_note")


async def bought_text(deps: Deps, fmt: Formatter, item: str) -> str | None:
    """The line after a pass's payment: its entries and last day; None if no pass came of it."""
    async with deps.db() as db:
        return await purchases.pass_bought(db, fmt, item)


async def account_lines(deps: Deps, fmt: Formatter, client_id: int) -> str:
    """My account: each valid pass with its entries left."""
    today = deps.settings.policy.today(deps.clock())
    async with deps.db() as db:
        mine = await passes.passes_of(db, client_id, today=today)
    return "\n".join(
        _("{line} ({title})").format(line=pass_line(fmt, view), title=html(view.title))
        for view in mine
    )
