"""Where a booking, a place in a waiting list, an enrolment and a make-up credit stand, as the
database spells it."""

from __future__ import annotations


class BookingStatus:
    ACTIVE = "active"
    CANCELLED = "cancelled"


class WaitStatus:
    WAITING = "waiting"
    OFFERED = "offered"  # holds a seat until offer_expires_at
    BOOKED = "booked"
    SKIPPED = "skipped"
    EXPIRED = "expired"
    LEFT = "left"
    CANCELLED = "cancelled"  # the session was cancelled as a whole
    OPEN = (WAITING, OFFERED)


class EnrolmentStatus:
    PENDING = "pending"  # places are held; staff confirm it (ENROLMENT_ACTIVE_BY_DEFAULT=false)
    ACTIVE = "active"
    LEFT = "left"
    OPEN = (PENDING, ACTIVE)  # counts as enrolled: one per programme, and what leaving ends


class MakeupStatus:
    AVAILABLE = "available"
    USED = "used"
