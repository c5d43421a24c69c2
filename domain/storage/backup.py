"""A consistent copy of the SQLite database while the bot runs: SQLite's online backup API.

The copy is one read transaction: under WAL (which the bot's connections turn on) the bot's
writers go on meanwhile, and the copy holds the database as it was when the copy began. It is
written to a temporary file beside the target and linked into place only when whole, so a copy
cut short never carries the target's name. An existing target is never replaced: a backup that
silently overwrote the previous one (or, given the wrong argument, the database itself) would
lose exactly what backups are for. PostgreSQL is backed up with pg_dump (docs/deploy.md)."""

from __future__ import annotations

import os
import sqlite3
import uuid
from contextlib import closing
from enum import Enum
from pathlib import Path

from sqlalchemy.engine import make_url


class Refusal(Enum):
    POSTGRESQL = "postgresql"  # use pg_dump
    IN_MEMORY = "in_memory"  # the URL names no file
    NO_SOURCE = "no_source"  # no database file at the URL's path
    TARGET_EXISTS = "target_exists"


class BackupRefused(Exception):
    def __init__(self, refusal: Refusal, path: Path | None = None) -> None:
        super().__init__(refusal.value, path)
        self.refusal = refusal
        self.path = path


def sqlite_file(database_url: str) -> Path:
    """The database file a SQLite URL names; BackupRefused for PostgreSQL or an in-memory one."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupRefused(Refusal.POSTGRESQL)
    if url.database in (None, "", ":memory:"):
        raise BackupRefused(Refusal.IN_MEMORY)
    return Path(url.database)


def back_up(database_url: str, target: Path) -> Path:
    """Copies the database DATABASE_URL names to `target` (its folders made as needed) and
    returns the source file. Raises BackupRefused, sqlite3.Error or OSError."""
    source = sqlite_file(database_url)
    if not source.is_file():
        raise BackupRefused(Refusal.NO_SOURCE, source)
    if target.exists() or target.is_symlink():
        raise BackupRefused(Refusal.TARGET_EXISTS, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
    try:
        # read-only, so a wrong path is never created as an empty database
        reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        with closing(reader), closing(sqlite3.connect(partial)) as copy:
            reader.backup(copy)  # all pages in one step: one snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        _link_unless_taken(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return source


def _link_unless_taken(partial: Path, target: Path) -> None:
    # a hard link fails on an existing name, where a rename would replace it: a target made
    # while the copy ran is kept too
    try:
        os.link(partial, target)
    except FileExistsError:
        raise BackupRefused(Refusal.TARGET_EXISTS, target) from None
    except OSError:  # a filesystem without hard links: check, then rename
        if target.exists():
            raise BackupRefused(Refusal.TARGET_EXISTS, target) from None
        partial.rename(target)
