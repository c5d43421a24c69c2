import itertools

import pytest
from aiogram_dialog.api.entities import stack
from aiogram_dialog.test_tools import BotClient, MockMessageManager
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage

from bot.deps import Deps
from bot.runtime.app import build_dispatcher
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from tests.support.catalog import TWO_CLASSES, YOGA, load
from tests.support.dialogs import Chat
from tests.support.world import build_world


@pytest.fixture
def chat_for(db_factory, clock):
    i18n = build_i18n("en")

    def make(user_id: int = 42, **overrides) -> Chat:
        """A chat with one user; overrides are settings, as the environment would give them."""
        settings = Settings(TZ="Europe/Prague", currency="EUR", bot_token=None, **overrides)
        deps = Deps(db=db_factory, settings=settings, clock=clock)
        messages = MockMessageManager()
        dp = build_dispatcher(deps, i18n, storage=JsonMemoryStorage(), message_manager=messages)
        return Chat(BotClient(dp, user_id=user_id), messages)

    return make


@pytest.fixture
async def chat(db_factory, chat_for) -> Chat:
    await load(db_factory, YOGA + TWO_CLASSES.replace("programmes:\n", ""))
    return chat_for()


@pytest.fixture(autouse=True)
def unique_dialog_ids(monkeypatch):
    """aiogram-dialog draws intent ids from the clock second plus random(0..99): two dialogs
    started within one second collide 1 time in 100, and a collision makes it render the new
    window twice. Tests start many dialogs per second, so they get distinct ids instead."""
    counter = itertools.count(1)
    monkeypatch.setattr(stack, "new_int_id", lambda: next(counter))


@pytest.fixture
async def world(db_factory, clock) -> dict:
    """tests/support/world.py: a clinic with other clients' bookings, a course, a queue."""
    return await build_world(db_factory, clock)
