"""What each message sent unasked says: notices of a freed place, offers, lapsed offers,
confirmed enrolments, reminders before a session, released bookings, and staff notices of
late cancellations. The dispatcher (bot/delivery/courier.py) renders outbox rows with :func:`render`
in the recipient's language and the business's time zone, a batch at a time just before
sending it: domain.notices.batch.preload reads the batch's recipients and bookings in two
queries, and render then finds them in the unit of work instead of reading each on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.delivery import undersubscribed
from bot.deps import Deps
from bot.text import purchases
from bot.text.formatting import html
from bot.text.i18n import available_locale, zone_named
from bot.text.reader import Formatter
from domain.billing import fees, payments
from domain.billing.fees import FeeItem
from domain.booking import client_views
from domain.desk import staff_views
from domain.notices import batch
from domain.notices import rules as reminder_rules
from domain.notices.events import (
    BookingMoved,
    BookingReleased,
    EnrolledFromWaitlist,
    EnrolmentConfirmed,
    Event,
    FeeNudge,
    LateCancellation,
    MoneyReturned,
    OfferLapsed,
    PackageChanged,
    PaymentNudge,
    PaymentReceived,
    Promoted,
    QuietRefundRefused,
    RefundRefusedForStaff,
    ReservationRequest,
    SessionReminder,
    SpotOffered,
    StaffCancelled,
    TakenOffClass,
    UndersubscribedCancelled,
)
from domain.storage.db import UnitOfWork
from domain.timetable import sessions


class OfferAnswer(CallbackData, prefix="offer"):
    action: str  # "take" or "skip"
    entry_id: int


class PayBooking(CallbackData, prefix="pay"):
    booking_id: int


class ReservationAnswer(CallbackData, prefix="resv"):
    action: str  # "yes" or "no"
    booking_id: int


class ReservationPick(CallbackData, prefix="resvp"):
    """Confirm a reservation by picking one of its session type's packages."""

    booking_id: int
    package: str  # the option's key (≤ 40 characters: the callback stays within 64 bytes)


def reservation_buttons(
    booking_id: int,
    pay_label: str | None,
    picks: Sequence[tuple[str, str]] = (),
) -> InlineKeyboardMarkup:
    """Confirm / Decline a reservation (bot/commands/sessions.py answers them), and Pay. With
    ``picks`` (key, label) the client confirms by picking a package instead."""
    decline = InlineKeyboardButton(
        text=_("✖️ Decline"),
        callback_data=ReservationAnswer(action="no", booking_id=booking_id).pack(),
    )
    if picks:
        rows = [
            [
                InlineKeyboardButton(
                    text=label,
                    callback_data=ReservationPick(booking_id=booking_id, package=key).pack(),
                )
            ]
            for key, label in picks
        ]
        return InlineKeyboardMarkup(inline_keyboard=[*rows, [decline]])
    rows = [
        [
            InlineKeyboardButton(
                text=_("✅ Confirm"),
                callback_data=ReservationAnswer(action="yes", booking_id=booking_id).pack(),
            ),
            decline,
        ]
    ]
    if pay_label:
        rows += pay_button(booking_id, pay_label).inline_keyboard
    return InlineKeyboardMarkup(inline_keyboard=rows)


class PayFee(CallbackData, prefix="payfee"):
    fee_id: int  # the ledger line that charged it


class BookAgain(CallbackData, prefix="again"):
    """🔁 Book another time, under the notice of a cancelled session: its class's sessions."""

    session_id: int  # the cancelled session


class ReminderAnswer(CallbackData, prefix="rem"):
    action: str  # "coming", "cant" (asks to confirm), "cancel" (confirmed), "keep"
    booking_id: int


@dataclass(frozen=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None


async def render(db: UnitOfWork, deps: Deps, i18n: I18n, event: Event) -> Rendered | None:
    """The message for ``event``, or None when there is nothing left to say (the booking or
    session it was about is gone, or the session has started)."""
    recipient = await batch.recipient(db, event.recipient)
    locale = _locale_for(recipient, i18n)
    # the recipient's own time zone, if they set one (else the business's)
    fmt = Formatter(deps.settings, locale, zone_named(recipient.time_zone if recipient else None))
    with i18n.context(), i18n.use_locale(locale):
        if isinstance(event, LateCancellation):
            return await _late_cancellation(db, fmt, event)
        if isinstance(event, UndersubscribedCancelled):
            return Rendered(await undersubscribed.summary_text(db, fmt, event))
        if isinstance(event, SessionReminder | BookingReleased):
            return await _about_booking(db, deps, fmt, event)
        if isinstance(event, PaymentNudge):
            return await _payment_nudge(db, deps, fmt, event)
        if isinstance(event, FeeNudge):
            return await _fee_nudge(db, deps, fmt, event)
        if isinstance(event, ReservationRequest):
            return await _reservation(db, deps, fmt, event)
        if isinstance(event, PackageChanged):
            return await _package_changed(db, fmt, event)
        if isinstance(event, BookingMoved):
            return await _booking_moved(db, fmt, event)
        if isinstance(event, MoneyReturned):
            return await _money_returned(db, fmt, event)
        if isinstance(event, PaymentReceived):
            return await _payment_received(db, deps, fmt, event)
        if isinstance(event, StaffCancelled):
            return await _staff_cancelled(db, fmt, event)
        if isinstance(event, TakenOffClass):
            return await _taken_off_class(db, fmt, event)
        if isinstance(event, QuietRefundRefused):
            return await _quiet_refund_refused(db, fmt, event)
        if isinstance(event, RefundRefusedForStaff):
            return await _refund_refused_for_staff(db, fmt, event)
        subject = await _subject(db, deps, event)
        if subject is None:  # removed meanwhile: nothing left to say
            return None
        title, starts_at = subject
        text = _text(event).format(
            title=html(title),
            when=fmt.long_when(starts_at) if starts_at else "",
            until=fmt.time(event.expires_at) if isinstance(event, SpotOffered) else "",
        )
        markup = _offer_buttons(event.entry_id) if isinstance(event, SpotOffered) else None
        return Rendered(text, markup)


async def _about_booking(
    db: UnitOfWork, deps: Deps, fmt: Formatter, event: SessionReminder | BookingReleased
) -> Rendered | None:
    card = await batch.booking_card(db, event.booking_id, event.client_id)
    if card is None:
        return None
    if isinstance(event, BookingReleased) and event.reservation:
        text = _(
            "⌛ The spot reserved for you, <b>{title}</b> on {when}, was not confirmed in time, "
            "so it is free again. Book it yourself if you can still come."
        )
        title = html(f"{card.programme_title} — {card.class_title}")
        return Rendered(text.format(title=title, when=fmt.long_when(card.starts_at)))
    if isinstance(event, BookingReleased) and event.unpaid:
        text = _(
            "⌛ <b>{title}</b> on {when} was not paid in time, so your place was given to "
            "someone else. Book again if you can still come."
        )
        title = html(f"{card.programme_title} — {card.class_title}")
        return Rendered(text.format(title=title, when=fmt.long_when(card.starts_at)))
    if isinstance(event, BookingReleased):
        text = _(
            "⌛ You did not confirm <b>{title}</b> on {when}, so your place was given to "
            "someone else. Book again if you can still come."
        )
        title = html(f"{card.programme_title} — {card.class_title}")
        return Rendered(text.format(title=title, when=fmt.long_when(card.starts_at)))
    if not card.is_active or card.starts_at != event.starts_at or card.starts_at <= deps.clock():
        return None  # cancelled, moved (its new time has its own reminders) or begun
    return reminder_message(card, deps, fmt)


async def _payment_nudge(
    db: UnitOfWork, deps: Deps, fmt: Formatter, event: PaymentNudge
) -> Rendered | None:
    card = await batch.booking_card(db, event.booking_id, event.client_id)
    if card is None or not card.is_active or card.starts_at <= deps.clock():
        return None
    due = await payments.booking_due(db, event.client_id, event.booking_id)
    if due is None or due.due.minor == 0:  # paid meanwhile: the nudges stop
        return None
    amount = fmt.money(due.due.minor)
    text = _("💳 {amount} is still to pay for <b>{title}</b> on {when}.").format(
        amount=amount,
        title=html(f"{card.programme_title} — {card.class_title}"),
        when=fmt.long_when(card.starts_at),
    )
    pay = PayBooking(booking_id=event.booking_id).pack()
    button = InlineKeyboardButton(
        text=_("💳 Pay {amount}").format(amount=amount), callback_data=pay
    )
    return Rendered(text, InlineKeyboardMarkup(inline_keyboard=[[button]]))


async def _reservation(
    db: UnitOfWork, deps: Deps, fmt: Formatter, event: ReservationRequest
) -> Rendered | None:
    """Staff reserved a spot for the client: Confirm / Decline, and Pay when a price is due."""
    card = await batch.booking_card(db, event.booking_id, event.client_id)
    if card is None or not card.is_active or card.starts_at <= deps.clock():
        return None
    if card.starts_at != event.starts_at:
        return None  # moved since: the client is asked about the new time instead
    if not await batch.awaits_answer(db, event.booking_id):
        return None  # answered meanwhile
    text = _(
        "📸 The studio reserved <b>{title}</b> for you on {when}. Please confirm by {until}, "
        "or the spot is given back."
    ).format(
        title=html(f"{card.programme_title} — {card.class_title}"),
        when=fmt.long_when(card.starts_at),
        until=fmt.long_when(event.hold_until),
    )
    terms = await sessions.package_terms(db, card.session_id)
    if terms.agreed is not None:
        text += "\n" + package_line(fmt, terms.agreed)
    picks: list[tuple[str, str]] = []
    if terms.to_pick:
        text += "\n" + _("Pick your package to confirm:")
        text += "".join("\n" + package_line(fmt, option) for option in terms.options)
        picks = [(o.key, package_label(fmt, o)) for o in terms.options]
    due_text, pay = await still_due(db, deps, fmt, event.client_id, event.booking_id)
    return Rendered(text + due_text, reservation_buttons(event.booking_id, pay, picks))


async def still_due(
    db: UnitOfWork, deps: Deps, fmt: Formatter, client_id: int, booking_id: int
) -> tuple[str, str | None]:
    """A line "💳 To pay: …" for what the booking still owes (or ""), and the Pay button's
    label when the client can pay in the bot."""
    due = await payments.booking_due(db, client_id, booking_id)
    if due is None or due.due.minor <= 0:
        return "", None
    amount = fmt.money(due.due.minor)
    online = deps.settings.online_payment is not None
    pay = _("💳 Pay {amount}").format(amount=amount) if online else None
    return "\n" + _("💳 To pay: {amount}").format(amount=amount), pay


def pay_button(booking_id: int, label: str) -> InlineKeyboardMarkup:
    pay = InlineKeyboardButton(text=label, callback_data=PayBooking(booking_id=booking_id).pack())
    return InlineKeyboardMarkup(inline_keyboard=[[pay]])


def package_label(fmt: Formatter, option: sessions.PackageOption) -> str:
    """A package option's button: "📦 Full day — €1,500.00"."""
    price = fmt.money(option.price_minor) if option.price_minor else _("free")
    return _("📦 {name} — {price}").format(name=option.name, price=price)


def package_line(fmt: Formatter, option: sessions.PackageOption) -> str:
    line = "<b>" + html(package_label(fmt, option)) + "</b>"
    return line + (": " + html(option.description) if option.description else "")


async def _package_changed(
    db: UnitOfWork, fmt: Formatter, event: PackageChanged
) -> Rendered | None:
    card = await batch.booking_card(db, event.booking_id, event.client_id)
    if card is None:
        return None
    title = html(f"{card.programme_title} — {card.class_title}")
    if event.change == "moved":
        text = _(
            "🔁 The studio moved a session of your package <b>{title}</b> to {when}. "
            "Open it in My bookings for its calendar file."
        )
    else:
        text = _("❌ The studio cancelled the session of your package <b>{title}</b> on {when}.")
    return Rendered(text.format(title=title, when=fmt.long_when(card.starts_at)))


async def _booking_moved(db: UnitOfWork, fmt: Formatter, event: BookingMoved) -> Rendered | None:
    card = await batch.booking_card(db, event.booking_id, event.client_id)
    if card is None or not card.is_active:  # cancelled since: nothing left to say
        return None
    text = _(
        "🔁 The studio moved your booking <b>{title}</b> to {when}. What paid for it still "
        "does; open it in My bookings for its calendar file."
    )
    title = html(f"{card.programme_title} — {card.class_title}")
    return Rendered(text.format(title=title, when=fmt.long_when(card.starts_at)))


def fee_label(fmt: Formatter, item: FeeItem, programme_title: str) -> str:
    """ "Yoga: fee for November 2026", or for a scheduled fee "Yoga: fee due Sep 1, 2026"."""
    if item.month is not None:
        return _("{title}: fee for {month}").format(
            title=programme_title, month=fmt.month(*item.month)
        )
    return _("{title}: fee due {day}").format(title=programme_title, day=fmt.day(item.day))


async def _fee_nudge(
    db: UnitOfWork, deps: Deps, fmt: Formatter, event: FeeNudge
) -> Rendered | None:
    due = next(
        (f for f in await fees.fees_due(db, event.client_id) if f.fee_id == event.fee_id), None
    )
    if due is None:  # paid or waived meanwhile: the nudges stop
        return None
    amount = fmt.money(due.due.minor)
    text = _("💳 {amount} is due: <b>{fee}</b>.").format(
        amount=amount, fee=html(fee_label(fmt, due.item, due.programme_title))
    )
    if deps.settings.online_payment is None:
        return Rendered(text + "\n" + _("Please pay it at the studio."))
    button = InlineKeyboardButton(
        text=_("💳 Pay {amount}").format(amount=amount),
        callback_data=PayFee(fee_id=event.fee_id).pack(),
    )
    return Rendered(text, InlineKeyboardMarkup(inline_keyboard=[[button]]))


async def _money_returned(db: UnitOfWork, fmt: Formatter, event: MoneyReturned) -> Rendered:
    card = await batch.booking_card(db, event.booking_id, event.client_id)
    title = html(f"{card.programme_title} — {card.class_title}") if card else ""
    text = _("↩️ The studio refunded {amount} for <b>{title}</b>.").format(
        amount=fmt.money(event.amount_minor), title=title
    )
    if event.credit_minor:
        line = _("{credit} of it is credit on your balance: it pays your next booking.")
        text += "\n" + line.format(credit=fmt.money(event.credit_minor))
    return Rendered(text)


async def _staff_cancelled(db: UnitOfWork, fmt: Formatter, event: StaffCancelled) -> Rendered:
    """One notice per cancelled booking: what was cancelled, why, what came back, and a button
    to the class's other sessions."""
    card = await batch.booking_card(db, event.booking_id, event.client_id)
    title = html(f"{card.programme_title} — {card.class_title}") if card else ""
    when = fmt.long_when(card.starts_at) if card else ""
    if event.automatic:
        head = _("❌ <b>{title}</b> on {when} is cancelled: too few people signed up for it.")
    elif event.whole_session:
        head = _("❌ The studio cancelled <b>{title}</b> on {when}.")
    else:
        head = _("❌ The studio cancelled your booking of <b>{title}</b> on {when}.")
    lines = [head.format(title=title, when=when)]
    if event.reason:
        lines.append(_("Reason: {reason}").format(reason=html(event.reason)))
    lines += _money_back(fmt, event)
    returned = {
        "entry": _("Your pass entry is back."),
        "unit": _("Your course unit is free again."),
        "makeup": _("Your make-up credit is back."),
    }.get(event.returned)
    if returned:
        lines.append(returned)
    if event.makeup:
        lines.append(_("You have a make-up credit: use it for another session of the class."))
    button = InlineKeyboardButton(
        text=_("🔁 Book another time"),
        callback_data=BookAgain(session_id=event.session_id).pack(),
    )
    return Rendered("\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[[button]]))


def _money_back(fmt: Formatter, event: StaffCancelled | TakenOffClass) -> list[str]:
    """What money came back: through Telegram, as credit, by the studio (card or cash)."""
    money_lines = (
        (event.stars_minor, _("{amount} goes back to you through Telegram.")),
        (event.credit_minor, _("{amount} is credit on your balance: it pays your next booking.")),
        (event.other_minor, _("{amount} will be paid back to you by the studio.")),
    )
    return [line.format(amount=fmt.money(amount)) for amount, line in money_lines if amount]


# a client taken off a class with more sessions ahead than this is told how many, not when
MOST_LISTED = 10


async def _taken_off_class(db: UnitOfWork, fmt: Formatter, event: TakenOffClass) -> Rendered | None:
    """One notice for a client taken off a class: the class, the sessions cancelled (their
    times, or how many when there are many), why, and what came back in all."""
    about = await batch.taken_off(db, event.class_id, event.client_id, event.booking_ids)
    if about is None:
        return None
    title = html(f"{about.programme_title} — {about.class_title}")
    lines = [_("🚪 The studio took you off <b>{title}</b>.").format(title=title)]
    n = len(about.starts)
    if 0 < n <= MOST_LISTED:
        lines.append(ngettext("{n} session cancelled:", "{n} sessions cancelled:", n).format(n=n))
        lines += [f"• {fmt.short_when(start)}" for start in about.starts]
    elif n:
        lines.append(
            ngettext(
                "{n} session cancelled, from {first} to {last}.",
                "{n} sessions cancelled, from {first} to {last}.",
                n,
            ).format(
                n=n, first=fmt.short_when(about.starts[0]), last=fmt.short_when(about.starts[-1])
            )
        )
    if event.reason:
        lines.append(_("Reason: {reason}").format(reason=html(event.reason)))
    lines += _money_back(fmt, event)
    counts = (
        (
            event.entries,
            ngettext("{n} pass entry is back.", "{n} pass entries are back.", event.entries),
        ),
        (
            event.units,
            ngettext(
                "{n} course unit is free again.", "{n} course units are free again.", event.units
            ),
        ),
        (
            event.makeups_back,
            ngettext(
                "{n} make-up credit you had used is back.",
                "{n} make-up credits you had used are back.",
                event.makeups_back,
            ),
        ),
        (
            event.makeups,
            ngettext(
                "You have {n} make-up credit: use it for another session of the programme.",
                "You have {n} make-up credits: use them for other sessions of the programme.",
                event.makeups,
            ),
        ),
    )
    lines += [text.format(n=count) for count, text in counts if count]
    return Rendered("\n".join(lines))


async def _quiet_refund_refused(
    db: UnitOfWork, fmt: Formatter, event: QuietRefundRefused
) -> Rendered:
    """A Stars refund the client was told goes back through Telegram did not go through."""
    card = await batch.booking_card(db, event.booking_id, event.client_id)
    title = html(f"{card.programme_title} — {card.class_title}") if card else ""
    text = _(
        "⚠️ The refund of {amount} for <b>{title}</b> could not go through Telegram; the "
        "studio has been told and will sort it out."
    )
    return Rendered(text.format(amount=fmt.money(event.amount_minor), title=title))


async def _refund_refused_for_staff(
    db: UnitOfWork, fmt: Formatter, event: RefundRefusedForStaff
) -> Rendered:
    """Staff hear of a Stars refund Telegram refused after the client was told it goes back."""
    card = await batch.booking_card(db, event.booking_id, event.client_id)
    title = html(f"{card.programme_title} — {card.class_title}") if card else ""
    name = await batch.client_name(db, event.client_id)
    text = _(
        "⚠️ Telegram refused to refund {amount} to {name} (id {client}) for <b>{title}</b>: "
        "{why}. The client was told the studio will sort it out with them."
    )
    return Rendered(
        text.format(
            amount=fmt.money(event.amount_minor),
            name=html(name or "?"),
            client=event.client_id,
            title=title,
            why=html(event.why or "?"),
        )
    )


async def _payment_received(
    db: UnitOfWork, deps: Deps, fmt: Formatter, event: PaymentReceived
) -> Rendered:
    """The thanks for a payment, with what it bought (a pass, a course) when it bought one;
    a payment reconciliation found, not the bot when it was made, is thanked with an apology."""
    thanks = _("✅ Payment received: {amount}. Thank you!").format(
        amount=html(fmt.money(event.amount_minor))
    )
    today = deps.settings.policy.today(deps.clock())
    bought = await purchases.bought_text(db, fmt, event.item, today)
    lines = [thanks, *([bought] if bought else [])]
    if event.late:
        lines.append(_("Sorry for the delay: it is recorded now."))
    return Rendered("\n".join(lines))


def reminder_message(card: client_views.BookingCard, deps: Deps, fmt: Formatter) -> Rendered:
    """The reminder with its Coming / Can't come buttons (also shown again after "No, keep
    it"), in the current locale."""
    text = _("⏰ Reminder: <b>{title}</b> on {when}. Are you coming?").format(
        title=html(f"{card.programme_title} — {card.class_title}"),
        when=fmt.long_when(card.starts_at),
    )
    deadline = reminder_rules.release_deadline(
        card.starts_at, deps.settings.policy.release_unconfirmed_hours
    )
    if deadline is not None and deadline > deps.clock():
        text += "\n" + _("Please answer by {deadline}, or your place goes to someone else.").format(
            deadline=fmt.long_when(deadline)
        )
    return Rendered(text, reminder_buttons(card.id))


def reminder_buttons(booking_id: int) -> InlineKeyboardMarkup:
    coming = ReminderAnswer(action="coming", booking_id=booking_id).pack()
    cant = ReminderAnswer(action="cant", booking_id=booking_id).pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=_("✅ Coming"), callback_data=coming),
                InlineKeyboardButton(text=_("❌ Can't come"), callback_data=cant),
            ]
        ]
    )


async def _late_cancellation(
    db: UnitOfWork, fmt: Formatter, event: LateCancellation
) -> Rendered | None:
    line = await staff_views.cancelled_booking(db, event.booking_id)
    if line is None:
        return None
    text = _(
        "⚠️ {name} cancelled <b>{title}</b> on {when}. Now {booked} of {capacity} booked, "
        "{waiting} waiting."
    ).format(
        name=html(line.client_name or "?"),
        title=html(f"{line.programme_title} — {line.class_title}"),
        when=fmt.long_when(line.starts_at),
        booked=line.booked,
        capacity=line.capacity,
        waiting=line.waiting,
    )
    return Rendered(text)


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
    if isinstance(event, OfferLapsed):
        return _(
            "⌛ The place held for you in <b>{title}</b> on {when} has passed to the next "
            "person on the waiting list."
        )
    raise TypeError(f"no text for {type(event).__name__}")


async def _subject(db: UnitOfWork, deps: Deps, event: Event) -> tuple[str, datetime | None] | None:
    """What the event is about, as a title and the (first) session's start."""
    if isinstance(event, EnrolmentConfirmed):
        title = await client_views.enrolment_title(db, event.enrolment_id)
        return (title, None) if title else None
    if isinstance(event, Promoted):
        card = await batch.booking_card(db, event.booking_id, event.client_id)
        if card is None or not card.is_active:  # cancelled before we got to say it
            return None
        return f"{card.programme_title} — {card.class_title}", card.starts_at
    if getattr(event, "session_id", None) is not None:
        card = await client_views.session_card(db, event.session_id, event.client_id)
        return (f"{card.programme_title} — {card.class_title}", card.starts_at) if card else None
    card = await client_views.class_card(db, event.class_id, event.client_id, deps.clock())
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


def _locale_for(client: batch.Recipient | None, i18n: I18n) -> str:
    """The client's own language when we have it, else the business default."""
    return available_locale(i18n, client.language_code if client else None)
