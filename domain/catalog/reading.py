"""Reading a catalog file in a process of its own, for the bot.

Parsing, checking and expanding a big file is pure Python (YAML, pydantic) that holds the
GIL: in a worker thread it made every hop of the event loop wait for it, so clients' taps
waited hundreds of ms while staff imported. A separate process shares no GIL with the loop.
The process is started on first use (a spawn: a fresh interpreter that imports this package,
not aiogram; about a second, which `warm` can spend ahead of time) and then kept for the next
file; `close` at shutdown.

What comes back is handed over in small pieces. The executor unpickles a process's answer in
one call, holding the GIL throughout: a catalog of 10,000 sessions (30,000 objects: the
sessions, their starts, the starts bound for the driver) held it for 70-290 ms in one piece,
and every tap waited. So the reading process pickles the catalog without its sessions, and
each class's sessions in slices of `SLICE`; the executor then hands over a few bytes objects,
and a worker thread of this process unpickles the slices one by one, letting the GIL go
between them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from functools import partial
from zoneinfo import ZoneInfo

from domain.catalog.file import Catalog, CatalogInvalid, CatalogProblem, parse_catalog
from domain.catalog.importer import BoundStarts, bind_starts

SLICE = 500  # sessions a piece: unpickled in 1-3 ms, the GIL let go between pieces


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


@dataclass(frozen=True)
class Packed:
    """A `Read` in pieces (see the module's docstring): `outline` is the Read with every
    class's sessions and bound starts left out, `pieces` their slices in order, each
    (programme's index, class's index, pickled (sessions, starts, bound starts))."""

    outline: bytes
    pieces: list[tuple[int, int, bytes]]


def pack(read: Read) -> Packed:
    """Runs in the reading process."""
    catalog, bound = read.catalog, read.bound
    if catalog is None:
        return Packed(pickle.dumps(read, pickle.HIGHEST_PROTOCOL), [])
    pieces = []
    programmes = []
    for p_index, programme in enumerate(catalog.programmes):
        for c_index, spec in enumerate(programme.classes):
            starts, bound_starts = bound.by_class[programme.key, spec.key] if bound else ([], [])
            for first in range(0, max(len(spec.sessions), len(starts)), SLICE):
                part = slice(first, first + SLICE)
                piece = (spec.sessions[part], starts[part], bound_starts[part])
                pieces.append((p_index, c_index, pickle.dumps(piece, pickle.HIGHEST_PROTOCOL)))
        classes = tuple(replace(spec, sessions=()) for spec in programme.classes)
        programmes.append(replace(programme, classes=classes))
    outline = replace(
        read,
        catalog=replace(catalog, programmes=tuple(programmes)),
        bound=replace(bound, by_class={}) if bound is not None else None,
    )
    return Packed(pickle.dumps(outline, pickle.HIGHEST_PROTOCOL), pieces)


def unpack(packed: Packed) -> Read:
    """Runs in a worker thread of the bot's process: one small unpickling at a time."""
    outline = pickle.loads(packed.outline)
    if outline.catalog is None:
        return outline
    gathered: dict[tuple[int, int], tuple[list, list, list]] = {}
    for p_index, c_index, data in packed.pieces:
        sessions, starts, bound_starts = pickle.loads(data)
        into = gathered.setdefault((p_index, c_index), ([], [], []))
        into[0].extend(sessions)
        into[1].extend(starts)
        into[2].extend(bound_starts)
    programmes = []
    by_class = {}
    for p_index, programme in enumerate(outline.catalog.programmes):
        classes = []
        for c_index, spec in enumerate(programme.classes):
            sessions, starts, bound_starts = gathered.get((p_index, c_index), ([], [], []))
            classes.append(replace(spec, sessions=tuple(sessions)))
            by_class[programme.key, spec.key] = (starts, bound_starts)
        programmes.append(replace(programme, classes=tuple(classes)))
    bound = outline.bound
    return replace(
        outline,
        catalog=replace(outline.catalog, programmes=tuple(programmes)),
        bound=replace(bound, by_class=by_class) if bound is not None else None,
    )


def read_packed(
    text: str, *, tz: ZoneInfo, currency_digits: int, max_sessions: int, dialect: str | None
) -> Packed:
    """Runs in the reading process: `read`, in pieces."""
    return pack(
        read(
            text,
            tz=tz,
            currency_digits=currency_digits,
            max_sessions=max_sessions,
            dialect=dialect,
        )
    )


async def read_off_loop(
    text: str,
    *,
    tz: ZoneInfo,
    currency_digits: int,
    max_sessions: int,
    dialect: str | None = None,
) -> Read:
    call = partial(
        read_packed,
        text,
        tz=tz,
        currency_digits=currency_digits,
        max_sessions=max_sessions,
        dialect=dialect,
    )
    loop = asyncio.get_running_loop()
    try:
        packed = await loop.run_in_executor(_reader(), call)
    except BrokenProcessPool:
        # the process died (killed, out of memory): start a new one, and try once more
        close()
        packed = await loop.run_in_executor(_reader(), call)
    return await asyncio.to_thread(unpack, packed)


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
