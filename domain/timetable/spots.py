"""Spots of a multi session (seed 001): where they fall, as plain values.

Staff give the first start on the business's clock and a number of spots. One after another,
each spot lasts the type's duration and is followed by its break: the next starts when that
time has passed (elapsed time, so across a daylight-saving change the spots neither overlap nor
leave a gap; the clock times shown jump with the change). All together, they are one start
with that many seats (a workshop).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo

from domain.errors import BadSpotCount, LocalTimeInvalid, SpotsOverlap, StartInPast

MAX_SPOTS = 100


def local_start(local: datetime, zone: tzinfo) -> datetime:
    """A wall-clock time on the business's clock, in UTC. A time the clock skips (spring
    forward) or shows twice (fall back) is refused: which one staff meant is not known."""
    if local.tzinfo is not None:
        raise ValueError("a wall-clock (naive) time is expected")
    first = local.replace(tzinfo=zone, fold=0)
    second = local.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        raise LocalTimeInvalid(when=local.strftime("%Y-%m-%d %H:%M"))
    moment = first.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != local:  # skipped by the clock
        raise LocalTimeInvalid(when=local.strftime("%Y-%m-%d %H:%M"))
    return moment


def spot_starts(
    first: datetime,
    count: int,
    *,
    duration_minutes: int,
    break_minutes: int,
    together: bool = False,
    now: datetime,
) -> list[datetime]:
    """The UTC starts of ``count`` spots from ``first`` (aware): one after another, or one
    start for all of them (``together``: a single start; its seats are the count)."""
    if not 1 <= count <= MAX_SPOTS:
        raise BadSpotCount(count=count, most=MAX_SPOTS)
    if duration_minutes <= 0 or break_minutes < 0:
        raise ValueError("a spot lasts a positive time, with a break of zero or more")
    if first <= now:
        raise StartInPast()
    if together:
        return [first]
    step = timedelta(minutes=duration_minutes + break_minutes)
    return [first + step * n for n in range(count)]


def ensure_no_overlap(
    existing: Sequence[datetime],
    new: Sequence[datetime],
    *,
    duration_minutes: int,
    break_minutes: int,
) -> None:
    """New spots may not overlap the session's spots (each with its break after it)."""
    length = timedelta(minutes=duration_minutes + break_minutes)
    taken = sorted(existing)
    for start in new:
        for other in taken:
            if start < other + length and other < start + length:
                raise SpotsOverlap()
