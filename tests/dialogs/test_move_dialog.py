"""🔁 Move to another time in My bookings and 🔁 Move booking on the staff client card,
driven in-process: the booking moves, a fresh .ics is sent to the client; a forged or stale
target is answered on the window and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram.methods import SendDocument, SendMessage
from aiogram.types import Chat as TelegramChat
from aiogram.types import Document, Message
from sqlalchemy import select, update

from domain.booking.bookings import book_session
from domain.booking.status import BookingStatus
from domain.clients.record import ClientRef
from domain.storage.models import Booking, ClassSession, Client, LedgerEntry, OutboxMessage
from tests.dialogs.test_staff_dialog import STAFF, ForgedData, staff_chats
from tests.support.catalog import load
from tests.support.dialogs import RecordingBot

ALICE, BOB, CAROL = ClientRef(1001, "Alice"), ClientRef(1002, "Bob"), ClientRef(1003, "Carol")
STUDIO = """
programmes:
  - key: yoga
    title: Yoga
    classes:
      - key: morning
        title: Morning flow
        capacity: 2
        max_overload: 1
        price: "12.00"
        reschedule_fee: 50
        sessions: [2026-12-01 18:00, 2026-12-03 18:00, 2026-12-05 18:00]
"""


class DocumentBot(RecordingBot):
    """Also takes documents (the .ics sent after a move)."""

    async def __call__(self, method, request_timeout=None):
        if isinstance(method, SendDocument):
            self.calls.append(method)
            chat = TelegramChat(id=int(method.chat_id), type="private")
            document = Document(file_id="f", file_unique_id="u")
            return Message(message_id=2, date=0, chat=chat, document=document)
        return await super().__call__(method, request_timeout)

    def documents(self) -> list[bytes]:
        return [c.document.data for c in self.calls if isinstance(c, SendDocument)]


async def setup(db_factory, clock) -> tuple[list[int], int]:
    await load(db_factory, STUDIO)
    async with db_factory() as db:
        ids = list(await db.scalars(select(ClassSession.id).order_by(ClassSession.starts_at)))
        booked = await book_session(db, client=ALICE, session_id=ids[0], now=clock())
    return ids, booked.card.id


async def booking(db_factory, booking_id: int) -> Booking:
    async with db_factory() as db:
        return await db.get(Booking, booking_id)


async def test_a_client_moves_a_booking_and_gets_a_fresh_calendar_file(db_factory, clock):
    ids, booking_id = await setup(db_factory, clock)
    chat = staff_chats(db_factory, clock, bot_type=DocumentBot)(ALICE.id)
    await chat.send("/start")
    await chat.click("My bookings")
    await chat.click("Tue, Dec 1")
    assert "🔁 Move to another time" in chat.buttons()

    listed = await chat.click("Move to another time")
    assert "Move it to (Prague time):" in listed
    assert "Moving costs €6.00." in listed
    assert chat.buttons()[:2] == [
        "Thu, Dec 3, 6:00 PM · Morning flow · 2 left",
        "Sat, Dec 5, 6:00 PM · Morning flow · 2 left",
    ]
    confirm = await chat.click("Thu, Dec 3")
    assert "Move <b>Yoga — Morning flow</b> from Tuesday, December 1, 2026, 6:00 PM" in confirm
    assert "to <b>Thursday, December 3, 2026, 6:00 PM</b>? Moving costs €6.00" in confirm

    moved = await chat.click("Yes, move it")

    assert "🔁 Moved to Thursday, December 3, 2026" in moved
    assert "Moving fee: €6.00" in moved
    row = await booking(db_factory, booking_id)
    assert row.session_id == ids[1]
    assert row.moves == 1
    [ics] = chat.bot.documents()
    assert b"UID:booking-%d@spotbook" % booking_id in ics
    assert b"SEQUENCE:1" in ics


async def test_a_forged_target_is_answered_and_changes_nothing(db_factory, clock):
    ids, booking_id = await setup(db_factory, clock)
    async with db_factory() as db:  # Bob's session of another day: not Alice's to go to
        await book_session(db, client=BOB, session_id=ids[2], now=clock())
    chat = staff_chats(db_factory, clock, bot_type=DocumentBot)(ALICE.id)
    await chat.send("/start")
    await chat.click("My bookings")
    await chat.click("Tue, Dec 1")
    await chat.click("Move to another time")
    button = chat.screen().reply_markup.inline_keyboard[0][0]
    widget = button.callback_data.split("\x1d", 1)[1].rsplit(":", 1)[0]

    for forged in ("abc", "999999", str(ids[0]), "-1"):
        screen = await chat.press(ForgedData("Thu, Dec 3", f"{widget}:{forged}"))
        assert "⚠️" in screen, forged
        assert "Yes, move it" not in " ".join(chat.buttons())
        if "Move it to" not in screen:
            await chat.click("Back")
    row = await booking(db_factory, booking_id)
    assert row.session_id == ids[0]
    assert row.moves == 0
    assert chat.bot.documents() == []


async def test_a_time_filled_meanwhile_is_refused_and_the_booking_stays(db_factory, clock):
    ids, booking_id = await setup(db_factory, clock)
    chat = staff_chats(db_factory, clock, bot_type=DocumentBot)(ALICE.id)
    await chat.send("/start")
    await chat.click("My bookings")
    await chat.click("Tue, Dec 1")
    await chat.click("Move to another time")
    await chat.click("Thu, Dec 3")
    for client in (BOB, CAROL):  # the last places go while Alice confirms
        async with db_factory() as db:
            await book_session(db, client=client, session_id=ids[1], now=clock())

    refused = await chat.click("Yes, move it")

    assert "⚠️" in refused
    assert (await booking(db_factory, booking_id)).session_id == ids[0]


async def test_staff_move_a_booking_from_the_client_card_and_the_client_is_told(db_factory, clock):
    ids, booking_id = await setup(db_factory, clock)
    for client in (BOB, CAROL):  # Dec 3 is full for clients
        async with db_factory() as db:
            await book_session(db, client=client, session_id=ids[1], now=clock())
    async with db_factory() as db:  # Alice reads the bot in Russian
        await db.execute(update(Client).where(Client.id == ALICE.id).values(language_code="ru"))
        await db.commit()
    staff = staff_chats(db_factory, clock, bot_type=DocumentBot)(STAFF)
    await staff.send("/admin")
    await staff.click("Tue, Dec 1")
    await staff.click("Alice")
    assert "🔁 Move booking" in staff.buttons()

    listed = await staff.click("Move booking")
    assert "Thu, Dec 3, 6:00 PM · Morning flow · 1 left · overload" in staff.buttons()
    await staff.click("Thu, Dec 3")
    card = await staff.click("Yes, move it")

    assert "🔁 Moved to Thursday, December 3, 2026" in card
    assert listed
    row = await booking(db_factory, booking_id)
    assert row.session_id == ids[1]
    async with db_factory() as db:
        assert (await db.get(ClassSession, ids[1])).seats_taken == 3
        told = await db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "booking_moved"))
    assert told.recipient == ALICE.id
    assert row.status == BookingStatus.ACTIVE
    (notice,) = [c for c in staff.bot.calls if isinstance(c, SendMessage) and c.chat_id == ALICE.id]
    assert "Студия перенесла вашу запись" in notice.text


async def test_staff_may_set_a_fee_for_a_move_and_a_bad_amount_is_refused(db_factory, clock):
    ids, booking_id = await setup(db_factory, clock)
    staff = staff_chats(db_factory, clock, bot_type=DocumentBot)(STAFF)
    await staff.send("/admin")
    await staff.click("Tue, Dec 1")
    await staff.click("Alice")
    await staff.click("Move booking")
    confirm = await staff.click("Sat, Dec 5")
    assert "No fee is charged." in confirm

    refused = await staff.send("-5")
    assert "⚠️ Please send the fee as a plain number" in refused
    charged = await staff.send("3.50")
    assert "The client is charged a fee of €3.50" in charged
    await staff.click("Yes, move it")

    async with db_factory() as db:
        fees = list(
            await db.execute(
                select(LedgerEntry.kind, LedgerEntry.amount_minor).where(
                    LedgerEntry.charge_for == "reschedule_fee"
                )
            )
        )
    assert [tuple(f) for f in fees] == [("charge", 350)]
    assert (await booking(db_factory, booking_id)).session_id == ids[2]


async def test_after_the_cut_off_the_card_says_until_when_moving_was_possible(db_factory, clock):
    _ids, _booking_id = await setup(db_factory, clock)
    clock.now = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 18 h before; the cut-off is 24 h
    chat = staff_chats(db_factory, clock, bot_type=DocumentBot)(ALICE.id)
    await chat.send("/start")
    await chat.click("My bookings")

    card = await chat.click("Tue, Dec 1")

    assert "Moving it to another time was possible until Monday, November 30, 2026, 6:00 PM" in card
    assert "🔁 Move to another time" not in chat.buttons()


ANY_CLASS = """
programmes:
  - key: yoga
    title: Yoga
    reschedule_to_any_class: yes
    classes:
      - key: morning
        title: Morning flow
        capacity: 2
        price: "12.00"
        sessions: [2026-12-01 18:00]
      - key: evening
        title: Evening calm
        capacity: 2
        price: "12.00"
        sessions: [2026-12-02 20:00]
      - key: dear
        title: Master class
        capacity: 2
        price: "30.00"
        sessions: [2026-12-02 18:00]
"""


async def test_with_reschedule_to_any_class_the_list_offers_another_class_of_the_same_price(
    db_factory, clock
):
    await load(db_factory, ANY_CLASS)
    async with db_factory() as db:
        ids = list(await db.scalars(select(ClassSession.id).order_by(ClassSession.starts_at)))
        booked = await book_session(db, client=ALICE, session_id=ids[0], now=clock())
    chat = staff_chats(db_factory, clock, bot_type=DocumentBot)(ALICE.id)
    await chat.send("/start")
    await chat.click("My bookings")
    await chat.click("Tue, Dec 1")

    listed = await chat.click("Move to another time")

    assert "Move it to (Prague time):" in listed
    # the other class at the same price, with its title; not the master class (30.00)
    assert "Wed, Dec 2, 8:00 PM · Evening calm · 2 left" in chat.buttons()
    assert not any("Master class" in button for button in chat.buttons())
    confirm = await chat.click("Wed, Dec 2")
    assert "to <b>Wednesday, December 2, 2026, 8:00 PM</b>?" in confirm
    moved = await chat.click("Yes, move it")

    assert "🔁 Moved to Wednesday, December 2, 2026" in moved
    row = await booking(db_factory, booked.card.id)
    assert row.session_id == ids[2]
