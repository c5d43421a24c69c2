"""Staff money actions on a client's booking: mark it paid at the venue, refund (all or part
of) what was paid, waive what is still due. Each use case checks the booking is the client's,
applies domain.billing.money's caps and routes, writes ledger lines with the staff member's id and
reason, and commits.

A Stars payment goes back through Telegram only whole (refundStarPayment), so the refund use
case takes that call as a function, and refunds in two phases, never calling Telegram inside a
transaction:

1. the refund's other parts (credit, cash, card) are written, and each whole Stars payment is
   recorded as a *requested* RefundRequest; committed. The refund cap counts an open request as
   going back (payments.entries), so a concurrent refund cannot plan the same money.
2. Telegram is asked, outside any transaction (the database is not held meanwhile).
3. the answer is recorded: *done* writes the ledger's refund line; *refused* holds the money
   again (Telegram's reason kept for staff); no answer (timeout, network) leaves it *unknown*.
   The client is told (MoneyReturned, through the outbox) of what actually went back; of a
   *quiet* refund (a staff cancellation's notice already said it goes back) refused, they are
   told it did not go through (QuietRefundRefused), in the same transaction.

A crash between the phases leaves requests open: :func:`retry_stars_refunds` (at start-up and
periodically) asks Telegram again — a payment it already refunded answers
CHARGE_ALREADY_REFUNDED, recorded as done, so nothing goes back twice — and
:func:`settle_from_telegram` settles them from the refunds Telegram lists.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.billing import money
from domain.billing.money import RefundState
from domain.billing.payments import _line, booking_item, entries, lock_account
from domain.errors import (
    BookingNotFound,
    FeeNotFound,
    NothingDue,
    StarsRefundRefused,
    StarsRefundUnanswered,
)
from domain.notices import outbox
from domain.notices.events import MoneyReturned, QuietRefundRefused, RefundRefusedForStaff
from domain.storage.models import Booking, LedgerEntry, Package, PackageSlot, RefundRequest

log = logging.getLogger(__name__)

# refundStarPayment(user_id, telegram_payment_charge_id): returns once Telegram refunded it;
# raises StarsRefundRefused (Telegram said no; reason: its description) or
# StarsRefundUnanswered (no answer: timeout, network, a server error)
RefundStars = Callable[[int, str], Awaitable[None]]

# Telegram's answer to refundStarPayment on a payment already refunded
ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"


async def _booking_lines(db: AsyncSession, client_id: int, booking_id: int) -> list[money.Entry]:
    """The client's ledger lines for their booking (their account locked for the rest of the
    transaction); someone else's booking reads as missing."""
    await lock_account(db, client_id)
    booking = await db.get(Booking, booking_id)
    if booking is None or booking.client_id != client_id:
        raise BookingNotFound()
    item = booking_item(booking_id)
    return [e for e in await entries(db, client_id) if e.item == item]


def staff_line(
    client_id: int,
    entry: money.Entry,
    now: datetime,
    staff_id: int,
    reason: str | None,
    refunded_charge_id: str | None = None,
) -> LedgerEntry:
    """A ledger line staff wrote (their id and reason on it)."""
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
    db.add(staff_line(client_id, entry, now, staff_id=staff_id, reason=None))
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
    db.add(staff_line(client_id, money.waiver(item, due), now, staff_id=staff_id, reason=reason))
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
    db.add(staff_line(client_id, entry, now, staff_id=staff_id, reason=reason))
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
    """What a refund did: ``amount`` went back (``by_route``: how); of a whole Stars payment,
    ``refused`` Telegram refused (``refused_why``; that money is held again) and ``unanswered``
    got no answer (asked again later; the client is told when it is done)."""

    amount: money.Money
    by_route: dict[money.RefundRoute, money.Money]
    refused: money.Money | None = None
    refused_why: str | None = None
    unanswered: money.Money | None = None

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
    less what went back or is going back). Whole Stars payments go back through Telegram, in
    two phases (see the module); the result says what went back, and what Telegram refused or
    left unanswered."""
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
    zero = money.Money.zero(amount.currency)
    plans = plan_item_refund(item, amount, lines)
    stars = [p for p in plans if p.route == money.RefundRoute.STARS_REFUND]
    others: dict[money.RefundRoute, money.Money] = {}
    written: list[LedgerEntry] = []
    for plan in plans:
        if plan.route == money.RefundRoute.STARS_REFUND:
            continue
        line = staff_line(client_id, plan.entry, now, staff_id=staff_id, reason=reason)
        db.add(line)
        written.append(line)
        others[plan.route] = others.get(plan.route, zero) + plan.entry.amount
    if written:
        await db.flush()
    others_total = sum(others.values(), zero)
    credit = others.get(money.RefundRoute.BALANCE_CREDIT, zero)
    if not stars:  # nothing to ask Telegram: done in one transaction, the client told in it
        told = MoneyReturned(
            client_id, about_booking, others_total.minor, credit.minor, written[0].id
        )
        await outbox.record(db, [told], now)
        await db.commit()
        return RefundDone(others_total, others)

    # phase 1: the Stars refunds are requested (the other parts are told with their outcome)
    requests = [
        RefundRequest(
            client_id=client_id,
            item=item,
            charge_id=plan.charge_id,
            amount_minor=plan.entry.amount.minor,
            currency=plan.entry.amount.currency,
            booking_id=about_booking,
            staff_id=staff_id,
            reason=reason,
            state=RefundState.REQUESTED,
            others_minor=others_total.minor if i == 0 else 0,
            others_credit_minor=credit.minor if i == 0 else 0,
            others_line_id=written[0].id if i == 0 and written else None,
            requested_at=now,
        )
        for i, plan in enumerate(stars)
    ]
    db.add_all(requests)
    await db.commit()
    # phase 2: Telegram is asked, with no transaction open
    answers = [(r.id, await ask_telegram(refund_stars, r.client_id, r.charge_id)) for r in requests]
    # phase 3: the answers are recorded
    outcomes = await _record_answers(db, client_id, answers, now)
    by_route = dict(others)
    refused, unanswered, why = zero, zero, None
    for request, _changed in outcomes:
        share = money.Money(request.amount_minor, request.currency)
        if request.state == RefundState.DONE:
            route = money.RefundRoute.STARS_REFUND
            by_route[route] = by_route.get(route, zero) + share
        elif request.state == RefundState.REFUSED:
            refused, why = refused + share, why or request.refused_why
        else:
            unanswered += share
    return RefundDone(
        sum(by_route.values(), zero),
        by_route,
        refused=refused if refused.minor else None,
        refused_why=why,
        unanswered=unanswered if unanswered.minor else None,
    )


@dataclass(frozen=True)
class Answer:
    """Telegram's answer to one refundStarPayment: DONE, REFUSED (``why``) or UNKNOWN."""

    state: RefundState
    why: str | None = None


async def ask_telegram(refund_stars: RefundStars, client_id: int, charge_id: str) -> Answer:
    """Ask for one whole Stars payment back. Already refunded (an earlier attempt whose answer
    was lost) is done; no answer, or an unexpected error on the way, is unknown. A crash or a
    cancellation (BaseException) propagates and leaves the request open for
    :func:`retry_stars_refunds`."""
    try:
        await refund_stars(client_id, charge_id)
    except StarsRefundRefused as error:
        why = str(error.params.get("reason") or "")
        if ALREADY_REFUNDED in why:
            return Answer(RefundState.DONE)
        return Answer(RefundState.REFUSED, why)
    except StarsRefundUnanswered:
        return Answer(RefundState.UNKNOWN)
    except Exception:  # whether it went back is unknown: asked again later
        log.exception("refundStarPayment for %s failed", charge_id)
        return Answer(RefundState.UNKNOWN)
    return Answer(RefundState.DONE)


async def _record_answers(
    db: AsyncSession,
    client_id: int,
    answers: Sequence[tuple[int, Answer]],
    now: datetime,
    staff_ids: Sequence[int] = (),
) -> list[tuple[RefundRequest, bool]]:
    """Phase 3, for requests of one client (one refund's, or one at a time), in one
    transaction: each open request takes its answer (one someone else settled meanwhile stays
    as it is); a done one writes its ledger refund line. The client is told in one message of
    what went back: the Stars refunds done, and the refund's other parts (written in phase 1)
    with the request's first outcome. A *quiet* request (its cancellation already told the
    client it goes back) that Telegram refuses tells the client it did not (QuietRefundRefused)
    and each of ``staff_ids`` why (RefundRefusedForStaff), to settle it with the client.
    Returns each request as it now stands, and whether this answer changed it."""
    await lock_account(db, client_id)  # settlers of one client's refunds run one at a time
    result: list[tuple[RefundRequest, bool]] = []
    back, credit, told_ids = 0, 0, []
    refused: list[QuietRefundRefused | RefundRefusedForStaff] = []
    for request_id, answer in answers:
        request = await db.get(RefundRequest, request_id, populate_existing=True)
        if request is None or request.client_id != client_id:
            raise ValueError(f"refund request {request_id} is not client {client_id}'s")
        was = RefundState(request.state)
        state = money.refund_answered(was, answer.state)
        result.append((request, state != was))
        if was not in money.OPEN_REFUND_STATES:
            continue
        request.state, request.asked_at = state, now
        if state == RefundState.DONE:
            line = _refund_line(request, now)
            db.add(line)
            await db.flush()
            request.ledger_id, request.settled_at = line.id, now
            if not request.quiet:  # quiet: told with the cancellation it belongs to
                back += request.amount_minor
                told_ids.append(line.id)
        elif state == RefundState.REFUSED:
            request.refused_why, request.settled_at = answer.why, now
            log.warning("Telegram refused the refund of %s: %s", request.charge_id, answer.why)
            if request.quiet:  # the client was told it goes back: now they hear it did not
                refused.append(
                    QuietRefundRefused(
                        client_id,
                        request.id,
                        request.booking_id,
                        request.amount_minor,
                        request.currency,
                    )
                )
                refused += [
                    RefundRefusedForStaff(
                        staff_id,
                        request.id,
                        client_id,
                        request.booking_id,
                        request.amount_minor,
                        request.currency,
                        answer.why or "",
                    )
                    for staff_id in staff_ids
                ]
        if request.others_minor:  # the refund's other parts went back in phase 1
            back += request.others_minor
            credit += request.others_credit_minor
            told_ids.insert(0, request.others_line_id)
            request.others_minor = request.others_credit_minor = 0
            request.others_line_id = None
    if back:
        about = result[0][0].booking_id
        await outbox.record(db, [MoneyReturned(client_id, about, back, credit, told_ids[0])], now)
    await outbox.record(db, refused, now)
    await db.commit()
    return result


def _refund_line(request: RefundRequest, now: datetime) -> LedgerEntry:
    amount = money.Money(request.amount_minor, request.currency)
    entry = money.refund(request.item, amount, money.Method.STARS)
    return staff_line(
        request.client_id,
        entry,
        now,
        staff_id=request.staff_id,
        reason=request.reason,
        refunded_charge_id=request.charge_id,
    )


async def ask_requested(
    db: AsyncSession,
    *,
    request_ids: Sequence[int],
    refund_stars: RefundStars,
    now: datetime,
    staff_ids: Sequence[int] = (),
) -> list[RefundRequest]:
    """Phases 2 and 3 for Stars refunds a use case recorded as requested and committed (a
    cancellation by staff): Telegram is asked for each, with no transaction open, and the
    answers recorded, one request at a time (``staff_ids`` told of a quiet one refused).
    Returns the requests as they now stand."""
    rows = (
        await db.execute(
            select(RefundRequest.id, RefundRequest.client_id, RefundRequest.charge_id)
            .where(RefundRequest.id.in_(list(request_ids)))
            .order_by(RefundRequest.id)
        )
    ).all()
    await db.commit()  # no transaction is held while Telegram is asked
    result = []
    for request_id, client_id, charge_id in rows:
        answer = await ask_telegram(refund_stars, client_id, charge_id)
        answered = [(request_id, answer)]
        ((request, _changed),) = await _record_answers(db, client_id, answered, now, staff_ids)
        result.append(request)
    return result


# --- refunds left open: a crash, no answer ----------------------------------------------------


async def retry_stars_refunds(
    db: AsyncSession,
    *,
    refund_stars: RefundStars,
    now: datetime,
    asked_before: datetime | None = None,
    staff_ids: Sequence[int] = (),
) -> int:
    """Ask Telegram again for the Stars refunds left open (requested, or unknown) and record
    the answers, one request at a time; with ``asked_before``, only those last asked (or
    requested) before then, so a refund under way is left to finish. Returns how many were
    settled (done or refused). ``staff_ids`` are told of a quiet one refused."""
    last = func.coalesce(RefundRequest.asked_at, RefundRequest.requested_at)
    query = select(RefundRequest.id, RefundRequest.client_id, RefundRequest.charge_id).where(
        RefundRequest.state.in_(money.OPEN_REFUND_STATES)
    )
    if asked_before is not None:
        query = query.where(last < asked_before)
    open_requests = (await db.execute(query.order_by(RefundRequest.id))).all()
    await db.commit()  # no transaction is held while Telegram is asked
    settled = 0
    for request_id, client_id, charge_id in open_requests:
        answer = await ask_telegram(refund_stars, client_id, charge_id)
        answered = [(request_id, answer)]
        ((request, changed),) = await _record_answers(db, client_id, answered, now, staff_ids)
        settled += changed and request.state in (RefundState.DONE, RefundState.REFUSED)
    return settled


async def settle_from_telegram(
    db: AsyncSession, *, refunded_charge_ids: Collection[str], now: datetime
) -> int:
    """Record as done the open Stars refunds (requested, or unknown) whose payment Telegram
    lists as refunded (``refunded_charge_ids``: telegram_payment_charge_ids, e.g. from
    getStarTransactions), and tell their clients. Others are left as they are. Returns how
    many were recorded done."""
    refunded = set(refunded_charge_ids)
    query = select(RefundRequest.id, RefundRequest.client_id, RefundRequest.charge_id).where(
        RefundRequest.state.in_(money.OPEN_REFUND_STATES)
    )
    open_requests = (await db.execute(query.order_by(RefundRequest.id))).all()
    await db.commit()
    done = 0
    for request_id, client_id, charge_id in open_requests:
        if charge_id not in refunded:
            continue
        answer = Answer(RefundState.DONE)
        ((_request, changed),) = await _record_answers(db, client_id, [(request_id, answer)], now)
        done += changed
    return done
