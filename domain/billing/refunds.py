"""Staff money actions on a client's booking: mark it paid at the venue, refund (all or part
of) what was paid, waive what is still due. Each use case checks the booking is the client's,
applies domain.billing.money's caps and routes, writes ledger lines with the staff member's id and
reason, and commits once.

A Stars payment goes back through Telegram only whole (refundStarPayment), so the refund use
case takes that call as a function: it is made before anything is recorded, and when Telegram
refuses, nothing is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.billing import money
from domain.billing.payments import _line, booking_item, entries, lock_account
from domain.errors import (
    BookingNotFound,
    DomainError,
    FeeNotFound,
    NothingDue,
    StarsRefundRefused,
)
from domain.notices import outbox
from domain.notices.events import MoneyReturned
from domain.storage.models import Booking, LedgerEntry, Package, PackageSlot

# refundStarPayment(user_id, telegram_payment_charge_id); raises StarsRefundRefused
RefundStars = Callable[[int, str], Awaitable[None]]


async def _booking_lines(db: AsyncSession, client_id: int, booking_id: int) -> list[money.Entry]:
    """The client's ledger lines for their booking (their account locked for the rest of the
    transaction); someone else's booking reads as missing."""
    await lock_account(db, client_id)
    booking = await db.get(Booking, booking_id)
    if booking is None or booking.client_id != client_id:
        raise BookingNotFound()
    item = booking_item(booking_id)
    return [e for e in await entries(db, client_id) if e.item == item]


def _staff_line(
    client_id: int,
    entry: money.Entry,
    now: datetime,
    *,
    staff_id: int,
    reason: str | None,
    refunded_charge_id: str | None = None,
) -> LedgerEntry:
    line = _line(
        client_id, entry.item, entry.kind, entry.amount, now, method=entry.method, reason=reason
    )
    line.staff_id = staff_id
    # which Telegram payment went back (the refund's own charge id column stays unique)
    line.provider_charge_id = refunded_charge_id
    return line


# --- paid at the venue ---------------------------------------------------------------------


async def mark_paid_at_venue(
    db: AsyncSession, *, client_id: int, booking_id: int, staff_id: int, now: datetime
) -> money.Money:
    """What is due for the booking was paid at the desk; returns that amount."""
    lines = await _booking_lines(db, client_id, booking_id)
    return await _paid_at_venue(db, client_id, booking_item(booking_id), lines, staff_id, now)


async def _paid_at_venue(
    db: AsyncSession,
    client_id: int,
    item: str,
    lines: list[money.Entry],
    staff_id: int,
    now: datetime,
) -> money.Money:
    due = money.due_for(item, lines) if lines else None
    if due is None or due.minor == 0:
        raise NothingDue()
    entry = money.payment(item, due, money.Method.VENUE)
    db.add(_staff_line(client_id, entry, now, staff_id=staff_id, reason=None))
    await db.commit()
    return due


# --- fees ------------------------------------------------------------------------------------


async def _fee_lines(db: AsyncSession, fee_id: int) -> tuple[int, str, list[money.Entry]]:
    """The fee's client, item and ledger lines (their account locked for the transaction)."""
    line = await db.get(LedgerEntry, fee_id)
    if line is None or line.charge_for != money.ChargeFor.MONTHLY_FEE:
        raise FeeNotFound()
    await lock_account(db, line.client_id)
    lines = [e for e in await entries(db, line.client_id) if e.item == line.item]
    return line.client_id, line.item, lines


async def fee_paid_at_venue(
    db: AsyncSession, *, fee_id: int, staff_id: int, now: datetime
) -> money.Money:
    """What is due of the fee was paid at the desk; returns that amount."""
    client_id, item, lines = await _fee_lines(db, fee_id)
    return await _paid_at_venue(db, client_id, item, lines, staff_id, now)


async def waive_fee(
    db: AsyncSession, *, fee_id: int, reason: str, staff_id: int, now: datetime
) -> money.Money:
    """Staff forgive what is still due of the fee (its reminders then stop); returns it."""
    client_id, item, lines = await _fee_lines(db, fee_id)
    due = money.due_for(item, lines)
    if due.minor == 0:
        raise NothingDue()
    db.add(_staff_line(client_id, money.waiver(item, due), now, staff_id=staff_id, reason=reason))
    await db.commit()
    return due


# --- waiving what is due ---------------------------------------------------------------------


async def waive_due(
    db: AsyncSession,
    *,
    client_id: int,
    booking_id: int,
    amount: money.Money,
    reason: str,
    staff_id: int,
    now: datetime,
) -> money.Money:
    lines = await _booking_lines(db, client_id, booking_id)
    item = booking_item(booking_id)
    if not lines or money.due_for(item, lines).minor == 0:
        raise NothingDue()
    money.ensure_waivable(item, amount, lines)
    entry = money.waiver(item, amount)
    db.add(_staff_line(client_id, entry, now, staff_id=staff_id, reason=reason))
    await db.commit()
    return amount


# --- refunds ---------------------------------------------------------------------------------


def plan_item_refund(item: str, amount: money.Money, lines: Sequence[money.Entry]):
    """How ``amount`` of what was paid for ``item`` goes back, payment by payment.

    The ledger does not tie a refund to one payment, so returns are laid on the item's payments
    newest first, the earlier ones before this one: the same order every time. A Stars payment
    returned whole is refunded by Telegram; any part of one becomes balance credit.
    """
    money.ensure_refundable(item, amount, lines)
    account = money.item_account(item, lines, amount.currency)
    returned = account.refunded + account.credited  # laid on the newest payments first
    left = amount
    plans: list[money.RefundPlan] = []
    for paid in reversed(
        [e for e in lines if e.item == item and e.kind == money.EntryKind.PAYMENT]
    ):
        earlier = min(returned, paid.amount)
        returned -= earlier
        room = paid.amount - earlier
        if room.minor == 0 or left.minor == 0:
            continue
        part = min(room, left)
        plans.append(money.plan_refund(paid, part, already_returned=earlier))
        left -= part
    return plans


@dataclass(frozen=True)
class RefundDone:
    amount: money.Money
    by_route: dict[money.RefundRoute, money.Money]

    @property
    def as_credit(self) -> money.Money:
        return self.by_route.get(money.RefundRoute.BALANCE_CREDIT, money.Money.zero(self.currency))

    @property
    def currency(self) -> str:
        return self.amount.currency


async def refund_booking(
    db: AsyncSession,
    *,
    client_id: int,
    booking_id: int,
    amount: money.Money,
    reason: str,
    staff_id: int,
    now: datetime,
    refund_stars: RefundStars,
) -> RefundDone:
    """Give back ``amount`` of what the client paid for their booking (at most what was paid
    less what went back before). Whole Stars payments go back through Telegram first; if
    Telegram refuses one, only the Stars refunds it already carried out are recorded (that
    money is gone) and StarsRefundRefused says why."""
    lines = await _booking_lines(db, client_id, booking_id)
    return await _refund(
        db,
        client_id=client_id,
        item=booking_item(booking_id),
        lines=lines,
        about_booking=booking_id,
        amount=amount,
        reason=reason,
        staff_id=staff_id,
        now=now,
        refund_stars=refund_stars,
    )


async def refund_package(
    db: AsyncSession,
    *,
    package_id: int,
    amount: money.Money,
    reason: str,
    staff_id: int,
    now: datetime,
    refund_stars: RefundStars,
) -> RefundDone:
    """Staff give back any amount (up to what was paid, less what went back) on a session
    package, routed like a booking's refund; the client is told."""
    package = await db.get(Package, package_id)
    first = await db.scalar(
        select(PackageSlot.booking_id)
        .where(PackageSlot.package_id == package_id)
        .order_by(PackageSlot.slot, PackageSlot.booking_id)
        .limit(1)
    )
    if package is None or first is None:
        raise BookingNotFound()
    await lock_account(db, package.client_id)
    item = f"package:{package_id}"
    lines = [e for e in await entries(db, package.client_id) if e.item == item]
    return await _refund(
        db,
        client_id=package.client_id,
        item=item,
        lines=lines,
        about_booking=first,
        amount=amount,
        reason=reason,
        staff_id=staff_id,
        now=now,
        refund_stars=refund_stars,
    )


async def _refund(
    db: AsyncSession,
    *,
    client_id: int,
    item: str,
    lines: list[money.Entry],
    about_booking: int,
    amount: money.Money,
    reason: str,
    staff_id: int,
    now: datetime,
    refund_stars: RefundStars,
) -> RefundDone:
    plans = plan_item_refund(item, amount, lines)
    done: dict[money.RefundRoute, money.Money] = {}
    written: list[LedgerEntry] = []
    refused: DomainError | None = None
    for plan in sorted(plans, key=lambda p: p.route != money.RefundRoute.STARS_REFUND):
        if plan.route == money.RefundRoute.STARS_REFUND:
            try:
                await refund_stars(client_id, plan.charge_id or "")
            except StarsRefundRefused as error:
                refused = error
                break
        line = _staff_line(
            client_id,
            plan.entry,
            now,
            staff_id=staff_id,
            reason=reason,
            refunded_charge_id=plan.charge_id,
        )
        db.add(line)
        written.append(line)
        done[plan.route] = done.get(plan.route, money.Money.zero(amount.currency)) + (
            plan.entry.amount
        )
    result = RefundDone(sum(done.values(), money.Money.zero(amount.currency)), done)
    if written:  # the client is told, through the outbox, in this same transaction
        await db.flush()
        told = MoneyReturned(
            client_id, about_booking, result.amount.minor, result.as_credit.minor, written[0].id
        )
        await outbox.record(db, [told], now)
    await db.commit()
    if refused is not None:
        raise refused
    return result
