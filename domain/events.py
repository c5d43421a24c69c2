"""What a use case tells the outside world happened, for the bot to notify people about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Promoted:
    """A waiting client got the freed place and is now booked."""

    client_id: int
    booking_id: int
    enrolment_pending: bool = False  # the booking also enrolled them, pending staff's confirming


@dataclass(frozen=True)
class SpotOffered:
    """A freed place is offered to a waiting client until expires_at: Take or Skip.

    For a session (session_id) the place is held; for an ongoing class (class_id) it is not,
    and taking it enrols the client if the class still has room.
    """

    client_id: int
    entry_id: int
    session_id: int | None
    expires_at: datetime
    class_id: int | None = None


@dataclass(frozen=True)
class OfferLapsed:
    client_id: int
    entry_id: int
    session_id: int | None
    class_id: int | None = None


@dataclass(frozen=True)
class EnrolledFromWaitlist:
    """A place in an ongoing class freed up and the first waiting client was enrolled."""

    client_id: int
    class_id: int
    pending: bool = False  # their places are held until staff confirm the enrolment


@dataclass(frozen=True)
class EnrolmentConfirmed:
    """Staff confirmed a pending enrolment."""

    client_id: int
    enrolment_id: int


Event = Promoted | SpotOffered | OfferLapsed | EnrolledFromWaitlist | EnrolmentConfirmed
