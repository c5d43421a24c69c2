"""Minimum participants: the periodic check that cancels sessions below their class's
minimum (``cancel_undersubscribed``), staff's "Run it anyway" (``keep_on``, ``undo_keep_on``)
and what the staff session card shows of it (``minimum_of``).

Each session is checked once: the check sets ``sessions.min_checked_at`` with a guarded
UPDATE (``WHERE min_checked_at IS NULL AND kept_on_at IS NULL``) in the transaction that
cancels it, so two bot instances running the check at once cancel it once, a session that
fills up after its check stays cancelled, and one that passed is never cancelled later.
"Run it anyway" sets ``kept_on_at`` under the mirror guard, so it and the check exclude each
other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog.schema import MIN_CHECK_HOURS_RANGE
from domain.errors import (
    AlreadyKeptOn,
    DomainError,
    MinimumCheckPassed,
    MinimumReached,
    NoMinimum,
    NotKeptOn,
    SessionAlreadyStarted,
    SessionCancelledByStaff,
    SessionNotFound,
)
from domain.notices import outbox
from domain.notices.events import UndersubscribedCancelled
from domain.policy import Policy
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    OutboxMessage,
    OutboxState,
    Programme,
    ProgrammeClass,
)
from domain.timetable.cancellation import CancelTerms, cancel_whole_session
from domain.timetable.minimum_rules import Minimum, below_minimum, check_due

# the latest a check can come: sessions further ahead are not looked at
_LONGEST_CHECK = timedelta(hours=MIN_CHECK_HOURS_RANGE[1])
# the staff summary waits this long for the rest of its run (released at the run's end; a
# run cut short by a crash is summarised when it runs out)
SUMMARY_HOLD = timedelta(minutes=5)


@dataclass(frozen=True)
class Undersubscribed:
    """A session the check cancelled, with the active bookings it had."""

    session_id: int
    booked: int
    minimum: int
    # Stars refunds recorded as requested: the caller asks Telegram for them after the run
    # (domain.billing.refunds.ask_requested); the periodic retry catches any left over
    request_ids: tuple[int, ...] = ()


async def cancel_undersubscribed(
    db: AsyncSession, *, now: datetime, policy: Policy, batch: int = 200
) -> list[Undersubscribed]:
    """Periodic job: every session whose check time has come is checked once; those below
    their minimum are cancelled as a whole (money back in full: Stars refunded, the rest as
    credit; the clients told) and each staff member gets one summary of the run.

    Each session is its own transaction (the cancellation commits once), which also writes
    the run's staff summary so far: held back (SUMMARY_HOLD) while the run goes on, released
    at its end, so a crash mid-run loses no line of it and it is still sent once. Sessions
    kept on by staff, cancelled already or begun are left alone."""
    candidates = (
        await db.execute(
            select(
                ClassSession.id,
                ClassSession.starts_at,
                ProgrammeClass.min_participants,
                ProgrammeClass.min_check_hours,
            )
            .join(ProgrammeClass, ClassSession.class_id == ProgrammeClass.id)
            .where(
                ProgrammeClass.min_participants.is_not(None),
                ClassSession.min_checked_at.is_(None),
                ClassSession.kept_on_at.is_(None),
                ClassSession.cancelled_at.is_(None),
                ClassSession.starts_at > now,
                ClassSession.starts_at <= now + _LONGEST_CHECK,
            )
            .order_by(ClassSession.starts_at, ClassSession.id)
        )
    ).all()
    await db.rollback()  # end the read: each session is checked in a transaction of its own
    due = [
        row
        for row in candidates
        if check_due(starts_at=row.starts_at, check_hours=row.min_check_hours or 0, now=now)
    ][:batch]
    cancelled: list[Undersubscribed] = []
    summary = _Summary(policy.staff_ids, now)
    for session_id, _starts_at, least, _hours in due:
        found = await _check(db, session_id, least, now, policy, summary)
        if found is not None:
            cancelled.append(found)
            summary.add(found)
    await summary.release(db)
    return cancelled


class _Summary:
    """The staff summary of one run: one outbox row per staff member, keyed by the run's first
    cancelled session, its payload grown by each cancellation in that one's transaction."""

    def __init__(self, staff_ids: tuple[int, ...], now: datetime) -> None:
        self.staff_ids, self.now = staff_ids, now
        self.lines: list[tuple[int, int]] = []  # (session, bookings it had), committed
        self.keys: set[str] = set()

    def events(self, line: tuple[int, int]) -> list[UndersubscribedCancelled]:
        lines = (*self.lines, line)
        return [UndersubscribedCancelled(staff, lines) for staff in self.staff_ids]

    async def write(self, db: AsyncSession, line: tuple[int, int]) -> None:
        """Within the transaction cancelling ``line``'s session."""
        events = self.events(line)
        if self.lines and await _grow(db, events):
            return
        if self.lines:  # the held row went out after all (a very long run): a new summary
            self.lines.clear()
            events = self.events(line)
        await outbox.put_many(db, [(e, self.now + SUMMARY_HOLD) for e in events], now=self.now)

    def add(self, found: Undersubscribed) -> None:
        """``found``'s cancellation (and its summary line) is committed."""
        line = (found.session_id, found.booked)
        self.keys.update(e.dedupe_key for e in self.events(line))
        self.lines.append(line)

    async def release(self, db: AsyncSession) -> None:
        if not self.keys:
            return
        await db.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.dedupe_key.in_(self.keys),
                OutboxMessage.state == OutboxState.PENDING,
            )
            .values(due_at=self.now)
            .execution_options(synchronize_session=False)
        )
        await db.commit()


async def _grow(db: AsyncSession, events: list[UndersubscribedCancelled]) -> bool:
    """The run's held rows now name one more session; False when they are no longer held."""
    grown = 0
    for event in events:
        result = await db.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.dedupe_key == event.dedupe_key,
                OutboxMessage.state == OutboxState.PENDING,
                OutboxMessage.lease_until.is_(None),
            )
            .values(payload=outbox.to_payload(event))
            .execution_options(synchronize_session=False)
        )
        grown += result.rowcount
    return grown == len(events)


async def _check(
    db: AsyncSession,
    session_id: int,
    least: int,
    now: datetime,
    policy: Policy,
    summary: _Summary,
) -> Undersubscribed | None:
    if not await _mark_checked(db, session_id, now):
        await db.rollback()  # another run checked it, staff kept it on, or it began
        return None
    booked = await _active_bookings(db, session_id)
    if not below_minimum(booked=booked, minimum=least):
        await db.commit()
        return None
    try:
        await summary.write(db, (session_id, booked))
        done = await cancel_whole_session(
            db,
            session_id=session_id,
            staff_id=None,
            terms=CancelTerms(),
            now=now,
            policy=policy,
            automatic=True,
        )
    except DomainError:
        # cancelled by staff meanwhile: nothing left to cancel, but it counts as checked
        await db.rollback()
        await _mark_checked(db, session_id, now)
        await db.commit()
        return None
    return Undersubscribed(session_id, booked, least, tuple(done.request_ids))


async def _mark_checked(db: AsyncSession, session_id: int, now: datetime) -> bool:
    marked = await db.execute(
        update(ClassSession)
        .where(
            ClassSession.id == session_id,
            ClassSession.min_checked_at.is_(None),
            ClassSession.kept_on_at.is_(None),
            ClassSession.starts_at > now,
        )
        .values(min_checked_at=now)
        .execution_options(synchronize_session=False)
    )
    return marked.rowcount == 1


async def _active_bookings(db: AsyncSession, session_id: int) -> int:
    return await db.scalar(
        select(func.count(Booking.id)).where(
            Booking.session_id == session_id, Booking.status == BookingStatus.ACTIVE
        )
    )


# --- staff: "Run it anyway" -----------------------------------------------------------------


async def minimum_of(db: AsyncSession, session_id: int) -> Minimum | None:
    """The session's minimum as it stands; None when its class has none (or there is no
    such session, or it is cancelled)."""
    row = (
        await db.execute(
            select(
                ProgrammeClass.min_participants,
                ProgrammeClass.min_check_hours,
                ClassSession.starts_at,
                ClassSession.min_checked_at,
                ClassSession.kept_on_at,
            )
            .join(ProgrammeClass, ClassSession.class_id == ProgrammeClass.id)
            .where(ClassSession.id == session_id, ClassSession.cancelled_at.is_(None))
        )
    ).first()
    if row is None or row.min_participants is None:
        return None
    return Minimum(
        participants=row.min_participants,
        check_hours=row.min_check_hours or 0,
        starts_at=row.starts_at,
        booked=await _active_bookings(db, session_id),
        checked_at=row.min_checked_at,
        kept_on_at=row.kept_on_at,
    )


async def keep_on(db: AsyncSession, *, session_id: int, staff_id: int, now: datetime) -> Minimum:
    """Staff keep a session below its minimum on: the check leaves it be."""
    minimum = await _minimum_or_raise(db, session_id, now)
    if minimum.kept_on_at is not None:
        raise AlreadyKeptOn()
    if minimum.checked_at is not None:
        raise MinimumCheckPassed()
    if not minimum.below:
        raise MinimumReached()
    kept = await db.execute(
        update(ClassSession)
        .where(
            ClassSession.id == session_id,
            ClassSession.min_checked_at.is_(None),
            ClassSession.kept_on_at.is_(None),
        )
        .values(kept_on_at=now, kept_on_by=staff_id)
        .execution_options(synchronize_session=False)
    )
    if kept.rowcount != 1:  # the check (or another staff member) got there first
        await db.rollback()
        raise MinimumCheckPassed()
    await db.commit()
    return await _minimum_or_raise(db, session_id, now)


async def undo_keep_on(
    db: AsyncSession, *, session_id: int, staff_id: int, now: datetime
) -> Minimum:
    """Staff take "Run it anyway" back, before the check time only (past it, the next check
    would cancel the session at once)."""
    minimum = await _minimum_or_raise(db, session_id, now)
    if minimum.kept_on_at is None:
        raise NotKeptOn()
    if not minimum.may_undo_keep_on(now):
        raise MinimumCheckPassed()
    undone = await db.execute(
        update(ClassSession)
        .where(
            ClassSession.id == session_id,
            ClassSession.kept_on_at.is_not(None),
            ClassSession.min_checked_at.is_(None),
        )
        .values(kept_on_at=None, kept_on_by=None)
        .execution_options(synchronize_session=False)
    )
    if undone.rowcount != 1:
        await db.rollback()
        raise NotKeptOn()
    await db.commit()
    return await _minimum_or_raise(db, session_id, now)


async def _minimum_or_raise(db: AsyncSession, session_id: int, now: datetime) -> Minimum:
    session = await db.get(ClassSession, session_id)
    if session is None:
        raise SessionNotFound()
    if session.cancelled_at is not None:
        raise SessionCancelledByStaff()
    minimum = await minimum_of(db, session_id)
    if minimum is None:
        raise NoMinimum()
    if minimum.starts_at <= now:
        raise SessionAlreadyStarted()
    return minimum


@dataclass(frozen=True)
class CheckedSession:
    """A session the check cancelled, as the staff summary names it."""

    session_id: int
    programme_title: str
    class_title: str
    starts_at: datetime
    minimum: int


async def checked_sessions(db: AsyncSession, session_ids: list[int]) -> list[CheckedSession]:
    rows = await db.execute(
        select(
            ClassSession.id,
            Programme.title,
            ProgrammeClass.title,
            ClassSession.starts_at,
            ProgrammeClass.min_participants,
        )
        .join(ProgrammeClass, ClassSession.class_id == ProgrammeClass.id)
        .join(Programme, ProgrammeClass.programme_id == Programme.id)
        .where(ClassSession.id.in_(session_ids))
        .order_by(ClassSession.starts_at, ClassSession.id)
    )
    return [CheckedSession(s, p, c, at, least or 0) for s, p, c, at, least in rows]
