"""P1: how many button clicks a second one process handles through the whole Spotbook stack,
against a bare aiogram-dialog click, in the same run.

    python -m bench.dialog_clicks [--clicks 2000] [--rounds 3]

- **spotbook**: the real dispatcher (every router, dialog and middleware, i18n, the client's
  preferences) over a migrated SQLite database holding the example studio; the user goes
  back and forth between a class's session list and a session card, so every click reads
  availability (sessions, spots left, the client's passes and courses) from the database.
- **bare dialog**: an aiogram-dialog dialog with the same widget kinds (a paged Select with
  as many sessions as the Spotbook list holds, a window with a Back button), MemoryStorage,
  no database. Its item count follows the Spotbook run's (printed as `sessions_listed`): a
  Select builds a button per item, so a shorter list would charge our screen's size to us.
- **raw aiogram**: `Dispatcher.feed_update` of a callback query to a handler that only answers
  it (the framework's floor, for reference).

Each click is one update through aiogram-dialog's test client (no network: a mock message
manager takes the rendered windows), timed over `--clicks` clicks; the best round counts. The
ratio spotbook / bare dialog is the figure (target >= 0.5: our domain and storage work per
click costs no more than the dialog framework's own).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path

from aiogram import Dispatcher, F, Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, Chat, Update, User
from aiogram.types import Message as TgMessage
from aiogram_dialog import Dialog, DialogManager, StartMode, Window, setup_dialogs
from aiogram_dialog.test_tools import BotClient, MockMessageManager
from aiogram_dialog.test_tools.bot_client import FakeBot
from aiogram_dialog.test_tools.keyboard import InlineButtonTextLocator
from aiogram_dialog.widgets.kbd import ScrollingGroup, Select, SwitchTo
from aiogram_dialog.widgets.text import Const, Format
from sqlalchemy import select

from bot.deps import Deps
from bot.dialogs.common import PAGE_SIZE
from bot.runtime.app import build_dispatcher
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from domain.booking.client_views import upcoming_sessions
from domain.catalog.file import parse_catalog
from domain.catalog.importer import import_catalog
from domain.storage.db import create_engine, session_factory
from domain.storage.migrate import upgrade_to_head
from domain.storage.models import ProgrammeClass

EXAMPLE = Path(__file__).parents[1] / "examples" / "studio.yaml"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # before the example's winter sessions
TARGET_RATIO = 0.5


async def clicks_per_second(client: BotClient, messages: MockMessageManager, forth, back, n):
    """Alternate two buttons n times; clicks per second."""
    started = time.perf_counter()
    for i in range(n):
        screen = messages.last_message()
        messages.reset_history()
        await client.click(screen, forth if i % 2 == 0 else back)
    return n / (time.perf_counter() - started)


async def spotbook(folder: Path, n: int) -> tuple[float, int]:
    """Clicks per second, and how many sessions the list shows."""
    engine = create_engine(f"sqlite+aiosqlite:///{folder}/bench.db")
    await upgrade_to_head(engine)
    factory = session_factory(engine)
    settings = Settings(TZ="Europe/Prague", currency="EUR", bot_token=None)
    catalog = parse_catalog(
        EXAMPLE.read_text(encoding="utf-8"), tz=settings.zone, currency_digits=2
    )
    async with factory() as db:
        await import_catalog(db, catalog)
    messages = MockMessageManager()
    deps = Deps(db=factory, settings=settings, clock=lambda: NOW)
    dp = build_dispatcher(deps, build_i18n("en"), message_manager=messages)
    client = BotClient(dp, user_id=1001, chat_id=1001)
    await client.send("/start")
    for label in ("Book a session", "Yoga", "Yoga", "Morning flow"):
        screen = messages.last_message()
        messages.reset_history()
        await client.click(screen, InlineButtonTextLocator(f".*{label}.*"))
    try:
        async with factory() as db:
            listed = len(await upcoming_sessions(db, await _class_id(db), NOW))
        rate = await clicks_per_second(
            client,
            messages,
            InlineButtonTextLocator(".*spots left.*"),
            InlineButtonTextLocator(".*Back.*"),
            n,
        )
        return rate, listed
    finally:
        await engine.dispose()


async def _class_id(db) -> int:
    return await db.scalar(select(ProgrammeClass.id).where(ProgrammeClass.title == "Morning flow"))


class Bare(StatesGroup):
    sessions = State()
    session = State()


async def on_pick(_c, _w, manager: DialogManager, item: str) -> None:
    manager.dialog_data["picked"] = item
    await manager.switch_to(Bare.session)


def bare_dialog(count: int) -> Dialog:
    items = [(i, f"Wed, Dec {i % 28 + 1}, 7:30 AM · {12 - i % 5} spots left") for i in range(count)]
    return Dialog(
        Window(
            Const("<b>Yoga — Morning flow</b>\nChoose a session:"),
            ScrollingGroup(
                Select(
                    Format("{item[1]}"),
                    id="s",
                    item_id_getter=itemgetter(0),
                    items=items,
                    on_click=on_pick,
                ),
                id="s_page",
                width=1,
                height=PAGE_SIZE,
                hide_on_single_page=True,
            ),
            state=Bare.sessions,
        ),
        Window(
            Format("Session {dialog_data[picked]}: 12 spots left"),
            SwitchTo(Const("◀️ Back"), id="back", state=Bare.sessions),
            state=Bare.session,
        ),
    )


async def bare(n: int, count: int) -> float:
    messages = MockMessageManager()
    dp = Dispatcher(storage=MemoryStorage())
    router = Router()

    @router.message(F.text == "/start")
    async def start(_m: TgMessage, dialog_manager: DialogManager) -> None:
        await dialog_manager.start(Bare.sessions, mode=StartMode.RESET_STACK)

    dp.include_routers(router, bare_dialog(count))
    setup_dialogs(dp, message_manager=messages)
    client = BotClient(dp, user_id=1001, chat_id=1001)
    await client.send("/start")
    return await clicks_per_second(
        client,
        messages,
        InlineButtonTextLocator(".*spots left.*"),
        InlineButtonTextLocator(".*Back.*"),
        n,
    )


async def raw(n: int) -> float:
    dp = Dispatcher(storage=MemoryStorage())
    router = Router()

    @router.callback_query()
    async def answer(callback: CallbackQuery) -> None:
        return None

    dp.include_router(router)
    bot = FakeBot()
    user = User(id=1001, is_bot=False, first_name="A")
    message = TgMessage(message_id=1, date=NOW, chat=Chat(id=1001, type="private"))
    updates = [
        Update(
            update_id=i,
            callback_query=CallbackQuery(
                id=str(i), from_user=user, chat_instance="1", message=message, data="x"
            ),
        )
        for i in range(n)
    ]
    started = time.perf_counter()
    for update in updates:
        await dp.feed_update(bot, update)
    return n / (time.perf_counter() - started)


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    ours, theirs, floor = [], [], []
    with tempfile.TemporaryDirectory(prefix="spotbook-bench-") as folder:
        for round_ in range(args.rounds):
            round_folder = Path(folder) / str(round_)
            round_folder.mkdir()
            rate, listed = await spotbook(round_folder, args.clicks)
            ours.append(rate)
            theirs.append(await bare(args.clicks, listed))
            floor.append(await raw(args.clicks * 5))
    best_ours, best_theirs = max(ours), max(theirs)
    ratio = best_ours / best_theirs
    verdict = "meets" if ratio >= TARGET_RATIO else "misses"
    print(
        f"dialog_clicks stack=spotbook clicks={args.clicks} sessions_listed={listed}"
        f" updates_per_second={best_ours:.0f}"
    )
    print(
        f"dialog_clicks stack=bare_dialog clicks={args.clicks} sessions_listed={listed}"
        f" updates_per_second={best_theirs:.0f}"
    )
    print(
        f"dialog_clicks stack=raw_aiogram updates={args.clicks * 5}"
        f" updates_per_second={max(floor):.0f}"
    )
    print(f"dialog_clicks ratio_spotbook_to_bare={ratio:.2f} target={TARGET_RATIO} ({verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
