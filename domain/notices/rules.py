"""When reminders go out and when an unanswered one releases its booking: plain values in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo


@dataclass(frozen=True)
class ReminderOffset:
    """How long before a session a reminder goes out: ``hours`` of elapsed time, or ``days``
    on the business's calendar (the same local clock time that many days earlier, so "1d"
    stays at 10:00 across a daylight-saving change while "24h" moves by the hour)."""

    amount: int
    unit: str  # "h" or "d"

    @property
    def label(self) -> str:
        return f"{self.amount}{self.unit}"


def parse_reminder_offsets(text: str) -> tuple[ReminderOffset, ...]:
    """``"24h,2h"`` or ``"1d,2h"``: whole hours or days; empty = no reminders.

    Raises ValueError with the part that could not be read. Sorted earliest first, no repeats.
    """
    offsets: set[ReminderOffset] = set()
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        amount, unit = part[:-1].strip(), part[-1:]
        if unit not in ("h", "d") or not amount.isdigit() or int(amount) == 0:
            raise ValueError(f"whole hours or days such as 24h,2h or 1d, not {part!r}")
        offsets.add(ReminderOffset(int(amount), unit))
    return tuple(sorted(offsets, key=lambda o: -o.amount * (24 if o.unit == "d" else 1)))


def reminder_time(starts_at: datetime, offset: ReminderOffset, zone: tzinfo) -> datetime:
    """When the reminder for a session starting at ``starts_at`` (aware) goes out, in UTC."""
    if offset.unit == "h":
        return (starts_at - timedelta(hours=offset.amount)).astimezone(UTC)
    local = starts_at.astimezone(zone).replace(tzinfo=None) - timedelta(days=offset.amount)
    # a wall time skipped by a spring-forward gap resolves to the same instant either fold gives
    return local.replace(tzinfo=zone).astimezone(UTC)


def reminders_due(
    starts_at: datetime, offsets: Sequence[ReminderOffset], zone: tzinfo, now: datetime
) -> list[tuple[ReminderOffset, datetime]]:
    """The reminders still ahead for a booking made (or moved) at ``now``: past ones are
    skipped, since the client has just seen the booking."""
    times = [(offset, reminder_time(starts_at, offset, zone)) for offset in offsets]
    return [(offset, at) for offset, at in times if now < at < starts_at]


def release_deadline(starts_at: datetime, release_hours: int) -> datetime | None:
    """When a booking whose reminder went unanswered is released (None: never)."""
    return starts_at - timedelta(hours=release_hours) if release_hours > 0 else None
