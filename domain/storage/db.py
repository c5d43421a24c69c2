"""Engine and unit-of-work factory. Repositories and queries never commit; use cases do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from domain.storage import sqlite_driver

SessionFactory = async_sessionmaker[AsyncSession]


def create_engine(url: str | URL, **connect_args: Any) -> AsyncEngine:
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        _ensure_sqlite_folder(url)
        args, kwargs = url.get_dialect()().create_connect_args(url)
        kwargs = {**kwargs, "timeout": 30, **connect_args}
        engine = create_async_engine(
            url, async_creator=lambda: sqlite_driver.connect(*args, **kwargs)
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True, connect_args=connect_args)


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def rolled_back_unless_committed(db: AsyncSession) -> AsyncIterator[AsyncSession]:
    """A unit of work within the session: whatever it wrote and did not commit is rolled back
    as it ends, by an error or not, so the session is clean for what comes next."""
    try:
        yield db
    finally:
        if db.in_transaction():
            await db.rollback()


def _ensure_sqlite_folder(url: URL) -> None:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (every dialog click) go on while one writer books.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
