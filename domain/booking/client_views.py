"""Read models for the dialogs: small frozen rows, one query each, no commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import and_, bindparam, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.booking.rules import spots_left
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    Enrolment,
    EnrolmentStatus,
    Programme,
    ProgrammeClass,
    SessionType,
    WaitlistEntry,
    WaitStatus,
)


@dataclass(frozen=True)
class ProgrammeRow:
    id: int
    title: str
    description: str
    kind: str = "payg"
    category: str = ""
    rank: int | None = None
    public: bool = True
    colour: str | None = None


@dataclass(frozen=True)
class ClassRow:
    id: int
    programme_id: int
    title: str
    programme_title: str
    upcoming: int


@dataclass(frozen=True)
class SessionRow:
    id: int
    starts_at: datetime
    spots_left: int


@dataclass(frozen=True)
class SessionCard:
    id: int
    programme_id: int
    programme_title: str
    class_id: int
    class_title: str
    starts_at: datetime
    duration_minutes: int
    price_minor: int | None
    capacity: int
    spots_left: int
    my_booking_id: int | None
    kind: str = "payg"
    waiting_list: bool = False
    my_wait: WaitRow | None = None


@dataclass(frozen=True)
class WaitRow:
    """The client's open place in a session's queue: waiting, or holding an offer."""

    id: int
    session_id: int
    status: str
    offer_expires_at: datetime | None
    position: int
    starts_at: datetime
    programme_title: str
    class_title: str


@dataclass(frozen=True)
class BookingRef:
    """A booking as who holds which session."""

    id: int
    client_id: int
    session_id: int


@dataclass(frozen=True)
class BookingCard:
    id: int
    session_id: int
    programme_title: str
    class_title: str
    starts_at: datetime
    duration_minutes: int
    price_minor: int | None
    is_active: bool


_PROGRAMME_COLUMNS = (
    Programme.id,
    Programme.title,
    Programme.description,
    Programme.kind,
    Programme.category,
    Programme.rank,
    Programme.public,
    Programme.colour,
)


def _open_on(today: date):
    """Open today; a session type's programme only while it has a listed session ahead (staff
    make its sessions in the bot: before and after them it would be an empty page)."""
    since = datetime.combine(today, time(), tzinfo=UTC)
    has_spots = (
        select(ClassSession.id)
        .join(ProgrammeClass, ClassSession.class_id == ProgrammeClass.id)
        .where(
            ProgrammeClass.programme_id == Programme.id,
            ProgrammeClass.listed.is_(True),
            ClassSession.starts_at >= since,
        )
        .exists()
    )
    is_type = select(SessionType.id).where(SessionType.programme_id == Programme.id).exists()
    return and_(
        or_(Programme.valid_from.is_(None), Programme.valid_from <= today),
        or_(Programme.valid_until.is_(None), Programme.valid_until >= today),
        or_(~is_type, has_spots),
    )


async def programmes(
    db: AsyncSession, today: date, category: str | None = None
) -> list[ProgrammeRow]:
    """What clients browse: public programmes open today (private ones only by link)."""
    query = select(*_PROGRAMME_COLUMNS).where(Programme.public.is_(True), _open_on(today))
    if category is not None:
        query = query.where(Programme.category == category)
    rows = await db.execute(query.order_by(Programme.title))
    return [ProgrammeRow(*row) for row in rows]


async def categories(db: AsyncSession, today: date) -> list[str]:
    rows = await db.scalars(
        select(Programme.category)
        .where(Programme.public.is_(True), _open_on(today))
        .distinct()
        .order_by(Programme.category)
    )
    return list(rows)


async def programme(db: AsyncSession, programme_id: int) -> ProgrammeRow | None:
    row = (
        await db.execute(select(*_PROGRAMME_COLUMNS).where(Programme.id == programme_id))
    ).first()
    return ProgrammeRow(*row) if row else None


async def programme_by_link(db: AsyncSession, token: str) -> ProgrammeRow | None:
    """A programme by its share link's token (private programmes are found only so)."""
    row = (
        await db.execute(select(*_PROGRAMME_COLUMNS).where(Programme.link_token == token))
    ).first()
    return ProgrammeRow(*row) if row else None


def _class_rows(now: datetime):
    upcoming = (
        select(func.count(ClassSession.id))
        .where(
            ClassSession.class_id == ProgrammeClass.id,
            ClassSession.starts_at > now,
            ClassSession.cancelled_at.is_(None),
        )
        .correlate(ProgrammeClass)
        .scalar_subquery()
    )
    return select(
        ProgrammeClass.id,
        ProgrammeClass.programme_id,
        ProgrammeClass.title,
        Programme.title,
        upcoming,
    ).join(Programme)


async def classes_of(db: AsyncSession, programme_id: int, now: datetime) -> list[ClassRow]:
    rows = await db.execute(
        _class_rows(now)
        .where(ProgrammeClass.programme_id == programme_id, ProgrammeClass.listed.is_(True))
        .order_by(ProgrammeClass.title)
    )
    return [ClassRow(*row) for row in rows]


async def klass(db: AsyncSession, class_id: int, now: datetime) -> ClassRow | None:
    row = (await db.execute(_class_rows(now).where(ProgrammeClass.id == class_id))).first()
    return ClassRow(*row) if row else None


async def upcoming_sessions(
    db: AsyncSession, class_id: int, now: datetime, limit: int = 60
) -> list[SessionRow]:
    rows = await db.execute(
        select(
            ClassSession.id,
            ClassSession.starts_at,
            ProgrammeClass.capacity,
            ClassSession.seats_taken,
        )
        .join(ProgrammeClass)
        .where(
            ClassSession.class_id == class_id,
            ClassSession.starts_at > now,
            ClassSession.cancelled_at.is_(None),  # cancelled sessions leave the lists
        )
        .order_by(ClassSession.starts_at)
        .limit(limit)
    )
    return [
        SessionRow(id_, starts_at, spots_left(cap, taken)) for id_, starts_at, cap, taken in rows
    ]


async def session_card(db: AsyncSession, session_id: int, client_id: int) -> SessionCard | None:
    my_booking = (
        select(Booking.id)
        .where(
            Booking.session_id == ClassSession.id,
            Booking.client_id == client_id,
            Booking.status == BookingStatus.ACTIVE,
        )
        .correlate(ClassSession)
        .scalar_subquery()
    )
    row = (
        await db.execute(
            select(
                ClassSession.id,
                Programme.id,
                Programme.title,
                ProgrammeClass.id,
                ProgrammeClass.title,
                ClassSession.starts_at,
                ProgrammeClass.duration_minutes,
                ProgrammeClass.price_minor,
                ProgrammeClass.capacity,
                ClassSession.seats_taken,
                my_booking,
                Programme.kind,
                ProgrammeClass.waiting_list,
            )
            .join(ProgrammeClass, ClassSession.class_id == ProgrammeClass.id)
            .join(Programme, ProgrammeClass.programme_id == Programme.id)
            # a cancelled session is gone for clients (a link to it, a stale button)
            .where(ClassSession.id == session_id, ClassSession.cancelled_at.is_(None))
        )
    ).first()
    if row is None:
        return None
    (id_, p_id, p_title, c_id, c_title, starts_at, duration, price, capacity, taken, mine) = row[
        :11
    ]
    waits = await open_waits(db, client_id, session_id=session_id)
    return SessionCard(
        id=id_,
        programme_id=p_id,
        programme_title=p_title,
        class_id=c_id,
        class_title=c_title,
        starts_at=starts_at,
        duration_minutes=duration,
        price_minor=price,
        capacity=capacity,
        spots_left=spots_left(capacity, taken),
        my_booking_id=mine,
        kind=row.kind,
        waiting_list=row.waiting_list,
        my_wait=waits[0] if waits else None,
    )


def _booking_cards():
    return (
        select(
            Booking.id,
            Booking.session_id,
            Programme.title,
            ProgrammeClass.title,
            ClassSession.starts_at,
            ProgrammeClass.duration_minutes,
            ProgrammeClass.price_minor,
            Booking.status == BookingStatus.ACTIVE,
        )
        .join(ClassSession, Booking.session_id == ClassSession.id)
        .join(ProgrammeClass, ClassSession.class_id == ProgrammeClass.id)
        .join(Programme, ProgrammeClass.programme_id == Programme.id)
    )


async def booking_card(db: AsyncSession, booking_id: int, client_id: int) -> BookingCard | None:
    """A client's own booking; someone else's id reads as missing."""
    row = (
        await db.execute(
            _booking_cards().where(Booking.id == booking_id, Booking.client_id == client_id)
        )
    ).first()
    return BookingCard(*row) if row else None


async def booking_ref(db: AsyncSession, booking_id: int) -> BookingRef | None:
    booking = await db.get(Booking, booking_id)
    return BookingRef(booking.id, booking.client_id, booking.session_id) if booking else None


async def upcoming_bookings(db: AsyncSession, client_id: int, now: datetime) -> list[BookingCard]:
    rows = await db.execute(
        _booking_cards()
        .where(
            Booking.client_id == client_id,
            Booking.status == BookingStatus.ACTIVE,
            ClassSession.starts_at > now,
        )
        .order_by(ClassSession.starts_at)
    )
    return [BookingCard(*row) for row in rows]


# The statements every Book tap runs are built once, with bind parameters: building a
# statement and its cache key anew on each call was a good part of the tap's Python time.
_HAS_ACTIVE_BOOKING = select(
    exists().where(
        Booking.session_id == bindparam("session_id"),
        Booking.client_id == bindparam("client_id"),
        Booking.status == BookingStatus.ACTIVE,
    )
)


async def has_active_booking(db: AsyncSession, session_id: int, client_id: int) -> bool:
    params = {"session_id": session_id, "client_id": client_id}
    return bool(await db.scalar(_HAS_ACTIVE_BOOKING, params))


async def open_waits(
    db: AsyncSession, client_id: int, *, session_id: int | None = None, now: datetime | None = None
) -> list[WaitRow]:
    """The client's places in waiting lists (and offers), soonest session first."""
    query = (
        select(WaitlistEntry, ClassSession.starts_at, Programme.title, ProgrammeClass.title)
        .join(ClassSession, WaitlistEntry.session_id == ClassSession.id)
        .join(ProgrammeClass, ClassSession.class_id == ProgrammeClass.id)
        .join(Programme, ProgrammeClass.programme_id == Programme.id)
        .where(WaitlistEntry.client_id == client_id, WaitlistEntry.status.in_(WaitStatus.OPEN))
        .order_by(ClassSession.starts_at)
    )
    if session_id is not None:
        query = query.where(WaitlistEntry.session_id == session_id)
    if now is not None:
        query = query.where(ClassSession.starts_at > now)
    rows = []
    for entry, starts_at, programme_title, class_title in await db.execute(query):
        rows.append(
            WaitRow(
                id=entry.id,
                session_id=entry.session_id,
                status=entry.status,
                offer_expires_at=entry.offer_expires_at,
                position=await queue_position(db, entry),
                starts_at=starts_at,
                programme_title=programme_title,
                class_title=class_title,
            )
        )
    return rows


def _count_queue_before(same_queue):
    """Open entries of the queue that stand before (or at) the entry given by the parameters
    ``requested_at`` and ``entry_id``; ``same_queue`` names the queue by ``queue_id``."""
    return select(func.count(WaitlistEntry.id)).where(
        same_queue,
        WaitlistEntry.status.in_(WaitStatus.OPEN),
        or_(
            WaitlistEntry.requested_at < bindparam("requested_at"),
            and_(
                WaitlistEntry.requested_at == bindparam("requested_at"),
                WaitlistEntry.id <= bindparam("entry_id"),
            ),
        ),
    )


_SESSION_QUEUE_BEFORE = _count_queue_before(WaitlistEntry.session_id == bindparam("queue_id"))
_CLASS_QUEUE_BEFORE = _count_queue_before(WaitlistEntry.class_id == bindparam("queue_id"))


async def is_enrolled(db: AsyncSession, client_id: int, programme_id: int) -> bool:
    return bool(
        await db.scalar(
            select(
                exists().where(
                    Enrolment.client_id == client_id,
                    Enrolment.programme_id == programme_id,
                    Enrolment.status.in_(EnrolmentStatus.OPEN),
                )
            )
        )
    )


@dataclass(frozen=True)
class ClassWait:
    id: int
    status: str
    offer_expires_at: datetime | None
    position: int


@dataclass(frozen=True)
class ClassCard:
    """An ongoing class as a client considers enrolling in it."""

    id: int
    programme_id: int
    programme_title: str
    title: str
    price_minor: int | None
    duration_minutes: int
    remaining: int
    first_start: datetime | None
    spots_left: int  # in the fullest remaining session: what enrolling needs
    waiting_list: bool
    enrolled: bool
    enrolled_elsewhere: bool  # in another class of the same programme
    my_wait: ClassWait | None
    pending: bool = False  # enrolled, but staff have yet to confirm it


async def class_card(
    db: AsyncSession, class_id: int, client_id: int, now: datetime
) -> ClassCard | None:
    row = (
        await db.execute(
            select(ProgrammeClass, Programme.title)
            .join(Programme)
            .where(ProgrammeClass.id == class_id)
        )
    ).first()
    if row is None:
        return None
    klass, programme_title = row
    sessions = (
        await db.execute(
            select(ClassSession.starts_at, ClassSession.seats_taken)
            .where(
                ClassSession.class_id == class_id,
                ClassSession.starts_at > now,
                ClassSession.cancelled_at.is_(None),
            )
            .order_by(ClassSession.starts_at)
        )
    ).all()
    enrolment = (
        await db.execute(
            select(Enrolment.class_id, Enrolment.status).where(
                Enrolment.client_id == client_id,
                Enrolment.programme_id == klass.programme_id,
                Enrolment.status.in_(EnrolmentStatus.OPEN),
            )
        )
    ).first()
    enrolled_in = enrolment.class_id if enrolment else None
    entry = await db.scalar(
        select(WaitlistEntry).where(
            WaitlistEntry.class_id == class_id,
            WaitlistEntry.client_id == client_id,
            WaitlistEntry.status.in_(WaitStatus.OPEN),
        )
    )
    my_wait = None
    if entry is not None:
        position = await queue_position(db, entry)
        my_wait = ClassWait(entry.id, entry.status, entry.offer_expires_at, position)
    return ClassCard(
        id=klass.id,
        programme_id=klass.programme_id,
        programme_title=programme_title,
        title=klass.title,
        price_minor=klass.price_minor,
        duration_minutes=klass.duration_minutes,
        remaining=len(sessions),
        first_start=sessions[0].starts_at if sessions else None,
        spots_left=min((spots_left(klass.capacity, s.seats_taken) for s in sessions), default=0),
        waiting_list=klass.waiting_list,
        enrolled=enrolled_in == class_id,
        enrolled_elsewhere=enrolled_in is not None and enrolled_in != class_id,
        my_wait=my_wait,
        pending=enrolment is not None and enrolment.status == EnrolmentStatus.PENDING,
    )


async def queue_position(db: AsyncSession, entry: WaitlistEntry) -> int:
    """1-based place among the open entries of its queue; 0 once it is no longer open."""
    if entry.status not in WaitStatus.OPEN:
        return 0
    if entry.session_id is not None:
        statement, queue_id = _SESSION_QUEUE_BEFORE, entry.session_id
    else:
        statement, queue_id = _CLASS_QUEUE_BEFORE, entry.class_id
    params = {"queue_id": queue_id, "requested_at": entry.requested_at, "entry_id": entry.id}
    return await db.scalar(statement, params) or 0


async def enrolment_title(db: AsyncSession, enrolment_id: int) -> str | None:
    """'Programme — Class' for a class enrolment, the programme's title for a programme's."""
    row = (
        await db.execute(
            select(Programme.title, ProgrammeClass.title)
            .select_from(Enrolment)
            .join(Programme, Enrolment.programme_id == Programme.id)
            .outerjoin(ProgrammeClass, Enrolment.class_id == ProgrammeClass.id)
            .where(Enrolment.id == enrolment_id)
        )
    ).first()
    if row is None:
        return None
    programme_title, class_title = row
    return f"{programme_title} — {class_title}" if class_title else programme_title
