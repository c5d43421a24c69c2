"""The staff dialog (/admin), driven in-process with aiogram-dialog's test tools."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from aiogram.types import InlineKeyboardButton, Message
from aiogram_dialog.test_tools import BotClient, MockMessageManager
from aiogram_dialog.test_tools.keyboard import InlineButtonTextLocator
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage
from sqlalchemy import select

from bot.access import STAFF_WIDGET_PREFIX
from bot.deps import Deps
from bot.runtime.app import build_dispatcher
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from domain.booking.bookings import Waitlisted, book_or_wait, book_session
from domain.booking.status import BookingStatus
from domain.clients.record import ClientRef
from domain.storage.models import Booking, ClassSession, Client, WaitlistEntry
from tests.support.catalog import load
from tests.support.dialogs import RecordingBot

STAFF, OTHER = 500, 777
ALICE, BOB, CAROL, DAN = (
    ClientRef(1001, "Alice"),
    ClientRef(1002, "Bob"),
    ClientRef(1003, "Carol"),
    ClientRef(1004, "Dan"),
)
STAFF_ONLY = "This command is for staff only."

# Two seats, and staff may add one more.
STUDIO = """
programmes:
  - key: yoga
    title: Yoga & Breath
    classes:
      - key: morning
        title: Morning flow
        capacity: 2
        max_overload: 1
        sessions: [2026-12-01 18:00, 2026-12-03 18:00, 2026-12-20 18:00]
"""


class ForgedData:
    """A locator that presses a real button of the message with other callback data."""

    def __init__(self, text: str, widget_data: str) -> None:
        self.real = InlineButtonTextLocator(f".*{re.escape(text)}.*")
        self.widget_data = widget_data

    def find_button(self, message: Message) -> InlineKeyboardButton | None:
        button = self.real.find_button(message)
        if button is None:
            return None
        intent_id = button.callback_data.split("\x1d", 1)[0]
        return button.model_copy(update={"callback_data": f"{intent_id}\x1d{self.widget_data}"})


class WithoutStaffPrefix:
    """A locator that presses a real staff button with the staff prefix taken off its widget
    id, as a staff widget that forgot the prefix would send it."""

    def __init__(self, text: str) -> None:
        self.real = InlineButtonTextLocator(f".*{re.escape(text)}.*")

    def find_button(self, message: Message) -> InlineKeyboardButton | None:
        button = self.real.find_button(message)
        if button is None:
            return None
        intent_id, widget_data = button.callback_data.split("\x1d", 1)
        assert widget_data.startswith(STAFF_WIDGET_PREFIX)
        unprefixed = widget_data.removeprefix(STAFF_WIDGET_PREFIX)
        return button.model_copy(update={"callback_data": f"{intent_id}\x1d{unprefixed}"})


@dataclass
class Conversation:
    client: BotClient
    messages: MockMessageManager
    bot: RecordingBot = field(default_factory=RecordingBot)

    def screen(self) -> Message:
        return self.messages.one_message()

    def text(self) -> str:
        return " ".join(self.screen().text.split())  # Babel's narrow spaces become plain ones

    async def send(self, text: str) -> str:
        self.messages.reset_history()
        await self.client.send(text)
        return self.text()

    async def click(self, text: str) -> str:
        return await self.press(InlineButtonTextLocator(f".*{re.escape(text)}.*"))

    async def press(self, locator) -> str:
        message = self.screen()
        self.messages.reset_history()
        await self.client.click(message, locator)
        return self.text()

    def buttons(self) -> list[str]:
        markup = self.screen().reply_markup
        return [" ".join(b.text.split()) for row in markup.inline_keyboard for b in row]


def staff_chats(
    db_factory, clock, *, currency: str = "EUR", bot_type: type[RecordingBot] = RecordingBot
):
    """``make(user_id)``: a chat of that user with one bot whose staff is STAFF; all chats share
    its storage and message manager, as one bot's users do."""
    storage = JsonMemoryStorage()
    messages = MockMessageManager()
    i18n = build_i18n("en")

    def make(user_id: int = STAFF, admin_ids: frozenset[int] = frozenset({STAFF})) -> Conversation:
        settings = Settings(
            TZ="Europe/Prague", currency=currency, bot_token=None, admin_ids=admin_ids
        )
        deps = Deps(db=db_factory, settings=settings, clock=clock)
        dp = build_dispatcher(deps, i18n, storage=storage, message_manager=messages)
        bot = bot_type()
        client = BotClient(dp, user_id=user_id, chat_id=user_id, bot=bot)
        return Conversation(client, messages, bot)

    return make


@pytest.fixture
def chat_for(db_factory, clock):
    return staff_chats(db_factory, clock)


@pytest.fixture
async def dec_1(db_factory, clock) -> int:
    """Dec 1 is full (Alice, Bob) with Carol waiting; Dan is a client from another session."""
    await load(db_factory, STUDIO)
    async with db_factory() as db:
        ids = await db.scalars(select(ClassSession.id).order_by(ClassSession.starts_at))
        dec_1, dec_3, _dec_20 = ids
    for client, session_id in ((ALICE, dec_1), (BOB, dec_1), (DAN, dec_3)):
        async with db_factory() as db:
            await book_session(db, client=client, session_id=session_id, now=clock())
    async with db_factory() as db:
        waiting = await book_or_wait(db, client=CAROL, session_id=dec_1, now=clock())
    assert isinstance(waiting, Waitlisted)
    return dec_1


@pytest.fixture
async def staff(chat_for, dec_1) -> Conversation:
    return chat_for()


async def open_roster(staff: Conversation) -> str:
    await staff.send("/admin")
    return await staff.click("Tue, Dec 1")


async def active_bookings(db_factory, session_id: int) -> list[tuple[int, bool]]:
    async with db_factory() as db:
        rows = await db.execute(
            select(Booking.client_id, Booking.by_staff)
            .where(Booking.session_id == session_id, Booking.status == BookingStatus.ACTIVE)
            .order_by(Booking.id)
        )
    return [tuple(row) for row in rows]


async def seats_taken(db_factory, session_id: int) -> int:
    async with db_factory() as db:
        return (await db.get(ClassSession, session_id)).seats_taken


async def test_admin_lists_the_coming_two_weeks_with_bookings_and_waiting(staff):
    screen = await staff.send("/admin")

    assert "Sessions in the next 14 days" in screen
    assert staff.buttons()[:2] == [
        "Tue, Dec 1, 6:00 PM · Yoga & Breath — Morning flow · 2/2 · +1 waiting",
        "Thu, Dec 3, 6:00 PM · Yoga & Breath — Morning flow · 1/2",
    ]
    assert not any("Dec 20" in button for button in staff.buttons())  # beyond 14 days


async def test_the_roster_shows_the_booked_clients_and_the_waiting_list_in_order(staff):
    roster = await open_roster(staff)

    assert "Yoga &amp; Breath — Morning flow" in roster
    assert "Booked: 2/2" in roster
    assert "Staff may book 1 client over capacity." in roster
    assert "1. Alice · id 1001 2. Bob · id 1002" in roster
    assert "<b>Waiting list</b> 1. Carol · id 1003 · waiting" in roster
    assert staff.buttons() == [
        "➕ Book a client",
        "⬆️ Book Carol",
        "👤 Alice",
        "👤 Bob",
        "👤 Carol",
        "🚫 Cancel session",
        "◀️ Back",
    ]


async def test_staff_book_a_client_into_a_full_session_within_the_overload(
    staff, db_factory, dec_1
):
    await open_roster(staff)
    screen = await staff.click("Book a client")
    assert "Send the client's Telegram id, or choose a client" in screen
    assert staff.buttons() == ["Dan · id 1004", "Carol · id 1003", "◀️ Back"]  # not the booked

    roster = await staff.send("1004")

    assert "✅ Dan is booked." in roster
    assert "Booked: 3/2" in roster
    assert "3. Dan · id 1004 (staff, overload)" in roster
    assert await active_bookings(db_factory, dec_1) == [(1001, False), (1002, False), (1004, True)]
    assert await seats_taken(db_factory, dec_1) == 3


async def test_beyond_the_overload_staff_are_refused_and_nothing_changes(staff, db_factory, dec_1):
    await open_roster(staff)
    await staff.click("Book a client")
    await staff.send("1004")  # the one place over capacity
    await staff.click("Book a client")

    screen = await staff.click("Carol · id 1003")

    assert "This session is full, including the places staff may add" in screen
    assert [client for client, _ in await active_bookings(db_factory, dec_1)] == [1001, 1002, 1004]
    assert await seats_taken(db_factory, dec_1) == 3


async def test_moving_a_waiting_client_off_the_list_books_them(staff, db_factory, dec_1):
    await open_roster(staff)

    roster = await staff.click("⬆️ Book Carol")

    assert "✅ Carol is booked." in roster
    assert "3. Carol · id 1003 (staff, overload)" in roster
    assert "Waiting list" not in roster
    assert "⬆️ Book Carol" not in staff.buttons()
    assert (1003, True) in await active_bookings(db_factory, dec_1)
    async with db_factory() as db:
        assert await db.scalar(select(WaitlistEntry.status)) == "booked"


async def test_text_that_is_not_a_known_client_id_is_refused_and_nothing_changes(
    staff, db_factory, dec_1
):
    await open_roster(staff)
    await staff.click("Book a client")

    assert "Please send the client's Telegram id" in await staff.send("Dan")
    assert "No client with that id is known" in await staff.send("123456789")
    assert "No client with that id is known" in await staff.send("0")
    assert "This client is already booked for this session." in await staff.send("1001")
    assert "Please send the client's Telegram id" in await staff.send("-1004")

    assert [client for client, _ in await active_bookings(db_factory, dec_1)] == [1001, 1002]
    assert "Book a client" in staff.text()  # still asking


async def test_staff_set_a_clients_rank_and_bad_ranks_are_refused(staff, db_factory):
    await open_roster(staff)
    card = await staff.click("👤 Alice")
    assert "👤 <b>Alice</b> · id 1001 🎖 Rank: 0" in card

    assert "✅ Rank set to -3." in await staff.send("−3")  # a keyboard's minus sign
    for bad in ("three", "101", "3.5", ""):
        assert "A rank is a whole number from -100 to 100." in await staff.send(bad or " ")

    assert "Rank: -3" in staff.text()
    async with db_factory() as db:
        assert (await db.get(Client, 1001)).rank == -3
    assert "Booked: 2/2" in await staff.click("Back")


async def test_admin_from_someone_who_is_not_staff_is_refused(chat_for, dec_1):
    other = chat_for(user_id=OTHER)

    await other.client.send("/admin")
    await other.client.send("/import")

    assert other.bot.texts() == [STAFF_ONLY, STAFF_ONLY]
    assert other.messages.sent_messages == []  # no dialog opened


async def test_a_forged_staff_button_from_someone_who_is_not_staff_does_nothing(
    chat_for, db_factory, dec_1
):
    other = chat_for(user_id=OTHER)
    await other.client.send("/start")
    menu = other.screen()
    other.messages.reset_history()

    # their own dialog's button, with the staff "book this client" widget in its data
    await other.client.click(menu, ForgedData("Book a session", "adm_k:1004"))

    assert other.bot.texts() == [STAFF_ONLY]
    assert other.messages.sent_messages == []
    assert [client for client, _ in await active_bookings(db_factory, dec_1)] == [1001, 1002]


async def test_a_staff_dialog_left_open_is_refused_once_the_rights_are_gone(
    chat_for, db_factory, dec_1
):
    staff = chat_for()
    await open_roster(staff)
    await staff.click("Book a client")
    # ADMIN_IDS changed and the bot restarted; the dialog lives on in the FSM storage
    former = chat_for(admin_ids=frozenset())
    screen = staff.screen()
    former.messages.reset_history()

    await former.client.send("1004")
    await former.client.click(screen, InlineButtonTextLocator(".*Dan · id 1004.*"))

    assert former.bot.texts() == [STAFF_ONLY, STAFF_ONLY]
    assert former.messages.sent_messages == []
    assert [client for client, _ in await active_bookings(db_factory, dec_1)] == [1001, 1002]


async def test_a_staff_button_without_the_prefix_is_refused_once_the_rights_are_gone(
    chat_for, db_factory, dec_1
):
    """The dialog's own StaffOnly guard, behind the router's refusal of prefixed staff buttons:
    a press it alone can stop is refused too."""
    staff = chat_for()
    await open_roster(staff)
    await staff.click("Book a client")
    former = chat_for(admin_ids=frozenset())
    screen = staff.screen()
    former.messages.reset_history()

    await former.client.click(screen, WithoutStaffPrefix("Dan · id 1004"))

    assert former.bot.texts() == [STAFF_ONLY]
    assert former.messages.sent_messages == []
    assert [client for client, _ in await active_bookings(db_factory, dec_1)] == [1001, 1002]


async def test_forged_or_stale_ids_from_staff_change_nothing(staff, db_factory, dec_1):
    await staff.send("/admin")
    assert "This session is no longer available." in await staff.press(
        ForgedData("Tue, Dec 1", "adm_s:999999")
    )
    await staff.click("Tue, Dec 1")
    assert "This client is no longer on the waiting list." in await staff.press(
        ForgedData("Book Carol", "adm_w:999999")
    )
    assert "No client with that id is known" in await staff.press(
        ForgedData("Alice", "adm_c:1;drop")
    )

    async with db_factory() as db:  # the session is removed while staff look at its roster
        await db.delete(await db.get(ClassSession, dec_1))
        await db.commit()
    screen = await staff.click("Book a client")

    assert "This session is no longer available." in screen
    assert staff.buttons() == ["◀️ Back"]
