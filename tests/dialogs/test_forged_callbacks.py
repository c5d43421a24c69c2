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

from bot.deps import Deps
from bot.runtime.app import build_dispatcher
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from tests.dialogs.test_staff_dialog import Conversation
from tests.support.dialogs import RecordingBot
from tests.support.world import ALICE, STAFF, snapshot

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
