"""Webhook mode: an aiohttp server that Telegram POSTs updates to, and GET /healthz for the
load balancer. Several instances can serve one WEBHOOK_URL: they share the database (the
outbox is claimed row by row) and, through REDIS_URL, dialog state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.runtime.config import ConfigError, Settings

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
HEALTH_TIMEOUT = 3.0  # seconds a check may take before the instance counts as unhealthy
IN_FLIGHT_TIMEOUT = 10.0  # seconds updates under way get to finish on shutdown

Check = Callable[[], Awaitable[object]]


class UpdatesHandler(SimpleRequestHandler):
    """aiogram's handler, which answers Telegram at once and handles the update in a task;
    a handler's error is logged as polling logs it, not left in a task nobody awaits."""

    async def _background_feed_update(self, bot: Bot, update: dict[str, Any]) -> None:
        try:
            await super()._background_feed_update(bot, update)
        except Exception:
            log.exception("update %s failed", update.get("update_id"))


def build_web_app(
    dp: Dispatcher, bot: Bot, settings: Settings, checks: Mapping[str, Check]
) -> tuple[web.Application, SimpleRequestHandler]:
    """The updates route (a request without the right secret token is answered 401 and fed
    nothing) and the health check."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    updates = UpdatesHandler(dp, bot, secret_token=secret)
    app = web.Application()
    # not updates.register(app): its shutdown hook closes the bot's session, which the
    # dispatcher's own shutdown (the courier finishing its batch) still needs
    app.router.add_post(settings.webhook_path, updates.handle)
    app.router.add_get(HEALTH_PATH, health_handler(checks))
    return app, updates


def health_handler(checks: Mapping[str, Check]) -> Callable[[web.Request], Awaitable[web.Response]]:
    """200 {"status": "ok", <check>: "ok", ...} when every check passes, else 503 with the
    failing check's error: the load balancer then sends updates to the other instances."""

    async def health(_request: web.Request) -> web.Response:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                async with asyncio.timeout(HEALTH_TIMEOUT):
                    await check()
            except Exception as error:  # whatever a driver raises: the check failed
                reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                results[name] = f"error: {reason}".splitlines()[0]
            else:
                results[name] = "ok"
        healthy = all(result == "ok" for result in results.values())
        body = {"status": "ok" if healthy else "unavailable", **results}
        return web.json_response(body, status=200 if healthy else 503)

    return health


async def serve_webhook(
    dp: Dispatcher, bot: Bot, settings: Settings, checks: Mapping[str, Check]
) -> None:
    """Listen, tell Telegram where to deliver, serve until SIGTERM or SIGINT, then stop as
    polling does: updates under way finish, then the dispatcher's shutdown runs."""
    endpoint = settings.webhook_endpoint
    assert endpoint is not None
    app, updates = build_web_app(dp, bot, settings, checks)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    workflow = {"dispatcher": dp, "bots": [bot], **dp.workflow_data}
    await dp.emit_startup(bot=bot, **workflow)
    try:
        await _listen(runner, settings)
        await _set_webhook(bot, dp, settings, endpoint)
        log.info(
            "webhook mode: listening on %s:%s, Telegram delivers to %s",
            settings.webhook_host,
            settings.webhook_port,
            endpoint,
            extra={"webhook_url": endpoint},
        )
        await stop.wait()
        log.info("stopping: no new updates, finishing those under way")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        # No deleteWebhook here, on purpose: several instances serve one WEBHOOK_URL, and
        # one of them stopping (a rolling restart, scaling down) must not switch delivery
        # off for the others. While no instance answers, Telegram keeps the updates and
        # retries (for up to a day), so a full stop loses nothing either. Going back to
        # polling removes the webhook at start (see bot.runtime.app.run).
        await runner.cleanup()
        await _finish_in_flight(updates)
        await dp.emit_shutdown(bot=bot, **workflow)


async def _listen(runner: web.AppRunner, settings: Settings) -> None:
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    try:
        await site.start()
    except OSError as error:
        raise ConfigError(
            f"cannot listen on WEBHOOK_HOST={settings.webhook_host} "
            f"WEBHOOK_PORT={settings.webhook_port}: {error.strerror or error}"
        ) from None


async def _set_webhook(bot: Bot, dp: Dispatcher, settings: Settings, endpoint: str) -> None:
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    try:
        await bot.set_webhook(
            endpoint,
            secret_token=secret,
            allowed_updates=telegram_update_types(dp),
        )
    except TelegramBadRequest as error:
        raise ConfigError(f"Telegram refused WEBHOOK_URL={endpoint}: {error.message}") from None


def telegram_update_types(dp: Dispatcher) -> list[str]:
    """The update types that have handlers, for Telegram to send only those: aiogram's list
    without aiogram-dialog's own (aiogd_update), which is no Telegram update type."""
    return [name for name in dp.resolve_used_update_types() if name in Update.model_fields]


async def _finish_in_flight(updates: SimpleRequestHandler) -> None:
    # aiogram answers Telegram at once and handles the update in a task it keeps here (no
    # public way to see them); a handler cut short would lose a click the user made
    running = [task for task in updates._background_feed_update_tasks if not task.done()]
    if running:
        _done, late = await asyncio.wait(running, timeout=IN_FLIGHT_TIMEOUT)
        for task in late:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*late, return_exceptions=True)
