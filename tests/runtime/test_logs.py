"""Structured logs: the JSON formatter, and one event per update from the dispatcher."""

from __future__ import annotations

import io
import json
import logging
import sys
from datetime import datetime

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.types import CallbackQuery, Chat, Message, Update, User

from bot.runtime.logs import JsonFormatter, log_updates, setup_logging

ALICE = User(id=1001, is_bot=False, first_name="Alice")
CHAT = Chat(id=1001, type="private")


@pytest.fixture
def bot() -> Bot:
    return Bot("123456:TEST")  # never called: the handlers here send nothing


def record(message: str, *args, **extra) -> logging.LogRecord:
    return logging.makeLogRecord(
        {
            "name": "bot.test",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": message,
            "args": args,
            "created": 1_780_000_000.25,
            **extra,
        }
    )


def test_a_json_line_has_time_level_logger_message_and_the_extra_fields():
    line = JsonFormatter().format(record("booked %s", "yoga", update_id=7, user_id=1001))

    assert "\n" not in line
    assert json.loads(line) == {
        "ts": "2026-05-28T20:26:40.250+00:00",
        "level": "INFO",
        "logger": "bot.test",
        "message": "booked yoga",
        "update_id": 7,
        "user_id": 1001,
    }


def test_a_traceback_stays_on_the_one_json_line_and_odd_values_are_written_as_text():
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        exc_info = sys.exc_info()
    line = JsonFormatter().format(record("failed", exc_info=exc_info, when=datetime(2026, 1, 2)))

    entry = json.loads(line)
    assert len(line.splitlines()) == 1
    assert entry["exc"].startswith("Traceback (most recent call last):")
    assert entry["exc"].endswith("ValueError: bad\nthing")
    assert entry["when"] == "2026-01-02 00:00:00"


class Ticks:
    """A timer that advances 0.25 s per reading: durations are known, not measured."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 0.25
        return self.now


def dispatcher() -> Dispatcher:
    router = Router()

    @router.message(F.text.startswith("/start"))
    async def start(message: Message) -> None:
        pass

    @router.callback_query(F.data == "boom")
    async def boom(query: CallbackQuery) -> None:
        raise RuntimeError("the handler failed")

    dp = Dispatcher()
    dp.include_router(router)
    log_updates(dp, timer=Ticks())
    return dp


def message_update(update_id: int, text: str) -> Update:
    message = Message(message_id=1, date=datetime.now(), chat=CHAT, from_user=ALICE, text=text)
    return Update(update_id=update_id, message=message)


def events(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.updates"]


async def test_each_update_is_one_event_with_who_what_how_long_and_how_it_ended(caplog, bot):
    dp = dispatcher()
    caplog.set_level(logging.INFO, logger="bot.updates")

    await dp.feed_update(bot, message_update(5, "/start ref_42"))
    await dp.feed_update(bot, message_update(6, "hello"))

    handled, unhandled = events(caplog)
    assert (handled.update_id, handled.update_type, handled.user_id) == (5, "message", 1001)
    assert handled.use_case == "/start"  # the command, not its payload
    assert handled.handler.endswith("test_logs.dispatcher.start")
    assert (handled.outcome, handled.duration_ms) == ("handled", 250.0)
    assert handled.getMessage() == "update 5 message from 1001: /start handled in 250.0 ms"
    assert (unhandled.update_id, unhandled.outcome, unhandled.use_case) == (6, "unhandled", None)


async def test_an_update_whose_handler_fails_is_logged_as_an_error_and_the_error_goes_on(
    caplog, bot
):
    dp = dispatcher()
    query = CallbackQuery(id="q1", from_user=ALICE, chat_instance="c", data="boom")

    with pytest.raises(RuntimeError, match="the handler failed"):
        await dp.feed_update(bot, Update(update_id=9, callback_query=query))

    (event,) = events(caplog)
    assert (event.levelname, event.outcome, event.error) == ("WARNING", "error", "RuntimeError")
    assert (event.update_type, event.user_id) == ("callback_query", 1001)
    assert event.handler.endswith("dispatcher.boom")


def test_log_format_json_writes_json_lines_to_the_stream(monkeypatch):
    stream = fresh_logging(monkeypatch)

    setup_logging("INFO", "json", stream)
    logging.getLogger("bot.anything").info("hello %s", "world", extra={"user_id": 3})

    entry = json.loads(stream.getvalue())
    assert (entry["message"], entry["user_id"], entry["level"]) == ("hello world", 3, "INFO")


def fresh_logging(monkeypatch) -> io.StringIO:
    """As at the bot's start: no root handler yet (levels restored after the test). Called in
    the test's body: pytest adds its capture handler to the root for each phase."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    for name in (None, "alembic", "aiogram.event", "apscheduler"):
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "level", logger.level)
    return io.StringIO()


def test_apschedulers_per_run_lines_are_quiet_at_info(monkeypatch):
    stream = fresh_logging(monkeypatch)

    setup_logging("INFO", "text", stream)
    logging.getLogger("apscheduler.executors.default").info("Running job %s", "reminders")
    logging.getLogger("apscheduler.scheduler").info("Adding job tentatively")
    logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed")

    assert "Running job" not in stream.getvalue()
    assert "Adding job tentatively" not in stream.getvalue()
    assert "Run time of job was missed" in stream.getvalue()


def test_apschedulers_lines_show_when_the_log_level_is_debug(monkeypatch):
    stream = fresh_logging(monkeypatch)

    setup_logging("DEBUG", "text", stream)
    logging.getLogger("apscheduler.executors.default").info("Running job %s", "reminders")

    assert "Running job reminders" in stream.getvalue()
