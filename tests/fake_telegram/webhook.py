"""The webhook: ``setWebhook`` and friends, and delivering updates to it the way Telegram
does: POSTed one at a time, in order, with the secret token header, again after a pause
until the bot answers 2xx. Every attempt is a :class:`WebhookDelivery`."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from tests.fake_telegram.model import ApiCall, ApiError
from tests.fake_telegram.updates import drop_disallowed_updates

if TYPE_CHECKING:
    from tests.fake_telegram.server import FakeTelegram

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what setWebhook's secret_token allows


@dataclass
class WebhookDelivery:
    """One POST of an update to the bot's webhook: ``status`` is the HTTP status it answered
    (``None`` when the connection failed: then ``error`` says why)."""

    update_id: int
    url: str
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def delete_webhook(fake: FakeTelegram, call: ApiCall) -> bool:
    fake.webhook_url = ""
    fake.webhook_secret = None
    fake._webhook_error = None
    if call.params.get("drop_pending_updates"):
        fake._updates.clear()
    fake._changes.notify()
    return True


def set_webhook(fake: FakeTelegram, call: ApiCall) -> bool:
    p = call.params
    url = str(p.get("url", ""))
    if not url:  # Telegram: an empty URL removes the webhook
        return delete_webhook(fake, call)
    parts = urlsplit(url)
    # http is what a self-hosted Bot API server (--local) accepts besides https
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError(400, "Bad Request: bad webhook: invalid webhook URL specified", record=True)
    secret = p.get("secret_token")
    if secret is not None and not _SECRET_TOKEN_RE.fullmatch(str(secret)):
        raise ApiError(400, "Bad Request: secret token contains unallowed characters", record=True)
    if "allowed_updates" in p:
        allowed = p["allowed_updates"]
        if not isinstance(allowed, list):
            raise ApiError(400, "Bad Request: can't parse allowed updates", record=True)
        fake._allowed_updates = set(allowed) if allowed else None
    if p.get("drop_pending_updates"):
        fake._updates.clear()
    fake.webhook_url = url
    fake.webhook_secret = None if secret is None else str(secret)
    fake._webhook_error = None
    fake._changes.notify()  # a long poll under way ends with the conflict
    return True


def get_webhook_info(fake: FakeTelegram, call: ApiCall) -> dict[str, Any]:
    info: dict[str, Any] = {
        "url": fake.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": len(fake._updates),
    }
    if fake.webhook_url:
        info["max_connections"] = 40
        if fake._allowed_updates is not None:
            info["allowed_updates"] = sorted(fake._allowed_updates)
        if fake._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = fake._webhook_error
    return info


async def deliver(fake: FakeTelegram) -> None:
    """POST pending updates to the webhook one at a time, in order, while one is set."""

    def due() -> bool:
        if fake._closing:
            return True
        if not fake.webhook_url:
            return False
        drop_disallowed_updates(fake)
        return bool(fake._updates)

    while True:
        await fake._changes.wait_until(due, timeout=3600)
        if fake._closing:
            return
        if not due():
            continue
        update, url = fake._updates[0], fake.webhook_url
        fake.webhook_posting = update["update_id"]
        try:
            delivery = await _post_update(fake, update, url)
        finally:
            fake.webhook_posting = None
        fake.webhook_deliveries.append(delivery)
        if delivery.ok:
            fake._updates = [u for u in fake._updates if u is not update]
            fake._changes.notify()
            continue
        fake._webhook_error = (int(time.time()), delivery.error or f"HTTP {delivery.status}")
        fake._changes.notify()
        # again after a pause, or at once when the webhook moves
        await fake._changes.wait_until(
            lambda url=url: fake._closing or fake.webhook_url != url,
            fake.webhook_retry_seconds,
        )


async def _post_update(fake: FakeTelegram, update: dict[str, Any], url: str) -> WebhookDelivery:
    assert fake._webhook_client is not None
    headers = {SECRET_HEADER: fake.webhook_secret} if fake.webhook_secret else {}
    try:
        async with fake._webhook_client.post(url, json=update, headers=headers) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, OSError, TimeoutError) as e:
        reason = str(e) or type(e).__name__
        return WebhookDelivery(update["update_id"], url, None, f"Connection failed: {reason}")
    error = None if 200 <= status < 300 else f"Wrong response from the webhook: {status}"
    return WebhookDelivery(update["update_id"], url, status, error)


METHODS = {
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
}
