"""End-to-end fixtures: the fake Bot API server, a database file, a catalog for the coming days."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import import_catalog_file
from bot.config import load_settings
from tests.e2e.fake_telegram import FakeTelegram

ZONE = ZoneInfo("Europe/Prague")


@pytest.fixture
async def fake():
    async with FakeTelegram() as server:
        yield server
    assert server.unknown_calls == [], (
        f"the bot called methods the fake lacks: {server.unknown_calls}"
    )
    assert server.errors == [], "\n".join(server.errors)


@pytest.fixture
def bot_env(tmp_path) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path}/e2e.db",
        "TZ": "Europe/Prague",
        "DEFAULT_LOCALE": "en",
        "CURRENCY": "EUR",
    }


class Database:
    """Read (and, for stale-button tests, damage) the bot's SQLite file from the outside."""

    def __init__(self, url: str) -> None:
        self.path = Path(url.removeprefix("sqlite:///"))

    def query(self, sql: str, *args) -> list[tuple]:
        with sqlite3.connect(self.path) as connection:
            return connection.execute(sql, args).fetchall()

    def execute(self, sql: str, *args) -> None:
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
