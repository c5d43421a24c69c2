"""Many clients tap Book on the same session at once: how long until all of them have an answer?

    python -m bench.booking_contention [--attempts 500] [--places 10] [--rounds 3]
                                       [--db sqlite|postgresql|both]
                                       [--pool-size N] [--max-overflow M]

Each database starts fresh (a SQLite file in a temp folder; a throwaway PostgreSQL schema), is
migrated and given a catalog with one future session per round. Each round fires `--attempts`
concurrent `book_or_wait` calls from distinct clients at one session, times them, and checks the
outcome: exactly `--places` booked, the rest waiting in arrival order. A wrong outcome exits 1.
It also counts the SQL statements each tap sends (the median for a tap that booked and for one
that was queued, and the most any queued tap took: the taps that lost a race and went round again).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from domain.booking.bookings import Booked, Waitlisted, book_or_wait
from domain.booking.status import BookingStatus, WaitStatus
from domain.catalog.file import parse_catalog
from domain.catalog.importer import import_catalog
from domain.clients.record import ClientRef
from domain.storage.db import SessionFactory, create_engine, session_factory
from domain.storage.migrate import upgrade_to_head
from domain.storage.models import Booking, ClassSession, WaitlistEntry

POSTGRES_URL = os.environ.get(
    "SPOTBOOK_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
DEFAULT_POOL = (5, 10)  # SQLAlchemy's pool_size / max_overflow, what the app runs with
CATALOG_LIMIT = 1000  # the most places per class and sessions per file a catalog may hold
Outcome = Booked | Waitlisted | BaseException


class WrongResult(Exception):
    """The run finished, but not with the outcome the booking rules promise."""


class Unreachable(Exception):
    """No PostgreSQL to measure against."""


@dataclass(frozen=True)
class Round:
    seconds: float
    booked: int
    waitlisted: int
    booked_statements: list[int]  # per tap that booked
    waitlisted_statements: list[int]  # per tap that was queued


# The statements of the tap running in this task (each tap of a round is a task of its own, and
# SQLAlchemy carries the context into the greenlet where it sends them).
_TAP_STATEMENTS: ContextVar[list[int] | None] = ContextVar("tap_statements", default=None)


def count_statements(engine: AsyncEngine) -> None:
    def counted(*_args) -> None:
        tally = _TAP_STATEMENTS.get()
        if tally is not None:
            tally[0] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", counted)


# --- setting up -----------------------------------------------------------------------------


def catalog_text(places: int, days: Sequence[date]) -> str:
    sessions = ", ".join(f"{day.isoformat()} 18:00" for day in days)
    return f"""
programmes:
  - key: bench
    title: Benchmark
    classes:
      - key: crowded
        title: Crowded class
        capacity: {places}
        waiting_list: true
        sessions: [{sessions}]
"""


async def load_sessions(
    factory: SessionFactory, places: int, rounds: int, now: datetime
) -> list[int]:
    """One session per round, all a month or more ahead of `now`; ids in date order."""
    first = now.date() + timedelta(days=30)
    days = [first + timedelta(days=n) for n in range(rounds)]
    catalog = parse_catalog(catalog_text(places, days), tz=ZoneInfo("UTC"), currency_digits=2)
    async with factory() as db:
        await import_catalog(db, catalog)
        return list(await db.scalars(select(ClassSession.id).order_by(ClassSession.starts_at)))


@asynccontextmanager
async def sqlite_engine() -> AsyncIterator[AsyncEngine]:
    with tempfile.TemporaryDirectory(prefix="spotbook-bench-") as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        try:
            yield engine
        finally:
            await engine.dispose()


@asynccontextmanager
async def postgres_engine(pool: tuple[int, int]) -> AsyncIterator[AsyncEngine]:
    """A throwaway schema `bench_<random>`, reached through search_path, dropped at the end."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, timeout=5)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # refused, unknown host, auth: asyncpg and OSError alike
        await admin.dispose()
        raise Unreachable(f"{type(error).__name__}: {error}") from error
    settings = {"search_path": schema}
    if pool == DEFAULT_POOL:
        engine = create_engine(POSTGRES_URL, server_settings=settings)
    else:  # as domain.storage.db.create_engine, which has no way to size the pool
        engine = create_async_engine(
            POSTGRES_URL,
            pool_pre_ping=True,
            pool_size=pool[0],
            max_overflow=pool[1],
            connect_args={"server_settings": settings},
        )
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


# --- one round ------------------------------------------------------------------------------


async def attempt(
    factory: SessionFactory,
    client: ClientRef,
    session_id: int,
    now: datetime,
    statements: dict[int, int],
) -> Booked | Waitlisted:
    """One client's Book tap, in its own unit of work, as the bot handles it."""
    tally = [0]
    _TAP_STATEMENTS.set(tally)
    try:
        async with factory() as db:
            return await book_or_wait(db, client=client, session_id=session_id, now=now)
    finally:
        statements[client.id] = tally[0]


async def run_round(
    factory: SessionFactory, session_id: int, clients: list[ClientRef], base: datetime
) -> tuple[float, list[Outcome], dict[int, int]]:
    """All clients at once; client n arrives n milliseconds after the first."""
    statements: dict[int, int] = {}
    started = time.perf_counter()
    outcomes = await asyncio.gather(
        *(
            attempt(factory, client, session_id, base + timedelta(milliseconds=n), statements)
            for n, client in enumerate(clients)
        ),
        return_exceptions=True,
    )
    return time.perf_counter() - started, outcomes, statements


async def verify(
    factory: SessionFactory,
    session_id: int,
    clients: list[ClientRef],
    outcomes: list[Outcome],
    places: int,
) -> None:
    failures = [o for o in outcomes if not isinstance(o, Booked | Waitlisted)]
    if failures:
        raise WrongResult(f"{len(failures)} attempts failed, first: {failures[0]!r}")
    won = {c.id for c, o in zip(clients, outcomes, strict=True) if isinstance(o, Booked)}
    expected = min(places, len(clients))
    check(len(won) == expected, f"{len(won)} booked, expected {expected}")
    async with factory() as db:
        session = await db.get(ClassSession, session_id)
        taken = session.seats_taken if session else None
        check(taken == expected, f"seats_taken={taken}, expected {expected}")
        booked = set(
            await db.scalars(
                select(Booking.client_id).where(
                    Booking.session_id == session_id, Booking.status == BookingStatus.ACTIVE
                )
            )
        )
        queue = list(
            await db.scalars(
                select(WaitlistEntry.client_id)
                .where(
                    WaitlistEntry.session_id == session_id,
                    WaitlistEntry.status == WaitStatus.WAITING,
                )
                .order_by(WaitlistEntry.requested_at, WaitlistEntry.id)
            )
        )
    check(booked == won, "the bookings stored differ from the clients told Booked")
    arrival_order = [c.id for c in clients if c.id not in won]
    check(queue == arrival_order, "the waiting list is not the other clients in arrival order")


def check(condition: bool, problem: str) -> None:
    if not condition:
        raise WrongResult(problem)


# --- one database ---------------------------------------------------------------------------


async def bench(engine: AsyncEngine, args: argparse.Namespace) -> list[Round]:
    await upgrade_to_head(engine)
    count_statements(engine)
    factory = session_factory(engine)
    base = datetime.now(UTC)
    sessions = await load_sessions(factory, args.places, args.rounds, base)
    rounds = []
    for number, session_id in enumerate(sessions):
        # fresh clients each round, so every round does the same work (first-time clients)
        clients = [
            ClientRef(id=number * args.attempts + n + 1, first_name=f"C{n}")
            for n in range(args.attempts)
        ]
        seconds, outcomes, statements = await run_round(factory, session_id, clients, base)
        await verify(factory, session_id, clients, outcomes, args.places)
        by_outcome: dict[type, list[int]] = {Booked: [], Waitlisted: []}
        for client, outcome in zip(clients, outcomes, strict=True):
            by_outcome[type(outcome)].append(statements[client.id])
        rounds.append(
            Round(
                seconds,
                booked=len(by_outcome[Booked]),
                waitlisted=len(by_outcome[Waitlisted]),
                booked_statements=by_outcome[Booked],
                waitlisted_statements=by_outcome[Waitlisted],
            )
        )
    return rounds


async def bench_database(kind: str, args: argparse.Namespace) -> bool:
    """Print the database's line; False if a round came out wrong."""
    pool = DEFAULT_POOL if kind == "sqlite" else args.pool
    head = f"booking_contention db={kind} attempts={args.attempts} places={args.places}"
    engine = sqlite_engine() if kind == "sqlite" else postgres_engine(pool)
    try:
        async with engine as ready:
            rounds = await bench(ready, args)
    except Unreachable as error:
        print(f'{head} skipped reason="{error}"', flush=True)
        return True
    except WrongResult as error:
        print(f'{head} FAILED reason="{error}"', flush=True)
        return False
    median = statistics.median(r.seconds for r in rounds)
    last = rounds[-1]
    booked_statements = [n for r in rounds for n in r.booked_statements]
    waitlisted_statements = [n for r in rounds for n in r.waitlisted_statements] or [0]
    print(
        f"{head} rounds={len(rounds)} pool={pool[0]}+{pool[1]}"
        f" median_seconds={median:.3f} min_seconds={min(r.seconds for r in rounds):.3f}"
        f" max_seconds={max(r.seconds for r in rounds):.3f}"
        f" requests_per_second={args.attempts / median:.1f}"
        f" booked={last.booked} waitlisted={last.waitlisted}"
        f" statements_per_booked_tap={statistics.median(booked_statements):g}"
        f" statements_per_waitlisted_tap={statistics.median(waitlisted_statements):g}"
        f" statements_per_waitlisted_tap_max={max(waitlisted_statements)}",
        flush=True,
    )
    return True


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.booking_contention", description=__doc__)
    parser.add_argument("--attempts", type=positive, default=500, help="concurrent requests")
    parser.add_argument("--places", type=positive, default=10, help="class capacity")
    parser.add_argument("--rounds", type=positive, default=3, help="repeats; the median counts")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--pool-size", type=positive, help="PostgreSQL pool_size (default: SQLAlchemy's 5)"
    )
    parser.add_argument(
        "--max-overflow",
        type=int,
        default=DEFAULT_POOL[1],
        help="PostgreSQL max_overflow (default: SQLAlchemy's 10)",
    )
    args = parser.parse_args(argv)
    if args.places > CATALOG_LIMIT or args.rounds > CATALOG_LIMIT:
        parser.error(f"--places and --rounds go up to {CATALOG_LIMIT} (catalog limits)")
    args.pool = (args.pool_size or DEFAULT_POOL[0], args.max_overflow)
    return args


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return number


async def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = [await bench_database(kind, args) for kind in kinds]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
