"""Make-up credits: cancel an ongoing class's session in time, attend another one instead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.booking import client_views, rules
from domain.booking.outcomes import Booked
from domain.booking.seats import load_session, take_seat
from domain.clients.record import ClientRef, remember_client
from domain.errors import AlreadyBooked, MakeupNotUsable, NotOngoing, SessionFull, SessionNotFound
from domain.notices import outbox
from domain.policy import Policy
from domain.storage.models import (
    BillingPeriod,
    Booking,
    ClassSession,
    MakeupCredit,
    MakeupStatus,
    Programme,
    ProgrammeKind,
)


async def issue_makeup(
    db: AsyncSession,
    *,
    booking: Booking,
    session: ClassSession,
    programme: Programme,
    now: datetime,
    policy: Policy,
    always: bool = False,
) -> bool:
    """Called when a session of an ongoing class is cancelled: by the client in time, or by
    staff giving one (``always``); True if a credit was given."""
    if booking.enrolment_id is None:
        return False
    if not always and not rules.cancelled_in_time(
        starts_at=session.starts_at, now=now, notice_hours=programme.cancel_notice_hours
    ):
        return False
    periods = [
        rules.Period(p.starts_on, p.ends_on) for p in await db.scalars(select(BillingPeriod))
    ]
    db.add(
        MakeupCredit(
            client_id=booking.client_id,
            programme_id=programme.id,
            source_booking_id=booking.id,
            issued_at=now,
            usable_until=rules.makeup_usable_until(
                policy.local_day(session.starts_at),
                periods,
                carry_over=programme.makeups_carry_over,
            ),
        )
    )
    return True


async def return_makeup(db: AsyncSession, booking: Booking, *, in_time: bool) -> None:
    """A make-up booking cancelled in time gives its credit back; late, the credit is spent."""
    if in_time:
        await db.execute(
            update(MakeupCredit)
            .where(MakeupCredit.used_booking_id == booking.id)
            .values(status=MakeupStatus.AVAILABLE, used_booking_id=None)
        )


@dataclass(frozen=True)
class UsableCredit:
    id: int
    usable_until: date | None  # None: it never lapses


async def usable_credit(
    db: AsyncSession, client_id: int, programme_id: int, day: date
) -> UsableCredit | None:
    """The client's make-up credit for the programme usable on the local ``day``: the one
    soonest to lapse."""
    row = (
        await db.execute(
            select(MakeupCredit.id, MakeupCredit.usable_until)
            .where(
                MakeupCredit.client_id == client_id,
                MakeupCredit.programme_id == programme_id,
                MakeupCredit.status == MakeupStatus.AVAILABLE,
                or_(MakeupCredit.usable_until.is_(None), MakeupCredit.usable_until >= day),
            )
            .order_by(
                MakeupCredit.usable_until.is_(None), MakeupCredit.usable_until, MakeupCredit.id
            )
        )
    ).first()
    return UsableCredit(*row) if row else None


async def book_with_makeup(
    db: AsyncSession, *, client: ClientRef, session_id: int, now: datetime, policy: Policy
) -> Booked:
    """Attend another session of the same programme with a make-up credit (soonest to lapse)."""
    session = await load_session(db, session_id)
    if session is None or session.cancelled_at is not None:
        raise SessionNotFound()
    programme = session.klass.programme
    if programme.kind != ProgrammeKind.ONGOING:
        raise NotOngoing()
    rules.ensure_can_book(
        starts_at=session.starts_at,
        now=now,
        capacity=session.klass.capacity,
        seats_taken=session.seats_taken,
        already_booked=await client_views.has_active_booking(db, session_id, client.id),
    )
    credit = await usable_credit(db, client.id, programme.id, policy.local_day(session.starts_at))
    if credit is None:
        raise MakeupNotUsable()
    await remember_client(db, client, now)
    if not await take_seat(db, session_id):
        await db.rollback()
        raise SessionFull()
    booking = Booking(session_id=session_id, client_id=client.id, created_at=now)
    db.add(booking)
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        raise AlreadyBooked() from None
    seat = outbox.BookedSeat(booking.id, client.id, session.starts_at)
    await outbox.remind(db, [seat], now, policy)
    spent = await db.execute(
        update(MakeupCredit)
        .where(MakeupCredit.id == credit.id, MakeupCredit.status == MakeupStatus.AVAILABLE)
        .values(status=MakeupStatus.USED, used_booking_id=booking.id)
    )
    if spent.rowcount != 1:  # the same credit spent from another device meanwhile
        await db.rollback()
        raise MakeupNotUsable()
    await db.commit()
    card = await client_views.booking_card(db, booking.id, client.id)
    return Booked(card)
