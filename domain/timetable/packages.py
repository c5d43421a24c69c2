"""Session packages (seed 002): exactly N sessions of one class booked in one go for the
package price, each then cancelled or rescheduled on its own under the class's policy.

The package price is one ledger charge (``package:<id>``) paid up front (credit first, then an
invoice). A session's relative cost is price / N: cancelling one before the cut-off gives back
``cancel_refund_percent`` of it (rounded down; what is still unpaid is waived first, what was
paid becomes credit on the balance), rescheduling one charges ``reschedule_fee_percent`` of it
(rounded up) on the same item. Staff may cancel or move any session at any time: the override
is recorded with who and when, and the client is told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from domain.billing import money
from domain.billing.payments import (
    _line,
    available_credit,
    charge_reschedule_fee,
    entries,
    lock_account,
    spend_credit_on,
)
from domain.booking import rules
from domain.booking.bookings import cancel_loaded, load_booking
from domain.booking.enrolment import ensure_eligible
from domain.booking.seats import take_seat
from domain.clients.record import ClientRef, remember_client
from domain.errors import (
    AlreadyBooked,
    BookingNotFound,
    NotAPackage,
    SessionAlreadyStarted,
    SessionNotFound,
    SlotTaken,
)
from domain.notices import outbox
from domain.notices.events import Event, PackageChanged
from domain.policy import Policy
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    Package,
    PackageSlot,
    ProgrammeClass,
)


def package_item(package_id: int) -> str:
    return f"package:{package_id}"


@dataclass(frozen=True)
class SlotView:
    slot: int
    booking_id: int
    session_id: int
    starts_at: datetime
    ends_at: datetime
    active: bool
    sequence: int  # how often this slot was moved


@dataclass(frozen=True)
class PackageView:
    id: int
    client_id: int
    class_id: int
    title: str  # "Programme — Class"
    size: int
    price: money.Money
    slots: list[SlotView]  # the current booking of each slot, by slot

    def slot_of(self, booking_id: int) -> SlotView | None:
        return next((s for s in self.slots if s.booking_id == booking_id), None)


async def _load_class(db: AsyncSession, class_id: int) -> ProgrammeClass:
    klass = await db.scalar(
        select(ProgrammeClass)
        .where(ProgrammeClass.id == class_id)
        .options(joinedload(ProgrammeClass.programme))
    )
    if klass is None:
        raise SessionNotFound()
    if not klass.package_size:
        raise NotAPackage()
    return klass


async def book_package(
    db: AsyncSession,
    *,
    client: ClientRef,
    class_id: int,
    session_ids: list[int],
    now: datetime,
    policy: Policy,
    note: str | None = None,
) -> PackageView:
    """All N picked sessions booked, or none: a session taken meanwhile raises SlotTaken
    naming it (the client picks another), and nothing is written. The client's note for the
    studio is asked for as for an enrolment (ENROLMENT_NOTES), once for the whole package."""
    note = rules.enrolment_note(note, policy.enrolment_notes)
    klass = await _load_class(db, class_id)
    picked = list(
        await db.scalars(
            select(ClassSession)
            .where(ClassSession.id.in_(session_ids))
            .order_by(ClassSession.starts_at)
        )
    )
    if len(picked) != len(set(session_ids)):
        raise SessionNotFound()
    rules.ensure_package_picks(
        [s.class_id for s in picked] + [class_id] * (len(session_ids) - len(picked)),
        class_id=class_id,
        size=klass.package_size,
    )
    if any(s.starts_at <= now for s in picked):
        raise SessionAlreadyStarted()
    rank = await remember_client(db, client, now)
    await ensure_eligible(db, client.id, klass.programme, now, policy, client_rank=rank)
    currency = policy.currency
    price = money.Money(klass.package_price_minor or 0, currency)
    cancel_hours, move_hours = _cutoffs(klass)
    package = Package(
        client_id=client.id,
        class_id=class_id,
        size=klass.package_size,
        price_minor=price.minor,
        created_at=now,
        cancel_cutoff_hours=cancel_hours,
        reschedule_cutoff_hours=move_hours,
        notes=note,
        cancel_refund_percent=klass.cancel_refund_percent,
        reschedule_fee_percent=klass.reschedule_fee_percent,
    )
    db.add(package)
    await db.flush()
    seats = []
    for slot, session in enumerate(picked, start=1):
        if not await take_seat(db, session.id, by_staff=False):
            taken = SlotTaken(when=session.starts_at, session_id=session.id)
            await db.rollback()  # the seats taken so far go back too
            raise taken
        booking = Booking(session_id=session.id, client_id=client.id, created_at=now)
        db.add(booking)
        try:
            await db.flush()
        except IntegrityError:  # they already hold one of these sessions
            await db.rollback()
            raise AlreadyBooked() from None
        db.add(PackageSlot(booking_id=booking.id, package_id=package.id, slot=slot))
        seats.append(outbox.BookedSeat(booking.id, client.id, session.starts_at))
    await outbox.remind(db, seats, now, policy)
    if price.minor > 0:
        await lock_account(db, client.id)
        available = await available_credit(db, client.id, currency)
        charge = _line(client.id, package_item(package.id), money.EntryKind.CHARGE, price, now)
        charge.charge_for = money.ChargeFor.PACKAGE
        db.add(charge)
        spend_credit_on(db, client.id, package_item(package.id), price, available, now)
    await db.commit()
    view = await package_of(db, client.id, package.id, currency)
    assert view is not None
    return view


async def package_of(
    db: AsyncSession, client_id: int | None, package_id: int, currency: str
) -> PackageView | None:
    """The client's own package (someone else's reads as missing; any for staff: None)."""
    package = await db.get(Package, package_id)
    if package is None or (client_id is not None and package.client_id != client_id):
        return None
    klass = await db.scalar(
        select(ProgrammeClass)
        .where(ProgrammeClass.id == package.class_id)
        .options(joinedload(ProgrammeClass.programme))
    )
    rows = await db.execute(
        select(PackageSlot.slot, Booking, ClassSession.starts_at)
        .join(Booking, Booking.id == PackageSlot.booking_id)
        .join(ClassSession, ClassSession.id == Booking.session_id)
        .where(PackageSlot.package_id == package_id)
        .order_by(PackageSlot.slot, Booking.id)
    )
    by_slot: dict[int, list[tuple[Booking, datetime]]] = {}
    for slot, booking, starts_at in rows:
        by_slot.setdefault(slot, []).append((booking, starts_at))
    length = timedelta(minutes=klass.duration_minutes)
    slots = []
    for slot, history in sorted(by_slot.items()):
        booking, starts_at = history[-1]  # the newest booking of the slot is its current one
        slots.append(
            SlotView(
                slot=slot,
                booking_id=booking.id,
                session_id=booking.session_id,
                starts_at=starts_at,
                ends_at=starts_at + length,
                active=booking.status == BookingStatus.ACTIVE,
                sequence=len(history) - 1,
            )
        )
    return PackageView(
        id=package.id,
        client_id=package.client_id,
        class_id=package.class_id,
        title=f"{klass.programme.title} — {klass.title}",
        size=package.size,
        price=money.Money(package.price_minor, currency),
        slots=slots,
    )


@dataclass(frozen=True)
class Terms:
    """A package class's offer and policy, as the client reviews it before confirming."""

    title: str
    size: int
    price: money.Money
    refund: money.Money  # per session cancelled in time
    fee: money.Money  # per session rescheduled
    cancel_hours: int
    reschedule_hours: int


async def terms(db: AsyncSession, class_id: int, currency: str) -> Terms:
    klass = await _load_class(db, class_id)
    price = money.Money(klass.package_price_minor or 0, currency)
    cancel_hours, move_hours = _cutoffs(klass)
    return Terms(
        title=f"{klass.programme.title} — {klass.title}",
        size=klass.package_size,
        price=price,
        refund=money.refund_share(price, klass.cancel_refund_percent, klass.package_size),
        fee=money.fee_share(price, klass.reschedule_fee_percent, klass.package_size),
        cancel_hours=cancel_hours,
        reschedule_hours=move_hours,
    )


@dataclass(frozen=True)
class Quote:
    """What changing one session of a package means for the client, before they confirm."""

    package_id: int
    slot: int
    refund: money.Money  # given back if cancelled now (0 past the cut-off)
    fee: money.Money  # charged if rescheduled now
    cancel_until: datetime
    reschedule_until: datetime
    can_cancel: bool
    can_reschedule: bool


async def _package_booking(
    db: AsyncSession, client_id: int | None, booking_id: int
) -> tuple[Booking, Package, PackageSlot, ProgrammeClass]:
    """A booking of a package, the client's own (any client's for staff: None)."""
    booking = await load_booking(db, booking_id)
    if booking is None or (client_id is not None and booking.client_id != client_id):
        raise BookingNotFound()
    slot = await db.get(PackageSlot, booking_id)
    if slot is None:
        raise NotAPackage()
    package = await db.get(Package, slot.package_id)
    return booking, package, slot, booking.session.klass


def _cutoffs(klass: ProgrammeClass) -> tuple[int, int]:
    notice = klass.programme.cancel_notice_hours
    cancel = klass.cancel_cutoff_hours if klass.cancel_cutoff_hours is not None else notice
    move = klass.reschedule_cutoff_hours if klass.reschedule_cutoff_hours is not None else notice
    return cancel, move


async def quote(
    db: AsyncSession, *, client_id: int, booking_id: int, now: datetime, policy: Policy
) -> Quote:
    booking, package, slot, klass = await _package_booking(db, client_id, booking_id)
    return _quote(booking, package, slot, klass, now, policy)


def _quote(
    booking: Booking,
    package: Package,
    slot: PackageSlot,
    klass: ProgrammeClass,
    now: datetime,
    policy: Policy,
) -> Quote:
    price = money.Money(package.price_minor, policy.currency)
    starts_at = booking.session.starts_at
    cancel_until = rules.change_deadline(starts_at, package.cancel_cutoff_hours, policy.zone)
    move_until = rules.change_deadline(starts_at, package.reschedule_cutoff_hours, policy.zone)
    active = booking.status == BookingStatus.ACTIVE and starts_at > now
    can_cancel = active and now <= cancel_until
    return Quote(
        package_id=package.id,
        slot=slot.slot,
        refund=money.refund_share(price, package.cancel_refund_percent, package.size)
        if can_cancel
        else money.Money.zero(policy.currency),
        fee=money.fee_share(price, package.reschedule_fee_percent, package.size),
        cancel_until=cancel_until,
        reschedule_until=move_until,
        can_cancel=can_cancel,
        can_reschedule=active and now <= move_until,
    )


@dataclass(frozen=True)
class Changed:
    package_id: int
    slot: int
    booking_id: int  # the slot's booking now (a new one after a reschedule)
    refund: money.Money  # cancel: waived + credited
    fee: money.Money  # reschedule: charged
    events: list[Event]


async def cancel_session(
    db: AsyncSession,
    *,
    client_id: int | None,
    booking_id: int,
    now: datetime,
    policy: Policy,
    staff_id: int | None = None,
) -> Changed:
    """Cancel one session of a package. The client only until the cut-off; staff (client_id
    None, staff_id set) at any time, recorded as an override. In time (or by staff) the
    refund share comes back: unpaid first waived, the rest credited."""
    booking, package, slot, _klass = await _package_booking(db, client_id, booking_id)
    starts_at = booking.session.starts_at
    if staff_id is None:
        rules.ensure_can_change(
            starts_at=starts_at,
            now=now,
            cutoff_hours=package.cancel_cutoff_hours,
            zone=policy.zone,
        )
    price = money.Money(package.price_minor, policy.currency)
    share = money.refund_share(price, package.cancel_refund_percent, package.size)
    events, _makeup = await cancel_loaded(db, booking, now, policy)
    returned = await give_back_share(db, package, share, now, staff_id)
    if staff_id is not None:
        slot.override_by, slot.override_at = staff_id, now
        told = PackageChanged(package.client_id, booking.id, package.id, "cancelled", now)
        await outbox.record(db, [told], now)
        events.append(told)
    await db.commit()
    zero = money.Money.zero(price.currency)
    return Changed(package.id, slot.slot, booking.id, returned, zero, events)


async def give_back_share(
    db: AsyncSession,
    package: Package,
    share: money.Money,
    now: datetime,
    staff_id: int | None,
    reason: str = "session cancelled",
) -> money.Money:
    """A cancelled session's ``share`` of the package price comes back (within the caller's
    transaction): what is unpaid is waived first, the rest credited; returns the total."""
    waived, credited = await share_back(db, package, share, now, staff_id, reason)
    return waived + credited


async def share_back(
    db: AsyncSession,
    package: Package,
    share: money.Money,
    now: datetime,
    staff_id: int | None,
    reason: str = "session cancelled",
) -> tuple[money.Money, money.Money]:
    """As give_back_share; returns what was waived and what was credited."""
    zero = money.Money.zero(share.currency)
    if share.minor <= 0:
        return zero, zero
    item = package_item(package.id)
    await lock_account(db, package.client_id)
    lines = [e for e in await entries(db, package.client_id) if e.item == item]
    if not lines:
        return zero, zero
    account = money.item_account(item, lines, share.currency)
    waived = min(account.due, share)
    credited = min(account.refundable.at_least_zero(), share - waived)
    for kind, amount in ((money.EntryKind.WAIVER, waived), (money.EntryKind.CREDIT, credited)):
        if amount.minor > 0:
            line = _line(package.client_id, item, kind, amount, now, reason=reason)
            line.staff_id = staff_id
            db.add(line)
    return waived, credited


async def reschedule_session(
    db: AsyncSession,
    *,
    client_id: int | None,
    booking_id: int,
    new_session_id: int,
    now: datetime,
    policy: Policy,
    staff_id: int | None = None,
) -> Changed:
    """Move one session of a package to another session of its class: the old place is
    freed, the slot gets a new booking, the client pays the reschedule fee (not when staff
    move it: an override, recorded)."""
    booking, package, slot, _klass = await _package_booking(db, client_id, booking_id)
    old_start = booking.session.starts_at
    if staff_id is None:
        rules.ensure_can_change(
            starts_at=old_start,
            now=now,
            cutoff_hours=package.reschedule_cutoff_hours,
            zone=policy.zone,
        )
    target = await db.get(ClassSession, new_session_id)
    if target is None or target.class_id != package.class_id:
        raise SessionNotFound()
    if target.starts_at <= now:
        raise SessionAlreadyStarted()
    events, _makeup = await cancel_loaded(db, booking, now, policy)
    if not await take_seat(db, target.id, by_staff=staff_id is not None):
        taken = SlotTaken(when=target.starts_at, session_id=target.id)
        await db.rollback()  # and the old session stays booked
        raise taken
    moved = Booking(
        session_id=target.id, client_id=booking.client_id, created_at=now, by_staff=bool(staff_id)
    )
    db.add(moved)
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        raise AlreadyBooked() from None
    db.add(
        PackageSlot(
            booking_id=moved.id,
            package_id=package.id,
            slot=slot.slot,
            override_by=staff_id,
            override_at=now if staff_id is not None else None,
        )
    )
    await outbox.remind(
        db, [outbox.BookedSeat(moved.id, booking.client_id, target.starts_at)], now, policy
    )
    price = money.Money(package.price_minor, policy.currency)
    fee = money.Money.zero(price.currency)
    if staff_id is None:
        fee = money.fee_share(price, package.reschedule_fee_percent, package.size)
    if fee.minor > 0:
        await charge_reschedule_fee(db, booking.client_id, package_item(package.id), fee, now)
    if staff_id is not None:
        told = PackageChanged(package.client_id, moved.id, package.id, "moved", now)
        await outbox.record(db, [told], now)
        events.append(told)
    await db.commit()
    return Changed(package.id, slot.slot, moved.id, money.Money.zero(fee.currency), fee, events)


async def package_notes(db: AsyncSession, package_id: int) -> str | None:
    return await db.scalar(select(Package.notes).where(Package.id == package_id))


async def packages_of(db: AsyncSession, client_id: int) -> dict[int, tuple[int, int, int]]:
    """booking id → (package id, slot, size) for the client's package bookings."""
    rows = await db.execute(
        select(PackageSlot.booking_id, Package.id, PackageSlot.slot, Package.size)
        .join(Package, Package.id == PackageSlot.package_id)
        .where(Package.client_id == client_id)
    )
    return {booking_id: (pid, slot, size) for booking_id, pid, slot, size in rows}


@dataclass(frozen=True)
class PackageOffer:
    """What a class sells as a package: ``size`` sessions, picked by the client, for
    ``price_minor`` (None or 0: free)."""

    size: int
    price_minor: int | None


async def package_offer(db: AsyncSession, class_id: int) -> PackageOffer | None:
    """The class's package; None when the class is gone or is booked session by session."""
    row = (
        await db.execute(
            select(ProgrammeClass.package_size, ProgrammeClass.package_price_minor).where(
                ProgrammeClass.id == class_id
            )
        )
    ).first()
    if row is None or not row.package_size:
        return None
    return PackageOffer(row.package_size, row.package_price_minor)


async def in_package(db: AsyncSession, booking_id: int) -> bool:
    """The booking is a session of a package (changed only as one: cancel, reschedule)."""
    return await db.get(PackageSlot, booking_id) is not None


@dataclass(frozen=True)
class FreeSession:
    id: int
    starts_at: datetime


async def free_sessions(
    db: AsyncSession, class_id: int, now: datetime, *, limit: int = 200
) -> list[FreeSession]:
    """Sessions of the class ahead with a place left, soonest first."""
    capacity = select(ProgrammeClass.capacity).where(ProgrammeClass.id == class_id)
    rows = await db.execute(
        select(ClassSession.id, ClassSession.starts_at)
        .where(
            ClassSession.class_id == class_id,
            ClassSession.starts_at > now,
            ClassSession.cancelled_at.is_(None),
            ClassSession.seats_taken < capacity.scalar_subquery(),
        )
        .order_by(ClassSession.starts_at)
        .limit(limit)
    )
    return [FreeSession(id_, starts_at) for id_, starts_at in rows]
