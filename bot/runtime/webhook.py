"""Webhook mode: an aiohttp server that Telegram POSTs updates to, and GET /healthz for the
load balancer. Several instances can serve one WEBHOOK_URL: they share the database (the
outbox is claimed row by row) and, through REDIS_URL, dialog state.

Telegram gets its answer only once the update has been handled: 200 when the handler
finished, 500 when it failed or took longer than HANDLER_TIMEOUT. Telegram then delivers the
update again, so a crash while handling (a ``successful_payment`` with the client's money
taken) loses nothing; the handlers are safe to run twice."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Mapping

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.runtime.config import ConfigError, Settings
from bot.runtime.health import HEALTH_PATH, Check, health_handler, listen

log = logging.getLogger(__name__)

# Telegram waits about a minute for the answer, then sends the update again; an update
# still under way after this long is answered 500 (and so tried again) before that happens.
HANDLER_TIMEOUT = 50.0
IN_FLIGHT_TIMEOUT = 10.0  # seconds updates under way get to finish on shutdown


class UpdatesHandler(SimpleRequestHandler):
    """aiogram's handler, made to answer after handling: 200 when the update was handled,
    500 when its handler raised or ran out of time (Telegram then delivers it again)."""

    def __init__(self, dp: Dispatcher, bot: Bot, *, secret_token: str | None) -> None:
        super().__init__(dp, bot, handle_in_background=False, secret_token=secret_token)
        self.in_flight: set[asyncio.Task[web.Response]] = set()

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        # in a task of its own, so that a shutdown lets it finish rather than cut it short
        task = asyncio.ensure_future(self._handle_update(bot, request))
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)
        return await asyncio.shield(task)

    async def _handle_update(self, bot: Bot, request: web.Request) -> web.Response:
        update = Update.model_validate(
            await request.json(loads=bot.session.json_loads), context={"bot": bot}
        )
        try:
            async with asyncio.timeout(HANDLER_TIMEOUT):
                result = await self.dispatcher.feed_update(bot, update, **self.data)
        except TimeoutError:
            log.error("update %s took over %.0f s: answered 500", update.update_id, HANDLER_TIMEOUT)
            return web.json_response({"ok": False}, status=500)
        except Exception:
            log.exception("update %s failed: answered 500", update.update_id)
            return web.json_response({"ok": False}, status=500)
        if isinstance(result, TelegramMethod):
            await self.dispatcher.silent_call_request(bot=bot, result=result)
        return web.json_response({})


def build_web_app(
    dp: Dispatcher, bot: Bot, settings: Settings, checks: Mapping[str, Check]
) -> tuple[web.Application, UpdatesHandler]:
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


async def serve_webhook(
    dp: Dispatcher, bot: Bot, settings: Settings, checks: Mapping[str, Check]
) -> None:
    """Listen, tell Telegram where to deliver, serve until SIGTERM or SIGINT, then stop as
    polling does: updates under way finish, then the dispatcher's shutdown runs."""
    endpoint = settings.webhook_endpoint
    assert endpoint is not None
    app, updates = build_web_app(dp, bot, settings, checks)
    # on shutdown, updates under way get IN_FLIGHT_TIMEOUT to finish (and be answered 200)
    runner = web.AppRunner(
        app, access_log=None, handle_signals=False, shutdown_timeout=IN_FLIGHT_TIMEOUT
    )
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    workflow = {"dispatcher": dp, "bots": [bot], **dp.workflow_data}
    await dp.emit_startup(bot=bot, **workflow)
    try:
        await listen(
            runner, settings.webhook_host, settings.webhook_port, ("WEBHOOK_HOST", "WEBHOOK_PORT")
        )
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


async def _finish_in_flight(updates: UpdatesHandler) -> None:
    # Telegram is answered only after handling, so an update cut short here is delivered
    # again; still, finishing it saves the client a repeat
    running = [task for task in updates.in_flight if not task.done()]
    if running:
        _done, late = await asyncio.wait(running, timeout=IN_FLIGHT_TIMEOUT)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
