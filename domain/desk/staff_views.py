"""Read models for the staff dialog: the coming sessions, a session's roster, the clients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.billing import money
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    Client,
    CourseUnit,
    Enrolment,
    EnrolmentStatus,
    LedgerEntry,
    Programme,
    ProgrammeClass,
    WaitlistEntry,
    WaitStatus,
)

# Enough for two weeks of a busy studio; the dialog pages through them.
MAX_SESSIONS = 300
# The newest clients to pick from; anyone else is booked by typing their id.
MAX_CLIENTS = 100


@dataclass(frozen=True)
class SessionLine:
    id: int
    starts_at: datetime
    programme_title: str
    class_title: str
    capacity: int
    booked: int
    waiting: int
    cancelled: bool = False  # staff cancelled it as a whole


@dataclass(frozen=True)
class BookedClient:
    client_id: int
    first_name: str
    by_staff: bool
    pending: bool = False  # their enrolment in the programme waits for staff to confirm it
    checked_in: bool = False
    checked_out: bool = False
    no_show: bool = False
    from_course: bool = False  # a course unit pays for it


@dataclass(frozen=True)
class WaitingClient:
    entry_id: int
    client_id: int
    first_name: str
    status: str  # waiting or offered
    whole_class: bool = False  # in the ongoing class's queue, not this session's


@dataclass(frozen=True)
class Roster:
    session_id: int
    programme_title: str
    class_title: str
    starts_at: datetime
    capacity: int
    max_overload: int
    booked: list[BookedClient]
    waiting: list[WaitingClient]  # in queue order
    cancelled_at: datetime | None = None  # staff cancelled the whole session


@dataclass(frozen=True)
class ClientLine:
    id: int
    first_name: str
    rank: int


def _booked_count():
    return (
        select(func.count(Booking.id))
        .where(Booking.session_id == ClassSession.id, Booking.status == BookingStatus.ACTIVE)
        .correlate(ClassSession)
        .scalar_subquery()
    )


def _waiting_count():
    return (
        select(func.count(WaitlistEntry.id))
        .where(
            WaitlistEntry.session_id == ClassSession.id,
            WaitlistEntry.status.in_(WaitStatus.OPEN),
        )
        .correlate(ClassSession)
        .scalar_subquery()
    )


async def upcoming_sessions(
    db: AsyncSession, *, after: datetime, until: datetime, limit: int = MAX_SESSIONS
) -> list[SessionLine]:
    """Every programme's sessions starting in (after, until], soonest first."""
    rows = await db.execute(
        select(
            ClassSession.id,
            ClassSession.starts_at,
            Programme.title,
            ProgrammeClass.title,
            ProgrammeClass.capacity,
            _booked_count(),
            _waiting_count(),
            ClassSession.cancelled_at.is_not(None),
        )
        .join(ProgrammeClass, ClassSession.class_id == ProgrammeClass.id)
        .join(Programme, ProgrammeClass.programme_id == Programme.id)
        .where(ClassSession.starts_at > after, ClassSession.starts_at <= until)
        .order_by(ClassSession.starts_at, Programme.title, ProgrammeClass.title)
        .limit(limit)
    )
    return [SessionLine(*row) for row in rows]


async def roster(db: AsyncSession, session_id: int) -> Roster | None:
    head = (
        await db.execute(
            select(
                Programme.title,
                ProgrammeClass.title,
                ClassSession.starts_at,
                ProgrammeClass.capacity,
                ProgrammeClass.max_overload,
                ProgrammeClass.programme_id,
                ProgrammeClass.id,
                ClassSession.cancelled_at,
            )
            .join(ProgrammeClass, ClassSession.class_id == ProgrammeClass.id)
            .join(Programme, ProgrammeClass.programme_id == Programme.id)
            .where(ClassSession.id == session_id)
        )
    ).first()
    if head is None:
        return None
    pending = (
        select(Enrolment.id)
        .where(
            Enrolment.client_id == Booking.client_id,
            Enrolment.programme_id == head.programme_id,
            Enrolment.status == EnrolmentStatus.PENDING,
        )
        .exists()
    )
    from_course = select(CourseUnit.id).where(CourseUnit.booking_id == Booking.id).exists()
    booked = await db.execute(
        select(
            Booking.client_id,
            Client.first_name,
            Booking.by_staff,
            pending,
            Booking.checked_in_at.is_not(None),
            Booking.checked_out_at.is_not(None),
            Booking.no_show_at.is_not(None),
            from_course,
        )
        .join(Client, Booking.client_id == Client.id)
        .where(Booking.session_id == session_id, Booking.status == BookingStatus.ACTIVE)
        .order_by(Booking.created_at, Booking.id)
    )
    waiting = await db.execute(
        select(
            WaitlistEntry.id,
            WaitlistEntry.client_id,
            Client.first_name,
            WaitlistEntry.status,
            WaitlistEntry.class_id.is_not(None),
        )
        .join(Client, WaitlistEntry.client_id == Client.id)
        .where(
            or_(WaitlistEntry.session_id == session_id, WaitlistEntry.class_id == head.id),
            WaitlistEntry.status.in_(WaitStatus.OPEN),
        )
        .order_by(WaitlistEntry.requested_at, WaitlistEntry.id)
    )
    programme_title, class_title, starts_at, capacity, max_overload, _, _, cancelled_at = head
    return Roster(
        session_id=session_id,
        programme_title=programme_title,
        class_title=class_title,
        starts_at=starts_at,
        capacity=capacity,
        max_overload=max_overload,
        booked=[BookedClient(*row) for row in booked],
        waiting=[WaitingClient(*row) for row in waiting],
        cancelled_at=cancelled_at,
    )


async def recent_clients(db: AsyncSession, limit: int = MAX_CLIENTS) -> list[ClientLine]:
    rows = await db.execute(
        select(Client.id, Client.first_name, Client.rank)
        .order_by(Client.created_at.desc(), Client.id.desc())
        .limit(limit)
    )
    return [ClientLine(*row) for row in rows]


async def client(db: AsyncSession, client_id: int) -> ClientLine | None:
    row = (
        await db.execute(
            select(Client.id, Client.first_name, Client.rank).where(Client.id == client_id)
        )
    ).first()
    return ClientLine(*row) if row else None


@dataclass(frozen=True)
class EnrolmentLine:
    """A client's current (pending or active) enrolment in a session's programme."""

    id: int
    pending: bool
    notes: str | None


async def enrolment_for_session(
    db: AsyncSession, client_id: int, session_id: int
) -> EnrolmentLine | None:
    row = (
        await db.execute(
            select(Enrolment.id, Enrolment.status, Enrolment.notes)
            .join(ProgrammeClass, ProgrammeClass.programme_id == Enrolment.programme_id)
            .join(ClassSession, ClassSession.class_id == ProgrammeClass.id)
            .where(
                ClassSession.id == session_id,
                Enrolment.client_id == client_id,
                Enrolment.status.in_(EnrolmentStatus.OPEN),
            )
        )
    ).first()
    if row is None:
        return None
    enrolment_id, status, notes = row
    return EnrolmentLine(enrolment_id, status == EnrolmentStatus.PENDING, notes)


@dataclass(frozen=True)
class CancelledLine:
    """A cancelled booking, as staff are told of it."""

    client_name: str
    programme_title: str
    class_title: str
    starts_at: datetime
    capacity: int
    booked: int
    waiting: int


async def cancelled_booking(db: AsyncSession, booking_id: int) -> CancelledLine | None:
    row = (
        await db.execute(
            select(
                Client.first_name,
                Programme.title,
                ProgrammeClass.title,
                ClassSession.starts_at,
                ProgrammeClass.capacity,
                _booked_count(),
                _waiting_count(),
            )
            .select_from(Booking)
            .join(Client, Booking.client_id == Client.id)
            .join(ClassSession, Booking.session_id == ClassSession.id)
            .join(ProgrammeClass, ClassSession.class_id == ProgrammeClass.id)
            .join(Programme, ProgrammeClass.programme_id == Programme.id)
            .where(Booking.id == booking_id, Booking.status == BookingStatus.CANCELLED)
        )
    ).first()
    return CancelledLine(*row) if row else None


@dataclass(frozen=True)
class Owing:
    client_id: int
    first_name: str
    due: money.Money


async def clients_owing(db: AsyncSession, currency: str) -> list[Owing]:
    """Clients whose balance in ``currency`` is due, the most owed first. The balance is derived
    by domain.billing.money from the ledger lines, as everywhere, not summed again in SQL."""
    rows = await db.execute(
        select(LedgerEntry, Client.first_name)
        .join(Client, LedgerEntry.client_id == Client.id)
        .where(LedgerEntry.currency == currency)
        .order_by(LedgerEntry.client_id, LedgerEntry.id)
    )
    lines: dict[int, list[money.Entry]] = {}
    names: dict[int, str] = {}
    for row, first_name in rows:
        names[row.client_id] = first_name
        lines.setdefault(row.client_id, []).append(_entry(row))
    owing = [
        Owing(client_id, names[client_id], due)
        for client_id, entries in lines.items()
        if (due := money.balance(entries, currency)).minor > 0
    ]
    return sorted(owing, key=lambda o: (-o.due.minor, o.client_id))


def _entry(row: LedgerEntry) -> money.Entry:
    return money.Entry(
        kind=money.EntryKind(row.kind),
        item=row.item,
        amount=money.Money(row.amount_minor, row.currency),
        method=money.Method(row.method) if row.method else None,
    )


async def active_booking_id(db: AsyncSession, client_id: int, session_id: int) -> int | None:
    """The client's live booking of the session, which the staff money actions are about."""
    return await db.scalar(
        select(Booking.id).where(
            Booking.client_id == client_id,
            Booking.session_id == session_id,
            Booking.status == BookingStatus.ACTIVE,
        )
    )


async def client_names(db: AsyncSession, client_ids: set[int]) -> dict[int, str]:
    if not client_ids:
        return {}
    rows = await db.execute(select(Client.id, Client.first_name).where(Client.id.in_(client_ids)))
    return dict(rows.all())
