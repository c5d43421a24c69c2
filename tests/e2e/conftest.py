"""End-to-end fixtures: the fake Bot API server, a database file, a catalog for the coming days."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.runtime.cli import import_catalog_file
from bot.runtime.config import load_settings
from tests.fake_telegram import FakeTelegram
from tests.support.services import postgres_database

ZONE = ZoneInfo("Europe/Prague")


@pytest.fixture
async def fake():
    async with FakeTelegram() as server:
        yield server
    assert server.unknown_calls == [], (
        f"the bot called methods the fake lacks: {server.unknown_calls}"
    )
    assert server.errors == [], "\n".join(server.errors)


@pytest.fixture(params=["sqlite", "postgresql"])
async def bot_env(request, tmp_path) -> AsyncIterator[dict[str, str]]:
    """The bot's environment, on each database: a SQLite file, or a PostgreSQL database of
    its own (dropped afterwards)."""
    env = {"TZ": "Europe/Prague", "DEFAULT_LOCALE": "en", "CURRENCY": "EUR"}
    if request.param == "sqlite":
        yield {"DATABASE_URL": f"sqlite:///{tmp_path}/e2e.db", **env}
        return
    async with postgres_database() as url:
        yield {"DATABASE_URL": url, **env}


def async_url(env: dict[str, str]) -> str:
    """The bot's DATABASE_URL with the async driver, for a test's own engine."""
    url = env["DATABASE_URL"]
    if url.startswith("sqlite://"):
        return url.replace("sqlite://", "sqlite+aiosqlite://", 1)
    return url


class Database:
    """Read (and, for stale-button tests, damage) the bot's database from the outside, with
    SQLite's ``?`` placeholders on either database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = not url.startswith("sqlite")
        self.path = None if self.postgres else Path(url.removeprefix("sqlite:///"))

    def moment(self, value: datetime) -> datetime | str:
        """A moment as this database holds it (to write it, or compare what a query read):
        naive UTC text on SQLite, an aware datetime on PostgreSQL."""
        utc = value.astimezone(UTC)
        return utc if self.postgres else utc.strftime("%Y-%m-%d %H:%M:%S.%f")

    def query(self, sql: str, *args) -> list[tuple]:
        if self.postgres:
            return _on_postgres(self.url, sql, args, fetch=True)
        with sqlite3.connect(self.path) as connection:
            return connection.execute(sql, args).fetchall()

    def execute(self, sql: str, *args) -> None:
        if self.postgres:
            _on_postgres(self.url, sql, args, fetch=False)
            return
        with sqlite3.connect(self.path) as connection:
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute(sql, args)

    async def wait_for(self, sql: str, expected: list[tuple], *args, within: float = 10) -> None:
        """Until the query returns ``expected`` (the bot works in the background: the outbox
        dispatcher marks rows after Telegram answered); fails with the last result."""
        deadline = asyncio.get_running_loop().time() + within
        while (rows := self.query(sql, *args)) != expected:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{sql!r} gave {rows!r}, not {expected!r}, in {within}s")
            await asyncio.sleep(0.05)


@pytest.fixture
def database(bot_env) -> Database:
    return Database(bot_env["DATABASE_URL"])


def _on_postgres(url: str, sql: str, args: tuple, *, fetch: bool) -> list[tuple]:
    """One statement on its own connection, from a thread of its own (the tests call this
    synchronously, from inside their event loop)."""
    numbered = iter(range(1, sql.count("?") + 1))
    statement = re.sub(r"\?", lambda _m: f"${next(numbered)}", sql)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def run() -> list[tuple]:
        connection = await asyncpg.connect(dsn)
        try:
            if fetch:
                return [tuple(row) for row in await connection.fetch(statement, *args)]
            await connection.execute(statement, *args)
            return []
        finally:
            await connection.close()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, run()).result()


async def import_text(path: Path, text: str, env: dict[str, str]) -> str:
    """Write a catalog file and load it with the staff command's own code, as `python -m bot
    import-catalog FILE` would with ``env``; returns what it printed. In this process rather
    than a new one: starting an interpreter with aiogram costs ~5 s of CPU, for each of dozens
    of tests (tests/e2e/test_import_command.py runs the command itself as a process)."""
    await asyncio.to_thread(path.write_text, text, encoding="utf-8")
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        settings = load_settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    printed, problems = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(problems):
        code = await import_catalog_file(settings, str(path))
    assert code == 0, problems.getvalue()
    return printed.getvalue()


def soon(days: int) -> date:
    return datetime.now(ZONE).date() + timedelta(days=days)


@pytest.fixture
async def catalog(tmp_path, bot_env) -> Path:
    """A studio with sessions in the coming days, imported with the staff command."""
    path = tmp_path / "studio.yaml"
    await import_text(
        path,
        f"""
programmes:
  - key: yoga
    title: Yoga
    description: Hatha yoga for every level.
    classes:
      - key: evening
        title: Evening flow
        capacity: 3
        duration: 75
        price: 12.5
        sessions: ["{soon(3)} 18:00", "{soon(5)} 18:00"]
  - key: pottery
    title: Pottery <for beginners>
    classes:
      - key: wheel
        title: Wheel & clay
        capacity: 1
        sessions: ["{soon(4)} 10:00"]
      - key: hand
        title: Hand building
        capacity: 4
        sessions: ["{soon(6)} 10:00"]
""",
        bot_env,
    )
    return path
