"""The Take / Skip buttons under a waiting-list offer (a message sent outside any dialog)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.delivery.courier import send_due
from bot.delivery.notify import OfferAnswer
from bot.deps import Deps
from bot.text.errors import message_for
from bot.text.formatting import html
from bot.text.reader import Formatter
from domain.booking.bookings import take_offer
from domain.booking.ongoing import Enrolled
from domain.booking.waitlist import leave_waitlist
from domain.clients.record import ClientRef
from domain.errors import DomainError


async def on_offer_answer(
    callback: CallbackQuery,
    callback_data: OfferAnswer,
    deps: Deps,
    i18n: I18n,
    bot: Bot,
) -> None:
    user = callback.from_user
    now = deps.clock()
    try:
        async with deps.db() as db:
            if callback_data.action == "take":
                result = await take_offer(
                    db,
                    client=ClientRef(user.id, user.first_name, user.language_code),
                    entry_id=callback_data.entry_id,
                    now=now,
                    policy=deps.settings.policy,
                )
            else:
                await leave_waitlist(
                    db,
                    client_id=user.id,
                    entry_id=callback_data.entry_id,
                    now=now,
                    policy=deps.settings.policy,
                )
    except DomainError as error:
        await callback.answer(message_for(error.code, _, error.params), show_alert=True)
        await _close(callback, None)
        return
    if callback_data.action == "take" and isinstance(result, Enrolled) and result.pending:
        text = _(
            "✅ Done: your places are held, starting {when}; the studio will confirm your "
            "enrolment."
        ).format(when=Formatter(deps.settings, i18n.current_locale).long_when(result.sessions[0]))
    elif callback_data.action == "take" and isinstance(result, Enrolled):
        text = _("✅ Done: you are enrolled, starting {when}.").format(
            when=Formatter(deps.settings, i18n.current_locale).long_when(result.sessions[0])
        )
    elif callback_data.action == "take":
        card = result.card
        text = _("✅ Done: you are booked for <b>{title}</b> on {when}.").format(
            title=html(f"{card.programme_title} — {card.class_title}"),
            when=Formatter(deps.settings, i18n.current_locale).long_when(card.starts_at),
        )
    else:
        text = _("OK, the place goes to the next person on the waiting list.")
    await _close(callback, text)
    await callback.answer()
    await send_due(bot, deps, i18n)


async def _close(callback: CallbackQuery, text: str | None) -> None:
    """Replace the offer's text (or just drop its buttons), so it can't be answered twice."""
    if not isinstance(callback.message, Message):
        return
    if text is None:
        await callback.message.edit_reply_markup(reply_markup=None)
    else:
        await callback.message.edit_text(text)


def offers_router() -> Router:
    router = Router(name="offers")
    router.callback_query.register(
        on_offer_answer, OfferAnswer.filter(F.action.in_({"take", "skip"}))
    )
    return router
