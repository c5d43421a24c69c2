"""Read models for the dialogs: small frozen rows, one query each, no commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.rules import spots_left
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    Programme,
    ProgrammeClass,
)


@dataclass(frozen=True)
class ProgrammeRow:
    id: int
    title: str
    description: str


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


async def programmes(db: AsyncSession) -> list[ProgrammeRow]:
    rows = await db.execute(
        select(Programme.id, Programme.title, Programme.description).order_by(Programme.title)
    )
    return [ProgrammeRow(*row) for row in rows]


async def programme(db: AsyncSession, programme_id: int) -> ProgrammeRow | None:
    row = (
        await db.execute(
            select(Programme.id, Programme.title, Programme.description).where(
                Programme.id == programme_id
            )
        )
    ).first()
    return ProgrammeRow(*row) if row else None


def _class_rows(now: datetime):
    upcoming = (
        select(func.count(ClassSession.id))
        .where(ClassSession.class_id == ProgrammeClass.id, ClassSession.starts_at > now)
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
        .where(ProgrammeClass.programme_id == programme_id)
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
        .where(ClassSession.class_id == class_id, ClassSession.starts_at > now)
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
            )
            .join(ProgrammeClass, ClassSession.class_id == ProgrammeClass.id)
            .join(Programme, ProgrammeClass.programme_id == Programme.id)
            .where(ClassSession.id == session_id)
        )
    ).first()
    if row is None:
        return None
    (id_, p_id, p_title, c_id, c_title, starts_at, duration, price, capacity, taken, mine) = row
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


async def has_active_booking(db: AsyncSession, session_id: int, client_id: int) -> bool:
    return bool(
        await db.scalar(
            select(
                exists().where(
                    Booking.session_id == session_id,
                    Booking.client_id == client_id,
                    Booking.status == BookingStatus.ACTIVE,
                )
            )
        )
    )
