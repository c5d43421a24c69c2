"""Engine and unit-of-work factory. Repositories and queries never commit; use cases do.

Outside domain/ (the bot, its runtime wiring) nothing speaks SQLAlchemy: it opens a
:data:`UnitOfWork` from the factory and hands it to use cases and read models, and asks this
module about the database itself (its URL, whether it answers, the error it fails with)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Select, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from domain.storage import sqlite_driver

# One transaction's worth of reads and writes, as a use case or a read model takes it. Code
# outside domain/ only opens it (``async with factory() as db``) and passes it on.
UnitOfWork = AsyncSession
SessionFactory = async_sessionmaker[UnitOfWork]
Engine = AsyncEngine
# what a database that refuses or can't be reached raises (the driver's error, wrapped; the
# driver's own is its ``orig``)
DatabaseError = DBAPIError

# the databases we run on, and the async driver each is reached with
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def async_url(value: str) -> str:
    """A database URL with the async driver of its database (plain postgresql:// or
    sqlite:/// work too); ValueError saying what is expected when it is none of ours."""
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError(
            "a URL such as sqlite+aiosqlite:///data/spotbook.db "
            "or postgresql+asyncpg://user:password@host/db"
        ) from None
    backend = url.get_backend_name()
    if backend not in ASYNC_DRIVERS:
        raise ValueError(f"SQLite or PostgreSQL, not {backend}")
    return url.set(drivername=ASYNC_DRIVERS[backend]).render_as_string(hide_password=False)


def shown_url(value: str | URL) -> str:
    """The URL as logs and error messages show it: without its password."""
    return make_url(value).render_as_string(hide_password=True)


async def ping(engine: Engine) -> None:
    """Raises (DatabaseError, OSError) unless the database answers a trivial query."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


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


async def lock_for_writing(db: AsyncSession, rows: Select) -> None:
    """Start a read-then-write unit of work by taking the lock its write needs, before it
    reads. On PostgreSQL the ``rows`` selected (SELECT ... FOR UPDATE): another unit of work
    locking them waits until this one ends. On SQLite the database's single writer lock, with
    ``BEGIN IMMEDIATE`` (waits, up to the busy timeout, for another writer to finish), unless
    this transaction holds it already (it wrote). pysqlite itself opens a transaction only at
    the first write: what was read before it is read outside any transaction, and another
    writer may change it before this one writes."""
    connection = await db.connection()
    if connection.dialect.name != "sqlite":
        await connection.execute(rows.with_for_update())
        return
    raw = await connection.get_raw_connection()
    if not raw.driver_connection.in_transaction:
        await connection.exec_driver_sql("BEGIN IMMEDIATE")


def _ensure_sqlite_folder(url: URL) -> None:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (every dialog click) go on while one writer books.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
