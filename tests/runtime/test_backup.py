"""`python -m bot backup PATH`: a consistent copy of SQLite while it is written; PostgreSQL and
bad paths refused plainly."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def database(tmp_path, monkeypatch) -> Path:
    db_file = tmp_path / "data" / "spotbook.db"
    db_file.parent.mkdir()
    with sqlite3.connect(db_file) as connection:
        connection.execute("PRAGMA journal_mode=WAL")  # as the bot's connections set it
        connection.execute("CREATE TABLE bookings (id INTEGER PRIMARY KEY, note TEXT)")
        connection.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, booking_id INTEGER)")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db_file}")
    monkeypatch.setenv("DEFAULT_LOCALE", "en")
    return db_file


def counts(db_file: Path) -> tuple[int, int]:
    with sqlite3.connect(db_file) as connection:
        return (
            connection.execute("SELECT count(*) FROM bookings").fetchone()[0],
            connection.execute("SELECT count(*) FROM outbox").fetchone()[0],
        )


def integrity(db_file: Path) -> str:
    with sqlite3.connect(db_file) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def write_pairs_until(db_file: Path, stop: threading.Event, written: list[int]) -> None:
    """Books in a loop: each transaction a booking and its outbox row, as the bot writes them."""
    connection = sqlite3.connect(db_file, timeout=30)
    try:
        while not stop.is_set():
            with connection:
                booking = connection.execute(
                    "INSERT INTO bookings (note) VALUES (?)", ("x" * 200,)
                ).lastrowid
                connection.execute("INSERT INTO outbox (booking_id) VALUES (?)", (booking,))
            written.append(booking)
    finally:
        connection.close()


def test_a_copy_taken_while_rows_are_written_is_whole_and_consistent(database, tmp_path, capsys):
    stop, written = threading.Event(), []
    writer = threading.Thread(target=write_pairs_until, args=(database, stop, written))
    writer.start()
    try:
        while len(written) < 2000:  # a database of some pages before the copy starts
            threading.Event().wait(0.01)
        before = len(written)
        target = tmp_path / "backups" / "monday" / "spotbook.db"

        assert main(["backup", str(target)]) == 0

    finally:
        stop.set()
        writer.join()

    assert "Backed up" in capsys.readouterr().out
    assert integrity(target) == "ok"
    bookings, outbox = counts(target)
    assert bookings == outbox  # no transaction is half in the copy
    assert before <= bookings <= len(written)
    assert counts(database) == (len(written), len(written))
    assert not list(target.parent.glob("*.partial"))


def test_postgresql_is_refused_with_the_pg_dump_hint(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    target = tmp_path / "spotbook.db"

    assert main(["backup", str(target)]) != 0

    assert "pg_dump" in capsys.readouterr().err
    assert not target.exists()


def test_a_missing_database_is_refused_and_not_created(tmp_path, monkeypatch, capsys):
    missing = tmp_path / "nothing-here.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{missing}")

    assert main(["backup", str(tmp_path / "copy.db")]) == 1

    assert f"There is no database at {missing}" in capsys.readouterr().err
    assert not missing.exists()
    assert not (tmp_path / "copy.db").exists()


def test_an_existing_file_is_never_overwritten(database, tmp_path, capsys):
    target = tmp_path / "yesterday.db"
    target.write_bytes(b"yesterday's backup")

    assert main(["backup", str(target)]) == 1
    assert main(["backup", str(database)]) == 1  # the database itself, given by mistake

    assert capsys.readouterr().err.count("already exists") == 2
    assert target.read_bytes() == b"yesterday's backup"
    assert integrity(database) == "ok"


def test_the_refusal_is_in_the_default_locale(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    monkeypatch.setenv("DEFAULT_LOCALE", "cs")

    assert main(["backup", str(tmp_path / "copy.db")]) == 1

    err = capsys.readouterr().err
    assert "pg_dump" in err
    assert "backs up SQLite only" not in err


def test_the_command_runs_as_a_process_without_loading_aiogram(database, tmp_path):
    with sqlite3.connect(database) as connection:
        connection.execute("INSERT INTO bookings (note) VALUES ('one')")
    target = tmp_path / "copy.db"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", "backup", str(target)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{database}"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert f"to {target}" in done.stdout
    assert "aiogram" not in done.stderr  # -X importtime lists every module imported
    assert counts(target) == (1, 0)
