"""Staff cancellations on a real database (SQLite and PostgreSQL): a whole session of clients
paid in every way (Stars, credit, a pass, a course unit, unpaid) cancelled in one transaction
with one notice each; a single booking cancelled under each choice of terms; a client taken
off an ongoing class with one notice for it all; a Stars refund the client was told of that
Telegram refuses telling them once (none when accepted, none yet unanswered); bad input
(someone else's or an unknown booking, a second tap, a started session) changing nothing;
and a session cancelled while clients tap Book on it leaving no booking on it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from domain.billing import money
from domain.billing.payments import InvoiceFor, apply_payment, balance, booking_item
from domain.billing.refunds import ask_requested, refund_booking, retry_stars_refunds
from domain.booking.bookings import book_session
from domain.booking.ongoing import enrol_in_class
from domain.clients.record import ClientRef, remember_client
from domain.courses.units import courses_of
from domain.desk.cancellations import cancel_for_client, take_off_class
from domain.errors import (
    BookingAlreadyCancelled,
    BookingNotFound,
    DomainError,
    NotEnrolled,
    SessionAlreadyStarted,
    SessionCancelledByStaff,
    SessionFull,
    StarsRefundRefused,
    StarsRefundUnanswered,
)
from domain.notices.events import (
    QuietRefundRefused,
    RefundRefusedForStaff,
    SessionReminder,
    StaffCancelled,
    TakenOffClass,
)
from domain.policy import Policy
from domain.storage.models import (
    Booking,
    ClassSession,
    ClientPass,
    CourseOffer,
    Enrolment,
    LedgerEntry,
    MakeupCredit,
    OutboxMessage,
    PackageSlot,
    PassOffer,
    ProgrammeClass,
    RefundRequest,
    WaitlistEntry,
)
from domain.timetable.cancellation import (
    CancelTerms,
    MoneyBack,
    cancel_whole_session,
    session_cancel_preview,
)
from tests.support.catalog import PRAGUE, load

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
STAFF = 7001
POLICY = Policy(zone=PRAGUE, currency="EUR")
DEFAULT_TERMS = CancelTerms()
STARS, CREDIT, PASS, UNIT, UNPAID = (ClientRef(1000 + i, n) for i, n in enumerate("SCPUN"))
WAITER = ClientRef(1100, "Wendy")
CATALOG = """
billing_periods:
  - {key: winter, name: Winter, from: 2026-09-01, until: 2026-12-31}
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
      - key: room
        title: Room 1
        capacity: 5
        price: "40.00"
        sessions: [2026-11-23 10:00, 2026-11-24 10:00]
      - key: hall
        title: Big hall
        capacity: 100
        price: "10.00"
        sessions: [2026-11-25 10:00]
  - key: pottery
    title: Pottery course
    kind: ongoing
    cancel_notice_hours: 24
    classes:
      - key: tue
        title: Tuesday wheel
        capacity: 4
        sessions: [2026-11-24 18:00, 2026-12-01 18:00, 2026-12-08 18:00]
courses:
  - key: m5
    title: Massage ×5
    price: "150.00"
    units:
      massage: 5
"""


def eur(minor: int) -> money.Money:
    return money.Money(minor, "EUR")


@pytest.fixture
async def studio(db_factory) -> dict[str, int]:
    await load(db_factory, CATALOG)
    async with db_factory() as db:
        first, second = await db.scalars(
            select(ClassSession.id)
            .join(ProgrammeClass)
            .where(ProgrammeClass.key == "room")
            .order_by(ClassSession.starts_at)
        )
        return {
            "first": first,
            "second": second,
            "pass": await db.scalar(select(PassOffer.id)),
            "course": await db.scalar(select(CourseOffer.id)),
            "tue": await db.scalar(select(ProgrammeClass.id).where(ProgrammeClass.key == "tue")),
            "hall": await db.scalar(
                select(ClassSession.id).join(ProgrammeClass).where(ProgrammeClass.key == "hall")
            ),
        }


async def pay(db_factory, client: ClientRef, item: str, minor: int, charge: str, method):
    async with db_factory() as db:
        await remember_client(db, client, NOW)
        assert await apply_payment(
            db,
            client_id=client.id,
            paid=InvoiceFor(item, minor, "EUR"),
            charge_id=charge,
            method=method,
            now=NOW,
            policy=POLICY,
        )


async def book(db_factory, session_id: int, client: ClientRef, course_id: int | None = None):
    async with db_factory() as db:
        booked = await book_session(
            db, client=client, session_id=session_id, now=NOW, policy=POLICY, course_id=course_id
        )
    return booked.card.id


async def five_clients(db_factory, studio) -> dict[ClientRef, int]:
    """One booking of the first session each: paid in Stars, from credit, with a pass entry,
    with a course unit, and not paid."""
    first = studio["first"]
    bookings = {STARS: await book(db_factory, first, STARS)}
    await pay(db_factory, STARS, booking_item(bookings[STARS]), 4000, "stx-s", money.Method.STARS)
    async with db_factory() as db:
        await remember_client(db, CREDIT, NOW)
        db.add(
            LedgerEntry(
                client_id=CREDIT.id,
                kind=money.EntryKind.CREDIT,
                amount_minor=4000,
                currency="EUR",
                item="booking:999",
                created_at=NOW,
            )
        )
        await db.commit()
    bookings[CREDIT] = await book(db_factory, first, CREDIT)
    await pay(db_factory, PASS, f"pass:{studio['pass']}:n1", 10000, "stx-p", money.Method.STARS)
    bookings[PASS] = await book(db_factory, first, PASS)
    await pay(db_factory, UNIT, f"course:{studio['course']}:n1", 15000, "stx-u", money.Method.CARD)
    async with db_factory() as db:
        (course,) = await courses_of(db, UNIT.id)
    bookings[UNIT] = await book(db_factory, first, UNIT, course_id=course.id)
    bookings[UNPAID] = await book(db_factory, first, UNPAID)
    return bookings


class Telegram:
    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []

    async def __call__(self, user_id: int, charge_id: str) -> None:
        self.calls.append((user_id, charge_id))


async def notices(db_factory, client: ClientRef) -> list[str]:
    async with db_factory() as db:
        kinds = await db.scalars(
            select(OutboxMessage.kind)
            .where(OutboxMessage.recipient == client.id, OutboxMessage.state == "pending")
            .where(OutboxMessage.kind != SessionReminder.kind)
            .where(OutboxMessage.kind != "payment_received")
            .order_by(OutboxMessage.id)
        )
        return list(kinds)


async def balance_of(db_factory, client: ClientRef) -> int:
    async with db_factory() as db:
        return (await balance(db, client.id, "EUR")).minor


async def cancel_session(db_factory, session_id: int, terms=DEFAULT_TERMS, now=NOW):
    async with db_factory() as db:
        return await cancel_whole_session(
            db, session_id=session_id, staff_id=STAFF, terms=terms, now=now, policy=POLICY
        )


# --- a whole session ------------------------------------------------------------------------


async def test_the_preview_names_each_client_and_how_they_paid(db_factory, studio):
    await five_clients(db_factory, studio)
    async with db_factory() as db:
        preview = await session_cancel_preview(
            db, session_id=studio["first"], now=NOW, policy=POLICY
        )
    assert preview.clients == 5
    assert [line.paid for line in preview.lines] == ["stars", "credit", "pass", "unit", "unpaid"]
    assert preview.paid_minor == 8000
    assert preview.stars_minor == 4000


async def test_cancelling_a_session_of_five_settles_each_client_once(db_factory, studio):
    bookings = await five_clients(db_factory, studio)
    async with db_factory() as db:
        await book_session(db, client=WAITER, session_id=studio["second"], now=NOW, policy=POLICY)
        db.add(
            WaitlistEntry(
                session_id=studio["first"], client_id=WAITER.id, requested_at=NOW, status="waiting"
            )
        )
        await db.commit()

    done = await cancel_session(db_factory, studio["first"], CancelTerms(reason="Teacher ill"))
    assert done.clients == 5
    assert done.waiting_cleared == 1
    assert done.total("stars_minor") == 4000
    assert done.total("credit_minor") == 4000
    telegram = Telegram()
    async with db_factory() as db:
        (request,) = await ask_requested(
            db, request_ids=done.request_ids, refund_stars=telegram, now=NOW
        )
    assert telegram.calls == [(STARS.id, "stx-s")]
    assert request.state == "done"

    assert await balance_of(db_factory, STARS) == 0  # refunded through Telegram
    assert await balance_of(db_factory, CREDIT) == -4000  # the credit back
    assert await balance_of(db_factory, UNPAID) == 0  # nothing owed
    async with db_factory() as db:
        assert (await db.scalar(select(ClientPass))).used == 0
        (course,) = await courses_of(db, UNIT.id)
        assert [u.state for u in course.units] == ["free"] * 5
        session = await db.get(ClassSession, studio["first"])
        assert session.cancelled_at is not None
        assert session.cancelled_by == STAFF
        assert session.cancel_reason == "Teacher ill"
        assert session.seats_taken == 0
        statuses = set(
            await db.scalars(select(Booking.status).where(Booking.id.in_(bookings.values())))
        )
        assert statuses == {"cancelled"}
        reminders = await db.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.booking_id.in_(bookings.values()),
                OutboxMessage.kind == SessionReminder.kind,
                OutboxMessage.state == "pending",
            )
        )
        assert reminders == 0
        assert (await db.scalar(select(WaitlistEntry.status))) == "cancelled"
    for client in bookings:
        assert await notices(db_factory, client) == [StaffCancelled.kind]
    assert await notices(db_factory, WAITER) == []


async def test_a_session_is_cancelled_once_and_a_second_tap_changes_nothing(db_factory, studio):
    await five_clients(db_factory, studio)
    await cancel_session(db_factory, studio["first"])
    with pytest.raises(SessionCancelledByStaff):
        await cancel_session(db_factory, studio["first"])
    async with db_factory() as db:
        with pytest.raises(SessionCancelledByStaff):
            await session_cancel_preview(db, session_id=studio["first"], now=NOW)
        assert await db.scalar(select(func.count(RefundRequest.id))) == 1
    assert await notices(db_factory, CREDIT) == [StaffCancelled.kind]


async def test_a_session_already_started_cannot_be_cancelled(db_factory, studio):
    bookings = await five_clients(db_factory, studio)
    later = datetime(2026, 11, 23, 9, 5, tzinfo=UTC)
    with pytest.raises(SessionAlreadyStarted):
        await cancel_session(db_factory, studio["first"], now=later)
    async with db_factory() as db:
        assert (await db.get(ClassSession, studio["first"])).cancelled_at is None
        assert (await db.get(Booking, bookings[STARS])).status == "active"


async def test_an_unknown_session_is_not_found(db_factory, studio):
    from domain.errors import SessionNotFound

    with pytest.raises(SessionNotFound):
        await cancel_session(db_factory, 999_999)


async def test_a_cancelled_session_takes_no_booking_and_keeping_the_money_keeps_it(
    db_factory, studio
):
    bookings = await five_clients(db_factory, studio)
    terms = CancelTerms(money=MoneyBack.KEEP, give_back=False, makeup=False)
    done = await cancel_session(db_factory, studio["first"], terms)
    assert done.request_ids == []
    assert done.total("kept_minor") == 8000
    assert await balance_of(db_factory, CREDIT) == 0
    async with db_factory() as db:
        assert (await db.scalar(select(ClientPass))).used == 1
        with pytest.raises(SessionCancelledByStaff):
            await book_session(
                db, client=WAITER, session_id=studio["first"], now=NOW, policy=POLICY
            )
        booking = await db.get(Booking, bookings[PASS])
        assert booking.cancelled_by == STAFF
        assert booking.cancel_waived == "money,entry,makeup"


async def test_a_session_cancelled_while_clients_tap_book_keeps_no_booking(db_factory, studio):
    """Taps spread before, during and after the cancel, in a session with room for all."""
    clients = [ClientRef(3000 + i, f"c{i}") for i in range(24)]
    session_id = studio["hall"]

    some_booked, booked = asyncio.Event(), []

    async def tap(client: ClientRef, delay: float):
        await asyncio.sleep(delay)
        async with db_factory() as db:
            try:
                done = await book_session(
                    db, client=client, session_id=session_id, now=NOW, policy=POLICY
                )
            except DomainError as error:
                return error
        booked.append(done)
        if len(booked) >= 3:
            some_booked.set()
        return done

    async def cancel():  # once a few are in, while the others still tap
        await some_booked.wait()
        return await cancel_session(db_factory, session_id)

    taps = (tap(c, i * 0.004) for i, c in enumerate(clients))
    *outcomes, cancelled = await asyncio.gather(*taps, cancel())
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert all(isinstance(e, (SessionFull, SessionCancelledByStaff)) for e in refused)
    async with db_factory() as db:
        active = await db.scalar(
            select(func.count(Booking.id)).where(
                Booking.session_id == session_id, Booking.status == "active"
            )
        )
        session = await db.get(ClassSession, session_id)
        told = await db.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == StaffCancelled.kind)
        )
    assert active == 0
    assert session.cancelled_at is not None
    assert session.seats_taken == 0
    # every booking that got in was cancelled, and its client told once
    assert cancelled.clients == len(outcomes) - len(refused) == told


# --- one booking ----------------------------------------------------------------------------


async def cancel_one(db_factory, booking_id: int, terms=DEFAULT_TERMS, client_id=None):
    async with db_factory() as db:
        return await cancel_for_client(
            db,
            booking_id=booking_id,
            staff_id=STAFF,
            terms=terms,
            now=NOW,
            policy=POLICY,
            client_id=client_id,
        )


@pytest.mark.parametrize(
    ("money_back", "stars", "credit", "balance_after"),
    [
        (MoneyBack.AUTO, 4000, 0, 0),
        (MoneyBack.REFUND, 4000, 0, 0),
        (MoneyBack.CREDIT, 0, 4000, -4000),
        (MoneyBack.KEEP, 0, 0, 0),
    ],
)
async def test_a_stars_booking_goes_back_as_staff_choose(
    db_factory, studio, money_back, stars, credit, balance_after
):
    booking = await book(db_factory, studio["first"], STARS)
    await pay(db_factory, STARS, booking_item(booking), 4000, "stx-s", money.Method.STARS)
    done = await cancel_one(db_factory, booking, CancelTerms(money=money_back, reason="flood"))
    (settled,) = done.settled
    assert (settled.stars_minor, settled.credit_minor) == (stars, credit)
    async with db_factory() as db:
        await ask_requested(db, request_ids=done.request_ids, refund_stars=Telegram(), now=NOW)
    assert await balance_of(db_factory, STARS) == balance_after
    assert await notices(db_factory, STARS) == [StaffCancelled.kind]
    async with db_factory() as db:
        row = await db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "staff_cancelled"))
        assert '"reason": "flood"' in row.payload


async def test_a_card_payment_refunded_is_recorded_for_staff_to_pay_back(db_factory, studio):
    booking = await book(db_factory, studio["first"], UNPAID)
    await pay(db_factory, UNPAID, booking_item(booking), 4000, "card-1", money.Method.CARD)
    done = await cancel_one(db_factory, booking, CancelTerms(money=MoneyBack.REFUND))
    assert done.settled[0].other_minor == 4000
    async with db_factory() as db:
        kinds = list(
            await db.scalars(
                select(LedgerEntry.method).where(
                    LedgerEntry.client_id == UNPAID.id, LedgerEntry.kind == "refund"
                )
            )
        )
    assert kinds == ["card"]


async def test_a_pass_entry_comes_back_or_not_as_staff_choose(db_factory, studio):
    await pay(db_factory, PASS, f"pass:{studio['pass']}:n1", 10000, "stx-p", money.Method.STARS)
    first = await book(db_factory, studio["first"], PASS)
    second = await book(db_factory, studio["second"], PASS)
    await cancel_one(db_factory, first)
    await cancel_one(db_factory, second, CancelTerms(give_back=False))
    async with db_factory() as db:
        assert (await db.scalar(select(ClientPass))).used == 1


async def test_someone_elses_or_an_unknown_booking_changes_nothing(db_factory, studio):
    booking = await book(db_factory, studio["first"], UNPAID)
    with pytest.raises(BookingNotFound):
        await cancel_one(db_factory, booking, client_id=STARS.id)
    with pytest.raises(BookingNotFound):
        await cancel_one(db_factory, 999_999)
    async with db_factory() as db:
        assert (await db.get(Booking, booking)).status == "active"
    assert await notices(db_factory, UNPAID) == []


async def test_a_second_tap_cancels_once(db_factory, studio):
    booking = await book(db_factory, studio["first"], UNPAID)
    await cancel_one(db_factory, booking)
    with pytest.raises(BookingAlreadyCancelled):
        await cancel_one(db_factory, booking)
    assert await notices(db_factory, UNPAID) == [StaffCancelled.kind]


async def test_a_started_session_is_not_cancelled_for_a_client(db_factory, studio):
    booking = await book(db_factory, studio["first"], UNPAID)
    async with db_factory() as db:
        with pytest.raises(SessionAlreadyStarted):
            await cancel_for_client(
                db,
                booking_id=booking,
                staff_id=STAFF,
                terms=CancelTerms(),
                now=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
                policy=POLICY,
            )
        assert (await db.get(Booking, booking)).status == "active"


async def test_a_freed_seat_goes_to_the_waiting_list(db_factory, studio):
    first = studio["first"]
    booked = [await book(db_factory, first, ClientRef(4000 + i, "x")) for i in range(5)]
    async with db_factory() as db:
        await remember_client(db, WAITER, NOW)
        db.add(
            WaitlistEntry(session_id=first, client_id=WAITER.id, requested_at=NOW, status="waiting")
        )
        await db.commit()
    await cancel_one(db_factory, booked[0])
    async with db_factory() as db:
        assert (await db.scalar(select(WaitlistEntry.status))) == "booked"


# --- ongoing classes ------------------------------------------------------------------------


async def test_a_make_up_credit_is_given_even_late_or_withheld(db_factory, studio):
    async with db_factory() as db:
        await enrol_in_class(db, client=UNPAID, class_id=studio["tue"], now=NOW, policy=POLICY)
    async with db_factory() as db:
        ids = list(
            await db.scalars(
                select(Booking.id)
                .join(ClassSession)
                .where(Booking.client_id == UNPAID.id)
                .order_by(ClassSession.starts_at)
            )
        )
    late = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 6 h before: late for the client
    async with db_factory() as db:
        await cancel_for_client(
            db, booking_id=ids[0], staff_id=STAFF, terms=DEFAULT_TERMS, now=late, policy=POLICY
        )
    await cancel_one(db_factory, ids[1], CancelTerms(makeup=False))
    async with db_factory() as db:
        assert await db.scalar(select(func.count(MakeupCredit.id))) == 1


async def test_taking_a_client_off_a_class_cancels_their_sessions_ahead(db_factory, studio):
    async with db_factory() as db:
        await enrol_in_class(db, client=UNPAID, class_id=studio["tue"], now=NOW, policy=POLICY)
    async with db_factory() as db:
        done = await take_off_class(
            db,
            client_id=UNPAID.id,
            class_id=studio["tue"],
            staff_id=STAFF,
            terms=CancelTerms(makeup=False, reason="moved away"),
            now=NOW,
            policy=POLICY,
        )
    assert len(done.settled) == 3
    async with db_factory() as db:
        assert (await db.scalar(select(Enrolment.status))) == "left"
        statuses = set(await db.scalars(select(Booking.status)))
        assert statuses == {"cancelled"}
        assert await db.scalar(select(func.count(MakeupCredit.id))) == 0
        with pytest.raises(NotEnrolled):
            await take_off_class(
                db,
                client_id=UNPAID.id,
                class_id=studio["tue"],
                staff_id=STAFF,
                terms=CancelTerms(),
                now=NOW + timedelta(minutes=1),
                policy=POLICY,
            )
    # one notice for the whole class, not one per session
    assert await notices(db_factory, UNPAID) == [TakenOffClass.kind]


async def test_a_take_off_writes_one_notice_with_all_it_cancelled_and_gave_back(db_factory, studio):
    from domain.notices.outbox import from_row

    async with db_factory() as db:
        await enrol_in_class(db, client=UNPAID, class_id=studio["tue"], now=NOW, policy=POLICY)
    async with db_factory() as db:
        done = await take_off_class(
            db,
            client_id=UNPAID.id,
            class_id=studio["tue"],
            staff_id=STAFF,
            terms=CancelTerms(reason="moved away"),
            now=NOW,
            policy=POLICY,
        )
    async with db_factory() as db:
        rows = list(
            await db.scalars(select(OutboxMessage).where(OutboxMessage.recipient == UNPAID.id))
        )
        enrolment = await db.scalar(select(Enrolment.id))
    told = [r for r in rows if r.kind not in (SessionReminder.kind, "enrolled")]
    assert [r.kind for r in told] == [TakenOffClass.kind]
    assert [r.state for r in told] == ["pending"]
    (row,) = told
    assert row.dedupe_key == f"taken_off_class:{enrolment}"
    event = from_row(row.kind, row.payload)
    assert event.booking_ids == tuple(s.booking_id for s in done.settled)
    assert len(event.booking_ids) == 3
    assert event.makeups == 3  # a make-up credit for each session cancelled
    assert event.reason == "moved away"
    assert (event.stars_minor, event.credit_minor, event.other_minor) == (0, 0, 0)
    assert not any(r.kind == StaffCancelled.kind for r in rows)


# --- a package's session, and what clients see of a cancelled session ---------------------


async def test_a_package_session_gives_back_its_whole_share_unless_kept(db_factory):
    from tests.storage.test_packages import COACHING
    from tests.storage.test_packages import book as book_package

    await load(db_factory, COACHING)
    async with db_factory() as db:
        await db.execute(
            update(ProgrammeClass)
            .where(ProgrammeClass.key == "one")
            .values(package_size=3, package_price_minor=15000, cancel_refund_percent=50)
        )
        await remember_client(db, ClientRef(1001, "Alice"), NOW)
        await db.commit()
        one = list(
            await db.scalars(
                select(ClassSession.id)
                .join(ProgrammeClass)
                .where(ProgrammeClass.key == "one")
                .order_by(ClassSession.starts_at)
            )
        )
    view = await book_package(db_factory, one[:3])
    first, second = view.slots[0].booking_id, view.slots[1].booking_id

    done = await cancel_one(db_factory, first)  # unpaid: its whole share is waived
    kept = await cancel_one(db_factory, second, CancelTerms(money=MoneyBack.KEEP))

    # price / 3, not the client's 50 %; nothing paid yet, so waived rather than credited
    assert (done.settled[0].waived_minor, done.settled[0].credit_minor) == (5000, 0)
    assert (kept.settled[0].waived_minor, kept.settled[0].credit_minor) == (0, 0)
    async with db_factory() as db:
        assert (await balance(db, 1001, "EUR")).minor == 10000
        slot = await db.get(PackageSlot, first)
        assert slot.override_by == STAFF


async def test_a_cancelled_session_leaves_the_lists_clients_browse(db_factory, studio):
    from domain.booking import client_views
    from domain.timetable.packages import free_sessions

    await cancel_session(db_factory, studio["first"])
    async with db_factory() as db:
        class_id = await db.scalar(
            select(ClassSession.class_id).where(ClassSession.id == studio["first"])
        )
        listed = [s.id for s in await client_views.upcoming_sessions(db, class_id, NOW)]
        free = [s.id for s in await free_sessions(db, class_id, NOW)]
        row = await client_views.klass(db, class_id, NOW)
        card = await client_views.session_card(db, studio["first"], STARS.id)
    assert listed == free == [studio["second"]]
    assert row.upcoming == 1
    assert card is None  # a link to it, or a stale button, finds no session


async def test_a_full_session_cancelled_while_clients_join_its_waiting_list_keeps_no_queue(
    db_factory, studio
):
    from domain.booking.bookings import book_or_wait

    session_id = studio["first"]
    for i in range(5):  # full
        await book(db_factory, session_id, ClientRef(5000 + i, "x"))
    some_waiting = asyncio.Event()
    waiting: list[object] = []

    async def tap(client: ClientRef, delay: float):
        await asyncio.sleep(delay)
        async with db_factory() as db:
            try:
                done = await book_or_wait(
                    db, client=client, session_id=session_id, now=NOW, policy=POLICY
                )
            except DomainError as error:
                return error
        waiting.append(done)
        if len(waiting) >= 2:
            some_waiting.set()
        return done

    async def cancel():
        await some_waiting.wait()
        return await cancel_session(db_factory, session_id)

    clients = [ClientRef(6000 + i, f"w{i}") for i in range(16)]
    *_taps, cancelled = await asyncio.gather(
        *(tap(c, i * 0.004) for i, c in enumerate(clients)), cancel()
    )
    async with db_factory() as db:
        still = await db.scalar(
            select(func.count(WaitlistEntry.id)).where(
                WaitlistEntry.session_id == session_id,
                WaitlistEntry.status.in_(("waiting", "offered")),
            )
        )
    assert still == 0
    assert cancelled.waiting_cleared == len(waiting)


async def test_a_place_offered_in_a_cancelled_session_is_offered_no_more(db_factory, studio):
    from domain.notices import outbox
    from domain.notices.events import SpotOffered

    async with db_factory() as db:
        await remember_client(db, WAITER, NOW)
        entry = WaitlistEntry(
            session_id=studio["first"], client_id=WAITER.id, requested_at=NOW, status="offered"
        )
        db.add(entry)
        await db.flush()
        offer = SpotOffered(WAITER.id, entry.id, studio["first"], NOW + timedelta(hours=1))
        await outbox.record(db, [offer], NOW)
        await db.commit()

    done = await cancel_session(db_factory, studio["first"])

    assert done.waiting_cleared == 1
    async with db_factory() as db:
        state = await db.scalar(
            select(OutboxMessage.state).where(OutboxMessage.kind == SpotOffered.kind)
        )
    assert state == "cancelled"


async def test_an_attendance_credit_comes_back_or_is_used_as_staff_choose(db_factory, studio):
    from domain.storage.models import AttendanceCredit, Programme

    async with db_factory() as db:
        await db.execute(
            update(Programme).where(Programme.key == "massage").values(attendance_credits=4)
        )
        await db.commit()
    first = await book(db_factory, studio["first"], UNPAID)
    second = await book(db_factory, studio["second"], UNPAID)

    await cancel_one(db_factory, first)  # given back: no credit used
    await cancel_one(db_factory, second, CancelTerms(give_back=False))

    async with db_factory() as db:
        used = await db.scalar(
            select(AttendanceCredit.used).where(AttendanceCredit.client_id == UNPAID.id)
        )
        counted = await db.scalar(select(Booking.credit_id).where(Booking.id == second))
    assert used == 1
    assert counted is not None


async def test_a_course_unit_not_given_back_is_used(db_factory, studio):
    await pay(db_factory, UNIT, f"course:{studio['course']}:n1", 15000, "stx-u", money.Method.CARD)
    async with db_factory() as db:
        (course,) = await courses_of(db, UNIT.id)
    booking = await book(db_factory, studio["first"], UNIT, course_id=course.id)

    await cancel_one(db_factory, booking, CancelTerms(give_back=False))

    async with db_factory() as db:
        (course,) = await courses_of(db, UNIT.id)
    assert [u.state for u in course.units] == ["redeemed"] + ["free"] * 4


# --- a Stars refund the client was told of, and Telegram refused ------------------------------


class Refusing:
    """Telegram saying no for good (or with ``why`` "timeout": no answer)."""

    def __init__(self, why: str = "BALANCE_TOO_LOW") -> None:
        self.why = why
        self.calls: list[tuple[int, str]] = []

    async def __call__(self, user_id: int, charge_id: str) -> None:
        self.calls.append((user_id, charge_id))
        if self.why == "timeout":
            raise StarsRefundUnanswered()
        raise StarsRefundRefused(reason=self.why)


async def refused_notices(db_factory, client: ClientRef) -> list[OutboxMessage]:
    async with db_factory() as db:
        return list(
            await db.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.recipient == client.id,
                    OutboxMessage.kind == QuietRefundRefused.kind,
                )
            )
        )


async def cancelled_stars_booking(db_factory, studio) -> tuple[int, list[int]]:
    """STARS's booking, paid 40.00 in Stars, cancelled by staff (money back automatically):
    its refund is recorded quiet, Telegram not asked yet."""
    booking = await book(db_factory, studio["first"], STARS)
    await pay(db_factory, STARS, booking_item(booking), 4000, "stx-s", money.Method.STARS)
    done = await cancel_one(db_factory, booking, CancelTerms(reason="flood"))
    async with db_factory() as db:
        assert (await db.get(RefundRequest, done.request_ids[0])).quiet
    return booking, done.request_ids


async def test_a_quiet_refund_telegram_refuses_tells_the_client_once(db_factory, studio):
    from domain.notices.outbox import from_row

    booking, request_ids = await cancelled_stars_booking(db_factory, studio)
    async with db_factory() as db:
        (request,) = await ask_requested(
            db, request_ids=request_ids, refund_stars=Refusing(), now=NOW
        )
    assert request.state == "refused"
    # asked again (the periodic job): settled already, nothing more said
    async with db_factory() as db:
        await ask_requested(db, request_ids=request_ids, refund_stars=Refusing(), now=NOW)

    (row,) = await refused_notices(db_factory, STARS)
    event = from_row(row.kind, row.payload)
    assert (event.booking_id, event.amount_minor, event.request_id) == (
        booking,
        4000,
        request.id,
    )
    # the cancellation's notice, then the correction; the money stays held for staff
    assert await notices(db_factory, STARS) == [StaffCancelled.kind, QuietRefundRefused.kind]
    assert await balance_of(db_factory, STARS) == 0


async def test_a_quiet_refund_telegram_accepts_says_nothing_more(db_factory, studio):
    _booking, request_ids = await cancelled_stars_booking(db_factory, studio)
    async with db_factory() as db:
        (request,) = await ask_requested(
            db, request_ids=request_ids, refund_stars=Telegram(), now=NOW
        )
    assert request.state == "done"
    assert await refused_notices(db_factory, STARS) == []
    assert await notices(db_factory, STARS) == [StaffCancelled.kind]


async def test_a_quiet_refund_unanswered_says_nothing_until_telegram_refuses(db_factory, studio):
    _booking, request_ids = await cancelled_stars_booking(db_factory, studio)
    async with db_factory() as db:
        (request,) = await ask_requested(
            db, request_ids=request_ids, refund_stars=Refusing("timeout"), now=NOW
        )
    assert request.state == "unknown"
    assert await refused_notices(db_factory, STARS) == []

    async with db_factory() as db:  # the periodic job asks again, and Telegram says no
        settled = await retry_stars_refunds(
            db, refund_stars=Refusing(), now=NOW + timedelta(minutes=10)
        )
    assert settled == 1
    assert len(await refused_notices(db_factory, STARS)) == 1


async def test_a_staff_refund_telegram_refuses_is_not_told_to_the_client(db_factory, studio):
    booking = await book(db_factory, studio["first"], STARS)
    await pay(db_factory, STARS, booking_item(booking), 4000, "stx-s", money.Method.STARS)
    async with db_factory() as db:
        done = await refund_booking(
            db,
            client_id=STARS.id,
            booking_id=booking,
            amount=eur(4000),
            reason="goodwill",
            staff_id=STAFF,
            now=NOW,
            refund_stars=Refusing(),
        )
    assert done.refused == eur(4000)  # staff see it on their screen
    assert await refused_notices(db_factory, STARS) == []


async def test_staff_are_told_of_a_quiet_refund_telegram_refuses_however_it_is_asked(
    db_factory, studio
):
    from domain.notices.outbox import from_row

    booking, request_ids = await cancelled_stars_booking(db_factory, studio)
    async with db_factory() as db:  # no answer now: nobody told anything yet
        await ask_requested(
            db,
            request_ids=request_ids,
            refund_stars=Refusing("timeout"),
            now=NOW,
            staff_ids=(STAFF, STAFF + 1),
        )
    async with db_factory() as db:  # the periodic job hears no, then asks again
        for minutes in (10, 20):
            await retry_stars_refunds(
                db,
                refund_stars=Refusing(),
                now=NOW + timedelta(minutes=minutes),
                staff_ids=(STAFF, STAFF + 1),
            )

    async with db_factory() as db:
        rows = list(
            await db.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == RefundRefusedForStaff.kind)
                .order_by(OutboxMessage.recipient)
            )
        )
    assert [row.recipient for row in rows] == [STAFF, STAFF + 1]  # once each
    event = from_row(rows[0].kind, rows[0].payload)
    assert (event.client_id, event.booking_id, event.amount_minor) == (STARS.id, booking, 4000)
    assert event.why == "BALANCE_TOO_LOW"
    assert len(await refused_notices(db_factory, STARS)) == 1
