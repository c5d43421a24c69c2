"""Courses, service packages and the front desk (seed 004) on a real database: offers from the
catalog, buying one once per payment, booking from its units (also two at once), cancels and
no-shows under the course's late policy, moving a plain booking onto a course, check-in and
check-out (a unit redeemed once, or the single price due) and check-in codes. SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from domain.billing import money
from domain.billing.credits import count_attendance
from domain.billing.payments import (
    InvoiceFor,
    OfferTerms,
    apply_payment,
    balance,
    booking_due,
    buy_course,
    check_before_payment,
)
from domain.booking.bookings import book_session, cancel_booking
from domain.clients.record import ClientRef, remember_client
from domain.courses import units as course_units
from domain.courses.units import courses_of, offers, sell_at_venue, usable_for
from domain.desk.attendance import (
    CheckedOut,
    booking_of_code,
    check_in,
    check_in_code,
    check_out,
    convert_to_course,
    mark_no_show,
)
from domain.errors import (
    AlreadyCheckedIn,
    AlreadyCheckedOut,
    AlreadyFromCourse,
    BookingNotFound,
    CheckInCodeUnknown,
    CourseAlreadyBought,
    CourseExpired,
    CourseNotFound,
    CourseNotOnSale,
    DomainError,
    InPackage,
    NoFreeCourseUnit,
    NotCheckedIn,
    NotInCourse,
    SessionAlreadyStarted,
    SessionNotStarted,
)
from domain.policy import Policy
from domain.storage.models import (
    AttendanceCredit,
    Booking,
    ClassSession,
    ClientCourse,
    ClientPass,
    CourseOffer,
    CourseUnit,
    LedgerEntry,
    Package,
    PackageSlot,
    PassOffer,
    Programme,
    ProgrammeClass,
)
from tests.support.catalog import PRAGUE, load

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # Saturday 13:00 in Prague
ALICE = ClientRef(1001, "Alice")
BOB = ClientRef(1002, "Bob")
STAFF = 7001
POLICY = Policy(zone=PRAGUE, currency="EUR")
EUR = "EUR"

PROGRAMMES = """
programmes:
  - key: massage
    title: Massage
    kind: pay-as-you-go
    cancel_notice_hours: 24
    passes:
      - key: three
        title: 3 massages
        entries: 3
        price: "100.00"
        valid_days: 30
    classes:
      - key: room1
        title: Room 1
        capacity: 3
        price: "40.00"
        sessions:
          - 2026-11-23 10:00
          - 2026-11-24 10:00
          - 2026-11-25 10:00
          - 2026-11-26 10:00
          - 2026-11-27 10:00
          - 2026-12-01 10:00
  - key: physio
    title: Physio
    kind: pay-as-you-go
    cancel_notice_hours: 24
    classes:
      - key: room2
        title: Room 2
        capacity: 3
        price: "30.00"
        sessions:
          - 2026-11-23 11:00
          - 2026-11-24 11:00
"""
FIVE = """
  - key: m5
    title: Massage ×5
    price: "150.00"
    valid_days: 10
    units:
      massage: 5
"""
MIX = """
  - key: mix
    title: Physio & massage
    price: "100.00"
    late_cancel: return
    units:
      physio: 2
      massage: 1
"""
CATALOG = PROGRAMMES + "courses:" + FIVE + MIX


class Studio:
    """Ids of what CATALOG made: the offers and the sessions of each service, by start."""

    def __init__(self, five: int, mix: int, massage: list[int], physio: list[int]) -> None:
        self.five, self.mix, self.massage, self.physio = five, mix, massage, physio


@pytest.fixture
async def studio(db_factory) -> Studio:
    await load(db_factory, CATALOG)
    async with db_factory() as db:
        offer_ids = dict((await db.execute(select(CourseOffer.key, CourseOffer.id))).all())
        return Studio(
            offer_ids["m5"],
            offer_ids["mix"],
            await _sessions_of(db, "massage"),
            await _sessions_of(db, "physio"),
        )


async def _sessions_of(db, programme_key: str) -> list[int]:
    return list(
        await db.scalars(
            select(ClassSession.id)
            .join(ProgrammeClass, ClassSession.class_id == ProgrammeClass.id)
            .join(Programme, ProgrammeClass.programme_id == Programme.id)
            .where(Programme.key == programme_key)
            .order_by(ClassSession.starts_at)
        )
    )


# --- helpers: buying, booking, the front desk ------------------------------------------------


async def invoice(db_factory, offer_id: int, client: ClientRef = ALICE, now: datetime = NOW):
    async with db_factory() as db:
        _, item, invoice = await buy_course(
            db, client=client, offer_id=offer_id, policy=POLICY, now=now
        )
    return item, invoice


async def pay(db_factory, paid: InvoiceFor, charge_id: str, client: ClientRef = ALICE, now=NOW):
    async with db_factory() as db:
        return await apply_payment(
            db,
            client_id=client.id,
            paid=paid,
            charge_id=charge_id,
            method=money.Method.STARS,
            now=now,
            policy=POLICY,
        )


async def bought(db_factory, offer_id: int, client: ClientRef = ALICE) -> int:
    """A course bought and paid in the bot: its id."""
    item, paid = await invoice(db_factory, offer_id, client)
    assert await pay(db_factory, paid, f"stx-{item}", client) is True
    async with db_factory() as db:
        return await db.scalar(select(ClientCourse.id).where(ClientCourse.item == item))


async def book(
    db_factory, session_id: int, client: ClientRef = ALICE, course_id: int | None = None
) -> int:
    async with db_factory() as db:
        booked = await book_session(
            db, client=client, session_id=session_id, now=NOW, policy=POLICY, course_id=course_id
        )
    return booked.card.id


async def units(db_factory, course_id: int) -> list[tuple[str, int | None, bool]]:
    """The course's units in order: (state, booking id, forfeited)."""
    async with db_factory() as db:
        rows = await db.execute(
            select(CourseUnit.state, CourseUnit.booking_id, CourseUnit.forfeited)
            .where(CourseUnit.course_id == course_id)
            .order_by(CourseUnit.position)
        )
        return [tuple(row) for row in rows]


def free(n: int) -> list[tuple[str, None, bool]]:
    return [("free", None, False)] * n


async def booking(db_factory, booking_id: int) -> Booking:
    async with db_factory() as db:
        return await db.get(Booking, booking_id)


async def lines(db_factory, item: str) -> list[tuple[str, int]]:
    """The ledger lines of an item, as (kind, amount), oldest first."""
    async with db_factory() as db:
        rows = await db.execute(
            select(LedgerEntry.kind, LedgerEntry.amount_minor)
            .where(LedgerEntry.item == item)
            .order_by(LedgerEntry.id)
        )
        return [tuple(row) for row in rows]


async def balance_of(db_factory, client: ClientRef = ALICE) -> money.Money:
    async with db_factory() as db:
        return await balance(db, client.id, EUR)


async def due_of(db_factory, booking_id: int, client: ClientRef = ALICE) -> money.Money:
    async with db_factory() as db:
        due = await booking_due(db, client.id, booking_id)
    return due.due if due else money.Money.zero(EUR)


async def starts_at(db_factory, session_id: int) -> datetime:
    async with db_factory() as db:
        return await db.scalar(select(ClassSession.starts_at).where(ClassSession.id == session_id))


async def bookings_count(db_factory) -> int:
    async with db_factory() as db:
        return await db.scalar(select(func.count(Booking.id)))


async def cancel(db_factory, booking_id: int, now: datetime = NOW, client: ClientRef = ALICE):
    async with db_factory() as db:
        await cancel_booking(db, client_id=client.id, booking_id=booking_id, now=now, policy=POLICY)


async def convert(db_factory, booking_id: int, course_id: int, client_id: int | None = ALICE.id):
    async with db_factory() as db:
        await convert_to_course(
            db,
            booking_id=booking_id,
            course_id=course_id,
            now=NOW,
            policy=POLICY,
            client_id=client_id,
        )


async def desk_in(db_factory, booking_id: int, now: datetime = NOW, **answer) -> None:
    async with db_factory() as db:
        await check_in(db, booking_id=booking_id, now=now, policy=POLICY, **answer)


async def desk_out(db_factory, booking_id: int, now: datetime = NOW) -> CheckedOut:
    async with db_factory() as db:
        return await check_out(db, booking_id=booking_id, now=now, policy=POLICY)


async def no_show(db_factory, booking_id: int, now: datetime) -> None:
    async with db_factory() as db:
        await mark_no_show(db, booking_id=booking_id, now=now, policy=POLICY)


async def attended(db_factory, booking_id: int) -> CheckedOut:
    await desk_in(db_factory, booking_id)
    return await desk_out(db_factory, booking_id)


async def give_credit(db_factory, minor: int, client: ClientRef = ALICE) -> None:
    async with db_factory() as db:
        await remember_client(db, client, NOW)
        db.add(
            LedgerEntry(
                client_id=client.id,
                kind=money.EntryKind.CREDIT,
                amount_minor=minor,
                currency=EUR,
                item="booking:999",
                created_at=NOW,
            )
        )
        await db.commit()


def eur(minor: int) -> money.Money:
    return money.Money(minor, EUR)


# --- 1. the catalog --------------------------------------------------------------------------


async def test_courses_and_packages_become_offers_with_units_in_file_order(db_factory):
    report = await load(db_factory, CATALOG)
    again = await load(db_factory, CATALOG)

    assert report.added["courses"] == 2
    assert (again.added["courses"], again.updated["courses"], again.changed) == (0, 0, False)
    async with db_factory() as db:
        ids = dict((await db.execute(select(Programme.key, Programme.id))).all())
        on_sale = [
            (
                o.key,
                o.price_minor,
                o.valid_days,
                o.late_policy,
                [(u.programme_id, u.count) for u in o.units],
            )
            for o in await offers(db)
        ]
    assert on_sale == [  # cheapest first
        ("mix", 10000, None, "return", [(ids["physio"], 2), (ids["massage"], 1)]),
        ("m5", 15000, 10, "forfeit", [(ids["massage"], 5)]),
    ]


async def test_a_course_the_file_no_longer_lists_goes_off_sale_and_bought_ones_stay(
    db_factory, studio
):
    five = await bought(db_factory, studio.five)
    _, pending = await invoice(db_factory, studio.five)  # sent before the catalog changed

    report = await load(db_factory, PROGRAMMES + "courses:" + MIX)

    assert report.updated["courses"] == 1
    async with db_factory() as db:
        assert [o.key for o in await offers(db)] == ["mix"]
        with pytest.raises(CourseNotOnSale):
            await buy_course(db, client=ALICE, offer_id=studio.five, policy=POLICY, now=NOW)
    async with db_factory() as db:
        with pytest.raises(CourseNotOnSale):
            await check_before_payment(
                db, client_id=ALICE.id, invoice=pending, now=NOW, currency=EUR
            )
    async with db_factory() as db:
        massage = await db.scalar(select(Programme.id).where(Programme.key == "massage"))
        usable = await usable_for(db, ALICE.id, massage, date(2026, 11, 23))
    assert [view.id for view in usable] == [five]
    booking_id = await book(db_factory, studio.massage[0], course_id=five)
    assert (await units(db_factory, five))[0] == ("booked", booking_id, False)


async def test_a_bought_course_stays_as_sold_when_the_catalog_changes_it(db_factory, studio):
    five = await bought(db_factory, studio.five)
    changed = CATALOG.replace('"150.00"', '"170.00"').replace("massage: 5", "massage: 6")

    report = await load(db_factory, changed)

    assert report.updated["courses"] == 1
    async with db_factory() as db:
        offer = next(o for o in await offers(db) if o.id == studio.five)
        row = await db.get(ClientCourse, five)
    assert (offer.price_minor, [u.count for u in offer.units]) == (17000, [6])
    assert row.price_minor == 15000
    assert await units(db_factory, five) == free(5)


async def test_a_file_without_courses_leaves_those_on_sale(db_factory, studio):
    report = await load(db_factory, PROGRAMMES)

    assert report.updated["courses"] == 0
    async with db_factory() as db:
        assert sorted(o.key for o in await offers(db)) == ["m5", "mix"]


# --- 2. buying -------------------------------------------------------------------------------


async def test_a_paid_invoice_grants_the_course_with_free_units_and_its_charge(db_factory, studio):
    late_evening = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)  # 22 November in Prague
    item, paid = await invoice(db_factory, studio.five, now=late_evening)
    async with db_factory() as db:
        assert await db.scalar(select(func.count(ClientCourse.id))) == 0  # not before payment

    assert await pay(db_factory, paid, "stx-1", now=late_evening) is True

    assert paid == InvoiceFor(item, 15000, EUR)
    async with db_factory() as db:
        [course] = await courses_of(db, ALICE.id)
        row = await db.get(ClientCourse, course.id)
    assert (row.title, row.price_minor, row.sold_by) == ("Massage ×5", 15000, None)
    assert course.expires_on == date(2026, 12, 1)  # 22 November + 10 days - 1, local days
    assert course.grid == "🟩🟩🟩🟩🟩"
    assert await units(db_factory, course.id) == free(5)
    assert await lines(db_factory, item) == [("payment", 15000), ("charge", 15000)]
    assert await balance_of(db_factory) == eur(0)


async def test_a_package_holds_units_of_each_service_in_order_and_need_not_expire(
    db_factory, studio
):
    mix = await bought(db_factory, studio.mix)

    async with db_factory() as db:
        row = await db.get(ClientCourse, mix)
        services = list(
            await db.scalars(
                select(CourseUnit.programme_id)
                .where(CourseUnit.course_id == mix)
                .order_by(CourseUnit.position)
            )
        )
        ids = dict((await db.execute(select(Programme.key, Programme.id))).all())
    assert row.expires_on is None
    assert row.late_policy == "return"
    assert services == [ids["physio"], ids["physio"], ids["massage"]]


async def test_a_payment_delivered_twice_or_paid_twice_grants_one_course(db_factory, studio):
    item, paid = await invoice(db_factory, studio.five)
    assert await pay(db_factory, paid, "stx-1") is True

    assert await pay(db_factory, paid, "stx-1") is False  # Telegram delivered it again
    assert await pay(db_factory, paid, "stx-2") is True  # the same invoice paid a second time

    async with db_factory() as db:
        assert await db.scalar(select(func.count(ClientCourse.id))) == 1
        assert await db.scalar(select(func.count(CourseUnit.id))) == 5
    assert await lines(db_factory, item) == [
        ("payment", 15000),
        ("charge", 15000),
        ("payment", 15000),
    ]
    assert await balance_of(db_factory) == eur(-15000)  # the second payment is credit


@pytest.mark.parametrize("change", ["dearer", "bought"])
async def test_checkout_refuses_a_changed_price_and_an_invoice_already_paid(
    db_factory, studio, change
):
    _, paid = await invoice(db_factory, studio.five)
    if change == "dearer":
        await load(db_factory, CATALOG.replace('"150.00"', '"160.00"'))
    else:
        await pay(db_factory, paid, "stx-1")

    async with db_factory() as db:
        with pytest.raises(CourseNotOnSale if change == "dearer" else CourseAlreadyBought):
            await check_before_payment(db, client_id=ALICE.id, invoice=paid, now=NOW, currency=EUR)


async def test_credit_covering_the_price_buys_the_course_at_once(db_factory, studio):
    await give_credit(db_factory, 20000)

    item, paid = await invoice(db_factory, studio.five)

    assert paid is None
    async with db_factory() as db:
        [course] = await courses_of(db, ALICE.id)
    assert course.grid == "🟩🟩🟩🟩🟩"
    assert await lines(db_factory, item) == [("charge", 15000), ("payment", 15000)]
    assert await balance_of(db_factory) == eur(-5000)  # 50.00 of credit left


async def test_staff_sell_a_course_at_the_venue_and_nothing_is_left_due(db_factory, studio):
    async with db_factory() as db:
        await buy_course(db, client=BOB, offer_id=studio.mix, policy=POLICY, now=NOW)
    async with db_factory() as db:  # Bob is known (the bot remembered him); staff sell at the desk
        course_id = await sell_at_venue(
            db, client_id=BOB.id, offer_id=studio.mix, staff_id=STAFF, policy=POLICY, now=NOW
        )

    async with db_factory() as db:
        row = await db.get(ClientCourse, course_id)
        ledger = await db.execute(
            select(
                LedgerEntry.kind, LedgerEntry.method, LedgerEntry.amount_minor, LedgerEntry.staff_id
            )
            .where(LedgerEntry.item == row.item)
            .order_by(LedgerEntry.id)
        )
        ledger = [tuple(r) for r in ledger]
    assert (row.client_id, row.sold_by) == (BOB.id, STAFF)
    assert ledger == [("charge", None, 10000, STAFF), ("payment", "venue", 10000, STAFF)]
    assert await units(db_factory, course_id) == free(3)
    assert await balance_of(db_factory, BOB) == eur(0)


# --- 3. booking from a course ----------------------------------------------------------------


async def test_booking_from_a_course_takes_the_first_free_unit_and_charges_nothing(
    db_factory, studio
):
    five = await bought(db_factory, studio.five)

    first = await book(db_factory, studio.massage[0], course_id=five)
    second = await book(db_factory, studio.massage[1], course_id=five)

    assert await units(db_factory, five) == [
        ("booked", first, False),
        ("booked", second, False),
        *free(3),
    ]
    assert await lines(db_factory, f"booking:{first}") == []
    assert await lines(db_factory, f"booking:{second}") == []
    assert await balance_of(db_factory) == eur(0)


async def test_someone_elses_course_books_nothing(db_factory, studio):
    five = await bought(db_factory, studio.five)

    with pytest.raises(CourseNotFound):
        await book(db_factory, studio.massage[0], client=BOB, course_id=five)

    assert await bookings_count(db_factory) == 0
    async with db_factory() as db:
        session = await db.get(ClassSession, studio.massage[0])
    assert session.seats_taken == 0
    assert await units(db_factory, five) == free(5)


async def test_a_course_books_only_its_services_within_its_days_and_units(db_factory, studio):
    five = await bought(db_factory, studio.five)  # valid until 30 November
    mix = await bought(db_factory, studio.mix)  # one massage only

    with pytest.raises(NotInCourse):
        await book(db_factory, studio.physio[0], course_id=five)
    with pytest.raises(CourseExpired):
        await book(db_factory, studio.massage[-1], course_id=five)  # 1 December
    await book(db_factory, studio.massage[0], course_id=mix)
    with pytest.raises(NoFreeCourseUnit):
        await book(db_factory, studio.massage[1], course_id=mix)

    assert await bookings_count(db_factory) == 1
    assert await units(db_factory, five) == free(5)


async def test_two_bookings_at_once_never_take_the_same_last_unit(db_factory, studio):
    mix = await bought(db_factory, studio.mix)  # one massage unit

    outcomes = await asyncio.gather(
        book(db_factory, studio.massage[0], course_id=mix),
        book(db_factory, studio.massage[1], course_id=mix),
        return_exceptions=True,
    )

    won = [o for o in outcomes if isinstance(o, int)]
    lost = [o for o in outcomes if not isinstance(o, int)]
    assert len(won) == 1
    assert len(lost) == 1
    assert isinstance(lost[0], DomainError), lost
    async with db_factory() as db:
        assert list(await db.scalars(select(Booking.id))) == won
    assert (await units(db_factory, mix))[2] == ("booked", won[0], False)


# --- 4. cancelling ---------------------------------------------------------------------------


async def test_cancelling_in_time_frees_the_unit(db_factory, studio):
    five = await bought(db_factory, studio.five)
    booking_id = await book(db_factory, studio.massage[0], course_id=five)

    await cancel(db_factory, booking_id)

    assert await units(db_factory, five) == free(5)


# the offer's attribute on Studio, and where its (first) massage unit is
FORFEIT, RETURN = ("five", 0), ("mix", 2)


@pytest.mark.parametrize(
    ("offer", "after"),
    [(FORFEIT, ("redeemed", True, True)), (RETURN, ("free", False, False))],
    ids=["forfeit", "return"],
)
async def test_cancelling_late_follows_the_courses_late_policy(db_factory, studio, offer, after):
    (name, index), (state, held, forfeited) = offer, after
    course = await bought(db_factory, getattr(studio, name))
    booking_id = await book(db_factory, studio.massage[0], course_id=course)
    late = await starts_at(db_factory, studio.massage[0]) - timedelta(hours=2)

    await cancel(db_factory, booking_id, now=late)

    assert (await units(db_factory, course))[index] == (
        state,
        booking_id if held else None,
        forfeited,
    )


# --- 5. moving a plain booking onto a course -------------------------------------------------


async def test_an_unpaid_booking_moved_onto_a_course_costs_nothing(db_factory, studio):
    five = await bought(db_factory, studio.five)
    booking_id = await book(db_factory, studio.massage[0])
    assert await due_of(db_factory, booking_id) == eur(4000)

    await convert(db_factory, booking_id, five)  # by the client

    assert (await units(db_factory, five))[0] == ("booked", booking_id, False)
    assert await due_of(db_factory, booking_id) == eur(0)
    assert await lines(db_factory, f"booking:{booking_id}") == [
        ("charge", 4000),
        ("waiver", 4000),
    ]
    assert await balance_of(db_factory) == eur(0)


async def test_a_paid_booking_moved_onto_a_course_by_staff_becomes_credit(db_factory, studio):
    five = await bought(db_factory, studio.five)
    booking_id = await book(db_factory, studio.massage[0])
    await pay(db_factory, InvoiceFor(f"booking:{booking_id}", 4000, EUR), "stx-b")

    await convert(db_factory, booking_id, five, client_id=None)  # staff

    assert (await units(db_factory, five))[0] == ("booked", booking_id, False)
    assert await lines(db_factory, f"booking:{booking_id}") == [
        ("charge", 4000),
        ("payment", 4000),
        ("credit", 4000),
    ]
    assert await balance_of(db_factory) == eur(-4000)


async def test_a_booking_paid_with_a_pass_entry_gives_the_entry_back(db_factory, studio):
    five = await bought(db_factory, studio.five)
    async with db_factory() as db:
        pass_offer = await db.scalar(select(PassOffer.id))
    await pay(db_factory, InvoiceFor(f"pass:{pass_offer}:n1", 10000, EUR), "stx-p")
    booking_id = await book(db_factory, studio.massage[0])
    assert (await booking(db_factory, booking_id)).pass_id is not None

    await convert(db_factory, booking_id, five)

    async with db_factory() as db:
        the_pass = await db.scalar(select(ClientPass))
    assert the_pass.used == 0
    assert (await booking(db_factory, booking_id)).pass_id is None
    assert (await units(db_factory, five))[0] == ("booked", booking_id, False)


async def test_converting_someone_elses_booking_or_twice_is_refused(db_factory, studio):
    five = await bought(db_factory, studio.five)
    bobs = await book(db_factory, studio.massage[0], client=BOB)
    alices = await book(db_factory, studio.massage[1])

    with pytest.raises(BookingNotFound):
        await convert(db_factory, bobs, five)  # Alice names Bob's booking
    await convert(db_factory, alices, five)
    with pytest.raises(AlreadyFromCourse):
        await convert(db_factory, alices, five)

    assert await units(db_factory, five) == [("booked", alices, False), *free(4)]
    assert await lines(db_factory, f"booking:{bobs}") == [("charge", 4000)]


async def test_a_conversion_racing_another_onto_a_second_course_fails_with_a_domain_error(
    db_factory, studio, monkeypatch
):
    five = await bought(db_factory, studio.five)
    mix = await bought(db_factory, studio.mix)
    booking_id = await book(db_factory, studio.massage[0])

    async def read_before_the_other_committed(db, booking_id):
        return None  # the race made deterministic (asyncio.gather only mostly hits it)

    await convert(db_factory, booking_id, five)  # the client, in the bot
    monkeypatch.setattr(course_units, "course_of_booking", read_before_the_other_committed)
    with pytest.raises(AlreadyFromCourse):
        await convert(db_factory, booking_id, mix, client_id=None)  # staff, at the desk
    monkeypatch.undo()

    assert await units(db_factory, mix) == free(3)
    assert (await units(db_factory, five))[0] == ("booked", booking_id, False)


async def test_a_checked_out_booking_can_no_longer_move_onto_a_course(db_factory, studio):
    five = await bought(db_factory, studio.five)
    booking_id = await book(db_factory, studio.massage[0])
    await attended(db_factory, booking_id)
    before = await lines(db_factory, f"booking:{booking_id}")

    with pytest.raises(AlreadyCheckedOut):
        await convert(db_factory, booking_id, five, client_id=None)

    assert await units(db_factory, five) == free(5)
    assert await lines(db_factory, f"booking:{booking_id}") == before == [("charge", 4000)]


# --- 6. the front desk -----------------------------------------------------------------------


async def test_check_in_marks_the_booking_once(db_factory, studio):
    booking_id = await book(db_factory, studio.massage[0])

    await desk_in(db_factory, booking_id)
    with pytest.raises(AlreadyCheckedIn):
        await desk_in(db_factory, booking_id, now=NOW + timedelta(minutes=1))

    row = await booking(db_factory, booking_id)
    assert (row.checked_in_at, row.checked_out_at, row.no_show_at) == (NOW, None, None)


async def test_redeem_at_check_in_moves_a_plain_booking_onto_the_course(db_factory, studio):
    five = await bought(db_factory, studio.five)
    booking_id = await book(db_factory, studio.massage[0])

    await desk_in(db_factory, booking_id, redeem=True, course_id=five)

    assert (await booking(db_factory, booking_id)).checked_in_at == NOW
    assert (await units(db_factory, five))[0] == ("booked", booking_id, False)
    assert await due_of(db_factory, booking_id) == eur(0)


async def test_not_redeeming_at_check_in_frees_the_unit_and_charges_the_single_price(
    db_factory, studio
):
    five = await bought(db_factory, studio.five)
    booking_id = await book(db_factory, studio.massage[0], course_id=five)

    await desk_in(db_factory, booking_id, redeem=False)
    out = await desk_out(db_factory, booking_id)

    assert out == CheckedOut(from_course=False, due=eur(4000))
    assert await units(db_factory, five) == free(5)
    assert await lines(db_factory, f"booking:{booking_id}") == [("charge", 4000)]


async def test_check_out_of_a_course_booking_redeems_its_unit_once(db_factory, studio):
    five = await bought(db_factory, studio.five)
    booking_id = await book(db_factory, studio.massage[0], course_id=five)
    await desk_in(db_factory, booking_id)

    out = await desk_out(db_factory, booking_id)
    with pytest.raises(AlreadyCheckedOut):
        await desk_out(db_factory, booking_id)

    assert out == CheckedOut(from_course=True, due=eur(0))
    assert await units(db_factory, five) == [("redeemed", booking_id, False), *free(4)]
    assert (await booking(db_factory, booking_id)).checked_out_at == NOW
    assert await lines(db_factory, f"booking:{booking_id}") == []


async def test_check_out_of_a_plain_booking_owes_its_price_charged_once(db_factory, studio):
    booking_id = await book(db_factory, studio.massage[0])

    out = await attended(db_factory, booking_id)

    assert out == CheckedOut(from_course=False, due=eur(4000))
    assert await lines(db_factory, f"booking:{booking_id}") == [("charge", 4000)]


async def test_check_out_before_check_in_is_refused(db_factory, studio):
    five = await bought(db_factory, studio.five)
    booking_id = await book(db_factory, studio.massage[0], course_id=five)

    with pytest.raises(NotCheckedIn):
        await desk_out(db_factory, booking_id)

    assert (await booking(db_factory, booking_id)).checked_out_at is None
    assert (await units(db_factory, five))[0] == ("booked", booking_id, False)


async def test_a_redeemed_unit_stays_redeemed_when_the_booking_is_cancelled_afterwards(
    db_factory, studio
):
    five = await bought(db_factory, studio.five)
    booking_id = await book(db_factory, studio.massage[0], course_id=five)
    begun = await starts_at(db_factory, studio.massage[0]) + timedelta(minutes=5)
    await desk_in(db_factory, booking_id, now=begun)
    await desk_out(db_factory, booking_id, now=begun + timedelta(hours=1))

    with pytest.raises(SessionAlreadyStarted):
        await cancel(db_factory, booking_id, now=begun + timedelta(hours=1))

    assert (await booking(db_factory, booking_id)).status == "active"
    assert await units(db_factory, five) == [("redeemed", booking_id, False), *free(4)]


async def test_a_booking_checked_out_before_its_session_cannot_be_cancelled(db_factory, studio):
    five = await bought(db_factory, studio.five)
    plain = await book(db_factory, studio.massage[0])
    from_course = await book(db_factory, studio.massage[1], course_id=five)
    await pay(db_factory, InvoiceFor(f"booking:{plain}", 4000, EUR), "stx-b")
    for booking_id in (plain, from_course):
        await attended(db_factory, booking_id)  # at NOW, days before the sessions

        with pytest.raises(AlreadyCheckedOut):
            await cancel(db_factory, booking_id)

        assert (await booking(db_factory, booking_id)).status == "active"
    assert await lines(db_factory, f"booking:{plain}") == [("charge", 4000), ("payment", 4000)]
    assert await balance_of(db_factory) == eur(0)  # no credit for a visit closed at the desk
    assert await units(db_factory, five) == [("redeemed", from_course, False), *free(4)]


@pytest.mark.parametrize(
    ("offer", "after"),
    [(FORFEIT, ("redeemed", True, True)), (RETURN, ("free", False, False))],
    ids=["forfeit", "return"],
)
async def test_a_no_show_is_marked_once_the_session_began_and_the_unit_follows_the_policy(
    db_factory, studio, offer, after
):
    (name, index), (state, held, forfeited) = offer, after
    course = await bought(db_factory, getattr(studio, name))
    booking_id = await book(db_factory, studio.massage[0], course_id=course)
    start = await starts_at(db_factory, studio.massage[0])

    with pytest.raises(SessionNotStarted):
        await no_show(db_factory, booking_id, now=start - timedelta(minutes=1))
    await no_show(db_factory, booking_id, now=start + timedelta(minutes=15))

    assert (await booking(db_factory, booking_id)).no_show_at == start + timedelta(minutes=15)
    assert (await units(db_factory, course))[index] == (
        state,
        booking_id if held else None,
        forfeited,
    )


async def test_a_checked_in_client_is_no_no_show(db_factory, studio):
    five = await bought(db_factory, studio.five)
    booking_id = await book(db_factory, studio.massage[0], course_id=five)
    start = await starts_at(db_factory, studio.massage[0])
    await desk_in(db_factory, booking_id, now=start)

    with pytest.raises(AlreadyCheckedIn):
        await no_show(db_factory, booking_id, now=start + timedelta(minutes=15))

    assert (await booking(db_factory, booking_id)).no_show_at is None
    assert (await units(db_factory, five))[0] == ("booked", booking_id, False)


async def test_check_out_uses_one_attendance_credit_once(db_factory, studio):
    async with db_factory() as db:
        await db.execute(
            update(Programme).where(Programme.key == "massage").values(attendance_credits=3)
        )
        await db.commit()
    booking_id = await book(db_factory, studio.massage[0])
    start = await starts_at(db_factory, studio.massage[0])
    await desk_in(db_factory, booking_id, now=start)
    await desk_out(db_factory, booking_id, now=start + timedelta(hours=1))

    async with db_factory() as db:  # the periodic count comes by after
        counted = await count_attendance(db, start + timedelta(hours=2), POLICY)
        used = list(await db.scalars(select(AttendanceCredit.used)))
    assert counted == 0
    assert used == [1]
    assert (await booking(db_factory, booking_id)).credit_id is not None


# --- 7. the acceptance scenario --------------------------------------------------------------


async def test_a_five_visit_course_shows_what_was_redeemed_booked_and_free(db_factory, studio):
    five = await bought(db_factory, studio.five)
    first = await book(db_factory, studio.massage[0], course_id=five)
    await book(db_factory, studio.massage[1], course_id=five)

    await desk_in(db_factory, first, redeem=True, course_id=five)  # a course booking already
    out = await desk_out(db_factory, first)

    assert out.from_course is True
    async with db_factory() as db:
        [course] = await courses_of(db, ALICE.id)
    assert course.grid == "🟥🟧🟩🟩🟩"
    assert [u.service for u in course.units] == ["Massage"] * 5
    assert course.units[1].starts_at == await starts_at(db_factory, studio.massage[1])


# --- 8. check-in codes -----------------------------------------------------------------------


async def code_of(db_factory, booking_id: int, client: ClientRef = ALICE) -> str:
    async with db_factory() as db:
        return await check_in_code(db, booking_id=booking_id, client_id=client.id)


async def found_by(db_factory, token: str) -> int:
    async with db_factory() as db:
        return (await booking_of_code(db, token)).id


async def test_a_check_in_code_is_made_once_and_names_the_booking(db_factory, studio):
    booking_id = await book(db_factory, studio.massage[0])

    code = await code_of(db_factory, booking_id)

    assert await code_of(db_factory, booking_id) == code
    assert (await booking(db_factory, booking_id)).check_in_token == code
    assert await found_by(db_factory, code) == booking_id
    with pytest.raises(BookingNotFound):
        await code_of(db_factory, booking_id, client=BOB)


@pytest.mark.parametrize("token", ["", "nope", "x" * 25])
async def test_an_unknown_check_in_code_names_nothing(db_factory, studio, token):
    await code_of(db_factory, await book(db_factory, studio.massage[0]))

    with pytest.raises(CheckInCodeUnknown):
        await found_by(db_factory, token)


async def test_a_cancelled_bookings_code_names_nothing(db_factory, studio):
    booking_id = await book(db_factory, studio.massage[0])
    code = await code_of(db_factory, booking_id)
    await cancel(db_factory, booking_id)

    with pytest.raises(CheckInCodeUnknown):
        await found_by(db_factory, code)


async def test_a_checked_in_booking_cannot_be_cancelled_and_keeps_its_unit(db_factory, studio):
    five = await bought(db_factory, studio.five)
    booking_id = await book(db_factory, studio.massage[0], course_id=five)
    await desk_in(db_factory, booking_id)

    with pytest.raises(AlreadyCheckedIn):
        await cancel(db_factory, booking_id)

    assert (await booking(db_factory, booking_id)).status == "active"
    assert (await units(db_factory, five))[0] == ("booked", booking_id, False)


async def test_two_check_outs_at_once_redeem_once_and_the_other_is_told_it_is_done(
    db_factory, studio
):
    five = await bought(db_factory, studio.five)
    booking_id = await book(db_factory, studio.massage[0], course_id=five)
    await desk_in(db_factory, booking_id)

    outcomes = await asyncio.gather(
        desk_out(db_factory, booking_id), desk_out(db_factory, booking_id), return_exceptions=True
    )

    done = [o for o in outcomes if isinstance(o, CheckedOut)]
    refused = [o for o in outcomes if not isinstance(o, CheckedOut)]
    assert len(done) == 1
    assert len(refused) == 1
    assert isinstance(refused[0], AlreadyCheckedOut), refused
    assert (await units(db_factory, five))[0] == ("redeemed", booking_id, False)


async def test_a_session_of_a_package_does_not_move_onto_a_course(db_factory, studio):
    five = await bought(db_factory, studio.five)
    booking_id = await book(db_factory, studio.massage[0])
    # as domain.timetable.packages books a package: the slot names it
    async with db_factory() as db:
        class_id = await db.scalar(
            select(ClassSession.class_id).where(ClassSession.id == studio.massage[0])
        )
        package = Package(
            client_id=ALICE.id,
            class_id=class_id,
            size=1,
            price_minor=4000,
            created_at=NOW,
            cancel_cutoff_hours=24,
            reschedule_cutoff_hours=24,
            cancel_refund_percent=100,
            reschedule_fee_percent=0,
        )
        db.add(package)
        await db.flush()
        db.add(PackageSlot(booking_id=booking_id, package_id=package.id, slot=1))
        await db.commit()

    with pytest.raises(InPackage):
        await convert(db_factory, booking_id, five)

    assert await units(db_factory, five) == free(5)


async def test_buying_a_course_names_what_the_invoice_sells(db_factory, studio):
    async def terms(offer_id: int) -> OfferTerms:
        async with db_factory() as db:
            bought = await buy_course(db, client=ALICE, offer_id=offer_id, policy=POLICY, now=NOW)
        return bought[0]

    five, mix = await terms(studio.five), await terms(studio.mix)

    assert five == OfferTerms(studio.five, "Massage ×5", 15000, valid_days=10, entries=None)
    assert mix == OfferTerms(studio.mix, "Physio & massage", 10000, valid_days=None, entries=None)
