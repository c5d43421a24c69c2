"""Logging: plain text for a person at a terminal, or one JSON object per line for a log
collector (LOG_FORMAT=json); and one log event per update the bot handles."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
TRACE_KEY = "update_trace"
DIALOG_CONTEXT_KEY = "aiogd_context"  # aiogram_dialog.api.internal.CONTEXT_KEY
# aiogram-dialog's callback data: <intent id>\x1d<widget id>:<item id>
_INTENT_SEPARATOR = "\x1d"
# attributes every LogRecord has; anything else on a record came as `extra=`
_RECORD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

log = logging.getLogger("bot.updates")

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC, ISO 8601), level, logger, message, the record's
    extra fields, and exc (the traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: an extra that isn't JSON (a date, an enum) still leaves a valid line
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(level: str, log_format: str, stream: IO[str] | None = None) -> None:
    """As logging.basicConfig: a root logger that has handlers already (a test runner's) is
    left alone."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(stream)
    text = logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(JsonFormatter() if log_format == "json" else text)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # APScheduler's INFO is a few lines per job run ("Running job", "executed successfully"):
    # noise every minute, kept only when the whole log is at DEBUG
    if root.level > logging.DEBUG:
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # aiogram's "Update id=… is handled" line says less than ours (LogUpdates) does
    logging.getLogger("aiogram.event").setLevel(max(logging.WARNING, root.level))


@dataclass
class UpdateTrace:
    """What the update turned out to be for, noted by :class:`NoteHandler` on its way in."""

    handler: str | None = None
    dialog_state: str | None = None
    widget: str | None = None
    command: str | None = None

    @property
    def use_case(self) -> str | None:
        if self.dialog_state is not None:
            return f"{self.dialog_state}/{self.widget}" if self.widget else self.dialog_state
        return self.command or self.handler


class LogUpdates(BaseMiddleware):
    """An outer update middleware: one event per update with who sent it, what it was for,
    how long it took and how it ended (handled, unhandled or error)."""

    def __init__(self, timer: Callable[[], float] = time.perf_counter) -> None:
        self.timer = timer

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        started = self.timer()
        trace = data[TRACE_KEY] = UpdateTrace()
        outcome, error = "error", None
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "handled"
            return result
        except BaseException as exc:
            error = type(exc).__name__
            raise
        finally:
            self._log(event, data, trace, outcome, error, (self.timer() - started) * 1000)

    @staticmethod
    def _log(
        event: TelegramObject,
        data: dict[str, Any],
        trace: UpdateTrace,
        outcome: str,
        error: str | None,
        duration_ms: float,
    ) -> None:
        user = data.get("event_from_user")
        chat = data.get("event_chat")
        fields = {
            "update_id": getattr(event, "update_id", None),
            "update_type": _update_type(event),
            "user_id": user.id if user is not None else None,
            "chat_id": chat.id if chat is not None else None,
            "use_case": trace.use_case,
            "handler": trace.handler,
            "duration_ms": round(duration_ms, 1),
            "outcome": outcome,
        }
        if error is not None:
            fields["error"] = error
        log.log(
            logging.WARNING if outcome == "error" else logging.INFO,
            "update %s %s from %s: %s %s in %.1f ms",
            fields["update_id"],
            fields["update_type"],
            fields["user_id"],
            trace.use_case or "-",
            error or outcome,
            duration_ms,
            extra=fields,
        )


class NoteHandler(BaseMiddleware):
    """An inner middleware (it runs once a handler matched): notes the handler, and for a
    dialog its state and the widget clicked, in the update's :class:`UpdateTrace`."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        trace = data.get(TRACE_KEY)
        if isinstance(trace, UpdateTrace):
            _note(trace, event, data)
        return await handler(event, data)


def _note(trace: UpdateTrace, event: TelegramObject, data: dict[str, Any]) -> None:
    matched = data.get("handler")
    callback = getattr(matched, "callback", None)
    if callback is not None:
        name = f"{callback.__module__}.{getattr(callback, '__qualname__', repr(callback))}"
        trace.handler = name.replace("<locals>.", "")
    context = data.get(DIALOG_CONTEXT_KEY)
    state = getattr(context, "state", None)
    if state is not None:
        trace.dialog_state = getattr(state, "state", None) or str(state)
    callback_data = getattr(event, "data", None)
    if isinstance(callback_data, str) and _INTENT_SEPARATOR in callback_data:
        trace.widget = callback_data.split(_INTENT_SEPARATOR, 1)[1].split(":", 1)[0]
    text = getattr(event, "text", None)
    if isinstance(text, str) and text.startswith("/"):
        # the command only: its argument may be a deep-link payload
        trace.command = text.split(maxsplit=1)[0].split("@", 1)[0]


def _update_type(event: TelegramObject) -> str | None:
    if not isinstance(event, Update):
        return None
    try:
        return event.event_type
    except Exception:  # an update type this aiogram does not know
        return None


def log_updates(dp: Dispatcher, timer: Callable[[], float] = time.perf_counter) -> None:
    """Install both middlewares; call after setup_dialogs, so a dialog's context is known."""
    dp.update.outer_middleware(LogUpdates(timer))
    for name, observer in dp.observers.items():
        if name not in ("update", "error"):
            observer.middleware(NoteHandler())
