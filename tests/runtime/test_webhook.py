"""The webhook server's health check and its secret token, in-process."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp.test_utils import TestClient, TestServer

from bot.deps import Deps
from bot.runtime import health, webhook
from bot.runtime.app import build_dispatcher
from bot.runtime.config import Settings
from bot.runtime.webhook import build_web_app, telegram_update_types
from bot.text.i18n import build_i18n

SETTINGS = Settings(
    bot_token=None,
    webhook_url="https://bot.example.com",
    webhook_secret="right-secret",
    webhook_path="/tg",
)


async def ok() -> None:
    pass


async def broken() -> None:
    raise ConnectionRefusedError("[Errno 111] Connect call failed ('127.0.0.1', 5432)")


async def hangs() -> None:
    await asyncio.Event().wait()


async def client_for(checks, fed: list[int] | None = None, got: asyncio.Event | None = None):
    dp = Dispatcher()

    async def record(handler, update, data) -> None:
        if fed is not None and got is not None:
            fed.append(update.update_id)
            got.set()
        if update.update_id == 13:
            raise RuntimeError("the handler failed")

    dp.update.outer_middleware(record)
    app, _ = build_web_app(dp, Bot("123456:TEST"), SETTINGS, checks)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def test_healthz_is_200_when_every_check_passes():
    client = await client_for({"database": ok, "redis": ok})
    try:
        response = await client.get("/healthz")
        assert response.status == 200
        assert await response.json() == {"status": "ok", "database": "ok", "redis": "ok"}
    finally:
        await client.close()


async def test_healthz_is_503_with_the_reason_when_a_check_fails_or_hangs(monkeypatch):
    monkeypatch.setattr(health, "HEALTH_TIMEOUT", 0.05)
    client = await client_for({"database": broken, "redis": hangs})
    try:
        response = await client.get("/healthz")
        assert response.status == 503
        assert await response.json() == {
            "status": "unavailable",
            "database": "error: ConnectionRefusedError: [Errno 111] Connect call failed "
            "('127.0.0.1', 5432)",
            "redis": "error: TimeoutError",
        }
    finally:
        await client.close()


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}])
async def test_an_update_without_the_right_secret_is_refused_and_fed_nothing(headers):
    fed: list[int] = []
    got = asyncio.Event()
    client = await client_for({}, fed, got)
    try:
        refused = await client.post("/tg", json={"update_id": 5}, headers=headers)
        right = {"X-Telegram-Bot-Api-Secret-Token": "right-secret"}
        accepted = await client.post("/tg", json={"update_id": 6}, headers=right)
    finally:
        await client.close()
    assert (refused.status, accepted.status) == (401, 200)
    assert fed == [6]  # answered after handling: 6 was fed before its answer came


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.arrived = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.arrived.set()


async def test_an_update_whose_handler_fails_is_answered_500_and_logged_with_its_traceback(
    monkeypatch,
):
    records = Records()
    monkeypatch.setattr(webhook.log, "handlers", [records])
    client = await client_for({})
    try:
        right = {"X-Telegram-Bot-Api-Secret-Token": "right-secret"}
        answer = await client.post("/tg", json={"update_id": 13}, headers=right)
    finally:
        await client.close()
    assert answer.status == 500  # so Telegram delivers it again
    [failed] = records.records
    assert failed.getMessage() == "update 13 failed: answered 500"
    assert failed.exc_info is not None
    assert str(failed.exc_info[1]) == "the handler failed"


async def blocking_client(release: asyncio.Event, entered: asyncio.Event) -> TestClient:
    """A webhook whose handler waits for ``release`` (``entered`` set once it started)."""
    dp = Dispatcher()

    async def handler(_handler, _update, _data) -> None:
        entered.set()
        await release.wait()

    dp.update.outer_middleware(handler)
    app, _ = build_web_app(dp, Bot("123456:TEST"), SETTINGS, {})
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def test_telegram_is_answered_only_once_the_update_was_handled():
    release, entered = asyncio.Event(), asyncio.Event()
    client = await blocking_client(release, entered)
    right = {"X-Telegram-Bot-Api-Secret-Token": "right-secret"}
    try:
        answer = asyncio.ensure_future(client.post("/tg", json={"update_id": 7}, headers=right))
        await asyncio.wait_for(entered.wait(), 10)
        # answered early, it would be here by now (the handler is blocked, whatever the time)
        done, _ = await asyncio.wait([answer], timeout=1)
        assert not done  # a crash now: Telegram has no answer and delivers it again
        release.set()
        assert (await asyncio.wait_for(answer, 10)).status == 200
    finally:
        release.set()
        await client.close()


async def test_an_update_that_outlasts_the_handler_time_is_answered_500(monkeypatch):
    monkeypatch.setattr(webhook, "HANDLER_TIMEOUT", 0.05)
    release, entered = asyncio.Event(), asyncio.Event()
    client = await blocking_client(release, entered)
    right = {"X-Telegram-Bot-Api-Secret-Token": "right-secret"}
    try:
        answer = await client.post("/tg", json={"update_id": 8}, headers=right)
    finally:
        release.set()
        await client.close()
    assert entered.is_set()
    assert answer.status == 500


def test_telegram_is_asked_for_the_update_types_the_bot_handles_and_only_telegrams():
    deps = Deps(db=None, settings=Settings(bot_token=None), clock=None)
    dp = build_dispatcher(deps, build_i18n("en"))

    types = telegram_update_types(dp)

    assert {"message", "callback_query", "pre_checkout_query", "my_chat_member"} <= set(types)
    assert "aiogd_update" in dp.resolve_used_update_types()  # aiogram-dialog's own
    assert set(types) <= set(Update.model_fields)
