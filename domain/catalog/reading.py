"""Reading a catalog file in a process of its own, for the bot.

Parsing, checking and expanding a big file is pure Python (YAML, pydantic) that holds the
GIL: in a worker thread it made every hop of the event loop wait for it, so clients' taps
waited hundreds of ms while staff imported. A separate process shares no GIL with the loop.
The process is started on first use (a spawn: a fresh interpreter that imports this package,
not aiogram; about a second, which `warm` can spend ahead of time) and then kept for the next
file; `close` at shutdown.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from zoneinfo import ZoneInfo

from domain.catalog.file import Catalog, CatalogInvalid, CatalogProblem, parse_catalog
from domain.catalog.importer import BoundStarts, bind_starts


@dataclass(frozen=True)
class Read:
    """What the reading process sends back: the catalog, or the file's problems."""

    catalog: Catalog | None
    problems: list[CatalogProblem]
    bound: BoundStarts | None  # when asked for a dialect
    pid: int  # the process that read the file


def read(
    text: str, *, tz: ZoneInfo, currency_digits: int, max_sessions: int, dialect: str | None
) -> Read:
    """Runs in the reading process: the problems come back as a value, not an exception.
    With `dialect` ("name+driver"), the sessions' starts come bound for its driver too."""
    try:
        catalog = parse_catalog(
            text, tz=tz, currency_digits=currency_digits, max_sessions=max_sessions
        )
    except CatalogInvalid as invalid:
        return Read(catalog=None, problems=invalid.problems, bound=None, pid=os.getpid())
    bound = bind_starts(catalog, dialect) if dialect is not None else None
    return Read(catalog=catalog, problems=[], bound=bound, pid=os.getpid())


async def read_off_loop(
    text: str,
    *,
    tz: ZoneInfo,
    currency_digits: int,
    max_sessions: int,
    dialect: str | None = None,
) -> Read:
    call = partial(
        read,
        text,
        tz=tz,
        currency_digits=currency_digits,
        max_sessions=max_sessions,
        dialect=dialect,
    )
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_reader(), call)
    except BrokenProcessPool:
        # the process died (killed, out of memory): start a new one, and try once more
        close()
        return await loop.run_in_executor(_reader(), call)


def warm() -> None:
    """Start the reading process now, without waiting for it: the next file is read at once."""
    _reader().submit(_ready)


def close() -> None:
    """Stop the reading process (a file being read is finished first, without waiting)."""
    global _executor
    with _lock:
        executor, _executor = _executor, None
    if executor is not None:
        executor.shutdown(wait=False, cancel_futures=True)


_executor: ProcessPoolExecutor | None = None
_lock = threading.Lock()


def _reader() -> ProcessPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            # spawn: a fork would copy the bot's threads and open connections
            context = multiprocessing.get_context("spawn")
            _executor = ProcessPoolExecutor(max_workers=1, mp_context=context)
        return _executor


def _ready() -> None:
    """Nothing to do: unpickling this function imported the reading modules."""
