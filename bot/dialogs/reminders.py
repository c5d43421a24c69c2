"""The Coming / Can't come buttons under a reminder (a message sent outside any dialog).

"Can't come" asks once more before cancelling: the cancel goes through the same use case as
My bookings (make-up credit when in time, the place to the waiting list, staff told when
close). Buttons of another client's booking, a stale or forged booking id, a booking already
cancelled or a session already begun get a clear answer and change nothing.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.delivery.courier import send_due
from bot.delivery.notify import ReminderAnswer, Rendered, reminder_message
from bot.deps import Deps
from bot.text.errors import message_for
from bot.text.formatting import html
from bot.text.reader import Formatter
from domain.booking import client_views
from domain.booking.bookings import cancel_booking
from domain.errors import BookingAlreadyCancelled, BookingNotFound, DomainError
from domain.notices.reminders import confirm_attendance

ACTIONS = {"coming", "cant", "cancel", "keep"}


async def on_reminder_answer(
    callback: CallbackQuery,
    callback_data: ReminderAnswer,
    deps: Deps,
    i18n: I18n,
    bot: Bot,
) -> None:
    user_id = callback.from_user.id
    booking_id = callback_data.booking_id
    action = callback_data.action
    fmt = Formatter(deps.settings, i18n.current_locale)
    now = deps.clock()
    try:
        async with deps.db() as db:
            card = await client_views.booking_card(db, booking_id, user_id)
            if card is None:
                raise BookingNotFound()
            if not card.is_active:
                raise BookingAlreadyCancelled()
            if action == "keep":
                answer = reminder_message(card, deps, fmt)
            elif action == "coming":
                await confirm_attendance(db, client_id=user_id, booking_id=booking_id, now=now)
                answer = Rendered(_("✅ Thanks! See you at <b>{title}</b> on {when}."))
            elif action == "cant":
                answer = Rendered(
                    _("Cancel your booking for <b>{title}</b> on {when}?"),
                    _confirm_buttons(booking_id),
                )
            else:
                cancelled = await cancel_booking(
                    db,
                    client_id=user_id,
                    booking_id=booking_id,
                    now=now,
                    policy=deps.settings.policy,
                )
                text = _("Your booking for <b>{title}</b> on {when} is cancelled.")
                if cancelled.makeup:
                    text += "\n" + _(
                        "🔁 You get a make-up credit: book another session of this programme "
                        "with it."
                    )
                answer = Rendered(text)
    except DomainError as error:
        await callback.answer(message_for(error.code, _, error.params), show_alert=True)
        if isinstance(callback.message, Message):
            await callback.message.edit_reply_markup(reply_markup=None)
        return
    if action != "keep":  # the reminder's own text is filled in already
        title = html(f"{card.programme_title} — {card.class_title}")
        answer = Rendered(
            answer.text.format(title=title, when=fmt.long_when(card.starts_at)), answer.markup
        )
    if isinstance(callback.message, Message):
        await callback.message.edit_text(answer.text, reply_markup=answer.markup)
    await callback.answer()
    if action == "cancel":  # the place's next owner, and staff when it is close
        await send_due(bot, deps, i18n)


def _confirm_buttons(booking_id: int) -> InlineKeyboardMarkup:
    cancel = ReminderAnswer(action="cancel", booking_id=booking_id).pack()
    keep = ReminderAnswer(action="keep", booking_id=booking_id).pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=_("Yes, cancel it"), callback_data=cancel),
                InlineKeyboardButton(text=_("No, keep it"), callback_data=keep),
            ]
        ]
    )


def reminders_router() -> Router:
    router = Router(name="reminders")
    router.callback_query.register(on_reminder_answer, ReminderAnswer.filter(F.action.in_(ACTIONS)))
    return router
