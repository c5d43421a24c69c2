"""Every window of every dialog the bot registers, rendered from its own getter on a realistic
studio: examples/studio.yaml, where Alice holds a plain booking, a course booking, a package,
an ongoing class with its monthly fee and a waiting-list place, and staff look at her.

The windows are found in the dispatcher the bot runs (build_dispatcher), so a new window is
rendered here without anyone listing it. They render with data that refuses a key nobody gave:
a `{key}` or `when="key"` that the getter (or the dialog data) does not give fails here, where
the bot would fail to show the window or, for `when`, silently hide a line or a button. A
window's preview_data (aiogram-dialog's preview) is held to the same rule.
"""

from __future__ import annotations

import asyncio
import copy
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram.filters import Command
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode
from aiogram_dialog.manager.manager import ManagerImpl
from aiogram_dialog.setup import collect_dialogs
from aiogram_dialog.test_tools import BotClient, MockMessageManager
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage
from aiogram_dialog.widgets.data import StaticGetter
from sqlalchemy import select, update

from bot import states
from bot.deps import Deps
from bot.runtime.app import build_dispatcher
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from domain.billing.fees import raise_fees
from domain.booking.bookings import book_or_wait, book_session
from domain.booking.ongoing import enrol_in_class
from domain.clients.record import ClientRef, remember_client
from domain.courses import units as course_units
from domain.storage.db import SessionFactory, create_engine, session_factory
from domain.storage.models import ClassSession, CourseOffer, Programme, ProgrammeClass
from domain.timetable import packages
from tests.support.catalog import load
from tests.support.databases import migrated_engine

STUDIO = Path(__file__).resolve().parents[2] / "examples" / "studio.yaml"
ALICE, BOB = ClientRef(42, "Alice", "en"), ClientRef(43, "Bob", "en")
STAFF = 500
I18N = build_i18n("en")


def settings() -> Settings:
    return Settings(
        TZ="Europe/Prague",
        CURRENCY="EUR",
        PAYMENT_METHODS="card",
        PAYMENT_PROVIDER_TOKEN="1:TEST",
        ADMIN_IDS=str(STAFF),
        bot_token=None,
    )


def registered_dialogs(deps: Deps) -> list[Dialog]:
    """The dialogs the bot runs (not aiogram-dialog's own)."""
    dp = build_dispatcher(deps, I18N)
    return [d for d in collect_dialogs(dp) if d.states_group().__module__ == states.__name__]


# found at collection: every window of every registered dialog, by its state
WINDOWS = {
    state.state: window
    for dialog in registered_dialogs(Deps(db=None, settings=settings()))
    for state, window in dialog.windows.items()
}
PREVIEWED = [
    name
    for name, window in WINDOWS.items()
    if not isinstance(window.getter.preview_getter, StaticGetter)
    or window.getter.preview_getter.data
]


class MissingKey(KeyError):
    pass


class StrictData(dict):
    """A window's data that refuses a key nobody gave, for `{key}` and for `when="key"` alike
    (aiogram-dialog reads the latter with .get, and would hide the widget without a word)."""

    def __missing__(self, key: str) -> Any:
        raise MissingKey(f"the window uses {key!r}, which its getter does not give")

    def get(self, key: str, default: Any = None) -> Any:
        return self[key]


@pytest.fixture(autouse=True)
def strict_window_data(monkeypatch):
    """The data every window renders with (dialog data, middleware data, then the getter's)."""
    load_data = ManagerImpl.load_data

    async def strict(manager: ManagerImpl) -> dict:
        return StrictData(await load_data(manager))

    monkeypatch.setattr(ManagerImpl, "load_data", strict)


async def render(
    deps: Deps, user_id: int, state: State, dialog_data: dict, *, preview: bool = False
) -> Message:
    """The window of ``state`` as the bot shows it to ``user_id``: its dialog started with
    ``dialog_data``, rendered through the dispatcher the bot runs (its middlewares too)."""
    messages = MockMessageManager()
    dp = build_dispatcher(deps, I18N, storage=JsonMemoryStorage(), message_manager=messages)

    async def show(_message: Message, dialog_manager: DialogManager) -> None:
        if preview:  # aiogram-dialog then takes each window's preview_data for its getter
            dialog_manager.is_preview = lambda: True
        await dialog_manager.start(state, mode=StartMode.RESET_STACK, show_mode=ShowMode.NO_UPDATE)
        dialog_manager.dialog_data.update(dialog_data)
        dialog_manager.show_mode = ShowMode.SEND
        await dialog_manager.show()

    dp.message.register(show, Command("show"))  # the dispatcher's own: before every router
    await BotClient(dp, user_id=user_id).send("/show")
    return messages.one_message()


# the windows of an ongoing class: they show Pottery, not the yoga the catalog shows otherwise
ONGOING_CLASS = (
    states.Catalog.class_card,
    states.Catalog.enrol_note,
    states.Catalog.leave_class,
    states.Catalog.enrolled,
    states.Catalog.class_waitlisted,
)


@dataclass
class Studio:
    deps: Deps
    # each dialog's data, as its handlers leave it; some windows need another class or booking
    dialog_data: dict[str, dict]
    for_window: dict[str, dict]

    def data_for(self, state: State) -> dict:
        return {
            **self.dialog_data.get(state.group.__name__, {}),
            **self.for_window.get(state.state, {}),
        }


async def _ids(db, model, **where) -> list[int]:
    query = select(model.id).filter_by(**where).order_by(model.id)
    return list(await db.scalars(query))


async def _class_id(db, programme: str, klass: str) -> int:
    [programme_id] = await _ids(db, Programme, key=programme)
    [class_id] = await _ids(db, ProgrammeClass, programme_id=programme_id, key=klass)
    return class_id


async def _sessions(db, class_id: int) -> list[int]:
    query = select(ClassSession.id).filter_by(class_id=class_id).order_by(ClassSession.starts_at)
    return list(await db.scalars(query))


# per test process: the seeded database file, which each test gets a copy of, and its ids
_SEEDED: dict[str, Any] = {}


@pytest.fixture
async def studio(tmp_path_factory, tmp_path, clock) -> AsyncIterator[Studio]:
    if not _SEEDED:  # seeding takes longer than a window's render
        folder = tmp_path_factory.mktemp("studio")
        async with migrated_engine("sqlite", folder) as engine:
            _SEEDED.update(await seed(session_factory(engine), clock()))
        _SEEDED["file"] = folder / "spotbook.db"
    await asyncio.to_thread(shutil.copyfile, _SEEDED["file"], tmp_path / "spotbook.db")
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'spotbook.db'}")
    try:
        yield Studio(
            deps=Deps(db=session_factory(engine), settings=settings(), clock=clock),
            dialog_data=copy.deepcopy(_SEEDED["dialog_data"]),
            for_window=copy.deepcopy(_SEEDED["for_window"]),
        )
    finally:
        await engine.dispose()


async def seed(db_factory: SessionFactory, now: datetime) -> dict[str, dict]:
    """examples/studio.yaml with Alice's bookings of each kind; the dialog data to show them."""
    policy = settings().policy
    await load(db_factory, STUDIO.read_text())
    async with db_factory() as db:
        for client in (ALICE, BOB):
            await remember_client(db, client, now)
        yoga = (await _ids(db, Programme, key="yoga"))[0]
        pottery = (await _ids(db, Programme, key="pottery"))[0]
        evening = await _class_id(db, "yoga", "evening-calm")
        morning = await _class_id(db, "yoga", "morning-flow")
        private = await _class_id(db, "yoga", "private-lessons")
        wheel = await _class_id(db, "pottery", "wheel-basics")
        tea = await _class_id(db, "tea-ceremony", "workshop")
        [yoga_five, *_] = await _ids(db, CourseOffer)
        evening_sessions = await _sessions(db, evening)
        morning_sessions = await _sessions(db, morning)
        private_sessions = await _sessions(db, private)
        [tea_session] = await _sessions(db, tea)
        # a full workshop, so that Alice waits for it
        await db.execute(update(ProgrammeClass).filter_by(id=tea).values(capacity=1))
        await db.commit()
    async with db_factory() as db:
        plain = await book_session(
            db, client=ALICE, session_id=evening_sessions[0], now=now, policy=policy
        )
    async with db_factory() as db:
        course = await course_units.sell_at_venue(
            db, client_id=ALICE.id, offer_id=yoga_five, staff_id=STAFF, policy=policy, now=now
        )
    async with db_factory() as db:
        await book_session(
            db,
            client=ALICE,
            session_id=morning_sessions[0],
            now=now,
            policy=policy,
            course_id=course,
        )
    async with db_factory() as db:
        package = await packages.book_package(
            db,
            client=ALICE,
            class_id=private,
            session_ids=private_sessions[:3],
            now=now,
            policy=policy,
        )
    async with db_factory() as db:
        await enrol_in_class(db, client=ALICE, class_id=wheel, now=now, policy=policy)
    async with db_factory() as db:
        [fee, *_] = await raise_fees(db, now + timedelta(days=20), policy)
    async with db_factory() as db:
        await book_session(db, client=BOB, session_id=tea_session, now=now, policy=policy)
    async with db_factory() as db:
        waiting = await book_or_wait(
            db, client=ALICE, session_id=tea_session, now=now, policy=policy
        )
    ongoing = {"programme_id": pottery, "class_id": wheel, "one_class": True, "ongoing": True}
    return {
        "dialog_data": {
            "Catalog": {
                "programme_id": yoga,
                "class_id": evening,
                "one_class": False,
                "ongoing": False,
                "session_id": evening_sessions[1],
                "booking_id": plain.card.id,
                "package_id": package.id,
                "position": waiting.position,
            },
            "MyBookings": {"booking_id": plain.card.id},
            "Staff": {
                "session_id": evening_sessions[0],
                "client_id": ALICE.id,
                "fee_id": fee.fee_id,
                "money_action": "waive",
            },
        },
        "for_window": {
            **{state.state: {**ongoing, "enrolled_count": 6} for state in ONGOING_CLASS},
            states.Catalog.package_review.state: {
                "class_id": private,
                "picked_for": private,
                "picked": private_sessions[3:6],
            },
            states.Catalog.waitlisted.state: {"session_id": tea_session},
            states.MyBookings.move.state: {"booking_id": package.slots[0].booking_id},
            # cancelling as staff: the whole session's preview, and a booking's choices
            states.Staff.cancel_terms.state: {
                "cancel": {"scope": "session", "money": "auto", "asks": [True, False, False]}
            },
            states.Staff.cancel_confirm.state: {
                "cancel": {
                    "scope": "booking",
                    "money": "keep",
                    "give_back": False,
                    "makeup": True,
                    "reason": "Teacher ill",
                    "asks": [True, True, True],
                }
            },
        },
    }


def _state(name: str) -> State:
    group = getattr(states, name.split(":")[0])
    return next(s for s in group.__states__ if s.state == name)


def _shown(message: Message) -> str:
    markup = message.reply_markup
    buttons = [b.text for row in markup.inline_keyboard for b in row] if markup else []
    return "\n".join([message.text, *(f"[{text}]" for text in buttons)])


def test_the_bot_registers_a_dialog_for_every_states_group_and_a_window_for_every_state():
    dialogs = registered_dialogs(Deps(db=None, settings=settings()))
    groups = {
        group
        for group in vars(states).values()
        if isinstance(group, type) and issubclass(group, StatesGroup) and group is not StatesGroup
    }
    assert {d.states_group() for d in dialogs} == groups
    for dialog in dialogs:
        assert set(dialog.windows) == set(dialog.states_group().__states__)


@pytest.mark.parametrize("name", WINDOWS)
async def test_every_window_renders_what_its_getter_gives(studio: Studio, name: str):
    state = _state(name)
    user_id = STAFF if state.group is states.Staff else ALICE.id

    shown = await render(studio.deps, user_id, state, studio.data_for(state))

    assert shown.text.strip(), f"{name} shows nothing"
    print(f"--- {name}\n{_shown(shown)}")  # pytest -s: every window as a client or staff sees it


@pytest.mark.parametrize("name", PREVIEWED)
async def test_every_preview_gives_what_its_window_shows(db_factory, clock, name: str):
    deps = Deps(db=db_factory, settings=settings(), clock=clock)

    shown = await render(deps, ALICE.id, _state(name), {}, preview=True)

    assert shown.text.strip(), f"{name} shows nothing"
    # in a preview aiogram-dialog shows a Format's missing key as "{key}" instead of failing
    assert not re.search(r"\{\w+\}", _shown(shown)), _shown(shown)
