"""What a use case tells the outside world happened, for the bot to notify people about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Promoted:
    """A waiting client got the freed place and is now booked."""

    client_id: int
    booking_id: int


@dataclass(frozen=True)
class SpotOffered:
    """A freed place is held for a waiting client until expires_at: Take or Skip."""

    client_id: int
    entry_id: int
    session_id: int
    expires_at: datetime


@dataclass(frozen=True)
class OfferLapsed:
    client_id: int
    entry_id: int
    session_id: int


Event = Promoted | SpotOffered | OfferLapsed
