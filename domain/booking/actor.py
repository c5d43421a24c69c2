"""Who makes a booking: the client themselves, or staff for them, and why staff did."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Override(StrEnum):
    """Why staff book a client themselves."""

    DESK = "desk"  # staff booked a known client into a session (Book a client on the roster)
    WAITING_LIST = "waiting list"  # staff took the client off a session's waiting list
    RESERVATION = "reservation"  # staff reserved a spot, for the client to confirm


@dataclass(frozen=True)
class Actor:
    """A client books within every rule. Staff book for a client and override the client's own
    limits: a single session of an ongoing class, the class's overload, a package-only class,
    the programme's dates and ranks, per-day and per-week limits, attendance credits."""

    by_staff: bool
    user_id: int | None = None  # the client's, or the staff member's when the caller knows it
    reason: Override | None = None  # staff's; None for a client

    @classmethod
    def client(cls, client_id: int) -> Actor:
        return cls(by_staff=False, user_id=client_id)

    @classmethod
    def staff(cls, staff_id: int | None = None, *, reason: Override) -> Actor:
        return cls(by_staff=True, user_id=staff_id, reason=reason)
