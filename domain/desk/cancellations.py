"""Staff cancel a client's booking (any kind), or take a client off an ongoing class, under
terms they choose: what happens to the money paid, whether the pass entry, course unit or
attendance credit comes back, whether a make-up credit is given. The override is recorded on
the booking (who, the reason they typed, what they waived) and the client is told through the
outbox, in their language. :func:`settle_booking` is the one place a staff cancellation
settles a booking; domain.timetable.cancellation runs it for every booking of a session.

Stars go back through Telegram only as whole payments: a cancellation records them as
*requested* refunds (domain.billing.refunds' phase 1) in its transaction; the caller asks
Telegram after the commit (:func:`domain.billing.refunds.ask_requested`), and the periodic job
asks again for any left open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.billing import credits, money, passes
from domain.billing.payments import booking_item, entries, lock_account
from domain.billing.refunds import plan_item_refund, staff_line
from domain.booking.bookings import load_booking, withdraw
from domain.booking.makeups import issue_makeup, return_makeup
from domain.booking.ongoing import end_class_enrolment, promote_class
from domain.booking.seats import release_seat
from domain.courses import units as course_units
from domain.errors import BookingNotFound
from domain.notices import outbox
from domain.notices.events import Event, StaffCancelled, TakenOffClass
from domain.policy import Policy
from domain.storage.db import rolled_back_unless_committed
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    Enrolment,
    MakeupCredit,
    Package,
    PackageSlot,
    RefundRequest,
)
from domain.timetable.packages import share_back

# who a cancellation by the bot itself (too few participants) is recorded as
BOT_STAFF_ID = 0


class MoneyBack(StrEnum):
    """What happens to what the client paid for a booking staff cancel."""

    AUTO = "auto"  # a Stars payment refunded in full through Telegram, anything else as credit
    REFUND = "refund"  # as paid: Stars in full through Telegram (any part: credit), card/cash
    CREDIT = "credit"  # all that was paid to the client's credit
    KEEP = "keep"  # the studio keeps it (late)


@dataclass(frozen=True)
class CancelTerms:
    money: MoneyBack = MoneyBack.AUTO
    give_back: bool = True  # the pass entry, course unit, attendance credit come back
    makeup: bool = True  # a make-up credit (sessions of ongoing classes)
    reason: str | None = None  # typed by staff, shown to the client

    @property
    def waived(self) -> str:
        """What the client loses by these terms, as recorded on the booking: "money",
        "entry" (pass entry, course unit, attendance credit), "makeup"; "" for nothing."""
        lost = []
        if self.money == MoneyBack.KEEP:
            lost.append("money")
        if not self.give_back:
            lost.append("entry")
        if not self.makeup:
            lost.append("makeup")
        return ",".join(lost)


@dataclass(frozen=True)
class Settled:
    """What cancelling one booking gave back (minor units of ``currency``)."""

    booking_id: int
    client_id: int
    currency: str
    stars_minor: int = 0  # going back through Telegram (requests to ask)
    credit_minor: int = 0
    other_minor: int = 0  # card or cash refunds recorded, staff pay them
    waived_minor: int = 0  # unpaid, forgiven
    kept_minor: int = 0  # paid, kept by the studio
    returned: str = ""  # "entry" (pass), "unit" (course), "credit" (attendance), ""
    makeup: bool = False
    request_ids: tuple[int, ...] = ()
    event: StaffCancelled | None = None


@dataclass(frozen=True)
class ClientCancelled:
    """The result of a staff cancellation of one booking, or of a client's class."""

    settled: list[Settled]
    events: list[Event] = field(default_factory=list)

    @property
    def request_ids(self) -> list[int]:
        return [i for s in self.settled for i in s.request_ids]


async def cancel_for_client(
    db: AsyncSession,
    *,
    booking_id: int,
    staff_id: int,
    terms: CancelTerms,
    now: datetime,
    policy: Policy,
    client_id: int | None = None,
) -> ClientCancelled:
    """Staff cancel one booking (of ``client_id``'s, when given: a card shows one client) under
    ``terms``; commits. Raises BookingNotFound, BookingAlreadyCancelled (a second tap),
    SessionAlreadyStarted, AlreadyCheckedIn/Out and changes nothing then."""
    async with rolled_back_unless_committed(db):
        booking = await load_booking(db, booking_id)
        if booking is None or (client_id is not None and booking.client_id != client_id):
            raise BookingNotFound()
        settled = await settle_booking(
            db, booking, staff_id=staff_id, terms=terms, now=now, policy=policy
        )
        events: list[Event] = await release_seat(db, booking.session_id, now, policy)
        await db.commit()
    return ClientCancelled([settled], [settled.event, *events])


async def take_off_class(
    db: AsyncSession,
    *,
    client_id: int,
    class_id: int,
    staff_id: int,
    terms: CancelTerms,
    now: datetime,
    policy: Policy,
) -> ClientCancelled:
    """Staff take a client off an ongoing class: the enrolment ends, each of its sessions
    still ahead is cancelled under ``terms``, the place goes to the class's waiting list, and
    the client gets one notice of it all (TakenOffClass); commits. Raises NotEnrolled (also
    for a second tap)."""
    async with rolled_back_unless_committed(db):
        enrolment = await end_class_enrolment(db, client_id, class_id, now)
        ids = await db.scalars(
            select(Booking.id)
            .join(ClassSession, Booking.session_id == ClassSession.id)
            .where(
                Booking.enrolment_id == enrolment.id,
                Booking.status == BookingStatus.ACTIVE,
                Booking.checked_in_at.is_(None),
                ClassSession.starts_at > now,
            )
            .order_by(ClassSession.starts_at)
        )
        settled: list[Settled] = []
        events: list[Event] = []
        for booking_id in list(ids):
            booking = await load_booking(db, booking_id)
            assert booking is not None
            one = await settle_booking(
                db, booking, staff_id=staff_id, terms=terms, now=now, policy=policy, tell=False
            )
            settled.append(one)
            events.extend(await release_seat(db, booking.session_id, now, policy))
        told = _taken_off(enrolment, settled, terms, policy)
        await outbox.record(db, [told], now)
        events.insert(0, told)
        events.extend(await promote_class(db, class_id, now, policy))
        await db.commit()
    return ClientCancelled(settled, events)


def _taken_off(
    enrolment: Enrolment, settled: list[Settled], terms: CancelTerms, policy: Policy
) -> TakenOffClass:
    """The one notice of a client taken off a class: what it cancelled and gave back, in all."""

    def total(what: str) -> int:
        return sum(getattr(s, what) for s in settled)

    def back(what: str) -> int:
        return sum(1 for s in settled if s.returned == what)

    return TakenOffClass(
        enrolment.client_id,
        enrolment.id,
        enrolment.class_id,
        tuple(s.booking_id for s in settled),
        settled[0].currency if settled else policy.currency,
        stars_minor=total("stars_minor"),
        credit_minor=total("credit_minor"),
        other_minor=total("other_minor"),
        entries=back("entry"),
        units=back("unit"),
        makeups_back=back("makeup"),
        makeups=sum(1 for s in settled if s.makeup),
        reason=terms.reason,
    )


async def settle_booking(
    db: AsyncSession,
    booking: Booking,
    *,
    staff_id: int | None,
    terms: CancelTerms,
    now: datetime,
    policy: Policy,
    whole_session: bool = False,
    automatic: bool = False,
    tell: bool = True,
) -> Settled:
    """Cancel ``booking`` (loaded with its session, class, programme) as staff, within the
    caller's transaction: marked with the override, what it used given back or not, its
    money settled per ``terms``, its reminders and nudges dropped, the client told (unless
    ``tell`` is off: the caller tells them of several bookings at once, with ``event``'s
    figures). The seat is left to the caller (freed to the waiting list, or the whole session
    closed)."""
    by = BOT_STAFF_ID if staff_id is None else staff_id
    await withdraw(
        db, booking, now, cancelled_by=by, cancel_reason=terms.reason, cancel_waived=terms.waived
    )
    returned = await _give_back_use(db, booking, terms, now, policy)
    makeup = False
    if terms.makeup:
        session = booking.session
        makeup = await issue_makeup(
            db,
            booking=booking,
            session=session,
            programme=session.klass.programme,
            now=now,
            policy=policy,
            always=True,
        )
    slot = await db.get(PackageSlot, booking.id)
    if slot is not None:
        money_part = await _settle_package(db, booking, slot, terms, by, now, policy)
    else:
        money_part = await _settle_money(db, booking, terms, by, now, policy)
    await outbox.forget(db, [booking.id])
    event = StaffCancelled(
        booking.client_id,
        booking.id,
        booking.session_id,
        whole_session=whole_session,
        currency=money_part.currency,
        stars_minor=money_part.stars_minor,
        credit_minor=money_part.credit_minor,
        other_minor=money_part.other_minor,
        returned=returned,
        makeup=makeup,
        reason=terms.reason,
        automatic=automatic,
    )
    if tell:
        await outbox.record(db, [event], now)
    return Settled(
        booking.id,
        booking.client_id,
        money_part.currency,
        stars_minor=money_part.stars_minor,
        credit_minor=money_part.credit_minor,
        other_minor=money_part.other_minor,
        waived_minor=money_part.waived_minor,
        kept_minor=money_part.kept_minor,
        returned=returned,
        makeup=makeup,
        request_ids=money_part.request_ids,
        event=event,
    )


async def _give_back_use(
    db: AsyncSession, booking: Booking, terms: CancelTerms, now: datetime, policy: Policy
) -> str:
    """The pass entry, course unit, make-up credit or attendance credit the booking used:
    back with ``terms.give_back``, else used up as if attended. What came back, or ""."""
    programme = booking.session.klass.programme
    returned = ""
    used_makeup = await db.scalar(
        select(MakeupCredit.id).where(MakeupCredit.used_booking_id == booking.id)
    )
    if used_makeup is not None:
        await return_makeup(db, booking, in_time=terms.give_back)
        returned = "makeup" if terms.give_back else ""
    if booking.pass_id is not None and terms.give_back:
        await passes.return_entry(db, booking.pass_id)
        returned = "entry"
    if await course_units.holds_unit(db, booking.id):
        if terms.give_back:
            await course_units.release_unit(db, booking.id, in_time=True, now=now)
            returned = "unit"
        else:
            await course_units.redeem_unit(db, booking.id, now)
    if programme.attendance_credits and not terms.give_back and booking.credit_id is None:
        # not given back: the credit is used as if the client had come
        await credits.count_booking(
            db, booking.id, booking.client_id, booking.session.starts_at, programme, policy
        )
    elif programme.attendance_credits and not returned:
        returned = "credit"
    return returned


@dataclass(frozen=True)
class _Money:
    currency: str
    stars_minor: int = 0
    credit_minor: int = 0
    other_minor: int = 0
    waived_minor: int = 0
    kept_minor: int = 0
    request_ids: tuple[int, ...] = ()


async def _settle_money(
    db: AsyncSession,
    booking: Booking,
    terms: CancelTerms,
    staff_id: int,
    now: datetime,
    policy: Policy,
) -> _Money:
    """The booking's own ledger item: what is unpaid is waived; what was paid goes back per
    ``terms.money``."""
    client_id, item = booking.client_id, booking_item(booking.id)
    await lock_account(db, client_id)
    lines = [e for e in await entries(db, client_id) if e.item == item]
    if not lines:
        return _Money(policy.currency)
    account = money.item_account(item, lines)
    currency = account.charged.currency
    reason = terms.reason or "cancelled by staff"
    waived = account.due
    if waived.minor > 0:
        db.add(staff_line(client_id, money.waiver(item, waived), now, staff_id, reason))
    refundable = account.refundable
    if refundable.minor <= 0:
        return _Money(currency, waived_minor=waived.minor)
    if terms.money == MoneyBack.KEEP:
        return _Money(currency, waived_minor=waived.minor, kept_minor=refundable.minor)
    if terms.money == MoneyBack.CREDIT:
        db.add(staff_line(client_id, money.credit(item, refundable), now, staff_id, reason))
        return _Money(currency, credit_minor=refundable.minor, waived_minor=waived.minor)
    stars, credit, other, requests = 0, 0, 0, []
    for plan in plan_item_refund(item, refundable, lines):
        amount = plan.entry.amount
        if plan.route == money.RefundRoute.STARS_REFUND:
            requests.append(_request(booking, item, plan, staff_id, reason, now))
            stars += amount.minor
        elif plan.route == money.RefundRoute.BALANCE_CREDIT or terms.money == MoneyBack.AUTO:
            db.add(staff_line(client_id, money.credit(item, amount), now, staff_id, reason))
            credit += amount.minor
        else:  # card or cash as paid: recorded, staff pay it back
            db.add(staff_line(client_id, plan.entry, now, staff_id, reason))
            other += amount.minor
    db.add_all(requests)
    await db.flush()
    return _Money(
        currency,
        stars_minor=stars,
        credit_minor=credit,
        other_minor=other,
        waived_minor=waived.minor,
        request_ids=tuple(r.id for r in requests),
    )


def _request(
    booking: Booking,
    item: str,
    plan: money.RefundPlan,
    staff_id: int,
    reason: str,
    now: datetime,
) -> RefundRequest:
    # quiet: the cancellation notice already tells the client this is going back
    return RefundRequest(
        client_id=booking.client_id,
        item=item,
        charge_id=plan.charge_id,
        amount_minor=plan.entry.amount.minor,
        currency=plan.entry.amount.currency,
        booking_id=booking.id,
        staff_id=staff_id,
        reason=reason,
        state=money.RefundState.REQUESTED,
        others_minor=0,
        others_credit_minor=0,
        quiet=True,
        requested_at=now,
    )


async def _settle_package(
    db: AsyncSession,
    booking: Booking,
    slot: PackageSlot,
    terms: CancelTerms,
    staff_id: int,
    now: datetime,
    policy: Policy,
) -> _Money:
    """A session of a package: its whole share of the package price (price / N) comes back
    as credit (unpaid first waived) unless the studio keeps it; a share is never a whole
    Stars payment, so it is never refunded through Telegram."""
    package = await db.get(Package, slot.package_id)
    slot.override_by, slot.override_at = staff_id, now
    price = money.Money(package.price_minor, policy.currency)
    if terms.money == MoneyBack.KEEP:
        return _Money(price.currency)
    share = money.refund_share(price, 100, package.size)
    reason = terms.reason or "cancelled by staff"
    waived, credited = await share_back(db, package, share, now, staff_id, reason=reason)
    return _Money(price.currency, credit_minor=credited.minor, waived_minor=waived.minor)
