"""Domain errors carry a stable code; the bot turns the code into a localized message."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "domain_error"

    def __init__(self, **params: Any) -> None:
        super().__init__(self.code, params)
        self.params = params


class SessionNotFound(DomainError):
    code = "session_not_found"


class SessionFull(DomainError):
    code = "session_full"


class SessionAlreadyStarted(DomainError):
    code = "session_already_started"


class AlreadyBooked(DomainError):
    code = "already_booked"


class BookingNotFound(DomainError):
    """Also raised for someone else's booking: a client never learns that a foreign id exists."""

    code = "booking_not_found"


class BookingAlreadyCancelled(DomainError):
    code = "booking_already_cancelled"
