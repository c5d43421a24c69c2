"""Test databases: a SQLite file, or a throwaway schema on the machine's PostgreSQL."""

from __future__ import annotations

import asyncio
import atexit
import os
import queue
import shutil
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.storage.db import create_engine
from domain.storage.migrate import upgrade_to_head

POSTGRES_URL = os.environ.get(
    "SPOTBOOK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def postgres_unreachable(reason: str) -> None:
    """Under CI a missing PostgreSQL is a failure; on a laptop without one, a visible skip."""
    message = f"PostgreSQL at {POSTGRES_URL} is unreachable: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


_sqlite_template: Path | None = None


async def _copy_of_migrated_sqlite(target: Path) -> None:
    """A file with the schema the migrations build: they run once per test process into a
    template, which each test gets a copy of (~0.4 s of migrations saved per test; the
    migration tests compare that schema with the models and go down and up on the copy)."""
    global _sqlite_template
    if _sqlite_template is None:
        folder = Path(tempfile.mkdtemp(prefix="spotbook-schema-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        engine = create_engine(f"sqlite+aiosqlite:///{folder}/template.db")
        try:
            await upgrade_to_head(engine)
        finally:
            await engine.dispose()
        leftovers = [n for n in await asyncio.to_thread(os.listdir, folder) if n != "template.db"]
        assert not leftovers, f"the template database left {leftovers} beside it"
        _sqlite_template = folder / "template.db"
    await asyncio.to_thread(shutil.copyfile, _sqlite_template, target)


@dataclass(frozen=True)
class Statement:
    """One statement the migrations sent to PostgreSQL, as the driver got it."""

    sql: str
    parameters: Any
    many: bool


# What the migrations sent the first time they ran in this process (into a real schema).
_postgres_migrations: list[Statement] | None = None


async def migrate_postgres_recording(engine: AsyncEngine, schema: str) -> list[Statement]:
    """Runs the migrations for real into ``schema`` (``engine``'s search_path) and returns
    every statement they sent, in order."""
    statements: list[Statement] = []

    def record(_connection, _cursor, sql, parameters, _context, many) -> None:
        statements.append(Statement(sql, parameters, many))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await upgrade_to_head(engine)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    named = [s.sql for s in statements if schema in s.sql]
    assert not named, f"a migration named its schema, a replay would reach into it: {named}"
    return statements


async def replay(raw: Any, schema: str, statements: list[Statement]) -> None:
    """Sends ``statements`` (the migrations' own, in their order) into ``schema`` with the
    search_path they ran with: the same DDL and alembic_version writes, hence the same
    schema (tests/storage/test_postgres_schema_copies.py compares them), without Alembic and
    without a round trip per statement. Runs of statements without parameters (nearly all) go
    as one script; the others (Alembic's catalog look-ups) one at a time. ``raw`` is the
    driver's (asyncpg's) connection, in a transaction."""
    script = [f'SET LOCAL search_path TO "{schema}"']
    for statement in statements:
        if not statement.parameters:
            script.append(statement.sql)
            continue
        if script:
            await raw.execute(";\n".join(script))
            script = []
        if statement.many:
            await raw.executemany(statement.sql, statement.parameters)
        else:
            await raw.execute(statement.sql, *statement.parameters)
    if script:
        await raw.execute(";\n".join(script))


@asynccontextmanager
async def postgres_schema(*, migrate: bool = True) -> AsyncIterator[str]:
    """A new schema ``test_<random>``, dropped at the end; with ``migrate`` it holds what the
    migrations build (replayed, see ``replay``), else it is empty."""
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL)
    try:
        connection = await admin.connect()
    except Exception as error:  # refused, unknown host, auth: asyncpg and OSError alike
        await admin.dispose()
        postgres_unreachable(f"{type(error).__name__}: {error}")
    try:
        async with connection.begin():
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            if migrate and _postgres_migrations is not None:
                raw = (await connection.get_raw_connection()).driver_connection
                await replay(raw, schema, _postgres_migrations)
    except BaseException:
        await connection.close()
        await admin.dispose()
        raise
    try:
        if migrate and _postgres_migrations is None:
            await _first_migration(schema)
        yield schema
    finally:
        async with connection.begin():
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await connection.close()
        await admin.dispose()


async def _first_migration(schema: str) -> None:
    global _postgres_migrations
    engine = create_engine(POSTGRES_URL, server_settings={"search_path": schema})
    try:
        _postgres_migrations = await migrate_postgres_recording(engine, schema)
    finally:
        await engine.dispose()


class _Builder:
    """Builds the next test schema in a thread of its own while a test runs, and drops the
    schemas tests are done with there: a test waits neither for the replay nor for the drop
    (each a tenth of a second of PostgreSQL's work, several on a busy machine). One schema is
    built ahead. At the end of the process the thread drops what is left: the schema built
    ahead, drops not yet done."""

    def __init__(self, statements: list[Statement]) -> None:
        self._statements = statements
        self._requests: queue.Queue[tuple[str, str]] = queue.Queue()
        self._built: queue.Queue[str | BaseException] = queue.Queue()
        self._failed_drops: list[str] = []
        self._requests.put(("build", ""))
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._work(),), name="test-schemas", daemon=True
        )
        self._thread.start()
        atexit.register(self.close)

    async def take(self) -> str:
        if self._failed_drops:
            raise AssertionError(f"dropping test schemas failed: {self._failed_drops}")
        self._requests.put(("build", ""))  # the one after this
        built = await asyncio.to_thread(self._built.get)
        if isinstance(built, BaseException):
            raise built
        return built

    def done(self, schema: str) -> None:
        self._requests.put(("drop", schema))

    def close(self) -> None:
        self._requests.put(("stop", ""))
        self._thread.join(timeout=120)

    async def _work(self) -> None:
        engine = create_engine(POSTGRES_URL)
        try:
            while (request := self._requests.get()) != ("stop", ""):
                match request:
                    case ("build", _):
                        try:
                            self._built.put(await self._build(engine))
                        except BaseException as error:
                            self._built.put(error)
                    case ("drop", schema):
                        try:
                            await _drop(engine, schema)
                        except Exception as error:
                            self._failed_drops.append(f"{schema}: {error}")
            while not self._built.empty():
                if isinstance(schema := self._built.get_nowait(), str):
                    await _drop(engine, schema)
        finally:
            await engine.dispose()

    async def _build(self, engine: AsyncEngine) -> str:
        schema = f"test_{uuid.uuid4().hex[:16]}"
        async with engine.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            raw = (await connection.get_raw_connection()).driver_connection
            await replay(raw, schema, self._statements)
        return schema


async def _drop(engine: AsyncEngine, schema: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


_builder: _Builder | None = None


@asynccontextmanager
async def _built_schema() -> AsyncIterator[str]:
    """A schema with what the migrations build, dropped after use: the first of the process
    migrated for real (recording), the others replays made ahead by ``_Builder``."""
    global _builder
    if _builder is None:
        async with postgres_schema() as schema:
            if _builder is None and _postgres_migrations is not None:
                _builder = _Builder(_postgres_migrations)
            yield schema
        return
    schema = await _builder.take()
    try:
        yield schema
    finally:
        _builder.done(schema)


@asynccontextmanager
async def migrated_engine(
    kind: str, tmp_path: Path, *, from_scratch: bool = False
) -> AsyncIterator[AsyncEngine]:
    """An engine on a new database with the newest schema. The migrations run once per test
    process; each test gets a copy of what they built (SQLite: the file; PostgreSQL: their
    statements replayed into a new schema). ``from_scratch`` runs them for this test."""
    if kind == "sqlite":
        path = tmp_path / "spotbook.db"
        if not from_scratch:
            await _copy_of_migrated_sqlite(path)
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            if from_scratch:
                await upgrade_to_head(engine)
            yield engine
        finally:
            await engine.dispose()
        return
    schemas = postgres_schema(migrate=False) if from_scratch else _built_schema()
    async with schemas as schema:
        engine = create_engine(POSTGRES_URL, server_settings={"search_path": schema})
        try:
            if from_scratch:
                await upgrade_to_head(engine)
            yield engine
        finally:
            await engine.dispose()
