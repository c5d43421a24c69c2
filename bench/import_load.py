"""P5: clients tap Book while staff import a big catalog through the chat: how long do they wait?

    python -m bench.import_load [--sessions 10000] [--rounds 8] [--interval-ms 50]
                                [--db sqlite|postgresql|both]

One process, one event loop, as the bot runs: the real dispatcher (every router, dialog and
middleware) over a migrated database holding a class with places to spare. Each round, a staff
member sends a catalog file of `--sessions` sessions (a new programme each round) as a document,
and the bot downloads it (from memory here), checks it and imports it, as `/import` does;
meanwhile a client taps **✅ Book** on a session card every `--interval-ms` until the import
has answered, each client a different one (opened at the card by its deep link beforehand).
Then, with no import running, as many clients tap Book at the same pace: the reference.
One small import before the rounds warms the process up (the first import after start
compiles its SQL statements), as a running bot is.

A tap's latency runs from the moment it was due (not when the loop got round to sending it, so a
blocked loop counts) to its answer. Every round is checked: every tap booked, the import
reported its sessions added. The figure is p99 during the import; target <= 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Dispatcher
from aiogram.methods import AnswerCallbackQuery, SendMessage, TelegramMethod
from aiogram.types import Chat, Document, Message, Update, User
from aiogram_dialog.api.entities import stack
from aiogram_dialog.test_tools import BotClient, MockMessageManager
from aiogram_dialog.test_tools.bot_client import FakeBot
from aiogram_dialog.test_tools.keyboard import InlineButtonTextLocator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.booking_contention import Unreachable, positive, postgres_engine, sqlite_engine
from bot.deps import Deps
from bot.handlers import session_link_payload
from bot.runtime.app import build_dispatcher, freeze_startup_objects
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from domain.catalog.file import DEFAULT_MAX_IMPORT_SESSIONS, parse_catalog
from domain.catalog.importer import import_catalog
from domain.storage.db import SessionFactory, session_factory
from domain.storage.migrate import upgrade_to_head
from domain.storage.models import Booking, ClassSession

TARGET_P99_MS = 500
STAFF_ID = 1
SESSIONS_PER_CLASS = 250  # a weekly rule on every day for 250 days
BOOK = InlineButtonTextLocator(".*✅ Book.*")
# the base class: places for every tap of a run (at most 1,000 per session)
BASE_SESSIONS = 8
BASE = """
programmes:
  - key: studio
    title: Studio
    classes:
      - key: open
        title: Open class
        capacity: 1000
        sessions: [{starts}]
"""


class WrongResult(Exception):
    """The run finished, but not as it should have."""


@dataclass
class Phase:
    latencies: list[float] = field(default_factory=list)  # seconds


class StaffBot(FakeBot):
    """Serves the document the staff member sent, and takes the bot's answers."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.answers: list[str] = []

    async def download(self, file: Any, *_args: Any, **_kwargs: Any) -> io.BytesIO:
        return io.BytesIO(self.files[file.file_id])

    async def me(self) -> User:
        return User(id=999, is_bot=True, first_name="Spotbook", username="spotbook_bench_bot")

    async def __call__(self, method: TelegramMethod, request_timeout: int | None = None) -> Any:
        if isinstance(method, AnswerCallbackQuery):
            return True
        if isinstance(method, SendMessage):
            self.answers.append(str(method.text))
            chat = Chat(id=int(method.chat_id), type="private")
            return Message(message_id=1, date=datetime.now(UTC), chat=chat, text=method.text)
        raise RuntimeError(f"unexpected call {type(method).__name__}")


def catalog_text(key: str, sessions: int, first: datetime) -> str:
    """`sessions` sessions (a multiple of SESSIONS_PER_CLASS) in classes of a daily rule."""
    day = first.date()
    last = day + timedelta(days=SESSIONS_PER_CLASS - 1)
    rows = "".join(
        f"      - {{key: c{n}, title: Class {n}, capacity: 12, weekly: {{days: [mon, tue, wed,"
        f" thu, fri, sat, sun], time: '{6 + n % 14}:{n % 4 * 15:02}', from: {day},"
        f" until: {last}}}}}\n"
        for n in range(sessions // SESSIONS_PER_CLASS)
    )
    return f"programmes:\n  - key: {key}\n    title: Gym {key}\n    classes:\n{rows}"


class Run:
    def __init__(self, factory: SessionFactory, args: argparse.Namespace) -> None:
        self.factory, self.args = factory, args
        settings = Settings(
            TZ="UTC",
            currency="EUR",
            bot_token=None,
            admin_ids=frozenset({STAFF_ID}),
            import_max_sessions=max(args.sessions, DEFAULT_MAX_IMPORT_SESSIONS),
        )
        self.messages = MockMessageManager()
        deps = Deps(db=factory, settings=settings)
        i18n = build_i18n("en")
        self.dp: Dispatcher = build_dispatcher(deps, i18n, message_manager=self.messages)
        self.staff_bot = StaffBot()
        self.user_ids = itertools.count(10_000)
        self.update_ids = itertools.count(1)
        self.session_ids: list[int] = []
        self.taps = 0

    async def load_base(self) -> None:
        first = datetime.now(UTC) + timedelta(days=30)
        starts = ", ".join(
            f"'{(first + timedelta(days=n)):%Y-%m-%d} 18:00'" for n in range(BASE_SESSIONS)
        )
        catalog = parse_catalog(BASE.format(starts=starts), tz=UTC, currency_digits=2)
        async with self.factory() as db:
            await import_catalog(db, catalog)
            self.session_ids = list(await db.scalars(select(ClassSession.id)))

    async def clients_at_a_card(self, count: int) -> list[tuple[BotClient, Message]]:
        """New clients, each at a session card (opened by its deep link)."""
        ready = []
        for _ in range(count):
            user_id = next(self.user_ids)
            client = BotClient(self.dp, user_id=user_id, chat_id=user_id)
            session_id = self.session_ids[user_id % len(self.session_ids)]
            await client.send(f"/start {session_link_payload(session_id)}")
            card = self.messages.last_message()
            if BOOK.find_button(card) is None:
                raise WrongResult(f"no Book button on the card: {card.text!r}")
            ready.append((client, card))
        return ready

    async def tap(self, client: BotClient, card: Message, due: float, phase: Phase) -> None:
        await client.click(card, BOOK)
        phase.latencies.append(time.perf_counter() - due)
        self.taps += 1

    async def taps_until(
        self, clients: list[tuple[BotClient, Message]], done: asyncio.Future | None, phase: Phase
    ) -> int:
        """A tap every interval: until `done`, or through all `clients` when None."""
        interval = self.args.interval_ms / 1000
        started = time.perf_counter()
        tasks = []
        for n, (client, card) in enumerate(clients):
            if done is not None and done.done():
                break
            due = started + n * interval
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(self.tap(client, card, due, phase)))
        await asyncio.gather(*tasks)
        return len(tasks)

    async def import_through_the_chat(self, key: str, sessions: int) -> float:
        text = catalog_text(key, sessions, datetime.now(UTC) + timedelta(days=40))
        data = text.encode()
        file_id = f"file_{key}"
        self.staff_bot.files[file_id] = data
        staff = User(id=STAFF_ID, is_bot=False, first_name="Sam")
        message = Message(
            message_id=next(self.update_ids),
            date=datetime.now(UTC),
            chat=Chat(id=STAFF_ID, type="private"),
            from_user=staff,
            document=Document(
                file_id=file_id,
                file_unique_id=file_id,
                file_name=f"{key}.yaml",
                file_size=len(data),
            ),
        )
        update = Update(update_id=next(self.update_ids), message=message)
        started = time.perf_counter()
        await self.dp.feed_update(self.staff_bot, update)
        seconds = time.perf_counter() - started
        answer = self.staff_bot.answers[-1] if self.staff_bot.answers else ""
        if f"{sessions} sessions" not in answer:
            raise WrongResult(f"the import answered {answer!r}")
        return seconds

    async def round(self, round_: int, during: Phase, reference: Phase) -> float:
        pool = await self.clients_at_a_card(self.args.pool)
        importing = asyncio.ensure_future(
            self.import_through_the_chat(f"gym{round_}", self.args.sessions)
        )
        await asyncio.sleep(0)  # the import's update is on its way first
        count = await self.taps_until(pool, importing, during)
        seconds = await importing
        if count == len(pool):
            print(f"import_load warning: the import outlasted {len(pool)} taps", flush=True)
        await self.taps_until(await self.clients_at_a_card(count), None, reference)
        return seconds

    async def check(self) -> None:
        async with self.factory() as db:
            booked = await db.scalar(select(func.count(Booking.id)))
        if booked != self.taps:
            raise WrongResult(f"{self.taps} taps, {booked} bookings")


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def bench(engine: AsyncEngine, args: argparse.Namespace) -> tuple[Phase, Phase, list[float]]:
    await upgrade_to_head(engine)
    run = Run(session_factory(engine), args)
    freeze_startup_objects()  # as the bot does once wired
    await run.load_base()
    # The first import after start compiles its SQL (0.1-0.3 s more here): steady state counts.
    await run.import_through_the_chat("warmup", SESSIONS_PER_CLASS)
    during, reference = Phase(), Phase()
    imports = [await run.round(n, during, reference) for n in range(args.rounds)]
    await run.check()
    return during, reference, imports


async def bench_database(kind: str, args: argparse.Namespace) -> bool:
    head = f"import_load db={kind} sessions={args.sessions} interval_ms={args.interval_ms}"
    engine = sqlite_engine() if kind == "sqlite" else postgres_engine((5, 10))
    try:
        async with engine as ready:
            during, reference, imports = await bench(ready, args)
    except Unreachable as error:
        print(f'{head} skipped reason="{error}"', flush=True)
        return True
    except WrongResult as error:
        print(f'{head} FAILED reason="{error}"', flush=True)
        return False
    p50, p99 = (percentile(during.latencies, s) * 1000 for s in (0.5, 0.99))
    ref50, ref99 = (percentile(reference.latencies, s) * 1000 for s in (0.5, 0.99))
    verdict = "meets" if p99 <= TARGET_P99_MS else "misses"
    print(
        f"{head} rounds={args.rounds} import_seconds_median={statistics.median(imports):.2f}"
        f" taps_during_import={len(during.latencies)}"
        f" during_p50_ms={p50:.0f} during_p99_ms={p99:.0f} during_max_ms="
        f"{max(during.latencies) * 1000:.0f}"
        f" reference_p50_ms={ref50:.0f} reference_p99_ms={ref99:.0f}"
        f" ratio_p99={p99 / ref99:.2f} target_p99_ms={TARGET_P99_MS} ({verdict})",
        flush=True,
    )
    return True


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.import_load", description=__doc__)
    parser.add_argument("--sessions", type=positive, default=10_000, help="per imported file")
    parser.add_argument("--rounds", type=positive, default=8, help="imports; their taps pooled")
    parser.add_argument("--interval-ms", type=positive, default=50, help="between two Book taps")
    parser.add_argument("--pool", type=positive, default=120, help="clients ready per round")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args(argv)
    if args.sessions % SESSIONS_PER_CLASS or args.sessions > 50_000:
        parser.error(f"--sessions: a multiple of {SESSIONS_PER_CLASS}, at most 50,000")
    if args.pool * 2 * args.rounds > BASE_SESSIONS * 1000:
        parser.error("--pool x 2 x --rounds: more taps than the base class has places")
    return args


async def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # aiogram-dialog draws intent ids from the clock second plus random(0..99): hundreds of
    # dialogs started within a second would collide (see tests/dialogs/conftest.py)
    counter = itertools.count(1)
    stack.new_int_id = lambda: next(counter)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = [await bench_database(kind, args) for kind in kinds]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
