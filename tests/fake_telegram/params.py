"""How the fake reads a Bot API request: query string, JSON body or multipart form, with
values decoded the way Telegram interprets them."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from tests.fake_telegram.model import UploadedFile

_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "commands",
        "scope",
        "menu_button",
        "allowed_updates",
        "entities",
        "caption_entities",
        "prices",
        "link_preview_options",
        "reply_parameters",
        "media",
        "results",
        "options",
        "shipping_options",
        "message_ids",
        "rights",
        "reaction",
        "suggested_tip_amounts",
        "button",
    }
)
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "message_thread_id",
        "from_chat_id",
        "reply_to_message_id",
        "max_connections",
        "max_tip_amount",
        "duration",
        "width",
        "height",
        "until_date",
        "subscription_period",
    }
)
_BOOL_PREFIXES = (
    "is_",
    "need_",
    "can_",
    "disable_",
    "allow_",
    "has_",
    "send_",
    "show_",
    "protect_",
    "drop_",
    "for_",
)
_BOOL_FIELDS = frozenset({"ok"})
_INT_RE = re.compile(r"-?\d+")


def decode_params(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Decode form values the way Telegram interprets them (see :class:`ApiCall`)."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            if key in _JSON_FIELDS:
                # Undecodable JSON stays a str; the method handler complains if it matters.
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            elif key in _INT_FIELDS and _INT_RE.fullmatch(value):
                value = int(value)
            elif value in ("true", "false") and (
                key.startswith(_BOOL_PREFIXES) or key in _BOOL_FIELDS
            ):
                value = value == "true"
        params[key] = value
    return params


async def read_request(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """The request's raw parameters, and the files it uploaded by form field name."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.content_type == "application/json":
        raw.update(await request.json())
    elif request.method == "POST":
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(
                    filename=value.filename,
                    content=value.file.read(),
                    content_type=value.content_type,
                )
            elif isinstance(value, bytes | bytearray):
                raw[key] = bytes(value).decode()
            else:
                raw[key] = value
    return raw, files
