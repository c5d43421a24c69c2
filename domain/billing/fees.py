"""Monthly fees and custom fee schedules (seed 003), raised on their due day.

A programme with a ``monthly_fee`` charges each active enrolment every month on its due day
(the month's last day when the due day is past it); a custom schedule (``ProgrammeFee`` rows)
replaces the monthly fee. Fees run from the month the client enrolled in (a fee whose day came
before they enrolled that month is due at once) until they leave, the programme's last day, or
an ongoing class's last session. Fees due more than CATCH_UP_DAYS ago are never raised.

The daily job (:func:`raise_fees`) is idempotent: each fee is one ledger charge with a stable
item (``fee:<programme>:<client>:<month or day>``) under a unique index, so running it twice,
or on two machines at once, charges nothing twice; days it missed are caught up. Credit on the
client's balance is spent on a new fee at once; what is left gets "please pay" reminders at
the FEE_NUDGE_DAYS cadence, which stop when it is paid (checked again as each goes out).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.billing import money
from domain.billing.payments import available_credit, entry_of, lock_account, spend_credit_on
from domain.notices import outbox
from domain.notices.events import FeeNudge
from domain.policy import Policy
from domain.storage.models import (
    ClassSession,
    Enrolment,
    EnrolmentStatus,
    LedgerEntry,
    Programme,
    ProgrammeFee,
)

# the partial unique index's predicate (models.LedgerEntry): inserts name it in ON CONFLICT
_FEE_CHARGE = text("charge_for = 'monthly_fee'")
# days the job looks back for fees it has not raised (it was down): older ones are never raised,
# so a fee added to a running programme does not charge its clients for months gone by
CATCH_UP_DAYS = 31


@dataclass(frozen=True)
class FeeItem:
    """What a fee's ledger item says: whose, of which programme, for which month or day."""

    programme_id: int
    client_id: int
    month: tuple[int, int] | None  # (year, month) of a monthly fee
    day: date | None  # the due day of a scheduled fee

    @classmethod
    def parse(cls, item: str) -> FeeItem | None:
        parts = item.split(":")
        if len(parts) != 4 or parts[0] != "fee" or not parts[1].isdigit():
            return None
        if not parts[2].isdigit():
            return None
        try:
            if len(parts[3]) == 7:
                year, month = (int(x) for x in parts[3].split("-"))
                date(year, month, 1)
                return cls(int(parts[1]), int(parts[2]), (year, month), None)
            return cls(int(parts[1]), int(parts[2]), None, date.fromisoformat(parts[3]))
        except ValueError:
            return None


def plan_of(programme: Programme, schedule: list[ProgrammeFee], currency: str) -> money.FeePlan:
    fee = programme.monthly_fee_minor
    return money.FeePlan(
        package_id=programme.id,
        monthly_fee=money.Money(fee, currency) if fee else None,
        due_day=programme.fee_due_day,
        schedule=tuple(
            money.FeeRow(row.due_on, money.Money(row.amount_minor, currency)) for row in schedule
        ),
    )


@dataclass(frozen=True)
class FeeRaised:
    fee_id: int  # the charge's ledger line
    client_id: int
    item: str
    amount: money.Money
    due_on: date


async def raise_fees(db: AsyncSession, now: datetime, policy: Policy) -> list[FeeRaised]:
    """Charge every fee fallen due up to today (local) and not charged yet; commits per
    programme. Returns what it charged."""
    today = policy.today(now)
    with_schedule = select(ProgrammeFee.programme_id).distinct()
    programmes = list(
        await db.scalars(
            select(Programme)
            .where(or_(Programme.monthly_fee_minor > 0, Programme.id.in_(with_schedule)))
            .order_by(Programme.id)
        )
    )
    raised: list[FeeRaised] = []
    for programme in programmes:
        schedule = list(
            await db.scalars(
                select(ProgrammeFee)
                .where(ProgrammeFee.programme_id == programme.id)
                .order_by(ProgrammeFee.due_on)
            )
        )
        plan = plan_of(programme, schedule, policy.currency)
        for enrolment, last_session in await _active_enrolments(db, programme.id):
            ends = (today, programme.valid_until, _local(last_session, policy))
            until = min(day for day in ends if day is not None)
            joined = policy.local_day(enrolment.created_at)
            # the month they joined in is charged too
            since = max(joined.replace(day=1), today - timedelta(days=CATCH_UP_DAYS))
            for fee in money.scheduled_fees(plan, enrolment.client_id, since=since, until=until):
                done = await _charge_fee(db, fee, max(fee.due_on, joined), policy, now)
                if done is not None:
                    raised.append(done)
        await db.commit()
    return raised


def _local(moment: datetime | None, policy: Policy) -> date | None:
    return None if moment is None else policy.local_day(moment)


async def _active_enrolments(
    db: AsyncSession, programme_id: int
) -> list[tuple[Enrolment, datetime | None]]:
    """Active enrolments with their class's last session (None: not in a class)."""
    last = (
        select(func.max(ClassSession.starts_at))
        .where(ClassSession.class_id == Enrolment.class_id)
        .correlate(Enrolment)
        .scalar_subquery()
    )
    rows = await db.execute(
        select(Enrolment, last)
        .where(Enrolment.programme_id == programme_id, Enrolment.status == EnrolmentStatus.ACTIVE)
        .order_by(Enrolment.id)
    )
    return [(enrolment, last_session) for enrolment, last_session in rows]


async def _charge_fee(
    db: AsyncSession, fee: money.FeeCharge, due_on: date, policy: Policy, now: datetime
) -> FeeRaised | None:
    """The fee's charge unless it is there already; credit spent on it; its nudges."""
    client_id = fee.client_id
    await lock_account(db, client_id)
    available = await available_credit(db, client_id, fee.amount.currency)
    dialect = postgresql if db.bind.dialect.name == "postgresql" else sqlite
    fee_id = await db.scalar(
        dialect.insert(LedgerEntry)
        .values(
            client_id=client_id,
            kind=money.EntryKind.CHARGE,
            amount_minor=fee.amount.minor,
            currency=fee.amount.currency,
            item=fee.key,
            charge_for=money.ChargeFor.MONTHLY_FEE,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=[LedgerEntry.item], index_where=_FEE_CHARGE)
        .returning(LedgerEntry.id)
    )
    if fee_id is None:  # charged before
        return None
    to_pay = spend_credit_on(db, client_id, fee.key, fee.amount, available, now)
    # the cadence counts from the due day, or from when the fee was charged if that was later
    start = max(due_on, policy.today(now))
    days = sorted(set(policy.fee_nudge_days))
    times = money.nudge_times(start, days, policy.zone)
    still = set(money.nudges_still_to_send(times, due=to_pay, now=now))
    nudges = [
        (FeeNudge(client_id, fee_id, day), at)
        for day, at in zip(days, times, strict=True)
        if at in still
    ]
    missed = [day for day, at in zip(days, times, strict=True) if at not in still]
    if to_pay.minor > 0 and missed:  # charged after its first nudge's time: nudged now
        nudges.insert(0, (FeeNudge(client_id, fee_id, missed[-1]), now))
    await outbox.put_many(db, nudges, now=now)
    return FeeRaised(fee_id, client_id, fee.key, fee.amount, fee.due_on)


@dataclass(frozen=True)
class FeeDue:
    fee_id: int
    item: FeeItem
    programme_title: str
    charged: money.Money
    due: money.Money


async def fees_due(db: AsyncSession, client_id: int | None = None) -> list[FeeDue]:
    """Fees with something still due (of one client, or everyone's), oldest first."""
    query = (
        select(LedgerEntry)
        .where(
            LedgerEntry.kind == money.EntryKind.CHARGE,
            LedgerEntry.charge_for == money.ChargeFor.MONTHLY_FEE,
        )
        .order_by(LedgerEntry.id)
    )
    if client_id is not None:
        query = query.where(LedgerEntry.client_id == client_id)
    charges = list(await db.scalars(query))
    if not charges:
        return []
    items = {c.item for c in charges}
    lines = await db.scalars(select(LedgerEntry).where(LedgerEntry.item.in_(items)))
    by_item: dict[str, list[money.Entry]] = {}
    for line in lines:
        by_item.setdefault(line.item, []).append(entry_of(line))
    titles = dict((await db.execute(select(Programme.id, Programme.title))).all())
    due = []
    for charge in charges:
        parsed = FeeItem.parse(charge.item)
        account = money.item_account(charge.item, by_item[charge.item])
        if parsed is None or account.due.minor == 0:
            continue
        title = titles.get(parsed.programme_id, "")
        due.append(FeeDue(charge.id, parsed, title, account.charged, account.due))
    return due
