"""A claimed batch of the outbox, read to render its messages: :func:`preload` reads the
batch's recipients and the bookings it names (with their session, class and programme) in
two queries, and :func:`recipient`, :func:`booking_card` and :func:`awaits_answer` then find
them in the unit of work instead of reading each on its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, joinedload

from domain.booking.client_views import BookingCard
from domain.booking.status import BookingStatus
from domain.notices.events import Event
from domain.storage.models import Booking, ClassSession, Client, ProgrammeClass

# a booking with what its card shows: session, class, programme
_CARD = (
    joinedload(Booking.session).joinedload(ClassSession.klass).joinedload(ProgrammeClass.programme)
)


@dataclass(frozen=True)
class Recipient:
    """Whom a message goes to, as far as its wording goes."""

    language_code: str | None
    time_zone: str | None  # their own, if they set one


async def preload(db: AsyncSession, events: Sequence[Event]) -> None:
    """Load the recipients and bookings of ``events`` into ``db`` in two queries, so that
    reading them on this unit of work reads nothing more (other kinds still read their own)."""
    recipients = {event.recipient for event in events}
    loaded: list[object] = list(await db.scalars(select(Client).where(Client.id.in_(recipients))))
    bookings = {b for event in events if (b := getattr(event, "booking_id", None)) is not None}
    if bookings:
        query = select(Booking).where(Booking.id.in_(bookings)).options(_CARD)
        loaded += await db.scalars(query)
    # the identity map only holds objects weakly: keep them as long as the session
    db.info.setdefault("preloaded", []).extend(loaded)


async def recipient(db: AsyncSession, client_id: int) -> Recipient | None:
    client = await db.get(Client, client_id)
    return Recipient(client.language_code, client.time_zone) if client else None


async def client_name(db: AsyncSession, client_id: int) -> str | None:
    client = await db.get(Client, client_id)
    return client.first_name if client else None


async def booking_card(db: AsyncSession, booking_id: int, client_id: int) -> BookingCard | None:
    """As client_views.booking_card, but from the unit of work when :func:`preload` put it there."""
    return await db.run_sync(_card_in, booking_id, client_id)


def _card_in(db: Session, booking_id: int, client_id: int) -> BookingCard | None:
    # synchronous, so that what preload did not load is loaded on access
    booking = db.get(Booking, booking_id, options=[_CARD])
    if booking is None or booking.client_id != client_id:  # someone else's reads as missing
        return None
    session, klass = booking.session, booking.session.klass
    return BookingCard(
        id=booking.id,
        session_id=booking.session_id,
        programme_title=klass.programme.title,
        class_title=klass.title,
        starts_at=session.starts_at,
        duration_minutes=klass.duration_minutes,
        price_minor=klass.price_minor,
        is_active=booking.status == BookingStatus.ACTIVE,
    )


async def awaits_answer(db: AsyncSession, booking_id: int) -> bool:
    """A spot staff reserved for the client still waits for their Confirm or Decline."""
    booking = await db.get(Booking, booking_id)
    return booking is not None and booking.confirmed_at is None and booking.hold_until is not None


@dataclass(frozen=True)
class TakenOff:
    """What the notice of a client taken off a class names: the class, and the starts of the
    sessions it cancelled (earliest first)."""

    programme_title: str
    class_title: str
    starts: list[datetime]


async def taken_off(
    db: AsyncSession, class_id: int, client_id: int, booking_ids: Sequence[int]
) -> TakenOff | None:
    """The class and the sessions of ``booking_ids`` (the client's own only); None when the
    class is gone."""
    klass = await db.get(ProgrammeClass, class_id, options=[joinedload(ProgrammeClass.programme)])
    if klass is None:
        return None
    starts: list[datetime] = []
    if booking_ids:
        starts = list(
            await db.scalars(
                select(ClassSession.starts_at)
                .join(Booking, Booking.session_id == ClassSession.id)
                .where(Booking.id.in_(list(booking_ids)), Booking.client_id == client_id)
                .order_by(ClassSession.starts_at)
            )
        )
    return TakenOff(klass.programme.title, klass.title, starts)
