"""Package options of a single session type (seed 001) on a real database: staff agree a
package when making the session (a type with one has it agreed), or the client picks one when
confirming, and its price is charged then — once, to them only. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from domain.billing import payments
from domain.catalog.kinds import ProgrammeKind
from domain.clients.record import ClientRef
from domain.errors import PackageChoiceNeeded, PackageOptionNotFound, ReservationNotFound
from domain.policy import Policy
from domain.storage.models import LedgerEntry, Programme, SessionType, TypedSession
from domain.timetable import sessions
from domain.timetable.sessions import PackageOption
from tests.support.catalog import PRAGUE

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ALICE, BOB = ClientRef(1001, "Alice"), ClientRef(1002, "Bob")
POLICY = Policy(zone=PRAGUE, currency="EUR", reminders=())
BASIC = PackageOption("basic", "Basic", 80000, "6 hours, 300 photos")
FULL = PackageOption("full", "Full day", 150000)


def local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


@pytest.fixture
async def wedding(db_factory):
    async with db_factory() as db:
        programme = Programme(key="@wedding", title="Weddings", kind=ProgrammeKind.ONE_OFF)
        solo = Programme(key="@elopement", title="Elopements", kind=ProgrammeKind.ONE_OFF)
        db.add_all([programme, solo])
        await db.flush()
        db.add_all(
            [
                SessionType(
                    key="wedding",
                    name="Wedding",
                    kind="single",
                    duration_minutes=480,
                    price_minor=99999,  # the packages' prices apply, not this
                    hold_minutes=120,
                    programme_id=programme.id,
                    packages=sessions.stored_packages((BASIC, FULL)),
                ),
                SessionType(
                    key="elopement",
                    name="Elopement",
                    kind="single",
                    duration_minutes=120,
                    hold_minutes=120,
                    programme_id=solo.id,
                    packages=sessions.stored_packages((PackageOption("only", "Two hours", 30000),)),
                ),
            ]
        )
        await db.commit()


async def single(db_factory, type_key="wedding", client=ALICE, package=None):
    async with db_factory() as db:
        return await sessions.make_single(
            db,
            type_key=type_key,
            at_local=local("2026-12-12 11:00"),
            client=client,
            now=NOW,
            policy=POLICY,
            package_key=package,
        )


async def answer(db_factory, made, client_id=ALICE.id, package=None, confirm=True):
    async with db_factory() as db:
        return await sessions.answer_reservation(
            db,
            client_id=client_id,
            booking_id=made.booking_id,
            confirm=confirm,
            now=NOW,
            policy=POLICY,
            package_key=package,
        )


async def charges(db_factory) -> list[tuple[int, int]]:
    async with db_factory() as db:
        rows = await db.execute(
            select(LedgerEntry.client_id, LedgerEntry.amount_minor).where(
                LedgerEntry.kind == "charge"
            )
        )
        return sorted(tuple(row) for row in rows)


async def terms(db_factory, made) -> sessions.PackageTerms:
    async with db_factory() as db:
        return await sessions.package_terms(db, made.session_id)


async def test_without_a_package_agreed_nothing_is_charged_until_the_client_picks_one(
    db_factory, wedding
):
    made = await single(db_factory)

    assert await charges(db_factory) == []
    open_terms = await terms(db_factory, made)
    assert open_terms.to_pick
    assert open_terms.options == (BASIC, FULL)
    with pytest.raises(PackageChoiceNeeded):
        await answer(db_factory, made)  # a plain Confirm is not enough

    await answer(db_factory, made, package="full")

    assert await charges(db_factory) == [(ALICE.id, 150000)]
    agreed = await terms(db_factory, made)
    assert (agreed.agreed.key, agreed.agreed.name, agreed.agreed.price_minor) == (
        "full",
        "Full day",
        150000,
    )
    assert not agreed.to_pick
    async with db_factory() as db:
        due = await payments.booking_due(db, ALICE.id, made.booking_id)
    assert due.due.minor == 150000
    with pytest.raises(ReservationNotFound):  # answered: a second pick changes nothing
        await answer(db_factory, made, package="basic")
    assert await charges(db_factory) == [(ALICE.id, 150000)]


async def test_staff_agree_the_package_when_making_it_and_the_client_confirms_its_price(
    db_factory, wedding
):
    made = await single(db_factory, package="basic")

    assert await charges(db_factory) == [(ALICE.id, 80000)]
    assert (await terms(db_factory, made)).agreed == BASIC
    with pytest.raises(PackageOptionNotFound):  # not the package agreed
        await answer(db_factory, made, package="full")
    await answer(db_factory, made)
    assert await charges(db_factory) == [(ALICE.id, 80000)]


async def test_a_type_with_one_package_has_it_agreed(db_factory, wedding):
    made = await single(db_factory, type_key="elopement")

    assert (await terms(db_factory, made)).agreed.key == "only"
    assert await charges(db_factory) == [(ALICE.id, 30000)]


async def test_an_unknown_package_is_refused_and_nothing_is_made(db_factory, wedding):
    with pytest.raises(PackageOptionNotFound) as refused:
        await single(db_factory, package="gold")

    assert refused.value.params == {"keys": "basic, full"}
    async with db_factory() as db:
        assert list(await db.scalars(select(TypedSession))) == []


async def test_someone_else_cannot_pick_the_package_of_a_reservation(db_factory, wedding):
    made = await single(db_factory)

    with pytest.raises(ReservationNotFound):
        await answer(db_factory, made, client_id=BOB.id, package="basic")
    with pytest.raises(PackageOptionNotFound):  # a forged key
        await answer(db_factory, made, package="gold")

    assert await charges(db_factory) == []
    assert (await terms(db_factory, made)).to_pick


async def test_staff_agree_the_package_when_reserving_a_session_made_for_later(db_factory, wedding):
    made = await single(db_factory, client=None)
    async with db_factory() as db:
        booking_id = await sessions.reserve(
            db, session_id=made.session_id, client=BOB, now=NOW, policy=POLICY, package_key="full"
        )

    assert await charges(db_factory) == [(BOB.id, 150000)]
    async with db_factory() as db:
        due = await payments.booking_due(db, BOB.id, booking_id)
    assert due.due.minor == 150000
