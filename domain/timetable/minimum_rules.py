"""Minimum participants, in the studio's words: a class may say how many bookings a session
needs (``min_participants``) and how long before its start that is checked
(``min_check_hours``). At the check a session below its minimum is cancelled, unless staff
kept it on ("Run it anyway"); each session is checked once, so one that fills up later is not
revived and one that passed is not cancelled later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Minimum:
    """A session's minimum as it stands now."""

    participants: int
    check_hours: int
    starts_at: datetime
    booked: int  # active bookings
    checked_at: datetime | None = None  # the check ran (whatever it found)
    kept_on_at: datetime | None = None  # staff said "Run it anyway"

    @property
    def check_at(self) -> datetime:
        return check_time(self.starts_at, self.check_hours)

    @property
    def below(self) -> bool:
        return below_minimum(booked=self.booked, minimum=self.participants)

    def may_keep_on(self, now: datetime) -> bool:
        """ "Run it anyway": offered while the session is below its minimum and not checked."""
        return (
            self.below
            and self.checked_at is None
            and self.kept_on_at is None
            and now < self.starts_at
        )

    def may_undo_keep_on(self, now: datetime) -> bool:
        """Undone only before the check time: later the next check would cancel it at once."""
        return self.kept_on_at is not None and self.checked_at is None and now < self.check_at


def check_time(starts_at: datetime, check_hours: int) -> datetime:
    return starts_at - timedelta(hours=check_hours)


def check_due(*, starts_at: datetime, check_hours: int, now: datetime) -> bool:
    """From the check time until the session starts (a bot that was down checks late, not
    never; a session under way is left alone)."""
    return check_time(starts_at, check_hours) <= now < starts_at


def below_minimum(*, booked: int, minimum: int) -> bool:
    return booked < minimum
