"""Attendance credits (seed 003): a programme with ``attendance_credits`` C gives each client
C credits per period — the billing period holding the day, or the calendar month when none
does. A session attended uses one: a booking still active when its session starts counts as
attended (the periodic :func:`count_attendance`, once per booking).

Booking a session of such a programme, or enrolling in one of its classes, needs a credit left
in the period of the session (today's, for a class): credits left less the client's booked
sessions there not yet counted. Without one it is refused, unless ENROL_WITHOUT_CREDIT allows
it; staff bookings and places given from a waiting list are not refused. Unused credits expire
with their period unless CREDITS_CARRY_OVER carries them into the next one (one period).

A period's row is written the first time it is needed (ON CONFLICT DO NOTHING: one per client,
programme and period, also under concurrent requests).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.billing import money
from domain.billing.payments import lock_account
from domain.booking.rules import Period
from domain.policy import Policy
from domain.storage.models import (
    AttendanceCredit,
    BillingPeriod,
    Booking,
    BookingStatus,
    ClassSession,
    Enrolment,
    EnrolmentStatus,
    Programme,
    ProgrammeClass,
)

# sessions that began longer ago than this are not counted any more (the job was down; or
# credits were given to a programme that had run for months)
LOOKBACK = timedelta(days=14)


@dataclass(frozen=True)
class CreditsView:
    programme_id: int
    programme_title: str
    period: Period
    granted: int  # this period's, with any carried over
    used: int

    @property
    def left(self) -> int:
        return max(self.granted - self.used, 0)


async def period_holding(db: AsyncSession, day: date) -> Period:
    billing = await db.scalar(
        select(BillingPeriod)
        .where(BillingPeriod.starts_on <= day, BillingPeriod.ends_on >= day)
        .order_by(BillingPeriod.starts_on)
        .limit(1)
    )
    if billing is None:
        return money.month_of(day)
    return Period(billing.starts_on, billing.ends_on)


async def _period_row(
    db: AsyncSession, client_id: int, programme: Programme, period: Period
) -> AttendanceCredit:
    dialect = postgresql if db.bind.dialect.name == "postgresql" else sqlite
    await db.execute(
        dialect.insert(AttendanceCredit)
        .values(
            client_id=client_id,
            programme_id=programme.id,
            period_start=period.starts_on,
            period_end=period.ends_on,
            granted=programme.attendance_credits,
            used=0,
        )
        .on_conflict_do_nothing(
            index_elements=[
                AttendanceCredit.client_id,
                AttendanceCredit.programme_id,
                AttendanceCredit.period_start,
            ]
        )
    )
    return await db.scalar(
        select(AttendanceCredit)
        .where(
            AttendanceCredit.client_id == client_id,
            AttendanceCredit.programme_id == programme.id,
            AttendanceCredit.period_start == period.starts_on,
        )
        .execution_options(populate_existing=True)
    )


async def credits_on(
    db: AsyncSession, client_id: int, programme: Programme, day: date, policy: Policy
) -> CreditsView | None:
    """The client's credits in ``programme`` for the period holding ``day``; None when the
    programme gives none. Writes the period's row if it is the first time (not committed)."""
    if not programme.attendance_credits:
        return None
    period = await period_holding(db, day)
    row = await _period_row(db, client_id, programme, period)
    previous = None
    if policy.credits_carry_over:
        before = await db.scalar(
            select(AttendanceCredit)
            .where(
                AttendanceCredit.client_id == client_id,
                AttendanceCredit.programme_id == programme.id,
                AttendanceCredit.period_end < period.starts_on,
            )
            .order_by(AttendanceCredit.period_start.desc())
            .limit(1)
        )
        if before is not None:
            previous = money.AttendanceCredits(
                Period(before.period_start, before.period_end), before.granted, before.used
            )
    credits = money.grant_credits(
        row.granted, period, previous, expire_unused=not policy.credits_carry_over
    )
    credits = replace(credits, used=row.used)
    return CreditsView(programme.id, programme.title, period, credits.granted, credits.used)


async def ensure_credit_for(
    db: AsyncSession, client_id: int, programme: Programme, day: date, policy: Policy
) -> None:
    """Refuse (NoAttendanceCredit) a booking or enrolment for ``day`` with no credit left for
    it, unless the programme gives no credits or the policy allows going without."""
    if not programme.attendance_credits or policy.enrol_without_credit:
        return
    await lock_account(db, client_id)  # two taps at once see each other's booking
    view = await credits_on(db, client_id, programme, day, policy)
    assert view is not None
    booked = await _booked_not_counted(db, client_id, programme.id, view.period, policy)
    money.ensure_can_enrol_with_credits(view.left - booked, allowed_without_credit=False)


async def _booked_not_counted(
    db: AsyncSession, client_id: int, programme_id: int, period: Period, policy: Policy
) -> int:
    first = datetime.combine(period.starts_on, time()).replace(tzinfo=policy.zone)
    after = datetime.combine(period.ends_on + timedelta(days=1), time()).replace(tzinfo=policy.zone)
    return await db.scalar(
        select(func.count(Booking.id))
        .join(ClassSession, Booking.session_id == ClassSession.id)
        .join(ProgrammeClass, ClassSession.class_id == ProgrammeClass.id)
        .where(
            Booking.client_id == client_id,
            Booking.status == BookingStatus.ACTIVE,
            Booking.credit_id.is_(None),
            ProgrammeClass.programme_id == programme_id,
            ClassSession.starts_at >= first.astimezone(UTC),
            ClassSession.starts_at < after.astimezone(UTC),
        )
    )


async def count_attendance(
    db: AsyncSession, now: datetime, policy: Policy, *, batch: int = 500
) -> int:
    """Use a credit for each booking whose session has begun (active, not counted yet);
    commits. Returns how many were counted. Safe to run twice or on two machines at once: a
    booking is marked with its credit row by a conditional UPDATE before ``used`` goes up."""
    rows = (
        await db.execute(
            select(Booking.id, Booking.client_id, ClassSession.starts_at, Programme)
            .join(ClassSession, Booking.session_id == ClassSession.id)
            .join(ProgrammeClass, ClassSession.class_id == ProgrammeClass.id)
            .join(Programme, ProgrammeClass.programme_id == Programme.id)
            .where(
                Booking.status == BookingStatus.ACTIVE,
                Booking.credit_id.is_(None),
                Programme.attendance_credits > 0,
                ClassSession.starts_at <= now,
                ClassSession.starts_at > now - LOOKBACK,
            )
            .order_by(ClassSession.starts_at, Booking.id)
            .limit(batch)
        )
    ).all()
    counted = 0
    for booking_id, client_id, starts_at, programme in rows:
        counted += await count_booking(db, booking_id, client_id, starts_at, programme, policy)
    await db.commit()
    return counted


async def count_booking(
    db: AsyncSession,
    booking_id: int,
    client_id: int,
    starts_at: datetime,
    programme: Programme,
    policy: Policy,
) -> bool:
    """Use a credit for this booking's attendance unless it used one already (within the
    caller's transaction; at check-out, or by the periodic count)."""
    period = await period_holding(db, policy.local_day(starts_at))
    row = await _period_row(db, client_id, programme, period)
    marked = await db.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.credit_id.is_(None))
        .values(credit_id=row.id)
    )
    if marked.rowcount != 1:
        return False
    await db.execute(
        update(AttendanceCredit)
        .where(AttendanceCredit.id == row.id)
        .values(used=AttendanceCredit.used + 1)
    )
    return True


async def credits_of(
    db: AsyncSession, client_id: int, today: date, policy: Policy
) -> list[CreditsView]:
    """My account: the client's credits this period in each programme they are enrolled in
    that gives credits (the rows are written when first shown, and committed)."""
    programmes = list(
        await db.scalars(
            select(Programme)
            .join(Enrolment, Enrolment.programme_id == Programme.id)
            .where(
                Enrolment.client_id == client_id,
                Enrolment.status.in_(EnrolmentStatus.OPEN),
                Programme.attendance_credits > 0,
            )
            .order_by(Programme.title)
        )
    )
    views = [await credits_on(db, client_id, p, today, policy) for p in programmes]
    await db.commit()
    return [v for v in views if v is not None]
