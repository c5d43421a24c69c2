"""Domain error codes → messages people read. Every code a use case can raise has one."""

from __future__ import annotations

from collections.abc import Callable

from bot.i18n import N_

MESSAGES: dict[str, str] = {
    "session_not_found": N_("This session is no longer available."),
    "session_full": N_("Sorry, this session is full."),
    "session_already_started": N_("This session has already started."),
    "already_booked": N_("You are already booked for this session."),
    "booking_not_found": N_("That booking doesn't exist or isn't yours."),
    "booking_already_cancelled": N_("This booking is already cancelled."),
    "stale_button": N_("That button is no longer valid. Please choose again."),
}


def message_for(code: str, gettext: Callable[[str], str]) -> str:
    return gettext(MESSAGES.get(code, MESSAGES["stale_button"]))
