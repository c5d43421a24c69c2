"""The notification outbox: every message sent unasked (notices, offers, reminders, staff
notices) is a row written in the transaction of the change that causes it, and sent later by
the dispatcher (bot/delivery/courier.py), which claims due rows so that two bot instances never send
the same one and a crash loses none.

A row is pending until sent, failed (with the reason) or cancelled (its booking went away).
Its ``dedupe_key`` is unique: recording the same happening twice makes one row.

Claiming: on PostgreSQL, ``FOR UPDATE SKIP LOCKED`` in one UPDATE ... RETURNING, so two
dispatchers take disjoint rows without waiting on each other; on SQLite the same statement runs
under the database's single writer lock. A claim is a lease: a dispatcher that dies holding
rows leaves them to be claimed again once ``lease_until`` has passed.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.booking import rules
from domain.notices import rules as reminder_rules
from domain.notices.events import (
    EVENT_KINDS,
    Event,
    LateCancellation,
    PaymentNudge,
    ReservationRequest,
    SessionReminder,
    SpotOffered,
)
from domain.policy import Policy
from domain.storage.models import OutboxMessage, OutboxState

# rows about a booking that go away with it (a reminder of a cancelled booking says nothing)
BOOKING_BOUND_KINDS = (SessionReminder.kind, PaymentNudge.kind, ReservationRequest.kind)


@dataclass(frozen=True)
class Claimed:
    """A due row a dispatcher now holds until its lease ends."""

    id: int
    recipient: int
    event: Event
    attempts: int


def to_payload(event: Event) -> str:
    values = {}
    for field in dataclasses.fields(event):
        value = getattr(event, field.name)
        values[field.name] = value.isoformat() if isinstance(value, datetime) else value
    return json.dumps(values, sort_keys=True)


def from_row(kind: str, payload: str) -> Event:
    """The event a row holds. Raises ValueError for a kind or payload this code cannot read."""
    cls = EVENT_KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown outbox kind {kind!r}")
    try:
        values: dict[str, Any] = json.loads(payload)
        for name in _datetime_fields(cls):
            if values.get(name) is not None:
                values[name] = datetime.fromisoformat(values[name])
        return cls(**values)
    except (TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"unreadable {kind} payload: {error}") from None


@functools.cache
def _datetime_fields(cls: type) -> tuple[str, ...]:
    hints = typing.get_type_hints(cls)
    return tuple(
        field.name
        for field in dataclasses.fields(cls)
        if datetime in (hints[field.name], *typing.get_args(hints[field.name]))
    )


async def put(db: AsyncSession, event: Event, *, due_at: datetime, now: datetime) -> None:
    """Add one message to the outbox (within the caller's transaction); a repeat is ignored."""
    await put_many(db, [(event, due_at)], now=now)


async def put_many(
    db: AsyncSession, items: Sequence[tuple[Event, datetime]], *, now: datetime
) -> None:
    if not items:
        return
    dialect = postgresql if db.bind.dialect.name == "postgresql" else sqlite
    rows = [
        {
            "recipient": event.recipient,
            "kind": event.kind,
            "payload": to_payload(event),
            "due_at": due_at,
            "dedupe_key": event.dedupe_key,
            "state": OutboxState.PENDING,
            "attempts": 0,
            "booking_id": getattr(event, "booking_id", None),
            "created_at": now,
        }
        for event, due_at in items
    ]
    statement = dialect.insert(OutboxMessage).on_conflict_do_nothing(
        index_elements=[OutboxMessage.dedupe_key]
    )
    await db.execute(statement, rows)


async def record(db: AsyncSession, events: Iterable[Event], now: datetime) -> None:
    """The events of a use case, to be sent as soon as the dispatcher gets to them."""
    await put_many(db, [(event, now) for event in events], now=now)


# --- what bookings bring with them ----------------------------------------------------------


@dataclass(frozen=True)
class BookedSeat:
    booking_id: int
    client_id: int
    starts_at: datetime


async def remind(
    db: AsyncSession, bookings: Iterable[BookedSeat], now: datetime, policy: Policy
) -> None:
    """Schedule the reminders of new (or moved) bookings, those still ahead of ``now``."""
    items = [
        (SessionReminder(b.client_id, b.booking_id, b.starts_at, offset.label), at)
        for b in bookings
        for offset, at in reminder_rules.reminders_due(
            b.starts_at, policy.reminders, policy.zone, now
        )
    ]
    await put_many(db, items, now=now)


async def forget(db: AsyncSession, booking_ids: Iterable[int]) -> int:
    """A booking went away: its pending reminders are cancelled. Returns how many."""
    ids = list(booking_ids)
    if not ids:
        return 0
    result = await db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.booking_id.in_(ids),
            OutboxMessage.kind.in_(BOOKING_BOUND_KINDS),
            OutboxMessage.state == OutboxState.PENDING,
        )
        .values(state=OutboxState.CANCELLED, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


async def forget_offers(db: AsyncSession, entry_ids: Iterable[int]) -> int:
    """Waiting-list places went away (their session was cancelled): the offers of a freed
    place not sent yet are cancelled. Returns how many."""
    keys = [SpotOffered(0, entry_id, None, datetime.min).dedupe_key for entry_id in entry_ids]
    if not keys:
        return 0
    result = await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.dedupe_key.in_(keys), OutboxMessage.state == OutboxState.PENDING)
        .values(state=OutboxState.CANCELLED, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


async def move(db: AsyncSession, booking: BookedSeat, now: datetime, policy: Policy) -> None:
    """A booking moved to ``booking.starts_at``: its reminders follow it."""
    await forget(db, [booking.booking_id])
    await remind(db, [booking], now, policy)


async def booking_moved(
    db: AsyncSession, booking: BookedSeat, now: datetime, policy: Policy
) -> None:
    """A booking moved in place to ``booking.starts_at``: its reminders follow it, and its
    payment nudges that would now come after the start are dropped (the rest still ask)."""
    await db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.booking_id == booking.booking_id,
            OutboxMessage.state == OutboxState.PENDING,
            or_(
                OutboxMessage.kind == SessionReminder.kind,
                (OutboxMessage.kind == PaymentNudge.kind)
                & (OutboxMessage.due_at >= booking.starts_at),
            ),
        )
        .values(state=OutboxState.CANCELLED, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    items = [
        (SessionReminder(booking.client_id, booking.booking_id, booking.starts_at, o.label), at)
        for o, at in reminder_rules.reminders_due(
            booking.starts_at, policy.reminders, policy.zone, now
        )
    ]
    await put_many(db, items, now=now)
    # moved back to a time it had before: that time's reminders were cancelled, not sent
    for event, at in items:
        await db.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.dedupe_key == event.dedupe_key,
                OutboxMessage.state == OutboxState.CANCELLED,
            )
            .values(state=OutboxState.PENDING, due_at=at, attempts=0, error=None)
            .execution_options(synchronize_session=False)
        )


async def tell_staff_of_cancellations(
    db: AsyncSession, cancelled: Iterable[BookedSeat], now: datetime, policy: Policy
) -> None:
    """Each staff member hears of cancellations of sessions starting within the notice."""
    items = [
        (LateCancellation(staff_id, b.booking_id), now)
        for b in cancelled
        if rules.is_late_cancellation(
            starts_at=b.starts_at, now=now, notice_hours=policy.staff_notice_hours
        )
        for staff_id in policy.staff_ids
    ]
    await put_many(db, items, now=now)


async def booking_cancelled(
    db: AsyncSession, cancelled: Sequence[BookedSeat], now: datetime, policy: Policy
) -> None:
    """What cancelling bookings does to the outbox: reminders go, staff may hear of it."""
    await forget(db, [b.booking_id for b in cancelled])
    await tell_staff_of_cancellations(db, cancelled, now, policy)


# --- the dispatcher's side ------------------------------------------------------------------


async def claim_due(
    db: AsyncSession, now: datetime, *, limit: int, lease: timedelta
) -> list[Claimed]:
    """Take up to ``limit`` due rows for ``lease`` and commit: no other dispatcher gets them
    until the lease ends. Rows this code cannot read are marked failed, not retried."""
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.state == OutboxState.PENDING,
            OutboxMessage.due_at <= now,
            or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now),
        )
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer anyway
    )
    result = await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(lease_until=now + lease, attempts=OutboxMessage.attempts + 1)
        .returning(
            OutboxMessage.id,
            OutboxMessage.recipient,
            OutboxMessage.kind,
            OutboxMessage.payload,
            OutboxMessage.attempts,
            OutboxMessage.due_at,
        )
        .execution_options(synchronize_session=False)
    )
    rows = sorted(result.all(), key=lambda row: (row.due_at, row.id))
    claimed, unreadable = [], []
    for row in rows:
        try:
            event = from_row(row.kind, row.payload)
        except ValueError as error:
            unreadable.append((row.id, str(error)))
            continue
        claimed.append(Claimed(row.id, row.recipient, event, row.attempts))
    for row_id, reason in unreadable:
        await _finish(db, [row_id], OutboxState.FAILED, now, error=reason)
    await db.commit()
    return claimed


async def mark_sent(db: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    await _finish(db, ids, OutboxState.SENT, now)
    await db.commit()


async def mark_failed(db: AsyncSession, row_id: int, reason: str, now: datetime) -> None:
    await _finish(db, [row_id], OutboxState.FAILED, now, error=reason)
    await db.commit()


async def mark_cancelled(db: AsyncSession, ids: Sequence[int], reason: str, now: datetime) -> None:
    """Nothing left to say (the booking or session is gone)."""
    await _finish(db, ids, OutboxState.CANCELLED, now, error=reason)
    await db.commit()


async def retry_later(db: AsyncSession, row_id: int, at: datetime, reason: str) -> None:
    """Sending failed for now: try again at ``at`` (the attempt stays counted)."""
    await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.state == OutboxState.PENDING)
        .values(due_at=at, lease_until=None, error=reason)
    )
    await db.commit()


async def release(db: AsyncSession, ids: Sequence[int]) -> None:
    """Give back claimed rows not tried (the lease ran short): not counted as an attempt."""
    if not ids:
        return
    await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.state == OutboxState.PENDING)
        .values(lease_until=None, attempts=OutboxMessage.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    await db.commit()


async def _finish(
    db: AsyncSession,
    ids: Sequence[int],
    state: str,
    now: datetime,
    *,
    error: str | None = None,
) -> None:
    if not ids:
        return
    values: dict[str, Any] = {"state": state, "lease_until": None}
    if state == OutboxState.SENT:
        values["sent_at"] = now
    if error is not None:
        values["error"] = error[:500]
    await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.state == OutboxState.PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
