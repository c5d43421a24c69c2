"""A whole session cancelled (the teacher is ill, the room is flooded; or too few came, by the
minimum-participants check): first a preview of who and what is involved, then one
transaction in which every booking is cancelled under the same terms
(domain.desk.cancellations.settle_booking: one notice each), the waiting list is cleared and
the session marked cancelled, so that nothing books it any more (take_seat's guard).

Against a Book tap racing the cancel: the session row is marked first (the booking paths'
seat UPDATE waits for it, then finds it cancelled), then the waiting list is cleared (an offer
being taken is waited for), and only then are the session's bookings read, so a booking
committed meanwhile is read and cancelled too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from domain.booking.seats import load_session
from domain.desk.cancel_views import Paid, how_paid
from domain.desk.cancellations import (
    BOT_STAFF_ID,
    CancelTerms,
    MoneyBack,
    Settled,
    settle_booking,
)
from domain.errors import SessionAlreadyStarted, SessionCancelledByStaff, SessionNotFound
from domain.notices import outbox
from domain.notices.events import StaffCancelled
from domain.policy import Policy
from domain.storage.db import rolled_back_unless_committed
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    Client,
    ProgrammeClass,
    ProgrammeKind,
    WaitlistEntry,
    WaitStatus,
)

__all__ = [
    "CancelTerms",
    "MoneyBack",
    "Paid",
    "PreviewLine",
    "SessionCancelPreview",
    "SessionCancelled",
    "cancel_whole_session",
    "class_of_session",
    "session_cancel_preview",
]


@dataclass(frozen=True)
class PreviewLine:
    client_id: int
    first_name: str
    paid: str  # a Paid value
    amount_minor: int  # paid for the booking (a package: its share)


@dataclass(frozen=True)
class SessionCancelPreview:
    session_id: int
    programme_title: str
    class_title: str
    starts_at: datetime
    currency: str
    lines: list[PreviewLine]
    waiting: int  # on the waiting list (cleared)

    @property
    def clients(self) -> int:
        return len(self.lines)

    def count(self, paid: str) -> int:
        return sum(1 for line in self.lines if line.paid == paid)

    @property
    def paid_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)

    @property
    def stars_minor(self) -> int:
        """What a refund would send back through Telegram (whole Stars payments)."""
        return sum(line.amount_minor for line in self.lines if line.paid == Paid.STARS)


@dataclass(frozen=True)
class SessionCancelled:
    session_id: int
    settled: list[Settled]
    waiting_cleared: int
    events: list[StaffCancelled] = field(default_factory=list)

    @property
    def clients(self) -> int:
        return len(self.settled)

    @property
    def request_ids(self) -> list[int]:
        """Stars refunds recorded as requested: the caller asks Telegram after the commit."""
        return [i for s in self.settled for i in s.request_ids]

    def total(self, what: str) -> int:
        return sum(getattr(s, what) for s in self.settled)


async def _open_session(db: AsyncSession, session_id: int, now: datetime) -> ClassSession:
    session = await load_session(db, session_id)
    if session is None:
        raise SessionNotFound()
    if session.cancelled_at is not None:
        raise SessionCancelledByStaff()
    if session.starts_at <= now:
        raise SessionAlreadyStarted()
    return session


async def session_cancel_preview(
    db: AsyncSession, *, session_id: int, now: datetime, policy: Policy | None = None
) -> SessionCancelPreview:
    """Who and what cancelling the session involves: each booked client and how they paid,
    and how many wait. Raises SessionNotFound, SessionCancelledByStaff, SessionAlreadyStarted."""
    session = await _open_session(db, session_id, now)
    klass = session.klass
    rows = (
        await db.execute(
            select(Booking, Client.first_name)
            .join(Client, Client.id == Booking.client_id)
            .where(Booking.session_id == session_id, Booking.status == BookingStatus.ACTIVE)
            .order_by(Booking.id)
        )
    ).all()
    currency = policy.currency if policy else "EUR"
    lines = [await _preview_line(db, booking, name, session) for booking, name in rows]
    waiting = len(
        list(
            await db.scalars(
                select(WaitlistEntry.id).where(
                    WaitlistEntry.session_id == session_id,
                    WaitlistEntry.status.in_(WaitStatus.OPEN),
                )
            )
        )
    )
    return SessionCancelPreview(
        session.id,
        klass.programme.title,
        klass.title,
        session.starts_at,
        currency,
        lines,
        waiting,
    )


async def _preview_line(
    db: AsyncSession, booking: Booking, name: str, session: ClassSession
) -> PreviewLine:
    paid, amount = await how_paid(db, booking, session.klass.programme.kind)
    return PreviewLine(booking.client_id, name, paid, amount)


async def cancel_whole_session(
    db: AsyncSession,
    *,
    session_id: int,
    staff_id: int | None,
    terms: CancelTerms,
    now: datetime,
    policy: Policy,
    automatic: bool = False,
) -> SessionCancelled:
    """Cancel the session and every booking of it under ``terms``, in one transaction that
    commits once. ``staff_id`` None with ``automatic``: the minimum-participants check.
    Raises SessionNotFound, SessionCancelledByStaff (also a second tap), SessionAlreadyStarted
    and changes nothing then. Stars refunds are recorded as requested: ask Telegram for
    ``request_ids`` after it returns (domain.billing.refunds.ask_requested)."""
    async with rolled_back_unless_committed(db):
        marked = await db.execute(
            update(ClassSession)
            .where(
                ClassSession.id == session_id,
                ClassSession.cancelled_at.is_(None),
                ClassSession.starts_at > now,
            )
            .values(
                cancelled_at=now,
                cancelled_by=BOT_STAFF_ID if staff_id is None else staff_id,
                cancel_reason=terms.reason,
            )
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount != 1:
            await _open_session(db, session_id, now)  # raises what stands in the way
            raise SessionCancelledByStaff()
        waiting = list(
            await db.scalars(
                select(WaitlistEntry.id).where(
                    WaitlistEntry.session_id == session_id,
                    WaitlistEntry.status.in_(WaitStatus.OPEN),
                )
            )
        )
        cleared = await db.execute(
            update(WaitlistEntry)
            .where(WaitlistEntry.id.in_(waiting), WaitlistEntry.status.in_(WaitStatus.OPEN))
            .values(status=WaitStatus.CANCELLED, resolved_at=now)
            .execution_options(synchronize_session=False)
        )
        await outbox.forget_offers(db, waiting)  # a place offered in it is offered no more
        bookings = list(
            await db.scalars(
                select(Booking)
                .where(Booking.session_id == session_id, Booking.status == BookingStatus.ACTIVE)
                .options(
                    joinedload(Booking.session)
                    .joinedload(ClassSession.klass)
                    .joinedload(ProgrammeClass.programme)
                )
                .order_by(Booking.id)
                .execution_options(populate_existing=True)
            )
        )
        settled = [
            await settle_booking(
                db,
                booking,
                staff_id=staff_id,
                terms=terms,
                now=now,
                policy=policy,
                whole_session=True,
                automatic=automatic,
            )
            for booking in bookings
        ]
        await db.execute(
            update(ClassSession)
            .where(ClassSession.id == session_id)
            .values(seats_taken=0)
            .execution_options(synchronize_session=False)
        )
        await db.commit()
    events = [s.event for s in settled if s.event is not None]
    return SessionCancelled(session_id, settled, cleared.rowcount, events)


@dataclass(frozen=True)
class ClassOf:
    """Where 🔁 Book another time leads from a (cancelled) session: its class."""

    class_id: int
    programme_id: int
    ongoing: bool


async def class_of_session(db: AsyncSession, session_id: int) -> ClassOf | None:
    session = await load_session(db, session_id)
    if session is None:
        return None
    klass = session.klass
    return ClassOf(klass.id, klass.programme_id, klass.programme.kind == ProgrammeKind.ONGOING)
