"""GET /healthz: 200 when the database (and Redis) answer, 503 with the failing check's error
otherwise. Webhook mode serves it beside the updates route (on WEBHOOK_PORT); long polling
serves it on HEALTH_PORT when that is set."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

from aiohttp import web

from bot.runtime.config import ConfigError

HEALTH_PATH = "/healthz"
HEALTH_TIMEOUT = 3.0  # seconds a check may take before the instance counts as unhealthy

Check = Callable[[], Awaitable[object]]


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


async def listen(runner: web.AppRunner, host: str, port: int, names: tuple[str, str]) -> None:
    """Start serving ``runner`` on host:port; a ConfigError naming the two settings
    (``names``: host's and port's) when that address can't be taken."""
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as error:
        raise ConfigError(
            f"cannot listen on {names[0]}={host} {names[1]}={port}: {error.strerror or error}"
        ) from None


@asynccontextmanager
async def health_server(host: str, port: int, checks: Mapping[str, Check]) -> AsyncIterator[None]:
    """/healthz alone, for long polling (which has no web server of its own)."""
    app = web.Application()
    app.router.add_get(HEALTH_PATH, health_handler(checks))
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await listen(runner, host, port, ("WEBHOOK_HOST", "HEALTH_PORT"))
        yield
    finally:
        await runner.cleanup()
