"""Test databases: a SQLite file, or a throwaway schema on the machine's PostgreSQL."""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
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


@asynccontextmanager
async def migrated_engine(kind: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if kind == "sqlite":
        await _copy_of_migrated_sqlite(tmp_path / "spotbook.db")
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/spotbook.db")
        try:
            yield engine
        finally:
            await engine.dispose()
        return
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # refused, unknown host, auth: asyncpg and OSError alike
        await admin.dispose()
        postgres_unreachable(f"{type(error).__name__}: {error}")
    engine = create_engine(POSTGRES_URL, server_settings={"search_path": schema})
    try:
        await upgrade_to_head(engine)
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
