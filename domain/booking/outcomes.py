"""What the booking use cases return."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.booking import client_views
from domain.errors import DomainError
from domain.notices.events import Event


@dataclass(frozen=True)
class SessionLabel:
    """How a screen names a session: its programme and class, and when it starts."""

    programme_title: str
    class_title: str
    starts_at: datetime


@dataclass(frozen=True)
class Booked:
    card: client_views.BookingCard  # book_session gives it as written, without reading it back
    enrolled: bool = False  # this first booking also enrolled them in the programme
    enrolment_pending: bool = False  # ... and that enrolment waits for staff to confirm it
    pass_left: int | None = None  # paid with an entry pass: its entries left
    pass_problem: DomainError | None = None  # why the client's pass could not pay for it


@dataclass(frozen=True)
class Waitlisted:
    entry_id: int
    position: int
    session: SessionLabel


@dataclass(frozen=True)
class Cancelled:
    card: client_views.BookingCard
    events: list[Event] = field(default_factory=list)
    makeup: bool = False  # a make-up credit was given for cancelling in time
