"""Money rules in the studio's words: the client's ledger and balance, refund caps and routes
(Telegram Stars refunds are all-or-nothing), credit spent on the next purchase, entry passes,
attendance credits, fees and payment nudges. Plain values in, a domain error out; no storage.

Amounts are integer minor units with a currency code (cents, or whole Stars for ``XTR``).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import total_ordering

from domain.booking.rules import Period, cancelled_in_time
from domain.errors import (
    AmountNotPositive,
    CurrencyMismatch,
    NoAttendanceCredit,
    PassExpired,
    PassUsedUp,
    RefundOverCap,
    WaiverOverDue,
)

STARS = "XTR"
_NO_MINOR_DIGITS = {STARS, "JPY", "KRW", "VND", "CLP", "ISK"}


@total_ordering
@dataclass(frozen=True)
class Money:
    minor: int
    currency: str

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise CurrencyMismatch(expected=self.currency, got=other.currency)
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.minor + self._same(other).minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.minor - self._same(other).minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.minor < self._same(other).minor

    def at_least_zero(self) -> Money:
        return self if self.minor > 0 else Money.zero(self.currency)

    def __str__(self) -> str:
        # for logs and error params; the bot formats money with Babel in the reader's locale
        if self.currency in _NO_MINOR_DIGITS:
            return f"{self.minor} {self.currency}"
        sign = "-" if self.minor < 0 else ""
        whole, cents = divmod(abs(self.minor), 100)
        return f"{sign}{whole}.{cents:02d} {self.currency}"


def ensure_positive(amount: Money) -> None:
    if amount.minor <= 0:
        raise AmountNotPositive(amount=amount)


# --- policy shares: rounded in the business's favour -------------------------------------


def refund_share(price: Money, percent: int, parts: int = 1) -> Money:
    """``percent`` of one of ``parts`` equal shares of ``price``, rounded down: a refund never
    gives back a fraction of a minor unit that was not paid (N shares never exceed the price)."""
    _check_share(percent, parts)
    return Money(price.minor * percent // (100 * parts), price.currency)


def fee_share(price: Money, percent: int, parts: int = 1) -> Money:
    """As :func:`refund_share` but rounded up: a fee (e.g. for a reschedule) is never short."""
    _check_share(percent, parts)
    return Money(-(-price.minor * percent // (100 * parts)), price.currency)


def _check_share(percent: int, parts: int) -> None:
    if not 0 <= percent <= 100 or parts < 1:
        raise ValueError(f"a percentage 0-100 of 1 or more parts, not {percent}% of {parts}")


# --- the ledger -----------------------------------------------------------------------------


class EntryKind(StrEnum):
    CHARGE = "charge"  # the client owes this for an item
    PAYMENT = "payment"  # money (or balance credit) came in for an item
    REFUND = "refund"  # part of an item's price given back as money
    CREDIT = "credit"  # part of an item's price given back as studio credit on the balance
    WAIVER = "waiver"  # staff forgive what is still due for an item (a fee, a released hold)


class ChargeFor(StrEnum):
    BOOKING = "booking"
    PACKAGE = "package"
    PASS = "pass"
    COURSE = "course"
    MONTHLY_FEE = "monthly_fee"
    RESCHEDULE_FEE = "reschedule_fee"


class Method(StrEnum):
    STARS = "stars"
    CARD = "card"  # a provider token: Telegram has no refund call for these
    VENUE = "venue"  # cash or card at the desk, marked paid by staff
    CREDIT = "credit"  # the client's balance credit, spent on this item


@dataclass(frozen=True)
class Entry:
    """One happening on a client's account. ``amount`` is always positive: the kind says which
    way it goes. ``item`` names what it is about ("booking:12", "fee:3:77:2026-02")."""

    kind: EntryKind
    item: str
    amount: Money
    method: Method | None = None  # payments and refunds
    charge_for: ChargeFor | None = None  # charges
    charge_id: str | None = None  # Telegram's telegram_payment_charge_id of a payment

    def __post_init__(self) -> None:
        ensure_positive(self.amount)
        needs_method = self.kind in (EntryKind.PAYMENT, EntryKind.REFUND)
        if needs_method != (self.method is not None):
            raise ValueError(f"{self.kind} entries {'need' if needs_method else 'take no'} method")
        if self.kind == EntryKind.REFUND and self.method == Method.CREDIT:
            raise ValueError("credit given back is a CREDIT entry, not a refund")


def charge(item: str, amount: Money, charge_for: ChargeFor) -> Entry:
    return Entry(EntryKind.CHARGE, item, amount, charge_for=charge_for)


def payment(item: str, amount: Money, method: Method, charge_id: str | None = None) -> Entry:
    return Entry(EntryKind.PAYMENT, item, amount, method=method, charge_id=charge_id)


def refund(item: str, amount: Money, method: Method) -> Entry:
    return Entry(EntryKind.REFUND, item, amount, method=method)


def credit(item: str, amount: Money) -> Entry:
    return Entry(EntryKind.CREDIT, item, amount)


def waiver(item: str, amount: Money) -> Entry:
    return Entry(EntryKind.WAIVER, item, amount)


def _effect_on_balance(entry: Entry) -> int:
    """+1: the client owes more, -1: less, 0: no change.

    A refund lowers the item's price and hands that money back: the two cancel out. A payment
    from balance credit only moves credit (already counted when it was granted) onto an item.
    """
    if entry.kind == EntryKind.CHARGE:
        return 1
    if entry.kind == EntryKind.PAYMENT:
        return 0 if entry.method == Method.CREDIT else -1
    if entry.kind == EntryKind.REFUND:
        return 0
    return -1  # CREDIT, WAIVER


def _sum(amounts: Iterable[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for amount in amounts:
        total += amount
    return total


def _currency(entries: Sequence[Entry], currency: str | None) -> str:
    if currency is not None:
        return currency
    if not entries:
        raise ValueError("an empty ledger: name its currency")
    return entries[0].amount.currency


def balance(entries: Sequence[Entry], currency: str | None = None) -> Money:
    """What the client owes (> 0) or holds as studio credit (< 0), derived from the entries
    alone: it is never stored. Entries in another currency raise CurrencyMismatch."""
    cur = _currency(entries, currency)
    signed = (Money(e.amount.minor * _effect_on_balance(e), e.amount.currency) for e in entries)
    return _sum(signed, cur)


def available_credit(entries: Sequence[Entry], currency: str | None = None) -> Money:
    return (-balance(entries, currency)).at_least_zero()


@dataclass(frozen=True)
class ItemAccount:
    charged: Money
    paid: Money  # every method, balance credit included
    refunded: Money
    credited: Money
    waived: Money

    @property
    def due(self) -> Money:
        """Still owed for the item; overpayment is not "due": it shows on the balance."""
        return (self.charged - self.waived - self.paid - self.credited).at_least_zero()

    @property
    def refundable(self) -> Money:
        return self.paid - self.refunded - self.credited


def item_account(item: str, entries: Sequence[Entry], currency: str | None = None) -> ItemAccount:
    mine = [e for e in entries if e.item == item]
    cur = _currency(mine or entries, currency)

    def total(kind: EntryKind) -> Money:
        return _sum((e.amount for e in mine if e.kind == kind), cur)

    return ItemAccount(
        charged=total(EntryKind.CHARGE),
        paid=total(EntryKind.PAYMENT),
        refunded=total(EntryKind.REFUND),
        credited=total(EntryKind.CREDIT),
        waived=total(EntryKind.WAIVER),
    )


def due_for(item: str, entries: Sequence[Entry], currency: str | None = None) -> Money:
    return item_account(item, entries, currency).due


def ensure_refundable(item: str, amount: Money, entries: Sequence[Entry]) -> None:
    """A refund, a credit, or both together (pass their sum) for an item: more than zero, and
    no more than was paid for it less what was already refunded or credited."""
    ensure_positive(amount)
    refundable = item_account(item, entries, amount.currency).refundable
    if refundable < amount:
        raise RefundOverCap(requested=amount, refundable=refundable)


def ensure_waivable(item: str, amount: Money, entries: Sequence[Entry]) -> None:
    ensure_positive(amount)
    due = due_for(item, entries, amount.currency)
    if due < amount:
        raise WaiverOverDue(requested=amount, due=due)


# --- how a refund is carried out ----------------------------------------------------------


class RefundRoute(StrEnum):
    STARS_REFUND = "stars_refund"  # refundStarPayment(user_id, charge_id): the whole payment
    BALANCE_CREDIT = "balance_credit"  # kept as studio credit, spent on the next purchase
    PROVIDER = "provider"  # recorded here; staff carry it out at the card provider
    CASH = "cash"  # paid back at the venue; recorded here


@dataclass(frozen=True)
class RefundPlan:
    route: RefundRoute
    entry: Entry  # what the ledger records
    charge_id: str | None = None  # for refundStarPayment


def plan_refund(paid: Entry, amount: Money, *, already_returned: Money | None = None) -> RefundPlan:
    """How ``amount`` of payment ``paid`` goes back. Telegram refunds a Stars payment only whole,
    so anything less (or what is left after an earlier partial refund) becomes balance credit."""
    if paid.kind != EntryKind.PAYMENT:
        raise ValueError("a refund is planned against a payment")
    ensure_positive(amount)
    returned = already_returned or Money.zero(paid.amount.currency)
    refundable = paid.amount - returned
    if refundable < amount:
        raise RefundOverCap(requested=amount, refundable=refundable)
    item = paid.item
    # after an earlier partial refund the cap keeps ``amount`` below the whole payment
    if paid.method == Method.STARS and amount == paid.amount:
        entry = refund(item, amount, Method.STARS)
        return RefundPlan(RefundRoute.STARS_REFUND, entry, charge_id=paid.charge_id)
    if paid.method in (Method.STARS, Method.CREDIT):
        return RefundPlan(RefundRoute.BALANCE_CREDIT, credit(item, amount))
    if paid.method == Method.CARD:
        return RefundPlan(RefundRoute.PROVIDER, refund(item, amount, Method.CARD))
    return RefundPlan(RefundRoute.CASH, refund(item, amount, Method.VENUE))


class RefundState(StrEnum):
    """Where a whole Stars payment's refund through Telegram stands. It is recorded REQUESTED
    (and counts as going back) before Telegram is asked; the answer settles it."""

    REQUESTED = "requested"  # recorded; Telegram not asked yet, or its answer never recorded
    UNKNOWN = "unknown"  # asked; no answer (timeout, network): asked again, or settled later
    DONE = "done"  # Telegram refunded it
    REFUSED = "refused"  # Telegram said no: the money is held again


OPEN_REFUND_STATES = (RefundState.REQUESTED, RefundState.UNKNOWN)


def refund_answered(state: RefundState, answer: RefundState) -> RefundState:
    """A Stars refund's state after an answer from Telegram (DONE, REFUSED, or UNKNOWN for
    none): an open refund takes it; a settled one (done or refused) stays as it is, so a late
    or repeated answer changes nothing."""
    if answer == RefundState.REQUESTED:
        raise ValueError("an answer is done, refused or unknown")
    return answer if state in OPEN_REFUND_STATES else state


# --- balance credit spent on the next purchase ----------------------------------------------


@dataclass(frozen=True)
class CreditUse:
    credit_used: Money
    to_invoice: Money

    @property
    def needs_invoice(self) -> bool:
        return self.to_invoice.minor > 0


def spend_credit(available: Money, price: Money) -> CreditUse:
    """Credit covers as much of ``price`` as it can; the rest is invoiced."""
    if price.minor < 0:
        raise AmountNotPositive(amount=price)
    used = min(available.at_least_zero(), price)
    return CreditUse(credit_used=used, to_invoice=price - used)


# --- entry passes (pay-as-you-go) ------------------------------------------------------------


@dataclass(frozen=True)
class EntryPass:
    entries: int  # K sessions bought
    expires_on: date  # the last local day a session may be on
    used: int = 0

    @property
    def left(self) -> int:
        return self.entries - self.used


def use_pass_entry(entry_pass: EntryPass, *, starts_at: datetime, zone: tzinfo) -> EntryPass:
    if entry_pass.left <= 0:
        raise PassUsedUp(entries=entry_pass.entries)
    if starts_at.astimezone(zone).date() > entry_pass.expires_on:
        raise PassExpired(expires_on=entry_pass.expires_on)
    return replace(entry_pass, used=entry_pass.used + 1)


def pass_after_cancel(
    entry_pass: EntryPass, *, starts_at: datetime, now: datetime, notice_hours: int
) -> EntryPass:
    """Cancelling in time gives the entry back; a late cancellation keeps it used."""
    if entry_pass.used <= 0:
        raise ValueError("no entry of this pass is in use")
    if not cancelled_in_time(starts_at=starts_at, now=now, notice_hours=notice_hours):
        return entry_pass
    return replace(entry_pass, used=entry_pass.used - 1)


# --- attendance credits (course packages) ------------------------------------------------------


def month_of(day: date) -> Period:
    last = calendar.monthrange(day.year, day.month)[1]
    return Period(day.replace(day=1), day.replace(day=last))


@dataclass(frozen=True)
class AttendanceCredits:
    period: Period
    granted: int
    used: int = 0

    @property
    def left(self) -> int:
        return self.granted - self.used


def grant_credits(
    per_period: int,
    period: Period,
    previous: AttendanceCredits | None = None,
    *,
    expire_unused: bool,
) -> AttendanceCredits:
    """A new period's credits; unused ones from the period before carry over unless they expire."""
    carried = 0 if previous is None or expire_unused else max(previous.left, 0)
    return AttendanceCredits(period=period, granted=per_period + carried)


def credits_left_on(credits: AttendanceCredits | None, day: date) -> int:
    """Credits usable for a session on ``day``: those of the period that holds it."""
    if credits is None or not credits.period.contains(day):
        return 0
    return max(credits.left, 0)


def consume_credit(credits: AttendanceCredits, day: date) -> AttendanceCredits:
    if credits_left_on(credits, day) <= 0:
        raise NoAttendanceCredit()
    return replace(credits, used=credits.used + 1)


def ensure_can_enrol_with_credits(credits_left: int, *, allowed_without_credit: bool) -> None:
    if credits_left <= 0 and not allowed_without_credit:
        raise NoAttendanceCredit()


# --- fees --------------------------------------------------------------------------------------


def due_date(year: int, month: int, due_day: int) -> date:
    """The due day in a month; past the month's end (31 in April, 29-31 in February) it is the
    month's last day."""
    if not 1 <= due_day <= 31:
        raise ValueError(f"a due day is 1-31, not {due_day}")
    return date(year, month, min(due_day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class FeeRow:
    due_on: date
    amount: Money


@dataclass(frozen=True)
class FeePlan:
    """A course package's fees: a monthly fee on a due day, unless a custom schedule is set."""

    package_id: int
    monthly_fee: Money | None = None
    due_day: int = 1
    schedule: tuple[FeeRow, ...] = ()


@dataclass(frozen=True)
class FeeCharge:
    key: str  # stable: raising the same fee again finds it already there
    client_id: int
    due_on: date
    amount: Money

    def entry(self) -> Entry:
        return charge(self.key, self.amount, ChargeFor.MONTHLY_FEE)


def _months(first: date, last: date) -> Iterable[tuple[int, int]]:
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def scheduled_fees(plan: FeePlan, client_id: int, *, since: date, until: date) -> list[FeeCharge]:
    """Every fee of ``plan`` falling due from ``since`` to ``until`` (both included)."""
    prefix = f"fee:{plan.package_id}:{client_id}"
    if plan.schedule:
        rows = sorted(plan.schedule, key=lambda r: r.due_on)
        return [
            FeeCharge(f"{prefix}:{row.due_on:%Y-%m-%d}", client_id, row.due_on, row.amount)
            for row in rows
            if since <= row.due_on <= until
        ]
    if plan.monthly_fee is None or plan.monthly_fee.minor == 0:
        return []
    fees = []
    for year, month in _months(since, until):
        due_on = due_date(year, month, plan.due_day)
        if since <= due_on <= until:
            # keyed by month, not day: moving the due day never raises a month's fee twice
            key = f"{prefix}:{year:04d}-{month:02d}"
            fees.append(FeeCharge(key, client_id, due_on, plan.monthly_fee))
    return fees


def fees_to_raise(
    plan: FeePlan, client_id: int, *, on: date, since: date, raised: Iterable[str] = ()
) -> list[FeeCharge]:
    """What the daily job charges on ``on``: fees due since the client enrolled (``since``), up
    to today, not raised yet. Days the job missed are caught up; running it twice adds nothing."""
    done = set(raised)
    due = scheduled_fees(plan, client_id, since=since, until=on)
    return [fee for fee in due if fee.key not in done]


# --- payment nudges ------------------------------------------------------------------------------


def nudge_times(
    due_on: date, cadence_days: Sequence[int], zone: tzinfo, at: time = time(10)
) -> list[datetime]:
    """When "please pay" reminders go out, in UTC: ``at`` on the business's clock on each day of
    the cadence after the due date (0 = the due day itself), across daylight-saving changes."""
    if any(days < 0 for days in cadence_days):
        raise ValueError("nudges come on or after the due day")
    times = []
    for days in sorted(set(cadence_days)):
        local = datetime.combine(due_on + timedelta(days=days), at)
        times.append(local.replace(tzinfo=zone).astimezone(UTC))
    return times


def nudges_still_to_send(times: Sequence[datetime], *, due: Money, now: datetime) -> list[datetime]:
    """The remaining nudges: none once nothing is due for the item, else those after ``now``."""
    if due.minor <= 0:
        return []
    return [at for at in times if at > now]
