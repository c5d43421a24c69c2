"""Reliability: 1,000 generated callback payloads (hypothesis) pressed by a client on the
screens that take ids — a session card, My bookings, a booking card, My courses — naming other
clients' bookings, courses and course units, unknown or huge ids, malformed data, staff
buttons, other dialogs' intents. Each one is answered (never an unhandled error), the
database is exactly as it was, and nothing the forger is shown (texts, buttons, alerts) holds
another client's data: their name, a booking's session time, a course's price, unless the
forger saw it on the way to the screen (a session's time is public on its card)."""

from __future__ import annotations

import pytest
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import InlineKeyboardButton, Message
from aiogram_dialog.test_tools import BotClient, MockMessageManager
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.deps import Deps
from bot.runtime.app import build_dispatcher
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from bot.text.reader import Formatter
from domain.storage.models import Booking, ClassSession, ClientCourse
from tests.dialogs.test_staff_dialog import Conversation
from tests.support.dialogs import RecordingBot
from tests.support.world import ALICE, BOB, CAROL, DAN, PRAGUE, STAFF, snapshot

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


async def open_screen(alice: Conversation, screen: str) -> list[str]:
    """Open the screen; what the client was shown on the way."""
    seen = []

    async def step(action, text: str) -> None:
        await action(text)
        seen.extend(shown_texts(alice, alice.messages.sent_messages, len(alice.bot.calls)))

    await step(alice.send, "/start")
    if screen == "session card":
        await step(alice.click, "📅 Book a session")
        await step(alice.click, "Massage")
        await step(alice.click, "Tue, Nov 24")
    elif screen in ("my bookings", "booking card"):
        await step(alice.send, "/bookings")
        if screen == "booking card":
            await step(alice.click, "Nov 25")
    elif screen == "my courses":
        await step(alice.click, "🟩 My courses")
    return seen + shown_texts(alice, [], 0)


def shown_texts(alice: Conversation, messages: list[Message], calls_before: int) -> list[str]:
    """Every text and button label in these messages, and the alerts and messages the bot
    sent since ``calls_before`` of its calls, with Babel's narrow spaces made plain."""
    texts = [str(call.text) for call in alice.bot.calls[calls_before:] if getattr(call, "text", "")]
    for message in messages:
        texts.append(message.text or message.caption or "")
        markup = message.reply_markup
        for row in markup.inline_keyboard if markup else ():
            texts.extend(button.text for button in row)
    return [" ".join(text.split()) for text in texts]


async def others_data(db_factory) -> set[str]:
    """What only other clients' records name: their names, when their bookings' sessions
    start (as a booking card and a button show it), their courses' prices."""
    formatter = Formatter(Settings(TZ=PRAGUE.key, currency="EUR", bot_token=None), "en")
    async with db_factory() as db:
        starts = await db.scalars(
            select(ClassSession.starts_at)
            .join(Booking, Booking.session_id == ClassSession.id)
            .where(Booking.client_id != ALICE.id)
        )
        times = {w for t in starts for w in (formatter.long_when(t), formatter.short_when(t))}
        prices = await db.scalars(
            select(ClientCourse.price_minor).where(ClientCourse.client_id != ALICE.id)
        )
        amounts = {formatter.money(p) for p in prices}
    return {
        " ".join(w.split()) for w in {c.first_name for c in (BOB, CAROL, DAN)} | times | amounts
    }


@pytest.fixture
async def state(world, db_factory) -> dict:
    """Shared by a test's examples: the screen is opened on the first one."""
    return {
        "opened": False,
        "before": await snapshot(db_factory),
        "pressed": 0,
        "others": await others_data(db_factory),
    }


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
        seen = " | ".join(await open_screen(alice, screen))
        state["others"] = {data for data in state["others"] if data not in seen}
        state["opened"] = True
    own_intent, rest = data.draw(payloads(world))
    screen_now = alice.messages.last_message()
    answered = len([c for c in alice.bot.calls if isinstance(c, AnswerCallbackQuery)])
    calls_before = len(alice.bot.calls)
    alice.messages.reset_history()

    await alice.client.click(screen_now, Forged(forged_data(screen_now, own_intent, rest)))

    by_bot = len([c for c in alice.bot.calls if isinstance(c, AnswerCallbackQuery)]) > answered
    shown = alice.messages.sent_messages or alice.messages.answered_callbacks
    assert by_bot or shown, "the press was not answered"
    for text in shown_texts(alice, alice.messages.sent_messages, calls_before):
        leaked = [data for data in state["others"] if data in text]
        assert not leaked, f"the forger was shown another client's {leaked}: {text!r}"
    if not alice.messages.sent_messages:  # nothing new shown: the screen stays what it was
        alice.messages.sent_messages.append(screen_now)
    state["pressed"] += 1
    if state["pressed"] % 10 == 0 or state["pressed"] == 1:  # a snapshot costs 6 queries
        assert await snapshot(db_factory) == state["before"]
