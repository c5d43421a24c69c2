"""Importing a catalog file: idempotent by stable keys, all or nothing."""

from __future__ import annotations

import asyncio
import os
import pickle
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select

from domain.booking import client_views
from domain.booking.bookings import book_session
from domain.catalog import importer, reading
from domain.catalog.file import CatalogInvalid, parse_catalog
from domain.clients.record import ClientRef
from domain.storage.models import (
    BillingPeriod,
    ClassSession,
    Programme,
    ProgrammeClass,
    ProgrammeFee,
    ProgrammeKind,
    SessionType,
    TypedSession,
)
from tests.support.catalog import PRAGUE, TWO_CLASSES, YOGA, load


async def counts(db_factory) -> tuple[int, int, int]:
    async with db_factory() as db:
        return (
            await db.scalar(select(func.count(Programme.id))),
            await db.scalar(select(func.count(ProgrammeClass.id))),
            await db.scalar(select(func.count(ClassSession.id))),
        )


async def test_a_first_import_adds_everything(db_factory):
    report = await load(db_factory, YOGA)

    assert report.added == {
        "periods": 0,
        "programmes": 1,
        "classes": 1,
        "sessions": 3,
        "passes": 0,
        "fees": 0,
        "session_types": 0,
        "courses": 0,
    }
    assert await counts(db_factory) == (1, 1, 3)


async def test_importing_the_same_file_again_changes_nothing(db_factory):
    await load(db_factory, YOGA)
    async with db_factory() as db:
        ids_before = (await db.scalars(select(ClassSession.id).order_by(ClassSession.id))).all()

    report = await load(db_factory, YOGA)

    assert not report.changed
    assert report.sessions_not_in_file == 0
    async with db_factory() as db:
        ids_after = (await db.scalars(select(ClassSession.id).order_by(ClassSession.id))).all()
    assert ids_after == ids_before


async def test_an_edited_file_updates_titles_and_adds_new_sessions(db_factory):
    await load(db_factory, YOGA)
    edited = YOGA.replace("Morning flow", "Sunrise flow").replace(
        "- 2026-12-03 18:00", "- 2026-12-03 18:00\n          - 2026-12-05 09:00"
    )

    report = await load(db_factory, edited)

    assert report.updated["classes"] == 1
    assert report.added["sessions"] == 1
    async with db_factory() as db:
        assert await db.scalar(select(ProgrammeClass.title)) == "Sunrise flow"
    assert await counts(db_factory) == (1, 1, 4)


async def test_sessions_dropped_from_the_file_are_kept_and_reported(db_factory):
    await load(db_factory, YOGA)
    shorter = YOGA.replace("          - 2026-12-03 18:00\n", "")

    report = await load(db_factory, shorter)

    assert report.sessions_not_in_file == 1
    assert await counts(db_factory) == (1, 1, 3)


async def test_capacity_below_existing_bookings_is_refused_and_nothing_changes(db_factory, clock):
    await load(db_factory, YOGA + TWO_CLASSES.replace("programmes:\n", ""))
    async with db_factory() as db:
        session_id = await db.scalar(
            select(ClassSession.id).order_by(ClassSession.starts_at).offset(1)
        )
    for client_id in (1, 2):
        async with db_factory() as db:
            await book_session(
                db, client=ClientRef(id=client_id), session_id=session_id, now=clock()
            )
    lowered = YOGA.replace("capacity: 2", "capacity: 1").replace("Yoga & Breath", "Yoga")

    with pytest.raises(CatalogInvalid) as raised:
        await load(db_factory, lowered)

    (problem,) = raised.value.problems
    assert problem.code == "capacity_below_bookings"
    assert problem.params == {"class_key": "morning", "capacity": 1, "booked": 2}
    async with db_factory() as db:
        assert (
            await db.scalar(select(ProgrammeClass.capacity).where(ProgrammeClass.key == "morning"))
            == 2
        )
        assert await db.scalar(select(Programme.title).where(Programme.key == "yoga")) == (
            "Yoga & Breath"
        )


async def test_programme_kinds_waitlist_settings_and_billing_periods_are_stored(db_factory):
    text = """
billing_periods:
  - key: winter
    name: Winter semester
    from: 2026-09-01
    until: 2027-01-31
programmes:
  - key: pottery
    title: Pottery
    kind: ongoing
    category: Crafts
    rank: 2
    valid_from: 2026-11-01
    valid_until: 2027-01-31
    public: no
    colour: "#aa5500"
    cancel_notice_hours: 12
    makeups_carry_over: yes
    classes:
      - key: wheel
        title: Wheel
        capacity: 6
        max_overload: 2
        waiting_list: no
        promotion: offer
        offer_hold: 45
        sessions: [2026-12-02 10:00]
"""
    report = await load(db_factory, text)
    again = await load(db_factory, text)

    assert report.added["periods"] == 1
    assert not again.changed
    async with db_factory() as db:
        programme = await db.scalar(select(Programme))
        klass = await db.scalar(select(ProgrammeClass))
        period = await db.scalar(select(BillingPeriod))
    assert (programme.kind, programme.category, programme.rank, programme.public) == (
        "ongoing",
        "Crafts",
        2,
        False,
    )
    assert (programme.cancel_notice_hours, programme.makeups_carry_over) == (12, True)
    assert (klass.max_overload, klass.waiting_list, klass.promotion) == (2, False, "offer")
    assert klass.offer_hold_minutes == 45
    assert (period.name, str(period.starts_on), str(period.ends_on)) == (
        "Winter semester",
        "2026-09-01",
        "2027-01-31",
    )


async def test_a_class_minimum_and_its_check_time_are_stored_and_cleared(db_factory):
    text = """
programmes:
  - key: pottery
    title: Pottery
    classes:
      - key: wheel
        title: Wheel
        capacity: 6
        min_participants: 3
        min_check_hours: 12
        sessions: [2026-12-02 10:00]
"""
    await load(db_factory, text)
    again = await load(db_factory, text)
    async with db_factory() as db:
        klass = await db.scalar(select(ProgrammeClass))
        stored = (klass.min_participants, klass.min_check_hours)
    await load(
        db_factory,
        text.replace("        min_participants: 3\n", "").replace(
            "        min_check_hours: 12\n", ""
        ),
    )
    async with db_factory() as db:
        klass = await db.scalar(select(ProgrammeClass))

    assert stored == (3, 12)
    assert not again.changed
    assert (klass.min_participants, klass.min_check_hours) == (None, None)


async def test_a_private_programme_gets_a_share_link_that_survives_reimports(db_factory):
    private = YOGA.replace("    title: Yoga & Breath", "    title: Yoga & Breath\n    public: no")

    first = await load(db_factory, private)
    again = await load(db_factory, private)

    ((title, token),) = first.private_links
    assert title == "Yoga & Breath"
    assert again.private_links == first.private_links
    assert not again.changed
    assert len(token) >= 12
    assert token.replace("-", "").replace("_", "").isalnum()


async def test_a_share_link_leads_to_its_private_programme_and_a_wrong_one_nowhere(db_factory):
    private = YOGA.replace("    title: Yoga & Breath", "    title: Yoga & Breath\n    public: no")
    ((_, token),) = (await load(db_factory, private)).private_links

    async with db_factory() as db:
        found = await client_views.programme_by_link(db, token)
        wrong = await client_views.programme_by_link(
            db, token[:-1] + ("x" if token[-1] != "x" else "y")
        )

    assert (found.title, found.public) == ("Yoga & Breath", False)
    assert wrong is None


MONTHLY = YOGA.replace(
    "    description: Hatha yoga for every level.\n",
    "    description: Hatha yoga for every level.\n"
    "    kind: ongoing\n"
    "    monthly_fee: 45.00\n"
    "    fee_due_day: 5\n"
    "    attendance_credits: 8\n",
)


def with_schedule(*rows: tuple[str, str]) -> str:
    lines = "".join(f"      - {{due: {due}, amount: {amount}}}\n" for due, amount in rows)
    return YOGA.replace(
        "    description: Hatha yoga for every level.\n",
        "    description: Hatha yoga for every level.\n    kind: ongoing\n    fees:\n" + lines,
    )


async def programme_billing(db_factory) -> tuple[int | None, int, int | None]:
    async with db_factory() as db:
        programme = await db.scalar(select(Programme).where(Programme.key == "yoga"))
        return programme.monthly_fee_minor, programme.fee_due_day, programme.attendance_credits


async def fee_rows(db_factory) -> list[tuple[str, int, int]]:
    async with db_factory() as db:
        rows = await db.scalars(select(ProgrammeFee).order_by(ProgrammeFee.due_on))
        return [(row.due_on.isoformat(), row.amount_minor, row.id) for row in rows]


async def test_a_monthly_fee_its_due_day_and_attendance_credits_are_stored(db_factory):
    report = await load(db_factory, MONTHLY)
    again = await load(db_factory, MONTHLY)

    assert report.added["programmes"] == 1
    assert not again.changed
    assert await programme_billing(db_factory) == (4500, 5, 8)
    assert await fee_rows(db_factory) == []


async def test_removing_the_fee_and_credits_from_the_file_clears_them(db_factory):
    await load(db_factory, MONTHLY)

    report = await load(db_factory, YOGA)

    assert report.updated["programmes"] == 1
    assert await programme_billing(db_factory) == (None, 1, None)


async def test_a_fee_schedule_is_stored_row_by_row_and_a_reimport_changes_nothing(db_factory):
    schedule = with_schedule(("2026-09-01", "120.00"), ("2026-10-01", "80"))

    report = await load(db_factory, schedule)
    rows = await fee_rows(db_factory)
    again = await load(db_factory, schedule)

    assert report.added["fees"] == 2
    assert [(due, amount) for due, amount, _ in rows] == [
        ("2026-09-01", 12000),
        ("2026-10-01", 8000),
    ]
    assert await programme_billing(db_factory) == (None, 1, None)
    assert not again.changed
    assert (again.added["fees"], again.updated["fees"], again.removed["fees"]) == (0, 0, 0)
    assert await fee_rows(db_factory) == rows


async def test_a_changed_schedule_replaces_the_stored_one(db_factory):
    await load(db_factory, with_schedule(("2026-09-01", "120"), ("2026-10-01", "80")))
    (_, _, kept_id), _ = await fee_rows(db_factory)

    report = await load(db_factory, with_schedule(("2026-09-01", "100"), ("2026-11-01", "60")))

    assert (report.added["fees"], report.updated["fees"], report.removed["fees"]) == (1, 1, 1)
    assert report.changed
    rows = await fee_rows(db_factory)
    assert [(due, amount) for due, amount, _ in rows] == [
        ("2026-09-01", 10000),
        ("2026-11-01", 6000),
    ]
    assert rows[0][2] == kept_id  # the same row, its amount updated


async def test_dropping_the_schedule_deletes_its_rows_and_a_monthly_fee_may_take_over(db_factory):
    await load(db_factory, with_schedule(("2026-09-01", "120"), ("2026-10-01", "80")))

    report = await load(db_factory, MONTHLY)

    assert report.removed["fees"] == 2
    assert await fee_rows(db_factory) == []
    assert await programme_billing(db_factory) == (4500, 5, 8)


async def test_fee_rows_of_one_programme_leave_another_programmes_rows_alone(db_factory):
    other = TWO_CLASSES.replace(
        "    title: Pottery\n",
        "    title: Pottery\n    kind: ongoing\n    fees: [{due: 2026-12-01, amount: 30}]\n",
    ).replace("programmes:\n", "")
    await load(db_factory, with_schedule(("2026-09-01", "120")) + other)

    report = await load(db_factory, YOGA + other)

    assert report.removed["fees"] == 1
    assert [(due, amount) for due, amount, _ in await fee_rows(db_factory)] == [
        ("2026-12-01", 3000)
    ]


MINIS = """
session_types:
  - key: minis
    name: Mini photo sessions
    kind: multi
    duration: 20
    break: 10
    price: "30.00"
    hold: 720
    category: Photography
    description: Twenty minutes, five photos.
    cancel_notice_hours: 48
"""


async def type_and_programme(db_factory, key: str = "minis") -> tuple[SessionType, Programme]:
    async with db_factory() as db:
        session_type = await db.scalar(select(SessionType).where(SessionType.key == key))
        programme = await db.get(Programme, session_type.programme_id)
        return session_type, programme


async def add_staff_session(db_factory) -> int:
    """A multi session as staff make it in the bot: a class of the type's programme."""
    session_type, _ = await type_and_programme(db_factory)
    async with db_factory() as db:
        klass = ProgrammeClass(
            programme_id=session_type.programme_id,
            key="minis-2026-12-12",
            title="Minis on 12 December",
            capacity=6,
            duration_minutes=20,
            sessions=[ClassSession(starts_at=datetime(2026, 12, 12, 9, tzinfo=UTC), seats_taken=1)],
        )
        db.add(klass)
        await db.flush()
        db.add(
            TypedSession(
                class_id=klass.id,
                type_id=session_type.id,
                link_token="minis-token",
                created_at=datetime(2026, 11, 22, tzinfo=UTC),
            )
        )
        await db.commit()
        return klass.id


async def test_a_session_type_is_stored_with_a_one_off_programme_of_its_own(db_factory):
    report = await load(db_factory, MINIS)

    assert report.added["session_types"] == 1
    assert report.added["programmes"] == 0  # the type's programme is not a file programme
    session_type, programme = await type_and_programme(db_factory)
    assert (
        session_type.name,
        session_type.kind,
        session_type.duration_minutes,
        session_type.break_minutes,
        session_type.price_minor,
        session_type.hold_minutes,
    ) == ("Mini photo sessions", "multi", 20, 10, 3000, 720)
    assert (
        programme.key,
        programme.title,
        programme.kind,
        programme.category,
        programme.description,
        programme.public,
        programme.cancel_notice_hours,
    ) == (
        "@minis",
        "Mini photo sessions",
        ProgrammeKind.ONE_OFF,
        "Photography",
        "Twenty minutes, five photos.",
        True,
        48,
    )
    assert await counts(db_factory) == (1, 0, 0)


async def test_importing_the_same_session_types_again_changes_nothing(db_factory):
    await load(db_factory, YOGA + MINIS)

    report = await load(db_factory, YOGA + MINIS)

    assert not report.changed
    assert report.updated["session_types"] == 0
    assert await counts(db_factory) == (2, 1, 3)


async def test_a_changed_duration_or_name_updates_the_type_and_its_programme(db_factory):
    await load(db_factory, MINIS)
    ids_before = await type_and_programme(db_factory)

    report = await load(
        db_factory, MINIS.replace("duration: 20", "duration: 25").replace("Mini photo", "Mini")
    )

    assert report.updated["session_types"] == 1
    assert report.added["session_types"] == 0
    session_type, programme = await type_and_programme(db_factory)
    assert (session_type.id, programme.id) == (ids_before[0].id, ids_before[1].id)
    assert session_type.duration_minutes == 25
    assert (session_type.name, programme.title) == ("Mini sessions", "Mini sessions")


async def test_a_changed_programme_field_alone_counts_the_type_as_updated(db_factory):
    await load(db_factory, MINIS)

    report = await load(db_factory, MINIS.replace("cancel_notice_hours: 48", "public: no"))

    assert report.updated["session_types"] == 1
    _, programme = await type_and_programme(db_factory)
    assert (programme.public, programme.cancel_notice_hours) == (False, 24)
    ((title, token),) = report.private_links
    assert (title, token) == ("Mini photo sessions", programme.link_token)


async def test_sessions_staff_made_for_a_type_survive_every_reimport(db_factory):
    await load(db_factory, YOGA + MINIS)
    class_id = await add_staff_session(db_factory)

    unchanged = await load(db_factory, YOGA + MINIS)
    edited = await load(db_factory, YOGA + MINIS.replace("duration: 20", "duration: 30"))

    assert not unchanged.changed
    assert edited.updated == {
        "periods": 0,
        "programmes": 0,
        "classes": 0,
        "passes": 0,
        "fees": 0,
        "session_types": 1,
        "courses": 0,
    }
    # the staff session is none of the file's business: not even reported as missing from it
    assert unchanged.sessions_not_in_file == edited.sessions_not_in_file == 0
    async with db_factory() as db:
        klass = await db.get(ProgrammeClass, class_id)
        assert (klass.title, klass.capacity, klass.duration_minutes) == (
            "Minis on 12 December",
            6,
            20,
        )
        seats = await db.scalars(
            select(ClassSession.seats_taken).where(ClassSession.class_id == class_id)
        )
        assert seats.all() == [1]
        assert await db.scalar(select(func.count()).select_from(TypedSession)) == 1
    assert await counts(db_factory) == (2, 2, 4)


async def test_a_type_programme_key_never_clashes_with_a_file_programme_key(db_factory):
    same_key = YOGA + MINIS.replace("key: minis", "key: yoga")

    first = await load(db_factory, same_key)
    again = await load(db_factory, same_key)

    assert (first.added["programmes"], first.added["session_types"]) == (1, 1)
    assert not again.changed
    _, programme = await type_and_programme(db_factory, "yoga")
    async with db_factory() as db:
        keys = (await db.scalars(select(Programme.key).order_by(Programme.key))).all()
        file_programme = await db.scalar(select(Programme).where(Programme.key == "yoga"))
    assert keys == ["@yoga", "yoga"]
    assert programme.key == "@yoga"
    assert (file_programme.title, file_programme.kind) == ("Yoga & Breath", ProgrammeKind.PAYG)


def test_a_file_programme_cannot_be_given_a_type_programme_key():
    with pytest.raises(CatalogInvalid) as raised:
        parse_catalog(YOGA.replace("key: yoga", "key: '@minis'"), tz=PRAGUE, currency_digits=2)

    assert [p.code for p in raised.value.problems] == ["bad_key"]


PACKAGES = """
programmes:
  - key: coaching
    title: Coaching
    classes:
      - key: one
        title: One to one
        capacity: 1
        package:
          sessions: 3
          price: "150.00"
          cancel_until: 24
          reschedule_until: 12
          cancel_refund: 50
          reschedule_fee: 10
        sessions: [2026-12-01 10:00]
      - key: drop
        title: Drop-in
        capacity: 5
        max_per_day: 1
        max_per_week: 2
        sessions: [2026-12-01 12:00]
"""


async def package_columns(db_factory) -> list[tuple]:
    async with db_factory() as db:
        rows = await db.execute(
            select(
                ProgrammeClass.key,
                ProgrammeClass.package_size,
                ProgrammeClass.package_price_minor,
                ProgrammeClass.cancel_cutoff_hours,
                ProgrammeClass.reschedule_cutoff_hours,
                ProgrammeClass.cancel_refund_percent,
                ProgrammeClass.reschedule_fee_percent,
                ProgrammeClass.max_per_day,
                ProgrammeClass.max_per_week,
            ).order_by(ProgrammeClass.key)
        )
        return [tuple(r) for r in rows]


async def test_package_policies_and_limits_are_stored_and_a_reimport_changes_nothing(db_factory):
    await load(db_factory, PACKAGES)
    again = await load(db_factory, PACKAGES)

    assert await package_columns(db_factory) == [
        ("drop", None, None, None, None, 100, 0, 1, 2),
        ("one", 3, 15000, 24, 12, 50, 10, None, None),
    ]
    assert not again.changed


@pytest.mark.parametrize(
    ("change", "to"),
    [
        ("sessions: 3", "sessions: 4"),
        ('"150.00"', '"160.00"'),
        ("cancel_until: 24", "cancel_until: 48"),
        ("reschedule_until: 12", "reschedule_until: 6"),
        ("cancel_refund: 50", "cancel_refund: 60"),
        ("reschedule_fee: 10", "reschedule_fee: 20"),
        ("max_per_day: 1", "max_per_day: 3"),
        ("max_per_week: 2", "max_per_week: 5"),
    ],
)
async def test_changing_a_package_or_limit_updates_just_that_class(db_factory, change, to):
    await load(db_factory, PACKAGES)

    report = await load(db_factory, PACKAGES.replace(change, to))

    assert report.updated["classes"] == 1
    assert (report.updated["programmes"], report.added["classes"]) == (0, 0)
    assert not (await load(db_factory, PACKAGES.replace(change, to))).changed


WITHOUT_PACKAGE_OR_LIMITS = (
    PACKAGES[: PACKAGES.index("        package:")]
    + PACKAGES[PACKAGES.index("        sessions: [2026-12-01 10:00]") :]
).replace("        max_per_day: 1\n        max_per_week: 2\n", "")


async def test_removing_the_package_and_limits_resets_the_columns(db_factory):
    await load(db_factory, PACKAGES)

    report = await load(db_factory, WITHOUT_PACKAGE_OR_LIMITS)

    assert report.updated["classes"] == 2
    assert await package_columns(db_factory) == [
        ("drop", None, None, None, None, 100, 0, None, None),
        ("one", None, None, None, None, 100, 0, None, None),
    ]
    assert not (await load(db_factory, WITHOUT_PACKAGE_OR_LIMITS)).changed


async def test_a_free_class_package_is_stored_without_a_price(db_factory):
    await load(db_factory, PACKAGES.replace('          price: "150.00"\n', ""))

    assert (await package_columns(db_factory))[1] == ("one", 3, None, 24, 12, 50, 10, None, None)


def weekly_catalog(classes: int) -> str:
    """Classes with a session every day of 2027: 365 each."""
    rows = "".join(
        f"      - {{key: c{n}, title: C, capacity: 5, weekly: {{days: [mon, tue, wed, thu, fri,"
        " sat, sun], time: '7:00', from: 2027-01-01, until: 2027-12-31}}\n"
        for n in range(classes)
    )
    return "programmes:\n  - key: gym\n    title: Gym\n    classes:\n" + rows


async def test_an_import_works_out_its_sessions_off_the_event_loop_which_serves_others_meanwhile(
    db_factory, monkeypatch
):
    loop, loop_thread = asyncio.get_running_loop(), threading.get_ident()
    served = []  # per class: did the loop run another coroutine while its sessions were planned
    plan = importer._import_sessions

    async def another_client() -> bool:
        return True

    def watched(*args):
        if threading.get_ident() == loop_thread:
            served.append(False)  # waiting here for the loop would wait forever
        else:
            served.append(asyncio.run_coroutine_threadsafe(another_client(), loop).result())
        return plan(*args)

    monkeypatch.setattr(importer, "_import_sessions", watched)

    report = await load(db_factory, TWO_CLASSES)

    assert served == [True, True]
    assert report.added["sessions"] == 2


async def test_sessions_are_written_in_bulk_chunks_and_the_loop_serves_others_between(db_factory):
    engine = db_factory.kw["bind"].sync_engine
    ticks = 0
    at_insert = []  # the ticker's count at each INSERT of sessions, and the rows it wrote

    def on_execute(_conn, _cursor, statement, parameters, _context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO SESSIONS"):
            if executemany and isinstance(parameters[0], tuple | list | dict):
                rows = len(parameters)
            else:  # one statement, maybe of many VALUES (SQLAlchemy's "insertmanyvalues")
                rows = statement.count("), (") + 1
            at_insert.append((ticks, rows))

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0)
            ticks += 1

    catalog = parse_catalog(weekly_catalog(7), tz=PRAGUE, currency_digits=2)  # 2,555 sessions
    event.listen(engine, "before_cursor_execute", on_execute)
    running = asyncio.create_task(ticker())
    try:
        async with db_factory() as db:
            report = await importer.import_catalog(db, catalog)
    finally:
        running.cancel()
        event.remove(engine, "before_cursor_execute", on_execute)

    assert report.added["sessions"] == 2555
    assert len(at_insert) == 3  # 1,000 + 1,000 + 555, not one statement per session
    assert sum(rows for _, rows in at_insert) == 2555
    seen = [tick for tick, _ in at_insert]
    assert seen == sorted(set(seen))  # the ticker ran between every two of them
    assert await counts(db_factory) == (1, 7, 2555)
    first = catalog.programmes[0].classes[0].sessions[0].starts_at
    async with db_factory() as db:  # stored as the ORM stores them: found by their start
        found = await db.scalar(select(func.count()).where(ClassSession.starts_at == first))
    assert found == 7


async def read_apart(db, text: str, dialect: str | None = None) -> reading.Read:
    dialect = dialect or importer.dialect_id(db.get_bind().dialect)
    return await reading.read_off_loop(
        text, tz=PRAGUE, currency_digits=2, max_sessions=1000, dialect=dialect
    )


async def test_the_bot_reads_a_file_in_another_process_and_imports_what_it_sent_back(db_factory):
    async with db_factory() as db:
        read = await read_apart(db, YOGA)
        report = await importer.import_catalog(db, read.catalog, read.bound)

    assert read.pid != os.getpid()  # not a thread of this process: the GIL is not shared
    assert read.catalog == parse_catalog(YOGA, tz=PRAGUE, currency_digits=2)
    assert report.added["sessions"] == 3
    assert await counts(db_factory) == (1, 1, 3)


async def test_a_file_read_in_another_process_reports_the_same_problems_and_changes_nothing(
    db_factory,
):
    await load(db_factory)
    bad = YOGA.replace("capacity: 2", "capacity: none").replace("duration: 60", "duration: -5")
    with pytest.raises(CatalogInvalid) as here:
        parse_catalog(bad, tz=PRAGUE, currency_digits=2)

    async with db_factory() as db:
        read = await read_apart(db, bad)

    assert read.catalog is None
    assert read.bound is None
    assert read.problems == here.value.problems
    assert len(read.problems) == 2
    assert await counts(db_factory) == (1, 1, 3)


async def test_starts_bound_in_the_reading_process_are_stored_as_the_importer_binds_them(
    db_factory,
):
    more = YOGA.replace("- 2026-11-20 18:00", "- 2026-11-20 18:00\n          - 2026-12-05 09:30")
    async with db_factory() as db:
        first = await read_apart(db, YOGA)
        await importer.import_catalog(db, first.catalog, first.bound)
    async with db_factory() as db:  # one new session beside three stored ones
        second = await read_apart(db, more)
        added = await importer.import_catalog(db, second.catalog, second.bound)

    again = await load(db_factory, more)  # bound here, in this process: the same rows

    assert added.added["sessions"] == 1
    assert not again.changed
    assert again.sessions_not_in_file == 0
    assert await counts(db_factory) == (1, 1, 4)


async def test_starts_bound_for_another_database_are_not_used(db_factory):
    async with db_factory() as db:
        ours = importer.dialect_id(db.get_bind().dialect)
        other = "postgresql+asyncpg" if ours.startswith("sqlite") else "sqlite+aiosqlite"
        read = await read_apart(db, YOGA, dialect=other)
        report = await importer.import_catalog(db, read.catalog, read.bound)

    again = await load(db_factory)

    assert read.bound is not None
    assert read.bound.dialect == other
    assert report.added["sessions"] == 3
    assert not again.changed


@pytest.mark.parametrize("dialect", ["sqlite+aiosqlite", None])
def test_what_the_reading_process_sends_back_comes_in_small_pieces_put_together_unchanged(
    monkeypatch, dialect
):
    # unpickled in one piece, a big catalog held the GIL (and every tap) for hundreds of ms
    monkeypatch.setattr(reading, "SLICE", 100)
    read = reading.read(
        weekly_catalog(3), tz=PRAGUE, currency_digits=2, max_sessions=2000, dialect=dialect
    )

    packed = reading.pack(read)

    assert len(packed.pieces) == 3 * 4  # 365 sessions a class: 100 + 100 + 100 + 65
    assert len(packed.outline) < 5000  # the catalog without its sessions
    for _programme, _class, data in packed.pieces:
        sessions, starts, bound = pickle.loads(data)
        assert 65 <= len(sessions) <= 100
        assert len(starts) == len(bound) == (len(sessions) if dialect else 0)
    assert reading.unpack(packed) == read
    assert sum(len(c.sessions) for c in reading.unpack(packed).catalog.programmes[0].classes) == (
        3 * 365
    )


def test_a_file_with_problems_comes_back_from_the_reading_process_as_it_was_read():
    read = reading.read(
        "programmes: nope", tz=PRAGUE, currency_digits=2, max_sessions=10, dialect=None
    )

    assert read.catalog is None
    assert read.problems
    assert reading.unpack(reading.pack(read)) == read
