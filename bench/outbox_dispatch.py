"""How fast does the outbox dispatcher send reminders, and does it keep Telegram's limits?

    python -m bench.outbox_dispatch [--db sqlite|postgresql|both] [--rows 5000]
                                    [--limited-rows 600] [--per-chat 3]
                                    [--batch N] [--concurrency N] [--only off|on|per-chat]
                                    [--instances N]

Each run starts from a fresh database (a SQLite file in a temp folder; a throwaway PostgreSQL
schema), migrated and given a catalog, clients and their bookings, whose reminders
``domain.notices.outbox.remind`` schedules as the booking use cases do (24 h and 2 h before). The
clock then stands where every 24 h reminder is due, and the real
:class:`bot.delivery.courier.Courier`
drains the outbox: it claims, renders, sends and marks every row, talking HTTP to the fake
Telegram Bot API (tests/fake_telegram), which runs in a process of its own (bench/_fake_api.py) so
that its work does not slow the dispatcher's event loop.

Three runs per database:

* ``limiter=off``: ``--rows`` reminders to as many clients, a Sender with every limit off,
  and a fake that accepts everything: how many messages a second the dispatcher pushes.
* ``limiter=on``: ``--limited-rows`` reminders to as many clients, the Sender with the app's
  limits (30 a second, one a second per chat), and a fake that answers 429 as Telegram does
  when more than 30 arrive within a second, or two to one chat within a second.
* ``limiter=on`` with ``--per-chat`` reminders for each client, come due at the same moment
  and next to each other in the outbox, so that each claimed batch holds several messages
  per chat: the per-chat limit's worst case.

``seconds`` is how long ``Courier.drain()`` took, from its first claim until the last row was
marked sent (and one more claim found nothing). An empty window lets the first 30 messages go
at once, so ``messages_per_second`` of a short limited run comes out above 30;
``sustained_per_second`` counts the rest over the same time. From the fake's side:
``busiest_second`` (most messages accepted within any one second), ``shortest_chat_gap``
(seconds between two messages to one chat), ``status_429`` (refusals), ``fake_cpu_seconds``.

With ``--instances N`` (N > 1) it measures instead what N bot instances draining one outbox
together send (the docker-compose layout; here N couriers, each with its own Telegram
session, Sender and Redis connection, in one process): ``--limited-rows`` reminders to as many
clients, with the limits kept in Redis (``REDIS_URL``; ``SPOTBOOK_BENCH_REDIS_URL``, default
``redis://127.0.0.1:6379/0``), by one instance (the reference) and by N; then by N instances
each counting on its own (no Redis: ``limiter=local``). A last line sets the N instances'
combined ``sustained_per_second`` beside the reference's, their ratio and the 429s the fake
answered (it counts across all callers, as Telegram does per bot). In the per-process run a
message refused more than the Sender waits out is put off for a later try (``delayed_rows``),
as the app does; every other run must send every row.

Every run is checked: each due row ended ``sent`` (the 2 h ones still pending), the fake
accepted exactly one message per row, and it saw no malformed request. A wrong outcome prints
``FAILED`` and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from redis.asyncio import Redis
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.booking_contention import (
    CATALOG_LIMIT,
    DEFAULT_POOL,
    Unreachable,
    WrongResult,
    check,
    positive,
    postgres_engine,
    sqlite_engine,
)
from bot.delivery.courier import Courier
from bot.delivery.sender import Reachability, Sender
from bot.deps import Deps
from bot.runtime.app import build_bot
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from domain.catalog.file import parse_catalog
from domain.catalog.importer import import_catalog
from domain.notices import outbox
from domain.storage.db import SessionFactory, session_factory
from domain.storage.migrate import upgrade_to_head
from domain.storage.models import (
    Booking,
    BookingStatus,
    ClassSession,
    Client,
    OutboxMessage,
    OutboxState,
    ProgrammeClass,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
PLACES = 1000  # clients per class: the most places a catalog class may have
FIRST_CLIENT = 700_000_000  # Telegram user ids of the clients
TELEGRAM_PER_SECOND = 30  # what the fake enforces when limited: Telegram's documented limits
TELEGRAM_PER_CHAT_SECONDS = 1.0
TOKEN = "123456789:BENCH-token"
REDIS_URL = os.environ.get("SPOTBOOK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


class CountedRedis(Redis):
    """Counts its round trips: a command, or a pipeline sent as one."""

    round_trips = 0

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.round_trips += 1
        return await super().execute_command(*args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
        self.round_trips += 1
        return super().pipeline(transaction, shard_hint)


@dataclass(frozen=True)
class Run:
    limited: bool
    clients: int
    per_chat: int  # reminders due per client
    instances: int = 1  # couriers draining the outbox together
    limiter: str = "local"  # where the limits are counted: each instance's memory, or "redis"

    @property
    def rows(self) -> int:
        return self.clients * self.per_chat


@dataclass(frozen=True)
class Outcome:
    seconds: float
    fake: dict[str, Any]
    delayed: int = 0  # rows put off for later after repeated 429s (the per-process run only)
    redis_round_trips: int = 0


# --- the fake Bot API, in its own process --------------------------------------------------


class FakeApi:
    def __init__(self, process: asyncio.subprocess.Process, base_url: str) -> None:
        self.process = process
        self.base_url = base_url

    async def tally(self) -> dict[str, Any]:
        """Stop the fake and return what it saw (see bench/_fake_api.py)."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.close()
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        await self.process.wait()
        return json.loads(line)


@asynccontextmanager
async def fake_api(limited: bool) -> AsyncIterator[FakeApi]:
    limits = [f"--per-second={TELEGRAM_PER_SECOND}"] if limited else []
    if limited:
        limits.append(f"--per-chat-seconds={TELEGRAM_PER_CHAT_SECONDS}")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench._fake_api",
        f"--token={TOKEN}",
        *limits,
        cwd=REPO_ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        base_url = (await asyncio.wait_for(process.stdout.readline(), 30)).decode().strip()
        if not base_url.startswith("http"):
            raise WrongResult(f"the fake Bot API did not start (printed {base_url!r})")
        yield FakeApi(process, base_url)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


# --- setting up -----------------------------------------------------------------------------


def catalog_text(groups: int, per_chat: int, places: int, start: datetime) -> str:
    """``per_chat`` classes for each group of clients, all meeting at ``start``."""
    classes = "".join(
        f"""
      - key: g{group}c{n}
        title: Room {n + 1}, group {group + 1}
        capacity: {places}
        sessions: [{start.strftime("%Y-%m-%d %H:%M")}]"""
        for group in range(groups)
        for n in range(per_chat)
    )
    return f"""
programmes:
  - key: bench
    title: Morning & Evening
    classes:{classes}
"""


async def seed(factory: SessionFactory, settings: Settings, run: Run, today: datetime) -> datetime:
    """Clients each booked into ``run.per_chat`` sessions at the same hour, with their reminders
    scheduled; the moment at which every 24 h reminder is due and no 2 h one is.

    A client's reminders come due together and one after another in the outbox, so that a
    claimed batch holds several messages for each chat: the per-chat limit's worst case.
    """
    groups = math.ceil(run.clients / PLACES)
    start = (today + timedelta(days=30)).replace(hour=7, minute=0, second=0, microsecond=0)
    text = catalog_text(groups, run.per_chat, min(run.clients, PLACES), start)
    catalog = parse_catalog(text, tz=ZoneInfo("UTC"), currency_digits=2)
    booked_at = start - timedelta(days=7)
    async with factory() as db:
        await import_catalog(db, catalog)
        session_of = dict(
            (
                await db.execute(
                    select(ProgrammeClass.key, ClassSession.id).join(
                        ClassSession, ClassSession.class_id == ProgrammeClass.id
                    )
                )
            ).all()
        )
        clients = [FIRST_CLIENT + n for n in range(run.clients)]
        await db.execute(
            insert(Client),
            [
                {
                    "id": c,
                    "first_name": f"Client {c}",
                    "language_code": "en",
                    "created_at": booked_at,
                }
                for c in clients
            ],
        )
        bookings, seats = [], []
        for number, client in enumerate(clients):
            for n in range(run.per_chat):
                bookings.append(
                    {
                        "id": len(bookings) + 1,
                        "session_id": session_of[f"g{number // PLACES}c{n}"],
                        "client_id": client,
                        "status": BookingStatus.ACTIVE,
                        "created_at": booked_at,
                    }
                )
                seats.append(outbox.BookedSeat(len(bookings), client, start))
        await db.execute(insert(Booking), bookings)
        await db.execute(
            update(ClassSession).values(
                seats_taken=select(func.count(Booking.id))
                .where(Booking.session_id == ClassSession.id)
                .scalar_subquery()
            )
        )
        await outbox.remind(db, seats, booked_at, settings.policy)
        await db.commit()
    return start - timedelta(hours=24) + timedelta(minutes=1)


# --- one run --------------------------------------------------------------------------------


async def dispatch(
    factory: SessionFactory, settings: Settings, now: datetime, run: Run, args: argparse.Namespace
) -> tuple[float, int]:
    """Drain the outbox as the bot's couriers do (``run.instances`` of them side by side, each
    with its own bot session, Sender and Redis connection); the seconds it took, and the
    round trips to Redis."""
    bots = [build_bot(settings) for _ in range(run.instances)]
    shared = run.limiter == "redis"
    clients = [CountedRedis.from_url(REDIS_URL) if shared else None for _ in bots]
    try:
        deps = Deps(db=factory, settings=settings, clock=lambda: now)
        i18n = build_i18n(settings.default_locale)
        couriers = []
        for bot, redis in zip(bots, clients, strict=True):
            reachability = Reachability(factory, now=deps.clock)
            sender = Sender.from_settings(bot, settings, reachability, redis=redis)
            couriers.append(
                Courier(bot, deps, i18n, sender, batch=args.batch, concurrency=args.concurrency)
            )
        started = time.perf_counter()
        await asyncio.gather(*(courier.drain() for courier in couriers))
        seconds = time.perf_counter() - started
        return seconds, sum(client.round_trips for client in clients if client is not None)
    finally:
        for bot in bots:
            await bot.session.close()
        for client in clients:
            if client is not None:
                await client.aclose()


async def verify(factory: SessionFactory, run: Run, now: datetime, fake: dict[str, Any]) -> int:
    """Check the outcome; how many rows were put off for a later try (429s)."""
    async with factory() as db:
        states = dict(
            (
                await db.execute(
                    select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
                )
            ).all()
        )
        not_due = await db.scalar(select(func.count()).where(OutboxMessage.due_at > now))
    sent = states.pop(OutboxState.SENT, 0)
    # N instances each keeping the limits alone get 429s: a row given up on for now waits
    delayed = run.rows - sent if run.instances > 1 and run.limiter == "local" else 0
    check(sent + delayed == run.rows, f"{sent} rows sent, expected {run.rows} (others: {states})")
    check(states == {OutboxState.PENDING: not_due}, f"rows left over: {states}")
    check(fake["sent"] == sent, f"the fake accepted {fake['sent']} messages, not {sent}")
    check(fake["error_count"] == 0, f"the fake saw bad requests: {fake['errors']}")
    return delayed


@asynccontextmanager
async def redis_prefix(run: Run) -> AsyncIterator[str]:
    """A key prefix of this run alone, its keys deleted afterwards (none without Redis)."""
    prefix = f"bench-{uuid.uuid4().hex[:12]}"
    if run.limiter != "redis":
        yield prefix
        return
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as error:  # refused, unknown host, auth
        await client.aclose()
        raise Unreachable(f"Redis at {REDIS_URL}: {type(error).__name__}: {error}") from None
    try:
        yield prefix
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def bench_run(engine: AsyncEngine, run: Run, args: argparse.Namespace) -> Outcome:
    await upgrade_to_head(engine)
    factory = session_factory(engine)
    limits = {} if run.limited else dict.fromkeys(LIMITS, 0)
    async with redis_prefix(run) as prefix, fake_api(run.limited) as api:
        settings = Settings(
            bot_token=TOKEN, telegram_api_base=api.base_url, redis_key_prefix=prefix, **limits
        )
        now = await seed(factory, settings, run, datetime.now(UTC))
        seconds, round_trips = await dispatch(factory, settings, now, run, args)
        fake = await api.tally()
    delayed = await verify(factory, run, now, fake)
    return Outcome(seconds, fake, delayed, round_trips)


LIMITS = ("send_rate_per_second", "send_rate_per_chat_seconds", "send_group_per_minute")


def sustained(run: Run, outcome: Outcome) -> float:
    """Messages a second after the first 30, which an empty window lets through at once."""
    return (outcome.fake["sent"] - TELEGRAM_PER_SECOND) / outcome.seconds


def figures(run: Run, outcome: Outcome) -> str:
    fake = outcome.fake
    rate = fake["sent"] / outcome.seconds
    line = f" seconds={outcome.seconds:.3f} messages_per_second={rate:.1f}"
    if run.limited:
        gap = fake["shortest_chat_gap"]
        line += f" sustained_per_second={sustained(run, outcome):.1f}"
        line += f" shortest_chat_gap={'-' if gap is None else f'{gap:.3f}'}"
    if outcome.delayed:
        line += f" delayed_rows={outcome.delayed}"
    if run.limiter == "redis":
        line += f" redis_round_trips_per_message={outcome.redis_round_trips / fake['sent']:.2f}"
    return line + (
        f" busiest_second={fake['busiest_second']} sent={fake['sent']}"
        f" status_429={fake['refused_429']}"
        f" fake_api=process fake_cpu_seconds={fake['cpu_seconds']:.2f}"
    )


async def bench_database(kind: str, runs: Sequence[Run], args: argparse.Namespace) -> bool:
    """Print one line per run (and, with several instances, one that compares them); False
    if one came out wrong."""
    ok = True
    outcomes: dict[Run, Outcome] = {}
    for run in runs:
        head = (
            f"outbox_dispatch db={kind} limiter={'on' if run.limited else 'off'}"
            f" rows={run.rows} chats={run.clients}"
        )
        if args.instances > 1:
            head += f" limits_in={run.limiter} instances={run.instances}"
        engine = sqlite_engine() if kind == "sqlite" else postgres_engine(DEFAULT_POOL)
        try:
            async with engine as ready:
                outcome = await bench_run(ready, run, args)
        except Unreachable as error:
            print(f'{head} skipped reason="{error}"', flush=True)
            return True
        except WrongResult as error:
            print(f'{head} FAILED reason="{error}"', flush=True)
            ok = False
            continue
        outcomes[run] = outcome
        print(head + figures(run, outcome), flush=True)
    if args.instances > 1 and len(outcomes) == len(runs):
        print(comparison(kind, runs, outcomes), flush=True)
    return ok


def comparison(kind: str, runs: Sequence[Run], outcomes: dict[Run, Outcome]) -> str:
    """N instances sharing the limits in Redis beside one instance: the combined rate (target
    30/s ± 5 %, ratio 1.0) and the 429s (target 0); and the N with per-process limits."""
    reference, shared, alone = runs
    combined = sustained(shared, outcomes[shared])
    line = (
        f"outbox_dispatch db={kind} instances={shared.instances} limits_in=redis"
        f" combined_sustained_per_second={combined:.1f}"
        f" reference_sustained_per_second={sustained(reference, outcomes[reference]):.1f}"
        f" ratio={combined / sustained(reference, outcomes[reference]):.2f}"
        f" status_429={outcomes[shared].fake['refused_429']}"
        f" reference_status_429={outcomes[reference].fake['refused_429']}"
        f" per_process_status_429={outcomes[alone].fake['refused_429']}"
        f" per_process_delayed_rows={outcomes[alone].delayed}"
    )
    within = abs(combined - TELEGRAM_PER_SECOND) <= 0.05 * TELEGRAM_PER_SECOND
    met = within and outcomes[shared].fake["refused_429"] == 0
    return line + f" target={'met' if met else 'missed'}"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox_dispatch", description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rows", type=positive, default=5000, help="reminders, limiter off")
    parser.add_argument("--limited-rows", type=positive, default=600, help="reminders, limiter on")
    parser.add_argument(
        "--per-chat", type=positive, default=3, help="reminders per client, last run"
    )
    parser.add_argument("--batch", type=positive, help="rows claimed at once (default: app's)")
    parser.add_argument(
        "--concurrency", type=positive, default=16, help="recipients sent to side by side"
    )
    parser.add_argument(
        "--only", choices=["off", "on", "per-chat"], help="just one of the three runs"
    )
    parser.add_argument(
        "--instances",
        type=positive,
        default=1,
        help="N > 1: N instances sharing the limits in Redis, beside one (the reference)",
    )
    args = parser.parse_args(argv)
    if args.per_chat > CATALOG_LIMIT:
        parser.error(f"--per-chat goes up to {CATALOG_LIMIT}")
    if args.limited_rows % args.per_chat:
        parser.error("--limited-rows must be a multiple of --per-chat")
    return args


def runs_of(args: argparse.Namespace) -> list[Run]:
    if args.instances > 1:
        clients, n = args.limited_rows, args.instances
        return [
            Run(limited=True, clients=clients, per_chat=1, instances=1, limiter="redis"),
            Run(limited=True, clients=clients, per_chat=1, instances=n, limiter="redis"),
            Run(limited=True, clients=clients, per_chat=1, instances=n, limiter="local"),
        ]
    runs = {
        "off": Run(limited=False, clients=args.rows, per_chat=1),
        "on": Run(limited=True, clients=args.limited_rows, per_chat=1),
        "per-chat": Run(
            limited=True, clients=args.limited_rows // args.per_chat, per_chat=args.per_chat
        ),
    }
    return [runs[args.only]] if args.only else list(runs.values())


async def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = [await bench_database(kind, runs_of(args), args) for kind in kinds]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
