"""Reply markup as Telegram checks it (inline keyboards, reply keyboards, callback data,
URL buttons), and ``t.me`` deep links to a bot."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from tests.fake_telegram.model import ApiError, Button

_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "web_app",
    "callback_game",
    "pay",
    "copy_text",
)
_URL_RE = re.compile(r"(https?|tg)://\S+")


def parse_markup(
    markup: Any,
) -> tuple[list[list[Button]], list[list[str]] | None, dict[str, Any] | None]:
    """Validate ``reply_markup``; return (inline buttons, reply keyboard, inline markup)."""
    if markup is None:
        return [], None, None
    if not isinstance(markup, dict):
        raise ApiError(
            400, "Bad Request: can't parse reply keyboard markup JSON object", record=True
        )
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ApiError(
                400, 'Bad Request: field "inline_keyboard" must be an Array of Arrays', record=True
            )
        if sum(len(r) for r in rows) > 100:
            raise ApiError(400, "Bad Request: reply markup is too long", record=True)
        buttons = [[_parse_inline_button(b) for b in row] for row in rows]
        return buttons, None, markup
    if "keyboard" in markup:
        rows = markup["keyboard"]
        texts = [[b["text"] if isinstance(b, dict) else str(b) for b in row] for row in rows]
        if any(not t for row in texts for t in row):
            raise ApiError(400, "Bad Request: keyboard button text is empty", record=True)
        return [], texts, None
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return [], None, None
    raise ApiError(400, "Bad Request: unsupported reply_markup", record=True)


def _parse_inline_button(raw: Any) -> Button:
    if not isinstance(raw, dict) or not raw.get("text"):
        raise ApiError(400, "Bad Request: BUTTON_TEXT_EMPTY", record=True)
    actions = [a for a in _INLINE_ACTIONS if a in raw]
    if len(actions) != 1:
        raise ApiError(
            400,
            f"Bad Request: inline keyboard button {raw['text']!r} must have exactly one "
            f"action, has {actions}",
            record=True,
        )
    data = raw.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode()) <= 64:
        raise ApiError(
            400,
            f"Bad Request: BUTTON_DATA_INVALID (button {raw['text']!r}: callback_data is "
            f"{len(str(data).encode())} bytes, max 64: {data!r})",
            record=True,
        )
    url = raw.get("url")
    if url is not None:
        if not isinstance(url, str) or not _URL_RE.fullmatch(url):
            raise ApiError(400, f"Bad Request: BUTTON_URL_INVALID ({url!r})", record=True)
        problem = deep_link_problem(url)
        if problem:
            raise ApiError(
                400, f"Bad Request: BUTTON_URL_INVALID ({url!r}: {problem})", record=True
            )
    return Button(text=raw["text"], callback_data=data, url=url, raw=raw)


_TME_HOSTS = frozenset({"t.me", "www.t.me", "telegram.me", "www.telegram.me"})
_USERNAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
START_PAYLOAD_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_START_PARAMS = ("start", "startgroup")


def deep_link(url: str) -> tuple[str, dict[str, str]] | None:
    """``(username, raw query parameters)`` of a ``https://t.me/<username>?...`` link."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in _TME_HOSTS:
        return None
    username = parts.path.strip("/")
    if not _USERNAME_RE.fullmatch(username):
        return None  # t.me/+invite, t.me/c/..., t.me/channel/123: not a bot link
    query: dict[str, str] = {}
    for item in filter(None, parts.query.split("&")):
        key, _, value = item.partition("=")
        query[key] = value
    return username, query


def deep_link_problem(url: str) -> str | None:
    """Why a bot deep link's start parameter is invalid (1-64 of ``[A-Za-z0-9_-]``), if it is."""
    link = deep_link(url)
    if link is None:
        return None
    for key in _START_PARAMS:
        if key in link[1] and not START_PAYLOAD_RE.fullmatch(link[1][key]):
            return f"the {key} parameter must be 1-64 characters of A-Z, a-z, 0-9, _ and -"
    return None
