"""Calendar files (.ics) for booked sessions: one independent event per session (seed 002).

Each event's UID names the package slot, not the booking, so the file sent after a reschedule
carries the same UID with a higher SEQUENCE: a calendar app replaces that one event and
leaves the package's others alone. Any other booking is moved in place (same id), so its UID
names the booking and its SEQUENCE is how often it was moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from icalendar import Calendar, Event

PRODID = "-//Spotbook//Booking assistant//EN"


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    starts_at: datetime  # aware
    ends_at: datetime
    summary: str
    description: str = ""
    sequence: int = 0  # how often this event was changed (a reschedule adds one)
    cancelled: bool = False


def slot_uid(package_id: int, slot: int, domain: str = "spotbook") -> str:
    return f"package-{package_id}-slot-{slot}@{domain}"


def booking_uid(booking_id: int, domain: str = "spotbook") -> str:
    """A booking that is not a package's session: moved in place, it keeps its id, so its
    event keeps this UID and its SEQUENCE is how often it was moved."""
    return f"booking-{booking_id}@{domain}"


def calendar_file(events: Sequence[CalendarEvent], *, now: datetime) -> bytes:
    """An iCalendar file (METHOD:PUBLISH) holding ``events``, times in UTC."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", now)
        event.add("dtstart", item.starts_at)
        event.add("dtend", item.ends_at)
        event.add("summary", item.summary)
        if item.description:
            event.add("description", item.description)
        event.add("sequence", item.sequence)
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()
