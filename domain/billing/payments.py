"""Payments into the ledger: what an invoice's payload says, and applying Telegram's
successful_payment exactly once.

Telegram may deliver the same successful_payment more than once; its
``telegram_payment_charge_id`` is unique per payment, and the ledger's unique ``charge_id``
makes the second (or concurrent) application a no-op, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.billing import money, passes
from domain.billing.items import OfferItem
from domain.clients.record import ClientRef, remember_client
from domain.courses import units as course_units
from domain.errors import (
    AlreadyPaid,
    AmountChanged,
    BookingAlreadyCancelled,
    BookingNotFound,
    CourseAlreadyBought,
    CourseNotOnSale,
    DomainError,
    FeeNotFound,
    InvalidPayment,
    PassAlreadyBought,
    PassNotOnSale,
    SessionAlreadyStarted,
)
from domain.notices import outbox
from domain.notices.events import PaymentNudge, PaymentReceived
from domain.policy import DEFAULT_POLICY, Policy
from domain.storage.db import lock_for_writing
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    Client,
    ClientCourse,
    ClientPass,
    CourseOffer,
    LedgerEntry,
    PassOffer,
    ProgrammeKind,
    RefundRequest,
)

log = logging.getLogger(__name__)

PAYLOAD_VERSION = "v1"
MAX_PAYLOAD_BYTES = 128  # Telegram's limit for an invoice payload


@dataclass(frozen=True)
class InvoiceFor:
    """What an invoice asks to be paid: an item (e.g. "booking:42"), the amount and currency."""

    item: str
    amount_minor: int
    currency: str

    def payload(self) -> str:
        text = f"{PAYLOAD_VERSION}|{self.item}|{self.amount_minor}|{self.currency}"
        if len(text.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"invoice payload over {MAX_PAYLOAD_BYTES} bytes: {text!r}")
        return text

    @classmethod
    def from_payload(cls, payload: str) -> InvoiceFor:
        parts = payload.split("|")
        if len(parts) != 4 or parts[0] != PAYLOAD_VERSION or not parts[2].isdigit():
            raise InvalidPayment()
        _, item, amount, currency = parts
        if not item or int(amount) <= 0 or len(currency) != 3:
            raise InvalidPayment()
        return cls(item, int(amount), currency)


@dataclass(frozen=True)
class OfferTerms:
    """What buying from an offer (a pass, a course) gets: its title, price and validity, and
    a pass's entries (None for a course), as the invoice describes it."""

    id: int
    title: str
    price_minor: int
    valid_days: int | None
    entries: int | None = None

    @classmethod
    def of(cls, offer: PassOffer | CourseOffer) -> OfferTerms:
        entries = offer.entries if isinstance(offer, PassOffer) else None
        return cls(offer.id, offer.title, offer.price_minor, offer.valid_days, entries)


def booking_item(booking_id: int) -> str:
    return f"booking:{booking_id}"


FEE_ITEM_KIND = "fee"  # "fee:<programme>:<client>:<YYYY-MM or YYYY-MM-DD>" (domain.billing.money)
PACKAGE_ITEM_KIND = "package"  # "package:<id>" (domain.timetable.packages)


@dataclass(frozen=True)
class Product:
    """Something bought from an offer with an invoice (an entry pass, a course): its offers
    (``on_sale``, ``price_minor``), what a payment writes (unique by its ledger item, see
    domain.billing.items), why it can't be bought, and how it is written with the payment."""

    kind: str
    offer: type[PassOffer | CourseOffer]
    bought: type[ClientPass | ClientCourse]
    not_on_sale: type[DomainError]
    already_bought: type[DomainError]
    grant: Callable  # (db, *, client_id, item, currency, policy, now) -> bool

    async def invoice(
        self, db: AsyncSession, *, client: ClientRef, offer_id: int, currency: str, now: datetime
    ) -> tuple[PassOffer | CourseOffer, money.Money, str]:
        """The offer, its price and a fresh ledger item to invoice it under. The client is
        remembered (and committed) now: their payment lands on their ledger."""
        offer = await db.get(self.offer, offer_id)
        if offer is None or not offer.on_sale:
            raise self.not_on_sale()
        await remember_client(db, client, now)
        await db.commit()
        item = OfferItem.new(self.kind, offer.id)
        return offer, money.Money(offer.price_minor, currency), str(item)

    async def check(
        self,
        db: AsyncSession,
        *,
        item: str,
        amount: money.Money,
        currency: str,
        credit: money.Money,
    ) -> None:
        """Pre-checkout: still on sale at this price less the client's ``credit`` (spent on it
        with the payment), this invoice not paid yet."""
        parsed = OfferItem.parse(item, self.kind)
        if parsed is None:
            raise InvalidPayment()
        offer = await db.get(self.offer, parsed.offer_id)
        if offer is None or not offer.on_sale:
            raise self.not_on_sale()
        price = money.Money(offer.price_minor, currency)
        if amount != money.spend_credit(credit, price).to_invoice:
            raise self.not_on_sale()
        if await db.scalar(select(self.bought.id).where(self.bought.item == item)) is not None:
            raise self.already_bought()


PRODUCTS = {
    passes.ITEM_KIND: Product(
        passes.ITEM_KIND,
        PassOffer,
        ClientPass,
        PassNotOnSale,
        PassAlreadyBought,
        passes.grant_pass,
    ),
    course_units.ITEM_KIND: Product(
        course_units.ITEM_KIND,
        CourseOffer,
        ClientCourse,
        CourseNotOnSale,
        CourseAlreadyBought,
        course_units.grant_course,
    ),
}


def product_of(item: str) -> Product | None:
    kind = item.partition(":")[0]
    product = PRODUCTS.get(kind)
    if product is None or OfferItem.parse(item, kind) is None:
        return None
    return product


async def apply_payment(
    db: AsyncSession,
    *,
    client_id: int,
    paid: InvoiceFor,
    charge_id: str,
    method: money.Method,
    now: datetime,
    provider_charge_id: str | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> bool:
    """Record a successful payment; True the first time, False for a repeat of the same
    charge (nothing is written then). The money is recorded even when the item went away
    meanwhile: it then shows as credit on the client's balance, never lost. A pass is
    bought in the same transaction, so it too is written once, and so is the client's
    thank-you (through the outbox): a payment Telegram delivers again is thanked for once."""
    applied = await _write_payment(
        db,
        client_id=client_id,
        paid=paid,
        charge_id=charge_id,
        method=method,
        now=now,
        provider_charge_id=provider_charge_id,
        policy=policy,
    )
    await db.commit()
    return applied


@dataclass(frozen=True)
class ReceivedPayment:
    """Money Telegram took from a client, as its successful_payment tells it (or, when that
    never reached us, its Stars transaction: domain.billing.reconcile)."""

    client_id: int
    payload: str
    amount_minor: int
    currency: str
    charge_id: str
    provider_charge_id: str | None = None

    def invoice(self) -> InvoiceFor:
        """What was paid for, by the invoice's payload. A payload we never issued still
        records the money (as "unknown": credit on the client's balance), never loses it."""
        try:
            item = InvoiceFor.from_payload(self.payload).item
        except InvalidPayment:
            log.error("payment %s with an unknown payload %r", self.charge_id, self.payload)
            item = "unknown"
        return InvoiceFor(item, self.amount_minor, self.currency)


async def record_payment(
    db: AsyncSession,
    payment: ReceivedPayment,
    *,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
    late: bool = False,
) -> InvoiceFor | None:
    """A payment Telegram took goes into the ledger once per charge id, with the client's
    thank-you (through the outbox) in the same transaction: what it paid for, or None when
    it was already recorded (nothing is written then). ``late``: found by reconciliation,
    not delivered by Telegram as it happened (the thanks then apologises)."""
    paid = payment.invoice()
    stars = payment.currency == money.STARS
    applied = await _write_payment(
        db,
        client_id=payment.client_id,
        paid=paid,
        charge_id=payment.charge_id,
        method=money.Method.STARS if stars else money.Method.CARD,
        now=now,
        provider_charge_id=payment.provider_charge_id or None,
        policy=policy,
        late=late,
    )
    await db.commit()
    return paid if applied else None


async def _write_payment(
    db: AsyncSession,
    *,
    client_id: int,
    paid: InvoiceFor,
    charge_id: str,
    method: money.Method,
    now: datetime,
    provider_charge_id: str | None,
    policy: Policy,
    late: bool = False,
) -> bool:
    """apply_payment within the caller's transaction."""
    if not charge_id:
        raise InvalidPayment()
    dialect = postgresql if db.bind.dialect.name == "postgresql" else sqlite
    inserted = await db.execute(
        dialect.insert(LedgerEntry)
        .values(
            client_id=client_id,
            kind=money.EntryKind.PAYMENT,
            amount_minor=paid.amount_minor,
            currency=paid.currency,
            item=paid.item,
            method=method,
            charge_id=charge_id,
            provider_charge_id=provider_charge_id,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=[LedgerEntry.charge_id])
    )
    applied = inserted.rowcount == 1
    product = product_of(paid.item)
    if applied and product is not None:
        await lock_account(db, client_id)
        granted = await product.grant(
            db,
            client_id=client_id,
            item=paid.item,
            currency=paid.currency,
            policy=policy,
            now=now,
        )
        if granted:  # the invoice left out the client's credit: it pays the rest now
            await db.flush()
            await _settle_from_credit(db, client_id, paid.item, now)
    if applied:
        thanks = PaymentReceived(
            client_id, charge_id, paid.item, paid.amount_minor, paid.currency, late=late
        )
        await outbox.record(db, [thanks], now)
    return applied


async def buy_pass(
    db: AsyncSession,
    *,
    client: ClientRef,
    offer_id: int,
    policy: Policy,
    now: datetime,
) -> tuple[OfferTerms, str, InvoiceFor | None]:
    """Buying a pass (see buy)."""
    return await buy(
        db, PRODUCTS[passes.ITEM_KIND], client=client, offer_id=offer_id, policy=policy, now=now
    )


async def buy_course(
    db: AsyncSession,
    *,
    client: ClientRef,
    offer_id: int,
    policy: Policy,
    now: datetime,
) -> tuple[OfferTerms, str, InvoiceFor | None]:
    """Buying a course or service package (see buy)."""
    kind = course_units.ITEM_KIND
    return await buy(db, PRODUCTS[kind], client=client, offer_id=offer_id, policy=policy, now=now)


async def buy(
    db: AsyncSession,
    product: Product,
    *,
    client: ClientRef,
    offer_id: int,
    policy: Policy,
    now: datetime,
) -> tuple[OfferTerms, str, InvoiceFor | None]:
    """Buying from an offer: its terms, the ledger item and the invoice. Credit on the
    client's balance is spent first: when it covers the price the thing is theirs at once
    (committed; no invoice: None); else the invoice is for the rest, and the credit is spent
    when that is paid (pre-checkout checks the amount again)."""
    offer, price, item = await product.invoice(
        db, client=client, offer_id=offer_id, currency=policy.currency, now=now
    )
    terms = OfferTerms.of(offer)
    await lock_account(db, client.id)
    use = money.spend_credit(await available_credit(db, client.id, policy.currency), price)
    if use.needs_invoice:
        await db.commit()
        return terms, item, InvoiceFor(item, use.to_invoice.minor, use.to_invoice.currency)
    await product.grant(
        db, client_id=client.id, item=item, currency=price.currency, policy=policy, now=now
    )
    await db.flush()
    await _settle_from_credit(db, client.id, item, now)
    await db.commit()
    return terms, item, None


async def _settle_from_credit(
    db: AsyncSession, client_id: int, item: str, now: datetime
) -> money.CreditUse | None:
    """Spend the client's credit on what is due for ``item`` (within the caller's transaction):
    only credit not already settling their other dues. None when nothing is due."""
    lines = await entries(db, client_id)
    due = money.due_for(item, lines)
    if due.minor == 0:
        return None
    available = (due - money.balance(lines, due.currency)).at_least_zero()
    use = money.spend_credit(available, due)
    if use.credit_used.minor > 0:
        paid = money.EntryKind.PAYMENT
        db.add(_line(client_id, item, paid, use.credit_used, now, method=money.Method.CREDIT))
    return use


async def lock_account(db: AsyncSession, client_id: int) -> None:
    """Take the lock for a read-then-write money action on the client, before their ledger is
    read: actions on one client (two staff refunding at once, two Pay taps spending the same
    credit) then run one after the other and each sees what the other wrote. The client's row
    (FOR UPDATE) on PostgreSQL; the database's writer lock (BEGIN IMMEDIATE) on SQLite — see
    domain.storage.db.lock_for_writing."""
    await lock_for_writing(db, select(Client.id).where(Client.id == client_id))


async def entries(db: AsyncSession, client_id: int) -> list[money.Entry]:
    """The client's ledger, oldest first, as the pure rules read it, followed by the Stars
    refunds asked of Telegram and not yet answered (domain.billing.refunds): they count as
    going back, so no refund or credit is planned on that money meanwhile."""
    rows = await db.scalars(
        select(LedgerEntry).where(LedgerEntry.client_id == client_id).order_by(LedgerEntry.id)
    )
    lines = [entry_of(row) for row in rows]
    pending = await db.execute(
        select(RefundRequest.item, RefundRequest.amount_minor, RefundRequest.currency)
        .where(
            RefundRequest.client_id == client_id,
            RefundRequest.state.in_(money.OPEN_REFUND_STATES),
        )
        .order_by(RefundRequest.id)
    )
    stars = money.Method.STARS
    lines += [money.refund(item, money.Money(minor, cur), stars) for item, minor, cur in pending]
    return lines


def entry_of(row: LedgerEntry) -> money.Entry:
    """A ledger line as the pure rules (domain.billing.money) read it."""
    return money.Entry(
        kind=money.EntryKind(row.kind),
        item=row.item,
        amount=money.Money(row.amount_minor, row.currency),
        method=money.Method(row.method) if row.method else None,
        charge_for=money.ChargeFor(row.charge_for) if row.charge_for else None,
        charge_id=row.charge_id,
    )


async def balance(db: AsyncSession, client_id: int, currency: str) -> money.Money:
    """What the client owes in ``currency`` (> 0) or holds as credit (< 0): domain.billing.money's
    balance over their ledger lines in that currency."""
    lines = [e for e in await entries(db, client_id) if e.amount.currency == currency]
    return money.balance(lines, currency)


# --- bookings ---------------------------------------------------------------------------------


async def charge_booking(
    db: AsyncSession,
    *,
    booking_id: int,
    client_id: int,
    price_minor: int | None,
    starts_at: datetime,
    policy: Policy,
    now: datetime,
) -> None:
    """A priced session was booked: the client owes its price, and credit on their balance
    (e.g. from a booking cancelled in time) is spent on it at once (within the caller's
    transaction). Free sessions charge nothing."""
    if not price_minor or price_minor <= 0:
        return
    price = money.Money(price_minor, policy.currency)
    available = await available_credit(db, client_id, policy.currency)
    item = booking_item(booking_id)
    charge = _line(client_id, item, money.EntryKind.CHARGE, price, now)
    charge.charge_for = money.ChargeFor.BOOKING
    db.add(charge)
    to_invoice = spend_credit_on(db, client_id, item, price, available, now)
    await _schedule_nudges(db, booking_id, client_id, to_invoice, starts_at, policy, now)


async def pay_for_booking(
    db: AsyncSession, *, booking: Booking, session: ClassSession, policy: Policy, now: datetime
) -> tuple[int | None, DomainError | None]:
    """How a new booking is paid (within the caller's transaction): a priced pay-as-you-go
    session takes an entry of the client's pass if one can pay for it; otherwise its price is
    charged (credit spent first) — except in an ongoing class, which its fees pay for.
    Returns the pass used, or None and why the client's pass could not pay."""
    klass = session.klass
    programme = klass.programme
    pass_id, problem = None, None
    if programme.kind == ProgrammeKind.PAYG and klass.price_minor:
        pass_id, problem = await passes.take_entry(
            db,
            client_id=booking.client_id,
            programme_id=programme.id,
            starts_at=session.starts_at,
            policy=policy,
        )
        booking.pass_id = pass_id
    if pass_id is None and programme.kind != ProgrammeKind.ONGOING:
        await charge_booking(
            db,
            booking_id=booking.id,
            client_id=booking.client_id,
            price_minor=klass.price_minor,
            starts_at=session.starts_at,
            policy=policy,
            now=now,
        )
    return pass_id, problem


async def available_credit(db: AsyncSession, client_id: int, currency: str) -> money.Money:
    """Credit on the client's balance in ``currency``, before any charge now being written."""
    lines = [e for e in await entries(db, client_id) if e.amount.currency == currency]
    return money.available_credit(lines, currency) if lines else money.Money.zero(currency)


def spend_credit_on(
    db: AsyncSession,
    client_id: int,
    item: str,
    price: money.Money,
    available: money.Money,
    now: datetime,
) -> money.Money:
    """Pay what ``available`` credit covers of a new charge for ``item`` (within the caller's
    transaction); returns what is left to pay."""
    use = money.spend_credit(available, price)
    if use.credit_used.minor > 0:
        paid = money.EntryKind.PAYMENT
        db.add(_line(client_id, item, paid, use.credit_used, now, method=money.Method.CREDIT))
    return use.to_invoice


async def _schedule_nudges(
    db: AsyncSession,
    booking_id: int,
    client_id: int,
    due: money.Money,
    starts_at: datetime,
    policy: Policy,
    now: datetime,
) -> None:
    """Reminders to pay, days after booking, while the session is still ahead. Each one checks
    again when it goes out (paid, cancelled: not sent); cancelling the booking cancels them."""
    times = money.nudge_times(policy.local_day(now), policy.payment_nudge_days, policy.zone)
    items = [
        (PaymentNudge(client_id, booking_id, day), at)
        for day, at in zip(sorted(set(policy.payment_nudge_days)), times, strict=True)
        if at < starts_at
    ]
    remaining = set(money.nudges_still_to_send([at for _, at in items], due=due, now=now))
    await outbox.put_many(db, [(e, at) for e, at in items if at in remaining], now=now)


async def settle_cancelled_booking(
    db: AsyncSession,
    *,
    booking_id: int,
    client_id: int,
    in_time: bool,
    now: datetime,
    reason: str = "cancelled",
) -> None:
    """A booking was cancelled, or no longer costs its price (moved onto a course), within
    the caller's transaction: what is still unpaid is waived; what was paid becomes credit on
    the client's balance when in time (spent on their next booking), and stays with the
    studio when late."""
    item = booking_item(booking_id)
    lines = [e for e in await entries(db, client_id) if e.item == item]
    if not lines:
        return
    account = money.item_account(item, lines)
    if account.due.minor > 0:
        db.add(_line(client_id, item, money.EntryKind.WAIVER, account.due, now))
    refundable = account.refundable
    if in_time and refundable.minor > 0:
        db.add(_line(client_id, item, money.EntryKind.CREDIT, refundable, now, reason=reason))


async def charge_reschedule_fee(
    db: AsyncSession, client_id: int, item: str, fee: money.Money, now: datetime
) -> money.Money:
    """A fee for moving a booking or a package's session, charged on ``item`` (credit on the
    client's balance spent first); returns what is left to pay."""
    await lock_account(db, client_id)
    available = await available_credit(db, client_id, fee.currency)
    charge = _line(client_id, item, money.EntryKind.CHARGE, fee, now)
    charge.charge_for = money.ChargeFor.RESCHEDULE_FEE
    db.add(charge)
    return spend_credit_on(db, client_id, item, fee, available, now)


def _line(
    client_id: int,
    item: str,
    kind: money.EntryKind,
    amount: money.Money,
    now: datetime,
    *,
    method: money.Method | None = None,
    reason: str | None = None,
) -> LedgerEntry:
    return LedgerEntry(
        client_id=client_id,
        kind=kind,
        amount_minor=amount.minor,
        currency=amount.currency,
        item=item,
        method=method,
        reason=reason,
        created_at=now,
    )


@dataclass(frozen=True)
class BookingDue:
    """What a booking's price and payments stand at, for the client."""

    charged: money.Money
    due: money.Money

    @property
    def paid_in_full(self) -> bool:
        return self.charged.minor > 0 and self.due.minor == 0


async def booking_due(db: AsyncSession, client_id: int, booking_id: int) -> BookingDue | None:
    """None when the booking carries no charge (free, or from before payments existed)."""
    item = booking_item(booking_id)
    lines = [e for e in await entries(db, client_id) if e.item == item]
    if not any(e.kind == money.EntryKind.CHARGE for e in lines):
        return None
    account = money.item_account(item, lines)
    return BookingDue(charged=account.charged, due=account.due)


async def invoice_booking(
    db: AsyncSession, *, client_id: int, booking_id: int, now: datetime
) -> InvoiceFor | None:
    """What to invoice for the client's own booking now: the amount due less the client's
    available credit, which is spent on it here (and committed). None when credit covered it.
    Someone else's booking reads as missing."""
    await lock_account(db, client_id)
    await _payable_booking(db, client_id, booking_id, now)
    return await _invoice_item(db, client_id, booking_item(booking_id), now)


async def invoice_fee(
    db: AsyncSession, *, client_id: int, fee_id: int, now: datetime
) -> InvoiceFor | None:
    """As :func:`invoice_booking`, for a fee: ``fee_id`` is the ledger line that charged it.
    Someone else's fee reads as missing."""
    await lock_account(db, client_id)
    item = await fee_item(db, client_id, fee_id)
    return await _invoice_item(db, client_id, item, now)


async def invoice_package(
    db: AsyncSession, *, client_id: int, package_id: int, now: datetime
) -> InvoiceFor | None:
    """As :func:`invoice_booking`, for what is due on the client's own session package."""
    await lock_account(db, client_id)
    item = f"{PACKAGE_ITEM_KIND}:{package_id}"
    lines = [e for e in await entries(db, client_id) if e.item == item]
    if not any(e.kind == money.EntryKind.CHARGE for e in lines):
        raise BookingNotFound()  # not theirs (or free)
    return await _invoice_item(db, client_id, item, now)


async def fee_item(db: AsyncSession, client_id: int, fee_id: int) -> str:
    line = await db.get(LedgerEntry, fee_id)
    if (
        line is None
        or line.client_id != client_id
        or line.kind != money.EntryKind.CHARGE
        or line.charge_for != money.ChargeFor.MONTHLY_FEE
    ):
        raise FeeNotFound()
    return line.item


async def _invoice_item(
    db: AsyncSession, client_id: int, item: str, now: datetime
) -> InvoiceFor | None:
    use = await _settle_from_credit(db, client_id, item, now)
    if use is None:
        raise AlreadyPaid()
    if use.credit_used.minor > 0:
        await db.commit()
    if use.to_invoice.minor == 0:
        return None
    return InvoiceFor(item, use.to_invoice.minor, use.to_invoice.currency)


async def check_before_payment(
    db: AsyncSession,
    *,
    client_id: int,
    invoice: InvoiceFor,
    now: datetime,
    currency: str | None = None,
) -> None:
    """Telegram's pre-checkout: is exactly this amount still due for this booking or fee of
    this client (or this pass still on sale at this price, in ``currency``)? Raises the reason
    to show them if not (nothing is charged then)."""
    kind, _, raw_id = invoice.item.partition(":")
    if kind in PRODUCTS:
        amount = money.Money(invoice.amount_minor, invoice.currency)
        currency = currency or invoice.currency
        await PRODUCTS[kind].check(
            db,
            item=invoice.item,
            amount=amount,
            currency=currency,
            credit=await available_credit(db, client_id, currency),
        )
        return
    if kind in (FEE_ITEM_KIND, PACKAGE_ITEM_KIND):
        lines = await entries(db, client_id)
        if not any(e.item == invoice.item and e.kind == money.EntryKind.CHARGE for e in lines):
            # not a fee or package of this client's
            raise FeeNotFound() if kind == FEE_ITEM_KIND else BookingNotFound()
    elif kind == "booking" and raw_id.isdigit():
        await _payable_booking(db, client_id, int(raw_id), now)
        lines = await entries(db, client_id)
    else:
        raise InvalidPayment()
    due = money.due_for(invoice.item, lines)
    if due.minor == 0:
        raise AlreadyPaid()
    if due != money.Money(invoice.amount_minor, invoice.currency):
        raise AmountChanged()


async def _payable_booking(db: AsyncSession, client_id: int, booking_id: int, now: datetime):
    booking = await db.get(Booking, booking_id)
    if booking is None or booking.client_id != client_id:
        raise BookingNotFound()
    if booking.status != BookingStatus.ACTIVE:
        raise BookingAlreadyCancelled()
    starts_at = await db.scalar(
        select(ClassSession.starts_at).where(ClassSession.id == booking.session_id)
    )
    if starts_at is None or starts_at <= now:
        raise SessionAlreadyStarted()
    return booking


@dataclass(frozen=True)
class Account:
    """A client's money at a glance: the balance (> 0 owed, < 0 credit) and what is still due
    item by item (booking ids for bookings)."""

    balance: money.Money
    due_bookings: list[tuple[int, money.Money]]


async def account(db: AsyncSession, client_id: int, currency: str) -> Account:
    lines = [e for e in await entries(db, client_id) if e.amount.currency == currency]
    due = []
    for item in dict.fromkeys(e.item for e in lines):  # in order of first appearance
        kind, _, raw_id = item.partition(":")
        amount = money.due_for(item, lines, currency)
        if kind == "booking" and raw_id.isdigit() and amount.minor > 0:
            due.append((int(raw_id), amount))
    return Account(money.balance(lines, currency), due)
