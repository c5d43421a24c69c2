"""`python -m bot ...` as staff use it: import a catalog, migrate, clear configuration errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.runtime.config import load_settings
from domain.booking.rules import EnrolmentNotes

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "studio.yaml"


@pytest.fixture
def env(tmp_path, monkeypatch):
    db_file = tmp_path / "data" / "spotbook.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db_file}")
    monkeypatch.setenv("TZ", "Europe/Prague")
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    return db_file


def rows(db_file: Path, table: str) -> int:
    with sqlite3.connect(db_file) as connection:
        return connection.execute(f"select count(*) from {table}").fetchone()[0]


def test_the_example_catalog_imports_and_a_second_import_changes_nothing(env, capsys):
    assert main(["import-catalog", str(EXAMPLE)]) == 0
    first = capsys.readouterr().out
    sessions = rows(env, "sessions")

    assert main(["import-catalog", str(EXAMPLE)]) == 0
    second = capsys.readouterr().out

    assert "added 4 programmes, 6 classes" in first
    assert "session types: 1 added, 0 updated" in first
    assert rows(env, "session_types") == 1
    assert sessions > 20
    assert "nothing changed" in second
    assert rows(env, "sessions") == sessions


def test_a_broken_catalog_is_rejected_with_line_and_reason_and_nothing_is_written(
    env, tmp_path, capsys
):
    assert main(["import-catalog", str(EXAMPLE)]) == 0
    sessions = rows(env, "sessions")
    broken = tmp_path / "broken.yaml"
    text = EXAMPLE.read_text(encoding="utf-8")
    broken.write_text(
        text.replace("capacity: 12", "capcity: 12", 1).replace("2027-02-2", "2027-03-2"),
        encoding="utf-8",
    )
    line = next(n for n, text in enumerate(broken.read_text().splitlines(), 1) if "capcity" in text)

    assert main(["import-catalog", str(broken)]) == 1

    err = capsys.readouterr().err
    assert "nothing was changed" in err
    assert f'line {line}: "capcity" is not a known field here' in err
    assert rows(env, "sessions") == sessions


def test_a_missing_file_is_reported_plainly(env, capsys):
    assert main(["import-catalog", "no/such/file.yaml"]) == 1
    assert "Cannot read no/such/file.yaml" in capsys.readouterr().err


def test_a_file_that_is_not_text_is_rejected(env, tmp_path, capsys):
    binary = tmp_path / "photo.yaml"
    binary.write_bytes(b"\xff\xd8\xff\xe0" * 10)

    assert main(["import-catalog", str(binary)]) == 1
    assert "not UTF-8" in capsys.readouterr().err


def test_migrate_brings_an_empty_database_up_to_date(env, capsys):
    assert main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert rows(env, "bookings") == 0


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("TZ", "Europe/Prag", "TZ is not valid: expected an IANA time zone"),
        ("DATABASE_URL", "mysql://localhost/x", "DATABASE_URL is not valid"),
        ("DATABASE_URL", "not a url", "DATABASE_URL is not valid"),
        ("ADMIN_IDS", "12,abc", "ADMIN_IDS is not valid"),
        ("CURRENCY", "EURO", "CURRENCY is not valid"),
        (
            "ENROLMENT_ACTIVE_BY_DEFAULT",
            "maybe",
            "ENROLMENT_ACTIVE_BY_DEFAULT is not valid: expected true or false",
        ),
        ("ENROLMENT_ACTIVE_BY_DEFAULT", "", "ENROLMENT_ACTIVE_BY_DEFAULT is not valid"),
        (
            "ENROLMENT_NOTES",
            "mandatory",
            "ENROLMENT_NOTES is not valid: expected off, optional or required, not 'mandatory'",
        ),
        ("REMINDERS", "24h,soon", "REMINDERS is not valid: expected whole hours or days"),
        ("PAYMENT_METHODS", "paypal", "PAYMENT_METHODS is not valid: expected stars, card"),
        ("PAYMENT_NUDGE_DAYS", "1,x", "PAYMENT_NUDGE_DAYS is not valid: expected days such as"),
        ("FEE_NUDGE_DAYS", "0,99", "FEE_NUDGE_DAYS is not valid: expected days such as"),
        (
            "ANNOUNCE_CHATS",
            "-1001,my-group",
            "ANNOUNCE_CHATS is not valid: expected group or channel ids such as -1001234567890",
        ),
        (
            "PAYMENT_METHODS",
            "stars",
            "Telegram Stars (PAYMENT_METHODS=stars) need prices in Stars: set CURRENCY=XTR",
        ),
        ("PAYMENT_METHODS", "card", "cards (PAYMENT_METHODS=card) need PAYMENT_PROVIDER_TOKEN"),
    ],
)
def test_bad_configuration_stops_with_one_clear_line(env, monkeypatch, capsys, name, value, says):
    monkeypatch.setenv(name, value)

    assert main(["migrate"]) == 2

    err = capsys.readouterr().err.strip()
    assert says in err
    assert len(err.splitlines()) == 1


def test_running_without_a_token_says_what_to_set(env, capsys):
    assert main([]) == 2
    assert "BOT_TOKEN is not set" in capsys.readouterr().err


def test_an_unreachable_database_stops_with_one_clear_line(env, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/spotbook")

    assert main(["migrate"]) == 2

    err = capsys.readouterr().err.strip()
    assert "cannot open the database at DATABASE_URL=postgresql+asyncpg://nobody@127.0.0.1:1" in err
    assert len(err.splitlines()) == 1


def test_the_enrolment_settings_read_as_the_seed_writes_them(env, monkeypatch):
    monkeypatch.setenv("ENROLMENT_ACTIVE_BY_DEFAULT", "NO")
    monkeypatch.setenv("ENROLMENT_NOTES", "REQUIRED")

    policy = load_settings().policy

    assert policy.enrolment_active_by_default is False
    assert policy.enrolment_notes == EnrolmentNotes.REQUIRED


def test_payment_settings_that_work_together_are_read(env, monkeypatch):
    monkeypatch.setenv("PAYMENT_HOLD_MINUTES", "30")
    monkeypatch.setenv("CURRENCY", "xtr")
    monkeypatch.setenv("PAYMENT_METHODS", "stars, venue")
    stars = load_settings()
    monkeypatch.setenv("CURRENCY", "EUR")
    monkeypatch.setenv("PAYMENT_METHODS", "card")
    monkeypatch.setenv("PAYMENT_PROVIDER_TOKEN", "284685063:TEST:abc")
    card = load_settings()
    monkeypatch.setenv("PAYMENT_METHODS", "venue")

    assert (stars.online_payment, stars.currency_digits, stars.policy.currency) == (
        "stars",
        0,
        "XTR",
    )
    assert (card.online_payment, card.currency_digits) == ("card", 2)
    venue = load_settings()
    assert venue.online_payment is None
    # "please pay" nudges only where the bot takes the payment
    assert stars.policy.payment_nudge_days == (1, 3)
    assert venue.policy.payment_nudge_days == ()
    # ... and holding unpaid bookings too
    assert (stars.policy.payment_hold_minutes, venue.policy.payment_hold_minutes) == (30, 0)


def test_import_max_sessions_holds_for_the_command_line_too(env, monkeypatch, capsys):
    assert main(["import-catalog", str(EXAMPLE)]) == 0  # the example makes 102 sessions
    capsys.readouterr()
    with sqlite3.connect(env) as connection:
        connection.execute("update classes set title = 'changed'")
    monkeypatch.setenv("IMPORT_MAX_SESSIONS", "101")

    assert main(["import-catalog", str(EXAMPLE)]) == 1

    err = capsys.readouterr().err
    assert "nothing was changed" in err
    assert "The file makes 102 sessions; one import may hold at most 101" in err
    with sqlite3.connect(env) as connection:
        assert connection.execute("select distinct title from classes").fetchall() == [("changed",)]

    monkeypatch.setenv("IMPORT_MAX_SESSIONS", "102")
    assert main(["import-catalog", str(EXAMPLE)]) == 0
    with sqlite3.connect(env) as connection:
        assert ("changed",) not in connection.execute("select title from classes").fetchall()
