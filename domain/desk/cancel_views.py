"""What staff see before and after cancelling (domain.desk.cancellations): how a booking was
paid, what cancelling it can choose, and the client's bookings staff cancelled (the
overrides, shown on their card)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.billing import money
from domain.billing.payments import booking_item, entries
from domain.booking.bookings import load_booking
from domain.courses import units as course_units
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    Enrolment,
    EnrolmentStatus,
    MakeupCredit,
    PackageSlot,
    ProgrammeClass,
    ProgrammeKind,
)


class Paid:
    """How a booking was paid, as the preview names it."""

    STARS = "stars"
    CARD = "card"
    CASH = "cash"
    CREDIT = "credit"  # the client's balance credit
    PASS = "pass"
    UNIT = "unit"  # a course unit
    MAKEUP = "makeup"  # a make-up credit
    CLASS = "class"  # a session of an ongoing class (its fees pay)
    PACKAGE = "package"
    UNPAID = "unpaid"
    FREE = "free"


async def how_paid(db: AsyncSession, booking: Booking, kind: str) -> tuple[str, int]:
    """How the booking was paid (a Paid value; ``kind``: its programme's) and how much of
    that can still come back (a package's session: 0, its share is worked out on cancel)."""
    if await db.get(PackageSlot, booking.id) is not None:
        return Paid.PACKAGE, 0
    if booking.pass_id is not None:
        return Paid.PASS, 0
    if await course_units.holds_unit(db, booking.id):
        return Paid.UNIT, 0
    makeup = await db.scalar(
        select(MakeupCredit.id).where(MakeupCredit.used_booking_id == booking.id)
    )
    if makeup is not None:
        return Paid.MAKEUP, 0
    if kind == ProgrammeKind.ONGOING:
        return Paid.CLASS, 0
    item = booking_item(booking.id)
    lines = [e for e in await entries(db, booking.client_id) if e.item == item]
    if not lines:
        return Paid.FREE, 0
    paid = money.item_account(item, lines).refundable.minor
    if paid <= 0:
        return Paid.UNPAID, 0
    methods = {e.method for e in lines if e.kind == money.EntryKind.PAYMENT}
    for method, how in (
        (money.Method.STARS, Paid.STARS),
        (money.Method.CARD, Paid.CARD),
        (money.Method.VENUE, Paid.CASH),
    ):
        if method in methods:
            return how, paid
    return Paid.CREDIT, paid


@dataclass(frozen=True)
class CancelChoices:
    """A client's booking of a session as the staff card offers to cancel it."""

    booking_id: int
    class_id: int
    paid: str  # a Paid value
    amount_minor: int  # what can come back (0 for a pass, unit, package...)
    in_class: bool  # an ongoing class they are enrolled in: they can be taken off it
    started: bool

    @property
    def money_choice(self) -> bool:
        """Whether the money question is asked: something was paid for this booking."""
        return self.amount_minor > 0 or self.paid == Paid.PACKAGE

    @property
    def give_back_choice(self) -> bool:
        return self.paid in (Paid.PASS, Paid.UNIT, Paid.MAKEUP)

    @property
    def makeup_choice(self) -> bool:
        return self.paid == Paid.CLASS


async def cancel_choices(
    db: AsyncSession, *, client_id: int, session_id: int, now: datetime
) -> CancelChoices | None:
    """The client's active booking of the session and what cancelling it can choose; None
    when they hold none."""
    booking = await db.scalar(
        select(Booking).where(
            Booking.client_id == client_id,
            Booking.session_id == session_id,
            Booking.status == BookingStatus.ACTIVE,
        )
    )
    if booking is None:
        return None
    booking = await load_booking(db, booking.id)
    klass = booking.session.klass
    paid, amount = await how_paid(db, booking, klass.programme.kind)
    in_class = False
    if booking.enrolment_id is not None:
        status = await db.scalar(
            select(Enrolment.status).where(Enrolment.id == booking.enrolment_id)
        )
        in_class = status in EnrolmentStatus.OPEN
    started = booking.session.starts_at <= now
    return CancelChoices(booking.id, klass.id, paid, amount, in_class, started)


@dataclass(frozen=True)
class Override:
    """A booking of the client's that staff cancelled: who, when, why, what was waived."""

    booking_id: int
    starts_at: datetime
    class_title: str
    cancelled_at: datetime
    cancelled_by: int
    reason: str | None
    waived: str


async def overrides_of(db: AsyncSession, client_id: int, *, limit: int = 5) -> list[Override]:
    """The client's bookings staff cancelled, newest first."""
    rows = await db.execute(
        select(
            Booking.id,
            ClassSession.starts_at,
            ProgrammeClass.title,
            Booking.cancelled_at,
            Booking.cancelled_by,
            Booking.cancel_reason,
            Booking.cancel_waived,
        )
        .join(ClassSession, Booking.session_id == ClassSession.id)
        .join(ProgrammeClass, ClassSession.class_id == ProgrammeClass.id)
        .where(Booking.client_id == client_id, Booking.cancelled_by.is_not(None))
        .order_by(Booking.cancelled_at.desc(), Booking.id.desc())
        .limit(limit)
    )
    return [Override(*row[:6], row[6] or "") for row in rows]
