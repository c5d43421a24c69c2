"""Importing a catalog file: idempotent by stable keys, all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from domain.booking import book_session
from domain.catalog_file import CatalogInvalid
from domain.clients import ClientRef
from domain.storage.models import BillingPeriod, ClassSession, Programme, ProgrammeClass
from tests.support.catalog import TWO_CLASSES, YOGA, load


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
