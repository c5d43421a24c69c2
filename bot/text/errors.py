"""Domain error codes → messages people read. Every code a use case can raise has one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from bot.text.i18n import N_
from domain.billing.money import Money
from domain.errors import DomainError

if TYPE_CHECKING:
    from bot.text.reader import Formatter

MESSAGES: dict[str, str] = {
    "session_not_found": N_("This session is no longer available."),
    "session_full": N_("Sorry, this session is full."),
    "session_already_started": N_("This session has already started."),
    "session_cancelled": N_("This session was cancelled: it takes no bookings."),
    "already_booked": N_("You are already booked for this session."),
    "booking_not_found": N_("That booking doesn't exist or isn't yours."),
    "booking_already_cancelled": N_("This booking is already cancelled."),
    "stale_button": N_("That button is no longer valid. Please choose again."),
    "cancel_reason_too_long": N_("Type a reason of at most 300 characters, or tap No reason."),
    "programme_not_found": N_("This programme is no longer available."),
    "programme_not_open": N_("This programme is not open for enrolment at the moment."),
    "rank_too_low": N_(
        "This programme is for rank {programme_rank} and up; your rank is {client_rank}. "
        "Please ask the studio if you think you are ready."
    ),
    "rank_too_high": N_(
        "This programme is for rank {programme_rank}, well below your rank {client_rank}: "
        "please choose a more advanced one."
    ),
    "no_minimum": N_("This class has no minimum number of participants."),
    "minimum_reached": N_("This session has reached its minimum: it runs anyway."),
    "minimum_check_passed": N_(
        "This session's minimum has already been checked, so that can't be changed now."
    ),
    "already_kept_on": N_("This session is already kept on."),
    "not_kept_on": N_("This session is not kept on."),
    "needs_enrolment": N_("Sessions of this class are booked by enrolling in the whole class."),
    "already_enrolled": N_("You are already enrolled in this programme."),
    "not_enrolled": N_("You are not enrolled in this class."),
    "class_full": N_("Sorry, this class is full."),
    "no_waiting_list": N_("This session has no waiting list."),
    "already_waiting": N_("You are already on the waiting list for this session."),
    "has_room": N_("There is a free place: you can book it right away."),
    "offer_not_found": N_("This offer is no longer open."),
    "offer_expired": N_("Sorry, the time to take this place has run out."),
    "makeup_not_usable": N_("You have no make-up credit you can use for this session."),
    "not_ongoing": N_("This class is booked session by session, not as a whole."),
    "class_finished": N_("This class has no sessions left."),
    "note_too_long": N_(
        "That note is {length} characters long; please keep it to {max} and send it again."
    ),
    "note_required": N_("Please write a short note for the teacher before enrolling."),
    "note_not_text": N_("Please send the note as a text message."),
    # money
    "currency_mismatch": N_(
        "This amount is in {got}, but this account is kept in {expected}. Please ask the studio."
    ),
    "amount_not_positive": N_("The amount must be more than zero."),
    "refund_over_cap": N_(
        "At most {refundable} can still be refunded for this: it was paid for, less what was "
        "already refunded or credited. {requested} is too much."
    ),
    "waiver_over_due": N_("Only {due} is still due for this, so {requested} can't be waived."),
    "pass_used_up": N_("All {entries} entries of your pass are used. Please buy a new pass."),
    "pass_not_on_sale": N_(
        "This pass is no longer on sale at this price. Please open the programme again."
    ),
    "pass_already_bought": N_("This pass is already paid for. Nothing more is due."),
    "pass_expired": N_(
        "Your pass was valid until {expires_on}: it can't be used for this session."
    ),
    "no_attendance_credit": N_(
        "You have no attendance credit left for this period. Please ask the studio."
    ),
    "fee_not_found": N_("This fee was not found. Open My account to see what is due."),
    "session_type_not_found": N_(
        "No session type has that key. The catalog file lists them under session_types."
    ),
    "bad_spot_count": N_("The number of spots must be between 1 and {most}."),
    "local_time_invalid": N_(
        "{when} does not exist or happens twice on the studio's clock (a summer-time change). "
        "Please pick another time."
    ),
    "start_in_past": N_("That time has already passed. Please give a time in the future."),
    "spots_overlap": N_(
        "These spots would overlap spots the session already has (with their breaks). "
        "Nothing was added."
    ),
    "not_a_typed_session": N_("That is not a multi or single session made from a session type."),
    "wrong_session_kind": N_("That session type is not of this kind (single or multi)."),
    "session_confirmed": N_(
        "The client has confirmed this session: its time can't be changed any more."
    ),
    "reservation_not_found": N_(
        "This reservation is no longer waiting for an answer (answered, released or not yours)."
    ),
    "time_zone_not_text": N_("Please send the time zone as a text message."),
    "not_in_course": N_("This course doesn't include that service."),
    "course_expired": N_("This course could be used until {until}."),
    "no_free_course_unit": N_("No free unit of that service is left in this course."),
    "course_unit_not_found": N_("This booking isn't booked from a course."),
    "unit_already_redeemed": N_("This unit is already redeemed: it can't be changed."),
    "already_from_course": N_("This booking is already booked from a course."),
    "course_not_found": N_("That course isn't yours, or it no longer exists."),
    "course_not_on_sale": N_(
        "This course is no longer on sale at that price. Open My courses again to see what is."
    ),
    "course_already_bought": N_("This course is already paid for. Nothing more is due."),
    "already_checked_in": N_("This client is already checked in."),
    "not_checked_in": N_("Check the client in first."),
    "already_checked_out": N_("This visit is checked out already: it can't be changed."),
    "marked_no_show": N_("This booking is marked as a no-show."),
    "booking_in_package": N_(
        "This session is part of a package and paid with it: it can't be moved onto a course."
    ),
    "session_not_started": N_(
        "The session hasn't started yet: a no-show can be marked once it has."
    ),
    "check_in_code_unknown": N_(
        "This check-in code names no booking: it may be mistyped, or the booking was cancelled."
    ),
    "unknown_language": N_("I don't speak that language yet."),
    "unknown_time_zone": N_(
        'I don\'t know the time zone "{name}". Write it like Europe/Prague or America/New_York.'
    ),
    "package_option_not_found": N_(
        "That session type offers no such package. Its packages: {keys}."
    ),
    "package_choice_needed": N_("Please pick one of the packages to confirm."),
    "unknown_chat": N_(
        "I can't post in that chat: add me to the group or channel first, then try again."
    ),
    "not_announceable": N_("Only a public multi session with spots still ahead can be announced."),
    "package_only": N_(
        "This service is booked as a package of {size} sessions: pick them together."
    ),
    "not_a_package": N_("This is not part of a session package."),
    "wrong_package_count": N_("Please pick exactly {need} sessions (you picked {got})."),
    "mixed_services": N_("All sessions of a package must be of the same service."),
    "slot_taken": N_(
        "{when} was taken by someone else a moment ago. Please pick another time instead."
    ),
    "move_target_full": N_(
        "Someone took the last place of {when} a moment ago. Your booking stays as it was; "
        "please pick another time."
    ),
    "move_not_allowed": N_("Bookings of this class can't be moved to another time."),
    "moves_used_up": N_(
        "This booking has been moved {limit} time(s) already: that is the most this class allows."
    ),
    "not_a_move_target": N_("Your booking can't be moved to that session."),
    "booking_changed": N_(
        "This booking was moved or cancelled a moment ago. Please look at it again."
    ),
    "too_late_to_change": N_(
        "It is too late to change this session: that was possible until {deadline}."
    ),
    "day_limit_reached": N_(
        "You already have {limit} booking(s) of this class that day: that is the most allowed."
    ),
    "week_limit_reached": N_(
        "You already have {limit} booking(s) of this class that week: that is the most allowed."
    ),
    "invalid_payment": N_("This payment is not one this bot asked for. Nothing was charged."),
    "already_paid": N_("This is already paid. Nothing more is due."),
    "amount_changed": N_(
        "The amount due has changed since this invoice was made. Please press Pay again for "
        "a new one."
    ),
    # staff side
    "client_not_found": N_(
        "No client with that id is known: they need to open the bot (/start) once first."
    ),
    "not_a_client_id": N_("Please send the client's Telegram id: a number such as 123456789."),
    "rank_out_of_range": N_("A rank is a whole number from {min} to {max}."),
    "not_waiting": N_("This client is no longer on the waiting list."),
    "enrolment_not_pending": N_("This enrolment is no longer waiting to be confirmed."),
    "staff_already_booked": N_("This client is already booked for this session."),
    "staff_session_full": N_(
        "This session is full, including the places staff may add over its capacity."
    ),
}


def describe(error: DomainError, gettext: Callable[[str], str], fmt: Formatter) -> str:
    """As :func:`message_for`, with times and money in the params shown for the reader."""
    params = {
        key: fmt.long_when(value)
        if isinstance(value, datetime)
        else fmt.day(value)
        if isinstance(value, date)
        else fmt.money(value.minor)
        if isinstance(value, Money)
        else value
        for key, value in error.params.items()
    }
    return message_for(error.code, gettext, params)


def message_for(
    code: str, gettext: Callable[[str], str], params: dict[str, object] | None = None
) -> str:
    template = gettext(MESSAGES.get(code, MESSAGES["stale_button"]))
    try:
        return template.format(**(params or {}))
    except (KeyError, IndexError, ValueError):  # a translation with a broken placeholder
        return MESSAGES.get(code, MESSAGES["stale_button"]).format(**(params or {}))


MESSAGES |= {
    # staff money actions
    "nothing_due": N_("Nothing is due for this booking."),
    "stars_refund_refused": N_(
        "Telegram refused the Stars refund ({reason}). Nothing was refunded or recorded."
    ),
    "stars_refund_unanswered": N_(
        "Telegram did not answer the Stars refund; it will be checked again."
    ),
    "not_a_fee": N_(
        "Please send the fee as a plain number such as 5 or 2.50 (no sign, no currency), or 0 "
        "for none."
    ),
    "not_an_amount": N_(
        "Please start with the amount, a plain number such as 20 or 12.50 (no sign, no "
        "currency, no more decimals than the currency has), then the reason."
    ),
    "reason_required": N_(
        "Please add a short reason after the amount (up to 300 characters), e.g. 20 wheel broke."
    ),
    "staff_no_booking": N_("This client has no booking for this session any more."),
}
