"""Multi and single sessions, staff reservations and announcements on a real database: spots
written as sessions clients book like any other; more spots never overlapping; a reservation
confirmed, declined or released after its hold with the spot back; a single session moved only
until confirmed; announcements only of public multi sessions ahead, once per chat, and never
in a chat the bot left. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from domain.booking.bookings import book_session
from domain.clients.record import ClientRef, remember_client
from domain.errors import (
    NotAnnounceable,
    ReservationNotFound,
    SessionConfirmed,
    SessionFull,
    SessionTypeNotFound,
    SpotsOverlap,
    WrongSessionKind,
)
from domain.notices import batch
from domain.policy import Policy
from domain.storage.models import (
    Announcement,
    Booking,
    BookingStatus,
    ClassSession,
    OutboxMessage,
    Programme,
    ProgrammeKind,
    SessionType,
)
from domain.timetable import announce, sessions
from tests.support.catalog import PRAGUE

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ALICE, BOB = ClientRef(1001, "Alice"), ClientRef(1002, "Bob")
POLICY = Policy(zone=PRAGUE, currency="EUR", reminders=())


def local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


@pytest.fixture
async def types(db_factory):
    """A public multi type (20 min + 10 min break, 50.00, held 2 h) and a single one."""
    async with db_factory() as db:
        minis = Programme(key="@minis", title="Mini sessions", kind=ProgrammeKind.ONE_OFF)
        portraits = Programme(
            key="@portrait", title="Portraits", kind=ProgrammeKind.ONE_OFF, public=False
        )
        db.add_all([minis, portraits])
        await db.flush()
        db.add_all(
            [
                SessionType(
                    key="minis",
                    name="Christmas minis",
                    kind="multi",
                    duration_minutes=20,
                    break_minutes=10,
                    price_minor=5000,
                    hold_minutes=120,
                    programme_id=minis.id,
                ),
                SessionType(
                    key="portrait",
                    name="Portrait",
                    kind="single",
                    duration_minutes=60,
                    break_minutes=0,
                    hold_minutes=120,
                    programme_id=portraits.id,
                ),
            ]
        )
        for client in (ALICE, BOB):
            await remember_client(db, client, NOW)
        await db.commit()


async def multi(db_factory, count=3, together=False, at="2026-12-05 10:00"):
    async with db_factory() as db:
        return await sessions.make_multi(
            db,
            type_key="minis",
            first_local=local(at),
            count=count,
            together=together,
            now=NOW,
            policy=POLICY,
        )


async def spots_of(db_factory, class_id):
    async with db_factory() as db:
        return list(
            await db.scalars(
                select(ClassSession)
                .where(ClassSession.class_id == class_id)
                .order_by(ClassSession.starts_at)
            )
        )


async def test_a_multi_session_is_spots_one_client_each(db_factory, types):
    made = await multi(db_factory, count=3)

    spots = await spots_of(db_factory, made.class_id)
    assert [s.starts_at.astimezone(PRAGUE).strftime("%H:%M") for s in spots] == [
        "10:00",
        "10:30",
        "11:00",
    ]
    async with db_factory() as db:
        await book_session(db, client=ALICE, session_id=spots[0].id, now=NOW, policy=POLICY)
    async with db_factory() as db:
        with pytest.raises(SessionFull):  # a spot is one client's
            await book_session(db, client=BOB, session_id=spots[0].id, now=NOW, policy=POLICY)


async def test_all_together_is_one_start_with_a_seat_per_spot(db_factory, types):
    made = await multi(db_factory, count=8, together=True)

    [spot] = await spots_of(db_factory, made.class_id)
    async with db_factory() as db:
        card = await announce.card(db, made.class_id, NOW)
    assert (made.seats_each, card.total, card.left) == (8, 8, 8)
    assert spot.starts_at.astimezone(PRAGUE).strftime("%H:%M") == "10:00"


async def test_the_last_spot_raced_for_has_one_winner(db_factory, types):
    made = await multi(db_factory, count=1)
    [spot] = await spots_of(db_factory, made.class_id)

    async def take(client):
        async with db_factory() as db:
            return await book_session(db, client=client, session_id=spot.id, now=NOW, policy=POLICY)

    results = await asyncio.gather(take(ALICE), take(BOB), return_exceptions=True)

    assert sorted(type(r).__name__ for r in results) == ["Booked", "SessionFull"]


async def test_spots_added_later_must_not_overlap_and_nothing_is_written_when_they_do(
    db_factory, types
):
    made = await multi(db_factory, count=3)  # 10:00 to 11:30 with breaks
    async with db_factory() as db:
        with pytest.raises(SpotsOverlap):
            await sessions.add_spots(
                db,
                class_id=made.class_id,
                first_local=local("2026-12-05 11:20"),
                count=2,
                now=NOW,
                policy=POLICY,
            )
    async with db_factory() as db:
        added = await sessions.add_spots(
            db,
            class_id=made.class_id,
            first_local=local("2026-12-06 14:00"),
            count=2,
            now=NOW,
            policy=POLICY,
        )

    assert len(added) == 2
    assert len(await spots_of(db_factory, made.class_id)) == 5


async def test_unknown_or_wrong_kind_of_type_is_refused(db_factory, types):
    async with db_factory() as db:
        with pytest.raises(SessionTypeNotFound):
            await sessions.make_multi(
                db,
                type_key="nope",
                first_local=local("2026-12-05 10:00"),
                count=2,
                together=False,
                now=NOW,
                policy=POLICY,
            )
        with pytest.raises(WrongSessionKind):
            await sessions.make_multi(
                db,
                type_key="portrait",
                first_local=local("2026-12-05 10:00"),
                count=2,
                together=False,
                now=NOW,
                policy=POLICY,
            )


# --- reservations ---------------------------------------------------------------------------


async def reserve(db_factory, session_id, client=ALICE, now=NOW) -> int:
    async with db_factory() as db:
        return await sessions.reserve(
            db, session_id=session_id, client=client, now=now, policy=POLICY
        )


async def booking(db_factory, booking_id) -> Booking:
    async with db_factory() as db:
        return await db.get(Booking, booking_id)


async def test_a_reserved_spot_is_taken_and_the_client_asked_to_confirm(db_factory, types):
    made = await multi(db_factory, count=2)
    spot = (await spots_of(db_factory, made.class_id))[0]

    booking_id = await reserve(db_factory, spot.id)

    held = await booking(db_factory, booking_id)
    assert held.hold_until == NOW + timedelta(minutes=120)
    async with db_factory() as db:
        with pytest.raises(SessionFull):
            await book_session(db, client=BOB, session_id=spot.id, now=NOW, policy=POLICY)
        kinds = list(await db.scalars(select(OutboxMessage.kind)))
    assert "reservation" in kinds


async def test_confirming_keeps_it_past_the_hold_and_declining_frees_the_spot(db_factory, types):
    made = await multi(db_factory, count=2)
    first, second = await spots_of(db_factory, made.class_id)
    kept = await reserve(db_factory, first.id, ALICE)
    declined = await reserve(db_factory, second.id, BOB)

    async with db_factory() as db:
        await sessions.answer_reservation(
            db, client_id=ALICE.id, booking_id=kept, confirm=True, now=NOW, policy=POLICY
        )
    async with db_factory() as db:
        with pytest.raises(ReservationNotFound):  # Alice can't answer Bob's
            await sessions.answer_reservation(
                db, client_id=ALICE.id, booking_id=declined, confirm=False, now=NOW, policy=POLICY
            )
    async with db_factory() as db:
        await sessions.answer_reservation(
            db, client_id=BOB.id, booking_id=declined, confirm=False, now=NOW, policy=POLICY
        )
    async with db_factory() as db:
        released = await sessions.release_reservations(db, NOW + timedelta(hours=3), POLICY)

    assert released == []
    assert (await booking(db_factory, kept)).status == BookingStatus.ACTIVE
    assert (await booking(db_factory, declined)).status == BookingStatus.CANCELLED
    async with db_factory() as db:
        await book_session(db, client=BOB, session_id=second.id, now=NOW, policy=POLICY)


async def test_an_unconfirmed_reservation_is_released_after_its_hold_and_the_spot_returns(
    db_factory, types
):
    made = await multi(db_factory, count=1)
    [spot] = await spots_of(db_factory, made.class_id)
    booking_id = await reserve(db_factory, spot.id)

    async with db_factory() as db:
        early = await sessions.release_reservations(db, NOW + timedelta(minutes=119), POLICY)
    async with db_factory() as db:
        late = await sessions.release_reservations(db, NOW + timedelta(minutes=121), POLICY)

    assert early == []
    assert [type(e).__name__ for e in late][:1] == ["BookingReleased"]
    assert late[0].reservation
    assert (await booking(db_factory, booking_id)).status == BookingStatus.CANCELLED
    async with db_factory() as db:
        seats = await db.scalar(select(ClassSession.seats_taken).where(ClassSession.id == spot.id))
    assert seats == 0


async def test_a_single_session_moves_until_its_client_confirms(db_factory, types):
    async with db_factory() as db:
        made = await sessions.make_single(
            db,
            type_key="portrait",
            at_local=local("2026-12-07 15:00"),
            client=ALICE,
            now=NOW,
            policy=POLICY,
        )
    async with db_factory() as db:
        moved = await sessions.move_single(
            db,
            session_id=made.session_id,
            at_local=local("2026-12-07 16:00"),
            now=NOW,
            policy=POLICY,
        )
    async with db_factory() as db:
        await sessions.answer_reservation(
            db,
            client_id=ALICE.id,
            booking_id=made.booking_id,
            confirm=True,
            now=NOW,
            policy=POLICY,
        )
    async with db_factory() as db:
        with pytest.raises(SessionConfirmed):
            await sessions.move_single(
                db,
                session_id=made.session_id,
                at_local=local("2026-12-07 17:00"),
                now=NOW,
                policy=POLICY,
            )

    assert moved.astimezone(PRAGUE).strftime("%H:%M") == "16:00"
    async with db_factory() as db:
        requests = await db.scalar(select(func.count()).where(OutboxMessage.kind == "reservation"))
    assert requests == 2  # asked again for the new time


# --- announcements --------------------------------------------------------------------------


async def test_publishing_announces_once_per_registered_chat(db_factory, types):
    made = await multi(db_factory, count=2)
    async with db_factory() as db:
        assert await announce.register_chat(db, -1001, "Studio fans", NOW) is True
        assert await announce.register_chat(db, -1001, "Studio fans", NOW) is False
        await announce.register_chat(db, -1002, "Old group", NOW)
        await announce.chat_gone(db, -1002, "bot kicked", NOW)

    async with db_factory() as db:
        first = await announce.publish(db, made.class_id, NOW)
    async with db_factory() as db:
        again = await announce.publish(db, made.class_id, NOW)
        chats = list(await db.scalars(select(Announcement.chat_id)))

    assert (first, again, chats) == (1, 0, [-1001])


async def test_single_past_or_private_sessions_are_never_announced(db_factory, types):
    async with db_factory() as db:
        await announce.register_chat(db, -1001, "Studio fans", NOW)
        single = await sessions.make_single(
            db,
            type_key="portrait",
            at_local=local("2026-12-07 15:00"),
            client=None,
            now=NOW,
            policy=POLICY,
        )
    made = await multi(db_factory, count=1)
    async with db_factory() as db:
        with pytest.raises(NotAnnounceable):
            await announce.publish(db, single.class_id, NOW)
        with pytest.raises(NotAnnounceable):  # its only spot has begun
            await announce.publish(db, made.class_id, NOW + timedelta(days=30))
        assert await db.scalar(select(func.count(Announcement.id))) == 0


async def test_a_card_counts_spots_left_and_is_over_when_every_spot_began(db_factory, types):
    made = await multi(db_factory, count=2)
    first, _second = await spots_of(db_factory, made.class_id)
    async with db_factory() as db:
        await book_session(db, client=ALICE, session_id=first.id, now=NOW, policy=POLICY)

    async with db_factory() as db:
        now_card = await announce.card(db, made.class_id, NOW)
        later = await announce.card(db, made.class_id, NOW + timedelta(days=30))

    assert (now_card.left, now_card.total, now_card.over) == (1, 2, False)
    assert later.over
    async with db_factory() as db:
        assert await announce.link_target(db, made.link_token) is not None
        assert await announce.link_target(db, "nope-nope-nope") is None


async def test_live_cards_are_the_open_ones_in_chats_the_bot_is_still_in(db_factory, types):
    made = await multi(db_factory, count=2)
    other = await multi(db_factory, count=1, at="2026-12-06 10:00")
    async with db_factory() as db:
        await announce.register_chat(db, -1001, "Studio fans", NOW)
        await announce.register_chat(db, -1002, "Old group", NOW)
        await announce.set_chat_language(db, -1001, "cs", ["en", "cs"])
    async with db_factory() as db:
        await announce.publish(db, made.class_id, NOW)
    async with db_factory() as db:
        await announce.publish(db, other.class_id, NOW)
    async with db_factory() as db:
        cards = {(c.chat_id, c.class_id): c.id for c in await announce.live(db)}
        await announce.shown(db, cards[-1001, made.class_id], "3 spots left", NOW, message_id=77)
        await announce.close(db, cards[-1001, other.class_id])
        await announce.chat_gone(db, -1002, "bot kicked", NOW)

    async with db_factory() as db:
        live = await announce.live(db)
        active = await announce.chats(db)
        gone = await announce.chats(db, gone=True)

    assert [(c.chat_id, c.class_id, c.message_id, c.shown, c.edited_at) for c in live] == [
        (-1001, made.class_id, 77, "3 spots left", NOW)
    ]
    assert active == [announce.ChatView(-1001, "Studio fans", "cs")]
    assert gone == [announce.ChatView(-1002, "Old group", None)]


async def test_a_reservation_awaits_the_clients_answer_until_they_give_it(db_factory, types):
    made = await multi(db_factory, count=2)
    first, second = await spots_of(db_factory, made.class_id)
    reserved = await reserve(db_factory, first.id, ALICE)
    async with db_factory() as db:
        await book_session(db, client=BOB, session_id=second.id, now=NOW, policy=POLICY)
        booked = await db.scalar(select(Booking.id).where(Booking.client_id == BOB.id))

    async with db_factory() as db:
        before = await batch.awaits_answer(db, reserved)
        plain = await batch.awaits_answer(db, booked)
    async with db_factory() as db:
        await sessions.answer_reservation(
            db, client_id=ALICE.id, booking_id=reserved, confirm=True, now=NOW, policy=POLICY
        )
    async with db_factory() as db:
        after = await batch.awaits_answer(db, reserved)

    assert (before, plain, after) == (True, False, False)
