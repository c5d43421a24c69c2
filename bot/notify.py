"""Telling clients what happened without them asking: a freed place, an offer, a lapsed offer,
a confirmed enrolment.

Sent right after the use case commits. (A crash between the two loses the message; the
notification outbox of the reminders work makes this durable.)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from aiogram import Bot
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.deps import Deps, Formatter, html
from bot.sender import Reachability, Sender
from domain.events import (
    EnrolledFromWaitlist,
    EnrolmentConfirmed,
    Event,
    OfferLapsed,
    Promoted,
    SpotOffered,
)
from domain.storage import queries
from domain.storage.models import Client


class OfferAnswer(CallbackData, prefix="offer"):
    action: str  # "take" or "skip"
    entry_id: int


async def announce(bot: Bot, deps: Deps, i18n: I18n, events: Iterable[Event]) -> None:
    """Through the bot's Sender (rate limits, 429/5xx retries, blocked clients); it logs and
    skips what cannot be sent, so one unreachable client never stops the rest."""
    sender = deps.sender
    if sender is None:  # Deps built by hand (tests): a Sender for this batch only
        sender = Sender.from_settings(bot, deps.settings, Reachability(deps.db, now=deps.clock))
    for event in events:
        await _send(sender, deps, i18n, event)


async def _send(sender: Sender, deps: Deps, i18n: I18n, event: Event) -> None:
    async with deps.db() as db:
        client = await db.get(Client, event.client_id)
        subject = await _subject(db, deps, event)
    if subject is None:  # removed meanwhile: nothing left to say
        return
    title, starts_at = subject
    locale = _locale_for(client, i18n)
    fmt = Formatter(deps.settings, locale)
    markup = None
    with i18n.context(), i18n.use_locale(locale):
        text = _text(event)
        if isinstance(event, SpotOffered):
            markup = _offer_buttons(event.entry_id)
        text = text.format(
            title=html(title),
            when=fmt.long_when(starts_at) if starts_at else "",
            until=fmt.time(event.expires_at) if isinstance(event, SpotOffered) else "",
        )
    await sender.send_message(event.client_id, text, reply_markup=markup)


def _text(event: Event) -> str:
    """The message, still with its {title}, {when} and {until} to fill in."""
    if isinstance(event, Promoted):
        text = _(
            "🎉 A place freed up and it is yours: you are booked for <b>{title}</b> on {when}."
        )
        if event.enrolment_pending:
            text += "\n" + _("The studio will confirm your enrolment in this programme.")
        return text
    if isinstance(event, EnrolledFromWaitlist) and event.pending:
        return _(
            "🎉 A place freed up and it is yours: your places in <b>{title}</b>, starting {when}, "
            "are held while the studio confirms your enrolment. I'll let you know."
        )
    if isinstance(event, EnrolledFromWaitlist):
        return _(
            "🎉 A place freed up and it is yours: you are enrolled in <b>{title}</b>, "
            "starting {when}."
        )
    if isinstance(event, SpotOffered):
        return _(
            "🎟 A place freed up in <b>{title}</b> on {when}. It is held for you until {until}: "
            "take it or let the next person have it."
        )
    if isinstance(event, EnrolmentConfirmed):
        return _("✅ The studio confirmed your enrolment in <b>{title}</b>. See you there!")
    return _(
        "⌛ The place held for you in <b>{title}</b> on {when} has passed to the next "
        "person on the waiting list."
    )


async def _subject(db, deps: Deps, event: Event) -> tuple[str, datetime | None] | None:
    """What the event is about, as a title and the (first) session's start."""
    if isinstance(event, EnrolmentConfirmed):
        title = await queries.enrolment_title(db, event.enrolment_id)
        return (title, None) if title else None
    if isinstance(event, Promoted):
        card = await queries.booking_card(db, event.booking_id, event.client_id)
        return (f"{card.programme_title} — {card.class_title}", card.starts_at) if card else None
    if getattr(event, "session_id", None) is not None:
        card = await queries.session_card(db, event.session_id, event.client_id)
        return (f"{card.programme_title} — {card.class_title}", card.starts_at) if card else None
    card = await queries.class_card(db, event.class_id, event.client_id, deps.clock())
    if card is None or card.first_start is None:
        return None
    return f"{card.programme_title} — {card.title}", card.first_start


def _offer_buttons(entry_id: int) -> InlineKeyboardMarkup:
    take = OfferAnswer(action="take", entry_id=entry_id).pack()
    skip = OfferAnswer(action="skip", entry_id=entry_id).pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=_("✅ Take it"), callback_data=take),
                InlineKeyboardButton(text=_("Skip"), callback_data=skip),
            ]
        ]
    )


def _locale_for(client: Client | None, i18n: I18n) -> str:
    """The client's own language when we have it, else the business default."""
    language = (client.language_code or "").split("-")[0] if client else ""
    return language if language in i18n.available_locales else i18n.default_locale


__all__ = ["OfferAnswer", "OfferLapsed", "announce"]
