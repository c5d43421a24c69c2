"""A programme's reschedule_to_any_class (domain/booking/moves.py): a booking moves to a
session of another class of its programme, of the same price only, with its own class's
terms, the target class's limits and places; off, another class is no target. What paid it
follows it. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from domain.billing.payments import balance, booking_due
from domain.booking import moves
from domain.booking.actor import Actor
from domain.errors import DayLimitReached, MoveTargetFull, NotAMoveTarget
from domain.storage.models import ClassSession, Client, ClientPass, Programme, ProgrammeClass
from tests.storage.test_moves import (
    ALICE,
    BOB,
    CAROL,
    NOW,
    POLICY,
    STAFF,
    book,
    booking,
    move,
    pay,
    seats_match_bookings,
)
from tests.support.catalog import load

STUDIO = """
programmes:
  - key: yoga
    title: Yoga
    cancel_notice_hours: 24
    reschedule_to_any_class: {flag}
    classes:
      - key: flow
        title: Flow
        capacity: 2
        price: "20.00"
        reschedule_until: 12
        reschedule_fee: 25
        sessions: [2026-11-23 18:00, 2026-11-24 18:00]
      - key: calm
        title: Calm
        capacity: 1
        max_overload: 1
        price: "20.00"
        reschedule_fee: 50
        max_per_day: 1
        sessions: [2026-11-24 08:00, 2026-11-24 20:00, 2026-11-25 20:00]
      - key: dear
        title: Dear
        capacity: 5
        price: "30.00"
        sessions: [2026-11-25 18:00]
      - key: trio
        title: Trio
        capacity: 3
        package:
          sessions: 2
          price: "40.00"
        sessions: [2026-11-25 10:00, 2026-11-26 10:00]
  - key: pilates
    title: Pilates
    classes:
      - key: mat
        title: Mat
        capacity: 5
        price: "20.00"
        sessions: [2026-11-25 19:00]
"""


async def studio(db_factory, flag: str) -> dict[str, list[int]]:
    """Each class's session ids by start."""
    await load(db_factory, STUDIO.format(flag=flag))
    async with db_factory() as db:
        rows = await db.execute(
            select(ProgrammeClass.key, ClassSession.id)
            .join(ClassSession, ClassSession.class_id == ProgrammeClass.id)
            .order_by(ClassSession.starts_at)
        )
        found: dict[str, list[int]] = {}
        for key, session_id in rows:
            found.setdefault(key, []).append(session_id)
    return found


async def targets(db_factory, booking_id: int, actor: Actor) -> list[moves.TargetSession]:
    async with db_factory() as db:
        return await moves.move_targets(
            db, booking_id=booking_id, actor=actor, now=NOW, policy=POLICY
        )


async def test_on_a_booking_moves_to_another_class_of_the_same_price_and_stays_paid(db_factory):
    ids = await studio(db_factory, "yes")
    booking_id = await book(db_factory, ALICE, ids["flow"][0])
    await pay(db_factory, ALICE, booking_id)

    listed = await targets(db_factory, booking_id, Actor.client(ALICE.id))
    # its own class's other session and Calm's (same price); not Dear (30.00), not the
    # package-only Trio, not Pilates (another programme)
    assert [(t.id, t.class_title) for t in listed] == [
        (ids["calm"][0], "Calm"),
        (ids["flow"][1], "Flow"),
        (ids["calm"][1], "Calm"),
        (ids["calm"][2], "Calm"),
    ]

    moved = await move(db_factory, booking_id, ids["calm"][1], Actor.client(ALICE.id))

    assert (moved.booking_id, moved.session_id) == (booking_id, ids["calm"][1])
    assert moved.fee.minor == 500  # Flow's terms: 25 % of 20.00 (Calm would charge 50 %)
    row = await booking(db_factory, booking_id)
    assert (row.session_id, row.moves) == (ids["calm"][1], 1)
    async with db_factory() as db:
        due = await booking_due(db, ALICE.id, booking_id)
        assert (due.charged.minor, due.due.minor) == (2500, 500)  # the price paid once
        assert (await balance(db, ALICE.id, "EUR")).minor == 500
    await seats_match_bookings(db_factory)


async def test_a_class_of_another_price_another_programme_or_a_package_is_refused(db_factory):
    ids = await studio(db_factory, "yes")
    booking_id = await book(db_factory, ALICE, ids["flow"][0])

    for target in (ids["dear"][0], ids["mat"][0], ids["trio"][0]):
        for actor in (Actor.client(ALICE.id), STAFF):
            with pytest.raises(NotAMoveTarget):
                await move(db_factory, booking_id, target, actor)
    staff_listed = {t.id for t in await targets(db_factory, booking_id, STAFF)}
    assert staff_listed.isdisjoint({ids["dear"][0], ids["mat"][0], *ids["trio"]})
    assert (await booking(db_factory, booking_id)).session_id == ids["flow"][0]
    await seats_match_bookings(db_factory)


async def test_off_another_class_is_not_listed_and_refused(db_factory):
    ids = await studio(db_factory, "no")
    booking_id = await book(db_factory, ALICE, ids["flow"][0])

    listed = await targets(db_factory, booking_id, Actor.client(ALICE.id))
    assert [t.id for t in listed] == [ids["flow"][1]]
    for actor in (Actor.client(ALICE.id), STAFF):
        with pytest.raises(NotAMoveTarget):
            await move(db_factory, booking_id, ids["calm"][1], actor)
    assert (await booking(db_factory, booking_id)).session_id == ids["flow"][0]
    await seats_match_bookings(db_factory)


async def test_the_target_classs_places_and_day_limit_apply_staff_fill_its_overload(db_factory):
    ids = await studio(db_factory, "yes")
    calm = ids["calm"]
    await book(db_factory, BOB, calm[2])  # Calm's Nov 25 session is full for clients
    await book(db_factory, ALICE, calm[0])  # Alice holds Calm on Nov 24 (max_per_day: 1)
    booking_id = await book(db_factory, ALICE, ids["flow"][0])

    with pytest.raises(DayLimitReached):
        await move(db_factory, booking_id, calm[1], Actor.client(ALICE.id))
    assert calm[2] not in {t.id for t in await targets(db_factory, booking_id, Actor.client(1001))}
    with pytest.raises(MoveTargetFull):
        await move(db_factory, booking_id, calm[2], Actor.client(ALICE.id))
    assert (await booking(db_factory, booking_id)).session_id == ids["flow"][0]

    staff_listed = {t.id: t for t in await targets(db_factory, booking_id, STAFF)}
    assert staff_listed[calm[2]].overload
    moved = await move(db_factory, booking_id, calm[2], STAFF)  # within Calm's overload
    assert moved.session_id == calm[2]
    carol_booking = await book(db_factory, CAROL, ids["flow"][1])
    with pytest.raises(MoveTargetFull):  # the overload is used up
        await move(db_factory, carol_booking, calm[2], STAFF)
    await seats_match_bookings(db_factory)


async def test_the_pass_entry_that_paid_it_follows_it_to_the_other_class(db_factory):
    ids = await studio(db_factory, "yes")
    async with db_factory() as db:
        db.add(Client(id=ALICE.id, first_name="Alice", created_at=NOW))
        await db.flush()
        programme_id = await db.scalar(
            select(ProgrammeClass.programme_id).where(ProgrammeClass.key == "flow")
        )
        db.add(
            ClientPass(
                client_id=ALICE.id,
                programme_id=programme_id,
                title="5 visits",
                entries=5,
                used=0,
                expires_on=date(2026, 12, 31),
                bought_at=NOW,
                item="pass:test",
            )
        )
        await db.commit()
    booking_id = await book(db_factory, ALICE, ids["flow"][0])

    await move(db_factory, booking_id, ids["calm"][1], Actor.client(ALICE.id))

    row = await booking(db_factory, booking_id)
    assert row.pass_id is not None
    assert row.session_id == ids["calm"][1]
    async with db_factory() as db:
        assert (await db.get(ClientPass, row.pass_id)).used == 1  # the same entry, once
        due = await booking_due(db, ALICE.id, booking_id)
        assert due is not None
        assert due.charged.minor == 500  # only Flow's fee, no price
    await seats_match_bookings(db_factory)


async def test_importing_the_file_again_turns_it_on_and_off(db_factory):
    await studio(db_factory, "no")

    for flag, on, updated in (("yes", True, 1), ("yes", True, 0), ("no", False, 1)):
        report = await load(db_factory, STUDIO.format(flag=flag))
        async with db_factory() as db:
            stored = await db.scalar(
                select(Programme.move_any_class).where(Programme.key == "yoga")
            )
        assert stored is on, flag
        assert report.updated["programmes"] == updated, flag
