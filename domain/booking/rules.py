"""Booking rules in the business's own words: plain values in, a domain error out.

Who may book, cancel or change what and until when; the waiting list's order; make-up
windows; session packages' picks and per-day/per-week limits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum

from domain.booking.actor import Actor
from domain.errors import (
    AlreadyBooked,
    BookingAlreadyCancelled,
    DayLimitReached,
    DomainError,
    MixedServices,
    MoveNotAllowed,
    MovesUsedUp,
    NeedsEnrolment,
    NotAMoveTarget,
    NoteRequired,
    NoteTooLong,
    ProgrammeNotOpen,
    RankTooHigh,
    RankTooLow,
    SessionAlreadyStarted,
    SessionFull,
    TooLateToChange,
    WeekLimitReached,
    WrongPackageCount,
)


def spots_left(capacity: int, seats_taken: int) -> int:
    return max(capacity - seats_taken, 0)


def seat_limit(*, capacity: int, max_overload: int, by_staff: bool) -> int:
    """Clients fill the capacity; only staff may go beyond it, up to the overload."""
    return capacity + (max_overload if by_staff else 0)


def has_room(*, capacity: int, seats_taken: int, max_overload: int = 0, by_staff: bool) -> bool:
    limit = seat_limit(capacity=capacity, max_overload=max_overload, by_staff=by_staff)
    return seats_taken < limit


@dataclass(frozen=True)
class Bookable:
    """A session as one client's booking meets it."""

    class_id: int
    starts_at: datetime
    ongoing: bool  # of an ongoing class, which a client enrols in as a whole
    booked: bool  # the client holds an active booking of it

    def is_open_to(self, actor: Actor, now: datetime) -> bool:
        """Whether the actor may book it (or queue for it, when it is full): it has not
        started, the client holds no booking of it yet, and a client does not book one session
        of an ongoing class (staff may)."""
        return self.closed_to(actor, now) is None

    def ensure_open_to(self, actor: Actor, now: datetime) -> None:
        closed = self.closed_to(actor, now)
        if closed is not None:
            raise closed

    def closed_to(self, actor: Actor, now: datetime) -> DomainError | None:
        """Why it is not open to the actor, or None."""
        if self.ongoing and not actor.by_staff:
            return NeedsEnrolment(class_id=self.class_id)
        if self.starts_at <= now:
            return SessionAlreadyStarted()
        if self.booked:
            return AlreadyBooked()
        return None


def ensure_can_book(
    *,
    starts_at: datetime,
    now: datetime,
    capacity: int,
    seats_taken: int,
    already_booked: bool,
    max_overload: int = 0,
    by_staff: bool = False,
) -> None:
    if starts_at <= now:
        raise SessionAlreadyStarted()
    if already_booked:
        raise AlreadyBooked()
    if not has_room(
        capacity=capacity, seats_taken=seats_taken, max_overload=max_overload, by_staff=by_staff
    ):
        raise SessionFull()


def ensure_can_cancel(*, is_active: bool, starts_at: datetime, now: datetime) -> None:
    if not is_active:
        raise BookingAlreadyCancelled()
    if starts_at <= now:
        raise SessionAlreadyStarted()


# --- programmes: validity and rank ------------------------------------------------------


def is_open_on(day: date, *, valid_from: date | None, valid_until: date | None) -> bool:
    return (valid_from is None or valid_from <= day) and (valid_until is None or day <= valid_until)


def ensure_open_on(day: date, *, valid_from: date | None, valid_until: date | None) -> None:
    if not is_open_on(day, valid_from=valid_from, valid_until=valid_until):
        raise ProgrammeNotOpen(valid_from=valid_from, valid_until=valid_until)


@dataclass(frozen=True)
class RankAllowance:
    """How far a programme's rank may lie below (minus) or above (plus) the client's."""

    minus: int = 1
    plus: int = 0


def ensure_rank_allows(
    *, programme_rank: int | None, client_rank: int, allowance: RankAllowance
) -> None:
    if programme_rank is None:
        return
    if programme_rank > client_rank + allowance.plus:
        raise RankTooLow(programme_rank=programme_rank, client_rank=client_rank)
    if programme_rank < client_rank - allowance.minus:
        raise RankTooHigh(programme_rank=programme_rank, client_rank=client_rank)


# --- enrolment ---------------------------------------------------------------------------

MAX_NOTE_LENGTH = 500


class EnrolmentNotes(StrEnum):
    """Whether enrolling in a class asks the client for a note to the teacher."""

    OFF = "off"
    OPTIONAL = "optional"
    REQUIRED = "required"


def enrolment_note(text: str | None, mode: EnrolmentNotes) -> str | None:
    """The note as it is kept: trimmed, None when there is none (or notes are off)."""
    if mode == EnrolmentNotes.OFF:
        return None
    note = (text or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise NoteTooLong(max=MAX_NOTE_LENGTH, length=len(note))
    if not note and mode == EnrolmentNotes.REQUIRED:
        raise NoteRequired()
    return note or None


# --- waiting list -----------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    id: int
    requested_at: datetime


def queue_order(entries: Sequence[Waiting]) -> list[Waiting]:
    """First come, first served: by when the client asked, then by arrival in the database."""
    return sorted(entries, key=lambda entry: (entry.requested_at, entry.id))


def position_in_queue(entry_id: int, entries: Sequence[Waiting]) -> int:
    """1-based position among the open entries."""
    ordered = [entry.id for entry in queue_order(entries)]
    return ordered.index(entry_id) + 1


def offer_expires_at(now: datetime, hold_minutes: int) -> datetime:
    return now + timedelta(minutes=hold_minutes)


def offer_has_expired(expires_at: datetime, now: datetime) -> bool:
    return now >= expires_at


# --- ongoing classes and make-ups ----------------------------------------------------------


def remaining_sessions(starts: Sequence[datetime], now: datetime) -> list[datetime]:
    """What enrolling in an ongoing class books: every session that has not started yet."""
    return sorted(start for start in starts if start > now)


def cancelled_in_time(*, starts_at: datetime, now: datetime, notice_hours: int) -> bool:
    return starts_at - now >= timedelta(hours=notice_hours)


@dataclass(frozen=True)
class Period:
    starts_on: date
    ends_on: date

    def contains(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


def makeup_usable_until(
    missed_day: date, periods: Sequence[Period], *, carry_over: bool
) -> date | None:
    """A make-up is used within the missed session's billing period, or the next if allowed.

    Without billing periods (or outside all of them) it does not lapse: None.
    """
    ordered = sorted(periods, key=lambda p: p.starts_on)
    current = next((p for p in ordered if p.contains(missed_day)), None)
    if current is None:
        return None
    if carry_over:
        following = next((p for p in ordered if p.starts_on > current.ends_on), None)
        if following is not None:
            return following.ends_on
    return current.ends_on


def makeup_usable_on(day: date, usable_until: date | None) -> bool:
    return usable_until is None or day <= usable_until


def is_late_cancellation(*, starts_at: datetime, now: datetime, notice_hours: int) -> bool:
    """Staff want to hear of a cancellation this close to the start (0: never)."""
    return notice_hours > 0 and now < starts_at <= now + timedelta(hours=notice_hours)


# --- session packages (seed 002) ----------------------------------------------------------


def change_deadline(starts_at: datetime, cutoff_hours: int, zone: tzinfo) -> datetime:
    """Until when a client may cancel or reschedule a session: ``cutoff_hours`` before its
    start on the business's clock (a 24-hour cut-off of a 10:00 session is 10:00 the day
    before, also when the clocks changed in between). A wall-clock deadline the clock skips is
    read on the clock before the jump (earlier); one it shows twice, the earlier of the two."""
    local = starts_at.astimezone(zone).replace(tzinfo=None) - timedelta(hours=cutoff_hours)
    moment = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != local:  # in a spring-forward gap
        moment = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return moment


def ensure_can_change(
    *, starts_at: datetime, now: datetime, cutoff_hours: int, zone: tzinfo
) -> None:
    deadline = change_deadline(starts_at, cutoff_hours, zone)
    if now > deadline:
        raise TooLateToChange(deadline=deadline)


def ensure_package_picks(picked_class_ids: Sequence[int], *, class_id: int, size: int) -> None:
    """Exactly ``size`` different sessions, all of the package's own class."""
    if any(c != class_id for c in picked_class_ids):
        raise MixedServices()
    if len(picked_class_ids) != size:
        raise WrongPackageCount(need=size, got=len(picked_class_ids))


def week_of(day: date) -> tuple[date, date]:
    """Monday to Sunday holding ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def ensure_within_limits(
    *,
    day: date,
    booked_days: Sequence[date],
    max_per_day: int | None,
    max_per_week: int | None,
) -> None:
    """A client's bookings of one class per local day / week (``booked_days``: the days of
    their active bookings of it)."""
    if max_per_day is not None and sum(d == day for d in booked_days) >= max_per_day:
        raise DayLimitReached(limit=max_per_day)
    first, last = week_of(day)
    if max_per_week is not None and sum(first <= d <= last for d in booked_days) >= max_per_week:
        raise WeekLimitReached(limit=max_per_week)


# --- moving a booking (not a package's session) --------------------------------------------


@dataclass(frozen=True)
class MovePolicy:
    """A class's terms for moving one of its bookings: until ``cutoff_hours`` before the
    start (the studio's clock), for ``fee_percent`` of the price, at most ``moves_max`` times
    a booking (None: no limit; 0: never)."""

    cutoff_hours: int
    fee_percent: int = 0
    moves_max: int | None = None

    @property
    def allows_moves(self) -> bool:
        return self.moves_max != 0

    def deadline(self, starts_at: datetime, zone: tzinfo) -> datetime:
        return change_deadline(starts_at, self.cutoff_hours, zone)

    def ensure_client_may_move(
        self, *, moves: int, starts_at: datetime, now: datetime, zone: tzinfo
    ) -> None:
        """What a client's own move must meet (staff move any booking at any time)."""
        if not self.allows_moves:
            raise MoveNotAllowed()
        if self.moves_max is not None and moves >= self.moves_max:
            raise MovesUsedUp(limit=self.moves_max)
        if starts_at <= now:
            raise SessionAlreadyStarted()
        ensure_can_change(starts_at=starts_at, now=now, cutoff_hours=self.cutoff_hours, zone=zone)


@dataclass(frozen=True)
class MoveTarget:
    """A session as a candidate for a booking's new time."""

    session_id: int
    class_id: int
    programme_id: int
    day: date  # its local day
    price_minor: int = 0  # its class's price per session (0: free or no price of its own)


def ensure_move_target(
    *,
    booking_session_id: int,
    booking_class_id: int,
    booking_programme_id: int,
    ongoing: bool,
    period: Period | None,
    target: MoveTarget,
    starts_at: datetime,
    now: datetime,
    any_class: bool = False,
    booking_price_minor: int = 0,
) -> None:
    """Where a booking may go: another session ahead, of its own class; for an ongoing class,
    of any class of its programme within the billing period of the session it leaves (any
    time when no period holds that session); with ``any_class`` (the programme's
    reschedule_to_any_class), of any class of its programme with the same price
    (``booking_price_minor``: the price of the booking's class)."""
    if target.session_id == booking_session_id:
        raise NotAMoveTarget()
    if starts_at <= now:
        raise SessionAlreadyStarted()
    if ongoing:
        if target.programme_id != booking_programme_id:
            raise NotAMoveTarget()
        if period is not None and not period.contains(target.day):
            raise NotAMoveTarget()
    elif target.class_id != booking_class_id:
        if not any_class or target.programme_id != booking_programme_id:
            raise NotAMoveTarget()
        if target.price_minor != booking_price_minor:  # would need a second charge or a refund
            raise NotAMoveTarget()


def period_of(day: date, periods: Sequence[Period]) -> Period | None:
    return next((p for p in periods if p.contains(day)), None)
