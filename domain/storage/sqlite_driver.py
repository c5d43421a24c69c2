"""aiosqlite with one thread hop per statement instead of four.

SQLAlchemy's aiosqlite adapter awaits aiosqlite once to open a cursor, once to execute, once to
fetch the rows and once to close the cursor; each await is a round trip to the connection's
worker thread and back through the event loop (about 0.1 ms each, most of a dialog click's
database time on SQLite). `connect` hands SQLAlchemy (through `async_creator`) an aiosqlite
connection whose cursors run execute, fetch and close as one function on the worker thread,
so a statement costs one round trip, and a commit or rollback with no transaction open costs
none. Everything else (commit, rollback, close, the worker
thread itself) is aiosqlite's own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite


async def connect(database: str, **kwargs: Any) -> _Connection:
    connection = aiosqlite.connect(database, **kwargs)
    connection._thread.daemon = True  # as SQLAlchemy's own adapter does
    return _Connection(await connection)


class _Connection:
    """An aiosqlite connection whose `cursor()` is `_Cursor`; the rest is delegated."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._aiosqlite = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._aiosqlite, name)

    def cursor(self) -> _Cursor:
        return _Cursor(self._aiosqlite)

    # A session that only read never opened a transaction (sqlite3 opens one at the first
    # write), and the pool rolls back every connection it takes back: with nothing to end,
    # ending it needs no trip to the worker thread. The worker is idle here (SQLAlchemy
    # awaits each call on a connection in turn), so reading the flag from this thread is safe.

    async def commit(self) -> None:
        if self._aiosqlite._conn.in_transaction:
            await self._aiosqlite.commit()

    async def rollback(self) -> None:
        if self._aiosqlite._conn.in_transaction:
            await self._aiosqlite.rollback()


class _Cursor:
    """The part of aiosqlite's cursor SQLAlchemy uses, with rows fetched beside the execute."""

    arraysize = 1

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self.description: Sequence[Any] | None = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        return None

    async def execute(self, sql: str, parameters: Any = ()) -> _Cursor:
        outcome = await self._connection._execute(_run, self._connection._conn, sql, parameters)
        self.description, self._rows, self.rowcount, self.lastrowid = outcome
        return self

    async def executemany(self, sql: str, parameters: Any) -> _Cursor:
        outcome = await self._connection._execute(
            _run, self._connection._conn, sql, parameters, many=True
        )
        self.description, self._rows, self.rowcount, self.lastrowid = outcome
        return self

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = size or self.arraysize
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def close(self) -> None:
        self._rows = []


def _run(connection: sqlite3.Connection, sql: str, parameters: Any, many: bool = False):
    """On the worker thread: the statement, its rows and its counts, cursor closed."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()
