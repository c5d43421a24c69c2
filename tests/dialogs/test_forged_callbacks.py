"""Reliability: 1,000 generated callback payloads (hypothesis) pressed by a client on the
screens that take ids — a session card, My bookings, a booking card, My courses — naming other
clients' bookings, courses and course units, unknown or huge ids, malformed data, staff
buttons, other dialogs' intents. Each one is answered (never an unhandled error) and the
database is exactly as it was."""

from __future__ import annotations

import pytest
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import InlineKeyboardButton, Message
from aiogram_dialog.test_tools import BotClient, MockMessageManager
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.app import build_dispatcher
from bot.config import Settings
from bot.deps import Deps
from bot.i18n import build_i18n
from domain import course_units
from domain.booking import book_or_wait, book_session
from domain.clients import ClientRef, remember_client
from domain.policy import Policy
from domain.storage.models import (
    Booking,
    ClassSession,
    ClientCourse,
    CourseOffer,
    CourseUnit,
    Enrolment,
    LedgerEntry,
    WaitlistEntry,
)
from tests.dialogs.test_staff_dialog import Conversation
from tests.support.catalog import PRAGUE, load
from tests.support.dialogs import RecordingBot

STAFF = 500
ALICE, BOB, CAROL, DAN = (
    ClientRef(1001, "Alice"),
    ClientRef(1002, "Bob"),
    ClientRef(1003, "Carol"),
    ClientRef(1004, "Dan"),
)
POLICY = Policy(zone=PRAGUE, currency="EUR", reminders=())
STUDIO = """
programmes:
  - key: massage
    title: Massage
    classes:
      - key: room
        title: Room 1
        capacity: 2
        price: 40
        sessions: [2026-11-23 10:00, 2026-11-24 10:00, 2026-11-25 10:00]
courses:
  - key: five
    title: Massage ×5
    price: 150
    units: {massage: 5}
"""
# ids of select widgets clients and staff have (bot/dialogs/**), and made-up ones
WIDGETS = ["cb", "cv", "co", "b", "w", "mv", "po", "s", "c", "pk", "adm_s", "adm_c", "adm_cv"]
EXAMPLES_PER_SCREEN = 250  # x 4 screens


class Forged:
    """Press the screen's first button with other callback data."""

    def __init__(self, data: str) -> None:
        self.data = data

    def find_button(self, message: Message) -> InlineKeyboardButton | None:
        markup = message.reply_markup
        button = markup.inline_keyboard[0][0] if markup and markup.inline_keyboard else None
        return button.model_copy(update={"callback_data": self.data}) if button else None


@pytest.fixture
async def world(db_factory, clock) -> dict:
    """Bob holds a course with a booking from it (with Carol's, the first session is full;
    Dan waits for it) and a plain booking of the second; Alice (who presses) holds one plain
    booking of the third and nothing else: the second still has a place for her."""
    await load(db_factory, STUDIO)
    async with db_factory() as db:
        first, second, third = await db.scalars(
            select(ClassSession.id).order_by(ClassSession.starts_at)
        )
        offer = await db.scalar(select(CourseOffer.id))
        for client in (ALICE, BOB, CAROL, DAN):
            await remember_client(db, client, clock())
        await db.commit()
    async with db_factory() as db:
        course = await course_units.sell_at_venue(
            db, client_id=BOB.id, offer_id=offer, staff_id=STAFF, policy=POLICY, now=clock()
        )
    ids = {"sessions": [first, second, third], "offer": offer, "course": course}
    async with db_factory() as db:
        from_course = await book_session(
            db, client=BOB, session_id=first, now=clock(), policy=POLICY, course_id=course
        )
    async with db_factory() as db:
        plain = await book_session(db, client=BOB, session_id=second, now=clock(), policy=POLICY)
    async with db_factory() as db:
        mine = await book_session(db, client=ALICE, session_id=third, now=clock(), policy=POLICY)
    async with db_factory() as db:
        await book_session(db, client=CAROL, session_id=first, now=clock(), policy=POLICY)
    async with db_factory() as db:
        waiting = await book_or_wait(db, client=DAN, session_id=first, now=clock(), policy=POLICY)
        units = list(await db.scalars(select(CourseUnit.id)))
    ids.update(
        bobs=[from_course.card.id, plain.card.id],
        mine=mine.card.id,
        wait=waiting.entry_id,
        units=units,
    )
    return ids


async def snapshot(db_factory) -> list:
    """Everything a press could change."""
    async with db_factory() as db:
        tables = []
        for model in (Booking, CourseUnit, ClientCourse, LedgerEntry, WaitlistEntry, Enrolment):
            rows = await db.execute(select(model.__table__).order_by(*model.__table__.primary_key))
            tables.append([tuple(row) for row in rows])
        return tables


def payloads(ids: dict) -> st.SearchStrategy[tuple[bool, str]]:
    """(use the screen's own intent id, the rest of the callback data)."""
    known = [
        *ids["bobs"],
        ids["wait"],
        ids["course"],
        ids["offer"],
        *ids["units"],
        *ids["sessions"],
    ]
    item = st.one_of(
        st.sampled_from([str(i) for i in known]),
        st.integers(min_value=-(10**20), max_value=10**20).map(str),
        st.text(max_size=24),
        st.sampled_from(["", "0", "1;drop", "../1", "１２", "1e3", " 1", "0x10", "ci_x"]),
    )
    widget = st.one_of(st.sampled_from(WIDGETS), st.text(max_size=8))
    structured = st.builds(lambda w, i: f"{w}:{i}", widget, item)
    return st.tuples(st.booleans(), st.one_of(structured, st.text(max_size=60)))


def forged_data(screen: Message, own_intent: bool, rest: str) -> str:
    """A callback of at most 64 bytes, as Telegram allows."""
    button = screen.reply_markup.inline_keyboard[0][0]
    intent = button.callback_data.split("\x1d", 1)[0] if own_intent else "x9"
    data = f"{intent}\x1d{rest}" if own_intent else rest
    return data.encode("utf-8")[:64].decode("utf-8", errors="ignore") or "-"


@pytest.fixture
def alice(db_factory, clock) -> Conversation:
    settings_ = Settings(
        TZ="Europe/Prague", currency="EUR", bot_token=None, admin_ids=frozenset({STAFF})
    )
    deps = Deps(db=db_factory, settings=settings_, clock=clock)
    messages = MockMessageManager()
    dp = build_dispatcher(
        deps, build_i18n("en"), storage=JsonMemoryStorage(), message_manager=messages
    )
    bot = RecordingBot()
    return Conversation(BotClient(dp, user_id=ALICE.id, chat_id=ALICE.id, bot=bot), messages, bot)


async def open_screen(alice: Conversation, screen: str) -> None:
    await alice.send("/start")
    if screen == "session card":
        await alice.click("📅 Book a session")
        await alice.click("Massage")
        await alice.click("Tue, Nov 24")
    elif screen in ("my bookings", "booking card"):
        await alice.send("/bookings")
        if screen == "booking card":
            await alice.click("Nov 25")
    elif screen == "my courses":
        await alice.click("🟩 My courses")


@pytest.fixture
async def state(world, db_factory) -> dict:
    """Shared by a test's examples: the screen is opened on the first one."""
    return {"opened": False, "before": await snapshot(db_factory), "pressed": 0}


@pytest.mark.parametrize("screen", ["session card", "my bookings", "booking card", "my courses"])
@settings(
    max_examples=EXAMPLES_PER_SCREEN,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_forged_callbacks_are_answered_and_change_nothing(
    alice, world, state, db_factory, screen, data
):
    if not state["opened"]:
        await open_screen(alice, screen)
        state["opened"] = True
    own_intent, rest = data.draw(payloads(world))
    screen_now = alice.messages.last_message()
    answered = len([c for c in alice.bot.calls if isinstance(c, AnswerCallbackQuery)])
    alice.messages.reset_history()

    await alice.client.click(screen_now, Forged(forged_data(screen_now, own_intent, rest)))

    by_bot = len([c for c in alice.bot.calls if isinstance(c, AnswerCallbackQuery)]) > answered
    shown = alice.messages.sent_messages or alice.messages.answered_callbacks
    assert by_bot or shown, "the press was not answered"
    if not alice.messages.sent_messages:  # nothing new shown: the screen stays what it was
        alice.messages.sent_messages.append(screen_now)
    state["pressed"] += 1
    if state["pressed"] % 10 == 0 or state["pressed"] == 1:  # a snapshot costs 6 queries
        assert await snapshot(db_factory) == state["before"]
