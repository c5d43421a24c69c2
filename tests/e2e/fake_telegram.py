"""A fake Telegram Bot API server for end-to-end tests, plus a user-side driver.

The bot under test talks HTTP to :class:`FakeTelegram` exactly as it would to
``api.telegram.org`` (configure aiogram with ``TelegramAPIServer.from_base(fake.base_url)``).
Tests act as Telegram users through :class:`FakeUser`, and in groups, supergroups and
channels through :class:`FakeGroup`::

    async with FakeTelegram() as fake, bot_process(fake):
        alice = fake.user(first_name="Alice")
        await alice.send("/start")
        await alice.wait_message("Hello")
        assert await alice.click("Ping") == "pong!"
        await alice.send_document("studio.yaml", b"programmes: []")  # the bot may getFile it
        payment = await alice.pay()  # the newest invoice: pre-checkout, then successful_payment
        alice.repeat_payment(payment)  # Telegram delivering it again

        fans = fake.group(-100123, "Yoga fans")  # a supergroup the bot is a member of
        await fans.send(alice, "/register")  # privacy mode: the bot only gets commands
        card = await fans.wait_message("Yoga")
        await alice.open_url(card.url_buttons["Book"])  # t.me/<bot>?start=X: "/start X"
        assert len(fake.edit_calls(fans.chat_id, card.message_id)) <= 3
        fans.remove_bot()  # my_chat_member; the bot's requests to it now answer 403

Updates wait for ``getUpdates`` (long polling) until the bot calls ``setWebhook``; from then
on the fake POSTs each one to the webhook URL with the ``X-Telegram-Bot-Api-Secret-Token``
header, in order, retrying (as Telegram does) until the bot answers 2xx. Like a load
balancer in front of several bot instances, ``fake.point_webhook(url)`` sends the next
updates elsewhere; :attr:`FakeTelegram.webhook_deliveries` records every attempt.

The fake validates what the bot sends the way Telegram does (HTML markup, callback data
size, editing rules, ...). Telegram answers that a correct bot may legitimately get
("message is not modified", a blocked user) are returned but not recorded; answers that
mean the bot (or the test) did something wrong are also appended to :attr:`FakeTelegram.errors`,
which the test fixtures assert to be empty.

Every wait is event-driven: the fake notifies waiters on every API call and every update.
"""

# The waits take a ``timeout`` argument on purpose: it is the API the tests read best.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import html
import inspect
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

__all__ = [
    "ApiCall",
    "ApiError",
    "Button",
    "FakeChat",
    "FakeGroup",
    "FakeMessage",
    "FakeTelegram",
    "FakeUser",
    "InvalidUpdateError",
    "Payment",
    "SentInvoice",
    "StarRefund",
    "UploadedFile",
    "WebhookDelivery",
    "parse_html",
]

_current_call: contextvars.ContextVar[ApiCall | None] = contextvars.ContextVar(
    "_current_call", default=None
)

Handler = Callable[[dict[str, Any]], Any | Awaitable[Any]]
CallPredicate = Callable[["ApiCall"], bool]
MessagePredicate = Callable[["FakeMessage"], bool]

STARS = "XTR"  # the currency of Telegram Stars

# --------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------


@dataclass
class UploadedFile:
    """A file the bot uploaded in a multipart request."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"

    def __repr__(self) -> str:
        return f"UploadedFile({self.filename!r}, {len(self.content)} bytes, {self.content_type!r})"


@dataclass
class ApiCall:
    """One Bot API request received by the fake.

    ``params`` are decoded: JSON fields (``reply_markup``, ``commands``, ``scope``, ...) are
    dicts/lists, well-known numeric and boolean fields are ``int``/``bool``, uploaded files
    are :class:`UploadedFile` (``attach://`` references are resolved). ``response`` is the
    JSON body sent back (``None`` while the call is still being handled, e.g. a long poll, and
    when the fake dropped the connection instead of answering: then ``dropped`` is true).
    """

    method: str
    params: dict[str, Any]
    index: int
    response: dict[str, Any] | None = None
    dropped: bool = False
    at: float = field(default_factory=time.monotonic)  # when it arrived (time.monotonic())

    @property
    def ok(self) -> bool:
        return bool(self.response and self.response.get("ok"))

    @property
    def result(self) -> Any:
        return (self.response or {}).get("result")

    @property
    def error(self) -> str | None:
        """The error description, if the fake answered with an error."""
        if self.response is None or self.response.get("ok"):
            return None
        return str(self.response.get("description"))

    def __str__(self) -> str:
        shown = {k: v for k, v in self.params.items() if k != "reply_markup"}
        status = "pending" if self.response is None else ("ok" if self.ok else self.error)
        if self.dropped:
            status = "dropped"
        return f"#{self.index} {self.method}({_short(shown, 200)}) -> {status}"


@dataclass
class Button:
    """An inline keyboard button."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class FakeMessage:
    """A message as currently visible in a chat (after edits; deleted ones are gone).

    ``text`` is what the user sees: HTML tags stripped and entities unescaped; for a
    document it is the caption (``""`` when there is none). ``created`` and ``version`` are
    the positions (see :meth:`FakeTelegram.mark`) of the API call that sent the message and
    of the one that last changed it; ``edits`` counts the bot's successful edits of it.
    ``sender_id`` is the user who sent a user message (``None`` for the bot's, and for posts
    in a channel, which come from the channel). ``update_id`` is the update that delivered a
    user message to the bot (``None`` if the bot did not get it, e.g. group privacy mode).
    """

    message_id: int
    chat_id: int
    text: str
    from_bot: bool
    buttons: list[list[Button]] = field(default_factory=list)
    document: dict[str, Any] | None = None
    edited: bool = False
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    reply_keyboard: list[list[str]] | None = None
    file: UploadedFile | None = None
    source: str | None = None  # the text as the bot sent it (HTML source), if any
    date: int = 0
    edit_date: int | None = None
    created: int = -1
    version: int = -1
    media: dict[str, Any] = field(default_factory=dict, repr=False)  # extra Message fields
    invoice: SentInvoice | None = None  # what sendInvoice asked for, payload included
    edits: int = 0
    sender_id: int | None = None
    update_id: int | None = None

    @property
    def button_texts(self) -> list[str]:
        return [b.text for row in self.buttons for b in row]

    @property
    def url_buttons(self) -> dict[str, str]:
        """Texts → URLs of the inline URL buttons (e.g. ``t.me`` deep links)."""
        return {b.text: b.url for row in self.buttons for b in row if b.url is not None}

    def button(self, text: str | re.Pattern[str]) -> Button | None:
        """The first inline button whose stripped text equals (or searches) ``text``."""
        for row in self.buttons:
            for b in row:
                if _text_matches(b.text.strip(), text, exact=True):
                    return b
        return None

    def describe(self) -> str:
        who = "bot" if self.from_bot else "user"
        flags = " (edited)" if self.edited else ""
        line = f"#{self.message_id} {who}{flags}: {self.text!r}"
        if self.document:
            line += f" [document {self.document.get('file_name')!r}]"
        if self.invoice:
            invoice = self.invoice
            paid = " paid" if invoice.charge_id else ""
            line += f" [invoice {invoice.title!r} {invoice.total_amount} {invoice.currency}{paid}]"
        for service in ("successful_payment", "refunded_payment"):
            if service in self.media:
                line += f" [{service} {self.media[service]['telegram_payment_charge_id']}]"
        if self.buttons:
            line += " " + str([[b.text for b in row] for row in self.buttons])
        if self.reply_keyboard:
            line += f" reply-keyboard={self.reply_keyboard}"
        return line


@dataclass
class SentInvoice:
    """An invoice the bot sent (``sendInvoice``), as the fake keeps it.

    The Message's ``invoice`` object (in :attr:`FakeMessage.media`) has no payload or prices;
    these are here. ``charge_id`` is set once the user paid it (Telegram then shows a
    receipt instead of the Pay button, so an invoice is paid at most once).
    """

    title: str
    description: str
    payload: str
    currency: str
    prices: list[dict[str, Any]]
    provider_token: str = ""
    max_tip_amount: int = 0
    start_parameter: str = ""
    charge_id: str | None = None

    @property
    def total_amount(self) -> int:
        return sum(int(p["amount"]) for p in self.prices)

    @property
    def stars(self) -> bool:
        return self.currency == STARS


@dataclass
class Payment:
    """What happened when a user tapped Pay (:meth:`FakeUser.pay`).

    ``ok`` and ``error_message`` are the bot's ``answerPreCheckoutQuery`` (``answer``). When
    ok, ``charge_id`` is the ``telegram_payment_charge_id`` of the ``successful_payment``
    message (``message``, the Message JSON) delivered in update ``update_id``.
    """

    user_id: int
    query_id: str
    currency: str
    total_amount: int
    invoice_payload: str
    answer: ApiCall
    ok: bool
    error_message: str | None = None
    charge_id: str | None = None
    provider_charge_id: str | None = None
    message: dict[str, Any] | None = field(default=None, repr=False)
    update_id: int | None = None


@dataclass
class StarRefund:
    """A ``refundStarPayment`` the fake carried out."""

    user_id: int
    charge_id: str
    total_amount: int
    invoice_payload: str


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


class ApiError(Exception):
    """Raise from a method handler to answer ``{"ok": false, ...}``.

    ``record=True`` also appends the problem to :attr:`FakeTelegram.errors`.
    """

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        record: bool = False,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.record = record
        self.parameters = parameters


class InvalidUpdateError(AssertionError):
    """An update the test tried to inject would not pass aiogram's validation."""


class _HtmlError(ValueError):
    pass


# --------------------------------------------------------------------------------------
# Parameter decoding
# --------------------------------------------------------------------------------------

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
_EDIT_METHODS = frozenset(
    {"editMessageText", "editMessageReplyMarkup", "editMessageCaption", "editMessageMedia"}
)
_INT_RE = re.compile(r"-?\d+")
_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what setWebhook's secret_token allows
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Update types Telegram sends when allowed_updates is empty or was never set: all but these
# (my_chat_member, the bot added to or removed from a chat, is a default one).
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def _decode_params(raw: Mapping[str, Any]) -> dict[str, Any]:
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


# A leading bot command, optionally addressed to one bot: /book, /book@spotbook_bot.
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _text_matches(text: str, wanted: str | re.Pattern[str], *, exact: bool) -> bool:
    if isinstance(wanted, re.Pattern):
        return wanted.search(text) is not None
    return text == wanted if exact else wanted in text


# --------------------------------------------------------------------------------------
# HTML parse mode
# --------------------------------------------------------------------------------------

_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG_RE = re.compile(
    r"""<(?P<close>/?)(?P<name>[A-Za-z][A-Za-z0-9-]*)"""
    r"""(?P<attrs>(?:\s+[A-Za-z_][\w-]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)"""
    r"""\s*(?P<selfclose>/?)>"""
)
_ATTR_RE = re.compile(r"""([A-Za-z_][\w-]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into ``(plain_text, entities)``.

    Raises ``ValueError`` with a Telegram-like description on invalid markup. Entity
    offsets and lengths are in UTF-16 code units, as in the Bot API.
    """
    out: list[str] = []
    pos16 = 0
    stack: list[tuple[str, dict[str, Any], int]] = []  # (tag, entity, start offset)
    entities: list[dict[str, Any]] = []
    i = 0

    def at(index: int) -> str:
        return f"at byte offset {len(source[:index].encode())}"

    while i < len(source):
        ch = source[i]
        if ch == "<":
            m = _TAG_RE.match(source, i)
            if m is None:
                raise _HtmlError(f"Unsupported start tag or unescaped '<' {at(i)}")
            name = m["name"].lower()
            if m["close"]:
                if m["attrs"] or m["selfclose"]:
                    raise _HtmlError(f'Unexpected attributes in end tag "{name}" {at(i)}')
                if not stack:
                    raise _HtmlError(f'Unexpected end tag "{name}" {at(i)}')
                open_name, entity, start = stack.pop()
                if open_name != name:
                    raise _HtmlError(
                        f'Unmatched end tag {at(i)}, expected "</{open_name}>", found "</{name}>"'
                    )
                _close_entity(entity, start, pos16, stack, entities)
            else:
                if name not in _TAG_ENTITY:
                    raise _HtmlError(f'Unsupported start tag "{name}" {at(i)}')
                if m["selfclose"]:
                    raise _HtmlError(f'Unexpected self-closing tag "{name}" {at(i)}')
                attrs = {
                    k.lower(): html.unescape(v.strip("\"'")) if v else ""
                    for k, v in _ATTR_RE.findall(m["attrs"])
                }
                stack.append((name, _open_entity(name, attrs, at(i)), pos16))
            i = m.end()
        elif ch == "&":
            m = _ENTITY_RE.match(source, i)
            if m is None:
                raise _HtmlError(f"Unescaped '&' or unsupported HTML entity {at(i)}")
            text = html.unescape(m.group())
            out.append(text)
            pos16 += _utf16_len(text)
            i = m.end()
        elif ch == ">":
            raise _HtmlError(f"Unescaped '>' {at(i)}")
        else:
            j = i + 1
            while j < len(source) and source[j] not in "<&>":
                j += 1
            out.append(source[i:j])
            pos16 += _utf16_len(source[i:j])
            i = j
    if stack:
        raise _HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _open_entity(name: str, attrs: dict[str, str], where: str) -> dict[str, Any]:
    entity: dict[str, Any] = {"type": _TAG_ENTITY[name]}
    if name == "a":
        if not attrs.get("href"):
            raise _HtmlError(f'Tag "a" must have attribute "href" {where}')
        entity["url"] = attrs["href"]
    elif name == "span":
        if attrs.get("class") != "tg-spoiler":
            raise _HtmlError(f'Tag "span" must have class "tg-spoiler" {where}')
    elif name == "tg-emoji":
        if not attrs.get("emoji-id"):
            raise _HtmlError(f'Tag "tg-emoji" must have attribute "emoji-id" {where}')
        entity["custom_emoji_id"] = attrs["emoji-id"]
    elif name == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif name == "code" and attrs.get("class", "").startswith("language-"):
        entity["language"] = attrs["class"].removeprefix("language-")
    return entity


def _close_entity(
    entity: dict[str, Any],
    start: int,
    end: int,
    stack: list[tuple[str, dict[str, Any], int]],
    entities: list[dict[str, Any]],
) -> None:
    if entity["type"] == "code":
        language = entity.pop("language", None)
        if stack and stack[-1][0] == "pre":  # <pre><code class="language-x"> is one entity
            if language:
                stack[-1][1]["language"] = language
            return
    if end > start:  # Telegram drops empty entities
        entities.append({**entity, "offset": start, "length": end - start})


# --------------------------------------------------------------------------------------
# Reply markup
# --------------------------------------------------------------------------------------

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


def _parse_markup(
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
        problem = _deep_link_problem(url)
        if problem:
            raise ApiError(
                400, f"Bad Request: BUTTON_URL_INVALID ({url!r}: {problem})", record=True
            )
    return Button(text=raw["text"], callback_data=data, url=url, raw=raw)


_TME_HOSTS = frozenset({"t.me", "www.t.me", "telegram.me", "www.telegram.me"})
_USERNAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
_START_PAYLOAD_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_START_PARAMS = ("start", "startgroup")


def _deep_link(url: str) -> tuple[str, dict[str, str]] | None:
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


def _deep_link_problem(url: str) -> str | None:
    """Why a bot deep link's start parameter is invalid (1-64 of ``[A-Za-z0-9_-]``), if it is."""
    link = _deep_link(url)
    if link is None:
        return None
    for key in _START_PARAMS:
        if key in link[1] and not _START_PAYLOAD_RE.fullmatch(link[1][key]):
            return f"the {key} parameter must be 1-64 characters of A-Z, a-z, 0-9, _ and -"
    return None


# --------------------------------------------------------------------------------------
# Waiting
# --------------------------------------------------------------------------------------


class _Changes:
    """Wakes up every waiter whenever something changes (single event loop, no locks)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            event = self._event
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


class FakeTelegram:
    """An in-process HTTP server speaking the Telegram Bot API (see the module docstring)."""

    def __init__(
        self,
        token: str = "123456789:TEST-token",
        bot_username: str = "spotbook_test_bot",
        bot_first_name: str = "Spotbook Test",
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.base_url = ""
        self.calls: list[ApiCall] = []
        self.unknown_calls: list[str] = []
        self.errors: list[str] = []
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        # how long the fake waits before delivering again after the bot refused an update or
        # could not be reached (Telegram waits longer, and longer each time)
        self.webhook_retry_seconds = 0.2
        self._webhook_error: tuple[int, str] | None = None  # (unix time, description)
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_client: aiohttp.ClientSession | None = None
        self.users: dict[int, FakeUser] = {}
        self.groups: dict[int, FakeGroup] = {}  # groups, supergroups and channels
        self.chats: dict[int, FakeChat] = {}  # chat id -> the user (private chat) or group
        # Group privacy mode (getMe's can_read_all_group_messages is its negation): in a
        # group where it is not an administrator the bot only gets commands meant for it.
        self.group_privacy = True
        self.downloads: list[str] = []  # file paths the bot downloaded, in order

        self._handlers: dict[str, tuple[str, Callable[[ApiCall], Any]]] = {}
        self._failures: dict[str, list[ApiError]] = {}
        self._drops: dict[str, int] = {}  # method -> how many more calls to drop
        self._delays: dict[str, list[float]] = {}  # method -> seconds to wait before handling
        self._chats: dict[int, dict[int, FakeMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self._updates: list[dict[str, Any]] = []  # pending (unconfirmed) updates
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._files: dict[str, tuple[str, UploadedFile]] = {}  # file_id -> (file_path, file)
        self._callback_queries: dict[str, bool] = {}  # id -> answered
        # Telegram cancels a payment whose pre-checkout query is not answered in time.
        self.pre_checkout_timeout = 10.0
        self._pre_checkout_queries: dict[str, tuple[float, bool]] = {}  # id -> (asked, answered)
        self.payments: list[Payment] = []  # successful payments, in order
        self.star_refunds: list[StarRefund] = []
        self._charges: dict[str, Payment] = {}  # telegram_payment_charge_id -> payment
        self._charge_ids = itertools.count(1)
        self._allowed_updates: set[str] | None = None  # None: Telegram's default set
        self._poll_generation = 0
        self._closing = False
        self._changes = _Changes()
        self._runner: web.AppRunner | None = None
        self._register_builtin_methods()

    # ----- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/file/bot{token}/{file_path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_bad_path)
        # handler_cancellation: a long poll from a killed bot process ends with its socket.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        self._webhook_client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._webhook_task = asyncio.create_task(self._deliver_to_webhook())

    async def stop(self) -> None:
        self._closing = True
        self._changes.notify()  # pending long polls return at once, so does delivery
        if self._webhook_task is not None:
            await self._webhook_task
            self._webhook_task = None
        if self._webhook_client is not None:
            await self._webhook_client.close()
            self._webhook_client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ----- test-facing API -----------------------------------------------------------

    def user(
        self,
        user_id: int = 1001,
        first_name: str = "Alice",
        language_code: str | None = "en",
        username: str | None = None,
        last_name: str | None = None,
    ) -> FakeUser:
        """The Telegram user ``user_id`` (created on first use) with a private chat with the bot."""
        if user_id not in self.users:
            if user_id <= 0:
                raise AssertionError(f"a user id is positive, got {user_id}")
            user = FakeUser(self, user_id, first_name, language_code, username, last_name)
            self.users[user_id] = user
            self._add_chat(user)
        return self.users[user_id]

    def group(self, chat_id: int, title: str, *, type: str = "supergroup") -> FakeGroup:
        """The group chat ``chat_id`` (negative, e.g. ``-100123``), created on first use with
        the bot in it: a member of a ``"group"`` or ``"supergroup"``, an administrator of a
        ``"channel"`` (the only way a bot can post in one)."""
        if chat_id not in self.groups:
            if chat_id >= 0:
                raise AssertionError(f"a group chat id is negative, got {chat_id}")
            if type not in ("group", "supergroup", "channel"):
                raise AssertionError(f"type is group, supergroup or channel, got {type!r}")
            group = FakeGroup(self, chat_id, title, type)
            self.groups[chat_id] = group
            self._add_chat(group)
        return self.groups[chat_id]

    def _add_chat(self, chat: FakeChat) -> None:
        self.chats[chat.chat_id] = chat
        self._chats[chat.chat_id] = {}
        self._next_message_id[chat.chat_id] = 1

    def edit_calls(
        self, chat_id: int, message_id: int | None = None, *, since: int = 0
    ) -> list[ApiCall]:
        """The bot's edit requests (``editMessageText``, ``editMessageReplyMarkup``,
        ``editMessageCaption``, ``editMessageMedia``) for a chat, or one message of it, since
        a :meth:`mark`, in order; refused ones ("message is not modified", ...) included, as
        they count against Telegram's limits too (filter on ``call.ok``). Each call's ``at``
        is its ``time.monotonic()``, e.g. for "at most 20 edits a minute"::

            edits = fake.edit_calls(group.chat_id, card.message_id)
            assert len([c for c in edits if c.at > time.monotonic() - 60]) <= 20
        """
        return [
            call
            for call in self.calls[since:]
            if call.method in _EDIT_METHODS
            and call.params.get("chat_id") == chat_id
            and (message_id is None or call.params.get("message_id") == message_id)
        ]

    def mark(self) -> int:
        """A position in :attr:`calls`; pass it as ``since=`` to only consider later activity."""
        return len(self.calls)

    def point_webhook(self, url: str) -> None:
        """Deliver the next updates to ``url`` instead, with the same secret token and update
        types: what a load balancer in front of several bot instances decides."""
        if not self.webhook_url:
            raise AssertionError("no webhook is set: the bot has not called setWebhook")
        self.webhook_url = url
        self._changes.notify()

    async def wait_for_delivery(
        self,
        predicate: Callable[[WebhookDelivery], bool] | None = None,
        *,
        since: int = 0,
        timeout: float = 10,
    ) -> WebhookDelivery:
        """The first webhook POST (from :attr:`webhook_deliveries` index ``since`` on), answered
        or failed, that matches ``predicate``."""

        def find() -> WebhookDelivery | None:
            for delivery in self.webhook_deliveries[since:]:
                if predicate is None or predicate(delivery):
                    return delivery
            return None

        if not await self._changes.wait_until(lambda: find() is not None, timeout):
            shown = "\n".join(f"  {d}" for d in self.webhook_deliveries[since:][-15:])
            raise AssertionError(
                f"no webhook delivery (since #{since}) matched within {timeout}s; "
                f"deliveries:\n{shown or '  (none)'}"
            )
        found = find()
        assert found is not None
        return found

    def deliveries_to(self, url_prefix: str) -> list[WebhookDelivery]:
        """The webhook POSTs (successful or not) to URLs starting with ``url_prefix``."""
        return [d for d in self.webhook_deliveries if d.url.startswith(url_prefix)]

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` with this error (not recorded in errors).

        ``retry_after`` adds ``parameters.retry_after`` (aiogram raises ``TelegramRetryAfter``).
        """
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        queue = self._failures.setdefault(method.lower(), [])
        queue.extend(ApiError(error_code, description, parameters=parameters) for _ in range(count))

    def drop_next(self, method: str, count: int = 1) -> None:
        """Close the connection of the next ``count`` calls of ``method`` without answering
        or doing anything (a network failure: aiogram raises ``TelegramNetworkError``)."""
        key = method.lower()
        self._drops[key] = self._drops.get(key, 0) + count

    def delay_next(self, method: str, seconds: float, count: int = 1) -> None:
        """Handle the next ``count`` calls of ``method`` only after ``seconds`` (a slow
        Telegram). A client whose timeout is shorter gives up and closes the connection, which
        cancels the call before it is handled."""
        self._delays.setdefault(method.lower(), []).extend([seconds] * count)

    def register(self, method: str, handler: Handler) -> None:
        """Implement (or override) ``method``: ``handler(params) -> result``, sync or async.

        Raise :class:`ApiError` from it to answer with an error. Use :meth:`store_bot_message`
        to create messages (e.g. for ``sendPhoto``).
        """
        self._handlers[method.lower()] = (method, lambda call: handler(call.params))

    async def wait_for_call(
        self,
        method: str,
        predicate: CallPredicate | None = None,
        *,
        since: int = 0,
        timeout: float = 10,
    ) -> ApiCall:
        """The first call of ``method`` at index ``>= since`` that matches ``predicate``.

        Calls already recorded count, so this never misses a fast bot: take
        ``mark = fake.mark()`` *before* triggering something to wait for a new call.
        The call is returned once it has arrived; built-in methods other than the
        ``getUpdates`` long poll have their ``response`` set by then.
        """
        wanted = method.lower()

        def find() -> ApiCall | None:
            for call in self.calls[since:]:
                if call.method.lower() == wanted and (predicate is None or predicate(call)):
                    return call
            return None

        if not await self._changes.wait_until(lambda: find() is not None, timeout):
            recent = [c for c in self.calls[since:] if c.method != "getUpdates"][-15:]
            shown = "\n".join(f"  {c}" for c in recent) or "  (none)"
            raise AssertionError(
                f"no {method} call (since #{since}) matched within {timeout}s; "
                f"recent calls (getUpdates omitted):\n{shown}"
            )
        found = find()
        assert found is not None
        return found

    def messages(self, chat_id: int) -> list[FakeMessage]:
        """Snapshots of the currently visible messages (bot's and user's) of a chat, in order."""
        return [copy.deepcopy(m) for m in self._chats.get(chat_id, {}).values()]

    def inject_update(self, update: Mapping[str, Any]) -> int:
        """Validate ``update`` (without ``update_id``) like aiogram will, then queue it.

        Raises :class:`InvalidUpdateError` instead of letting a bad update wedge polling.
        Returns the assigned ``update_id``.
        """
        update = dict(update)
        if "update_id" in update:
            raise InvalidUpdateError("update_id is assigned by the fake; leave it out")
        kinds = [k for k in update if k in Update.model_fields]
        unknown = [k for k in update if k not in Update.model_fields]
        if len(kinds) != 1 or unknown:
            raise InvalidUpdateError(
                f"an update needs exactly one known field, got known={kinds} unknown={unknown}"
            )
        update_id = next(self._update_ids)
        update = {"update_id": update_id, **update}
        try:
            Update.model_validate(update)
        except ValidationError as e:
            raise InvalidUpdateError(f"aiogram would reject this update: {e}\n{update}") from e
        self._updates.append(update)
        self._changes.notify()
        return update_id

    def bot_commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str | None = None
    ) -> list[dict[str, Any]]:
        """The commands the bot set (``setMyCommands``) for a scope and language."""
        return self._commands.get(
            self._commands_key({"scope": scope, "language_code": language_code}), []
        )

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (via getUpdates ``offset``) or, with a webhook,
        not yet accepted by it (a 2xx answer)."""
        return list(self._updates)

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def store_bot_message(
        self, params: Mapping[str, Any], *, text_key: str = "text", **media: Any
    ) -> dict[str, Any]:
        """Validate and store a bot message for ``params``; return it as a Bot API Message.

        Checks the chat (unknown → 400, blocked → 403), the text or caption (parse mode,
        length) and ``reply_markup``. For media pass ``text_key="caption"`` and the media
        fields of the Message, e.g. ``photo=[{...}]``. Meant for :meth:`register`.
        """
        chat_id = self._chat_id(params)
        if text_key == "text":
            text, entities = self._render_text(params, "text", limit=4096, required=True)
        else:
            text, entities = self._render_text(params, text_key, limit=1024, required=False)
        buttons, reply_keyboard, inline_markup = _parse_markup(params.get("reply_markup"))
        message = FakeMessage(
            message_id=self._take_message_id(chat_id),
            chat_id=chat_id,
            text=text,
            from_bot=True,
            buttons=buttons,
            document=media.get("document"),
            entities=entities,
            reply_markup=inline_markup,
            reply_keyboard=reply_keyboard,
            source=params.get(text_key),
            date=int(time.time()),
            media=media,
        )
        self._store(message)
        return self._message_json(message)

    # ----- HTTP ----------------------------------------------------------------------

    async def _handle_file(self, request: web.Request) -> web.Response:
        """``GET /file/bot<token>/<file_path>``: the bytes of a file ``getFile`` described."""
        path = request.match_info["file_path"]
        if request.match_info["token"] != self.token:
            self.errors.append(f"file download with a wrong token: {path}")
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        found = next((f for p, f in self._files.values() if p == path), None)
        if found is None:
            self.errors.append(f"download of unknown file path {path!r} (call getFile first)")
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        self.downloads.append(path)
        self._changes.notify()
        return web.Response(body=found.content, content_type=found.content_type)

    def _register_file(self, upload: UploadedFile) -> dict[str, Any]:
        """Keep a file for getFile and download; return its Document fields."""
        n = next(self._file_ids)
        file_id = f"BQACAgFake{n}"
        suffix = re.search(r"\.[A-Za-z0-9]{1,8}$", upload.filename)
        self._files[file_id] = (f"documents/file_{n}{suffix.group() if suffix else ''}", upload)
        return {
            "file_id": file_id,
            "file_unique_id": f"AgADFake{n}",
            "file_name": upload.filename,
            "mime_type": upload.content_type,
            "file_size": len(upload.content),
        }

    async def _handle_bad_path(self, request: web.Request) -> web.Response:
        self.errors.append(f"request to unknown path {request.method} {request.path}")
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw_params, files = await self._read_request(request)
        params = _decode_params(raw_params)
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                name = value.removeprefix("attach://")
                if name in files:
                    params[key] = files.pop(name)
        params.update(files)

        known = self._handlers.get(method.lower())
        call = ApiCall(method=known[0] if known else method, params=params, index=len(self.calls))
        self.calls.append(call)
        _current_call.set(call)
        self._changes.notify()
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized", record=True)
            if known is None:
                self.unknown_calls.append(method)
                raise ApiError(
                    404, f"Not Found: unknown method {method} (add it to FakeTelegram)", record=True
                )
            delays = self._delays.get(method.lower())
            if delays:
                await asyncio.sleep(delays.pop(0))  # cancelled if the client gives up first
            if self._drops.get(method.lower()):
                self._drops[method.lower()] -= 1
                return self._drop(request, call)
            failures = self._failures.get(method.lower())
            if failures:
                raise failures.pop(0)
            result = known[1](call)
            if inspect.isawaitable(result):
                result = await result
            body: dict[str, Any] = {"ok": True, "result": result}
        except ApiError as e:
            body = {"ok": False, "error_code": e.error_code, "description": e.description}
            if e.parameters:
                body["parameters"] = e.parameters
            if e.record:
                self.errors.append(f"{call.method}: {e.description} (params: {_short(params)})")
        except Exception as e:  # a bug in a registered handler: fail the test, not the bot
            description = f"Internal Server Error: fake handler crashed: {e!r}"
            body = {"ok": False, "error_code": 500, "description": description}
            self.errors.append(f"{call.method}: {description}")
        call.response = body
        self._changes.notify()
        status = 200 if body["ok"] else body["error_code"]
        return web.json_response(body, status=status)

    def _drop(self, request: web.Request, call: ApiCall) -> web.Response:
        call.dropped = True
        if request.transport is not None:
            request.transport.close()  # the response below is never written
        self._changes.notify()
        return web.Response(status=500)

    @staticmethod
    async def _read_request(
        request: web.Request,
    ) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
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

    # ----- state helpers -------------------------------------------------------------

    def _chat_id(self, params: Mapping[str, Any]) -> int:
        chat_id = params.get("chat_id")
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found", record=True)
        refusal = chat._refusal()
        if refusal is not None:
            raise refusal
        return chat.chat_id

    def _take_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id[chat_id]
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _store(self, message: FakeMessage) -> None:
        call = _current_call.get()
        message.version = call.index if call is not None else len(self.calls)
        if message.created < 0:
            message.created = message.version
        self._chats[message.chat_id][message.message_id] = message
        self._changes.notify()

    def _find_message(self, params: Mapping[str, Any], verb: str) -> FakeMessage:
        if "inline_message_id" in params:
            raise ApiError(
                400, "Bad Request: inline messages are not supported by the fake", record=True
            )
        chat_id = self._chat_id(params)
        message = self._chats[chat_id].get(params.get("message_id"))  # type: ignore[arg-type]
        if message is None:
            raise ApiError(400, f"Bad Request: message to {verb} not found", record=True)
        return message

    def _message_json(self, message: FakeMessage) -> dict[str, Any]:
        chat = self.chats[message.chat_id]
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": chat.chat_json(),
        }
        if isinstance(chat, FakeGroup) and chat.type == "channel":
            data["sender_chat"] = chat.chat_json()  # channel posts have no "from"
        elif message.from_bot:
            data["from"] = self.bot_user()
        else:
            sender = message.sender_id if message.sender_id is not None else message.chat_id
            data["from"] = self.users[sender].user_json()
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if message.media:
            data.update(message.media)
            if message.text:
                data["caption"] = message.text
            if message.entities:
                data["caption_entities"] = message.entities
        else:
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        if message.reply_markup is not None:
            data["reply_markup"] = message.reply_markup
        return data

    def _render_text(
        self, params: Mapping[str, Any], key: str, *, limit: int, required: bool
    ) -> tuple[str, list[dict[str, Any]]]:
        """Validate a text/caption parameter and return (visible text, entities)."""
        source = params.get(key)
        if source is None or source == "":
            if required:
                raise ApiError(400, "Bad Request: message text is empty", record=True)
            return "", []
        source = str(source)
        parse_mode = params.get("parse_mode")
        entities: list[dict[str, Any]] = list(
            params.get(f"{key}_entities" if key == "caption" else "entities") or []
        )
        if parse_mode is None or parse_mode == "":
            text = source
        elif str(parse_mode).lower() == "html":
            try:
                text, entities = parse_html(source)
            except _HtmlError as e:
                raise ApiError(400, f"Bad Request: can't parse entities: {e}", record=True) from e
        elif str(parse_mode).lower() in ("markdown", "markdownv2"):
            text = source  # not emulated: kept as sent
        else:
            raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r}", record=True)
        if required and not text.strip():
            raise ApiError(400, "Bad Request: message text is empty", record=True)
        if _utf16_len(text) > limit:
            what = "message is too long" if key == "text" else "message caption is too long"
            raise ApiError(400, f"Bad Request: {what} ({_utf16_len(text)} > {limit})", record=True)
        return text, entities

    def _check_poll_conflict(self) -> None:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
                record=True,
            )

    # ----- Bot API methods -----------------------------------------------------------

    def _register_builtin_methods(self) -> None:
        builtin: dict[str, Callable[[ApiCall], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "setMyDescription": lambda call: True,
            "setMyShortDescription": lambda call: True,
            "sendDocument": self._send_document,
            "getFile": self._get_file,
            "sendInvoice": self._send_invoice,
            "answerPreCheckoutQuery": self._answer_pre_checkout_query,
            "refundStarPayment": self._refund_star_payment,
        }
        for name, handler in builtin.items():
            self._handlers[name.lower()] = (name, handler)

    def _get_me(self, call: ApiCall) -> dict[str, Any]:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.group_privacy,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, call: ApiCall) -> list[dict[str, Any]]:
        self._check_poll_conflict()
        p = call.params
        offset = p.get("offset")
        if isinstance(offset, int):
            if offset < 0:
                self._updates = self._updates[offset:]
            else:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if "allowed_updates" in p:
            allowed = p["allowed_updates"]
            self._allowed_updates = set(allowed) if allowed else None
        limit = p.get("limit", 100)
        limit = min(max(limit if isinstance(limit, int) else 100, 1), 100)
        timeout = p.get("timeout", 0)
        timeout = timeout if isinstance(timeout, int) else 0

        # A newer getUpdates terminates an older one, as on Telegram (two bot instances).
        self._poll_generation += 1
        generation = self._poll_generation
        self._changes.notify()

        def ready() -> bool:
            self._drop_disallowed_updates()
            return (
                bool(self._updates)
                or self._closing
                or generation != self._poll_generation
                or bool(self.webhook_url)
            )

        await self._changes.wait_until(ready, timeout)
        self._check_poll_conflict()
        if generation != self._poll_generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
                record=True,
            )
        if self._closing:
            return []
        return self._updates[:limit]

    def _drop_disallowed_updates(self) -> None:
        kept = []
        for update in self._updates:
            kind = next(k for k in update if k != "update_id")
            allowed = (
                kind in self._allowed_updates
                if self._allowed_updates is not None
                else kind not in _NOT_DEFAULT_UPDATES
            )
            if allowed:
                kept.append(update)
            else:
                self.errors.append(
                    f"update {update['update_id']} ({kind}) was dropped: the bot's "
                    f"allowed_updates {sorted(self._allowed_updates or [])} exclude it "
                    "(aiogram asks only for update types that have handlers)"
                )
        self._updates = kept

    def _delete_webhook(self, call: ApiCall) -> bool:
        self.webhook_url = ""
        self.webhook_secret = None
        self._webhook_error = None
        if call.params.get("drop_pending_updates"):
            self._updates.clear()
        self._changes.notify()
        return True

    def _set_webhook(self, call: ApiCall) -> bool:
        p = call.params
        url = str(p.get("url", ""))
        if not url:  # Telegram: an empty URL removes the webhook
            return self._delete_webhook(call)
        parts = urlsplit(url)
        # http is what a self-hosted Bot API server (--local) accepts besides https
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ApiError(
                400, "Bad Request: bad webhook: invalid webhook URL specified", record=True
            )
        secret = p.get("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.fullmatch(str(secret)):
            raise ApiError(
                400, "Bad Request: secret token contains unallowed characters", record=True
            )
        if "allowed_updates" in p:
            allowed = p["allowed_updates"]
            if not isinstance(allowed, list):
                raise ApiError(400, "Bad Request: can't parse allowed updates", record=True)
            self._allowed_updates = set(allowed) if allowed else None
        if p.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook_url = url
        self.webhook_secret = None if secret is None else str(secret)
        self._webhook_error = None
        self._changes.notify()  # a long poll under way ends with the conflict
        return True

    def _get_webhook_info(self, call: ApiCall) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_url:
            info["max_connections"] = 40
            if self._allowed_updates is not None:
                info["allowed_updates"] = sorted(self._allowed_updates)
            if self._webhook_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    async def _deliver_to_webhook(self) -> None:
        """POST pending updates to the webhook one at a time, in order, while one is set."""

        def due() -> bool:
            if self._closing:
                return True
            if not self.webhook_url:
                return False
            self._drop_disallowed_updates()
            return bool(self._updates)

        while True:
            await self._changes.wait_until(due, timeout=3600)
            if self._closing:
                return
            if not due():
                continue
            update, url = self._updates[0], self.webhook_url
            delivery = await self._post_update(update, url)
            self.webhook_deliveries.append(delivery)
            if delivery.ok:
                self._updates = [u for u in self._updates if u is not update]
                self._changes.notify()
                continue
            self._webhook_error = (int(time.time()), delivery.error or f"HTTP {delivery.status}")
            self._changes.notify()
            # again after a pause, or at once when the webhook moves
            await self._changes.wait_until(
                lambda url=url: self._closing or self.webhook_url != url,
                self.webhook_retry_seconds,
            )

    async def _post_update(self, update: dict[str, Any], url: str) -> WebhookDelivery:
        assert self._webhook_client is not None
        headers = {SECRET_HEADER: self.webhook_secret} if self.webhook_secret else {}
        try:
            async with self._webhook_client.post(url, json=update, headers=headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            reason = str(e) or type(e).__name__
            return WebhookDelivery(update["update_id"], url, None, f"Connection failed: {reason}")
        error = None if 200 <= status < 300 else f"Wrong response from the webhook: {status}"
        return WebhookDelivery(update["update_id"], url, status, error)

    def _send_message(self, call: ApiCall) -> dict[str, Any]:
        return self.store_bot_message(call.params)

    def _send_document(self, call: ApiCall) -> dict[str, Any]:
        document = call.params.get("document")
        if document is None or document == "":
            raise ApiError(400, "Bad Request: there is no document in the request", record=True)
        if isinstance(document, UploadedFile):
            info = self._register_file(document)
        else:  # a file_id or URL
            n = next(self._file_ids)
            info = {"file_id": str(document), "file_unique_id": f"AgADFake{n}"}
        result = self.store_bot_message(call.params, text_key="caption", document=info)
        if isinstance(document, UploadedFile):
            self._chats[result["chat"]["id"]][result["message_id"]].file = document
        return result

    def _get_file(self, call: ApiCall) -> dict[str, Any]:
        file_id = str(call.params.get("file_id", ""))
        if file_id not in self._files:
            raise ApiError(400, "Bad Request: invalid file_id", record=True)
        path, upload = self._files[file_id]
        n = file_id.removeprefix("BQACAgFake")
        return {
            "file_id": file_id,
            "file_unique_id": f"AgADFake{n}",
            "file_size": len(upload.content),
            "file_path": path,
        }

    def _edit_message_text(self, call: ApiCall) -> dict[str, Any]:
        message = self._find_message(call.params, "edit")
        if not message.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited", record=True)
        if message.media:
            raise ApiError(400, "Bad Request: there is no text in the message to edit", record=True)
        text, entities = self._render_text(call.params, "text", limit=4096, required=True)
        # Without reply_markup Telegram removes the inline keyboard.
        buttons, _, inline_markup = _parse_markup(call.params.get("reply_markup"))
        if (text, entities, inline_markup) == (
            message.text,
            message.entities,
            message.reply_markup,
        ):
            raise _not_modified()
        message.text, message.entities, message.source = text, entities, call.params.get("text")
        message.buttons, message.reply_markup = buttons, inline_markup
        return self._mark_edited(message)

    def _edit_message_reply_markup(self, call: ApiCall) -> dict[str, Any]:
        message = self._find_message(call.params, "edit")
        if not message.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited", record=True)
        buttons, _, inline_markup = _parse_markup(call.params.get("reply_markup"))
        if inline_markup == message.reply_markup:
            raise _not_modified()
        message.buttons, message.reply_markup = buttons, inline_markup
        return self._mark_edited(message)

    def _mark_edited(self, message: FakeMessage) -> dict[str, Any]:
        message.edited = True
        message.edits += 1
        message.edit_date = int(time.time())
        self._store(message)
        return self._message_json(message)

    def _delete_message(self, call: ApiCall) -> bool:
        message = self._find_message(call.params, "delete")
        chat = self.chats[message.chat_id]
        if (
            not message.from_bot
            and isinstance(chat, FakeGroup)
            and chat.bot_status != "administrator"
        ):
            raise ApiError(
                400,
                "Bad Request: message can't be deleted (only an administrator may delete "
                "other members' messages in a group)",
                record=True,
            )
        del self._chats[message.chat_id][message.message_id]
        self._changes.notify()
        return True

    def _answer_callback_query(self, call: ApiCall) -> bool:
        query_id = str(call.params.get("callback_query_id", ""))
        if query_id not in self._callback_queries:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query id is invalid",
                record=True,
            )
        if self._callback_queries[query_id]:
            # Telegram refuses a second answer; aiogram-dialog logs and ignores this, e.g.
            # when an on_click handler answered with a text first. Not a protocol error.
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query id is invalid",
            )
        text = call.params.get("text")
        if text is not None and len(str(text)) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG (callback answer text)", record=True)
        self._callback_queries[query_id] = True
        return True

    def _send_chat_action(self, call: ApiCall) -> bool:
        self._chat_id(call.params)
        actions = {
            "typing",
            "upload_photo",
            "record_video",
            "upload_video",
            "record_voice",
            "upload_voice",
            "upload_document",
            "choose_sticker",
            "find_location",
            "record_video_note",
            "upload_video_note",
        }
        if call.params.get("action") not in actions:
            raise ApiError(400, "Bad Request: wrong parameter action in request", record=True)
        return True

    @staticmethod
    def _commands_key(params: Mapping[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _set_my_commands(self, call: ApiCall) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list of at most 100", record=True)
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            description = command.get("description", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name) or not 1 <= len(description) <= 256:
                raise ApiError(400, f"Bad Request: BOT_COMMAND_INVALID ({command!r})", record=True)
        scope = call.params.get("scope")
        if isinstance(scope, dict) and "chat_id" in scope and scope["chat_id"] not in self._chats:
            # a user who never opened the bot: a correct bot may get this, so not recorded
            raise ApiError(400, "Bad Request: chat not found")
        self._commands[self._commands_key(call.params)] = commands
        return True

    def _get_my_commands(self, call: ApiCall) -> list[dict[str, Any]]:
        return self._commands.get(self._commands_key(call.params), [])

    def _delete_my_commands(self, call: ApiCall) -> bool:
        self._commands.pop(self._commands_key(call.params), None)
        return True

    # ----- payments ------------------------------------------------------------------

    def _send_invoice(self, call: ApiCall) -> dict[str, Any]:
        invoice = _parse_invoice(call.params)
        markup = call.params.get("reply_markup")
        if markup is not None:
            rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
            first = rows[0][0] if rows and rows[0] else None
            if not isinstance(first, dict) or first.get("pay") is not True:
                # an invoice's keyboard must start with the Pay button
                raise ApiError(400, "Bad Request: REPLY_MARKUP_BUY_EMPTY", record=True)
        message_json = self.store_bot_message(
            call.params,
            text_key="caption",  # an invoice has no text; there is no caption parameter either
            invoice={
                "title": invoice.title,
                "description": invoice.description,
                "start_parameter": invoice.start_parameter,
                "currency": invoice.currency,
                "total_amount": invoice.total_amount,
            },
        )
        self._chats[message_json["chat"]["id"]][message_json["message_id"]].invoice = invoice
        return message_json

    def _answer_pre_checkout_query(self, call: ApiCall) -> bool:
        p = call.params
        query_id = str(p.get("pre_checkout_query_id", ""))
        if query_id not in self._pre_checkout_queries:
            raise ApiError(400, "Bad Request: QUERY_ID_INVALID", record=True)
        asked, answered = self._pre_checkout_queries[query_id]
        if answered:
            raise ApiError(400, "Bad Request: QUERY_ID_INVALID (already answered)", record=True)
        if time.monotonic() - asked > self.pre_checkout_timeout:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query id is "
                f"invalid (pre-checkout queries must be answered within "
                f"{self.pre_checkout_timeout:g}s)",
                record=True,
            )
        ok = p.get("ok")
        if not isinstance(ok, bool):
            raise ApiError(400, 'Bad Request: parameter "ok" is required (a Boolean)', record=True)
        if not ok and not str(p.get("error_message") or "").strip():
            raise ApiError(
                400, "Bad Request: error_message is required when ok is false", record=True
            )
        self._pre_checkout_queries[query_id] = (asked, True)
        return True

    def _refund_star_payment(self, call: ApiCall) -> bool:
        p = call.params
        charge_id = str(p.get("telegram_payment_charge_id", ""))
        payment = self._charges.get(charge_id)
        if payment is None or payment.user_id != p.get("user_id") or payment.currency != STARS:
            # card payments have no refund method in the Bot API: not found either
            raise ApiError(400, "Bad Request: CHARGE_NOT_FOUND", record=True)
        if any(r.charge_id == charge_id for r in self.star_refunds):
            # a correct bot may retry a refund whose answer it lost: not recorded
            raise ApiError(400, "Bad Request: CHARGE_ALREADY_REFUNDED")
        self.star_refunds.append(
            StarRefund(payment.user_id, charge_id, payment.total_amount, payment.invoice_payload)
        )
        user = self.users[payment.user_id]
        user._receive_service_message(
            "refunded_payment",
            {
                "currency": STARS,
                "total_amount": payment.total_amount,
                "invoice_payload": payment.invoice_payload,
                "telegram_payment_charge_id": charge_id,
            },
        )
        return True

    def _set_chat_menu_button(self, call: ApiCall) -> bool:
        chat_id = call.params.get("chat_id")
        self.menu_buttons[chat_id] = call.params.get("menu_button") or {"type": "default"}
        return True

    def _get_chat_menu_button(self, call: ApiCall) -> dict[str, Any]:
        chat_id = call.params.get("chat_id")
        return self.menu_buttons.get(chat_id, self.menu_buttons.get(None, {"type": "commands"}))


_CURRENCY_RE = re.compile(r"[A-Z]{3}")


def _invoice_error(problem: str) -> ApiError:
    return ApiError(400, f"Bad Request: {problem}", record=True)


def _parse_invoice(p: Mapping[str, Any]) -> SentInvoice:
    """Validate ``sendInvoice`` parameters as Telegram does; raise :class:`ApiError`.

    Error codes are Telegram's where known (PAYMENT_PROVIDER_INVALID, STARS_INVOICE_INVALID,
    ...); a short explanation follows in parentheses.
    """
    title, description = str(p.get("title") or ""), str(p.get("description") or "")
    payload, currency = str(p.get("payload") or ""), str(p.get("currency") or "")
    if not 1 <= len(title) <= 32:
        raise _invoice_error(f"INVOICE_TITLE_INVALID (title is 1-32 characters, got {title!r})")
    if not 1 <= len(description) <= 255:
        raise _invoice_error(
            f"INVOICE_DESCRIPTION_INVALID (description is 1-255 characters, got {len(description)})"
        )
    if not 1 <= len(payload.encode()) <= 128:
        raise _invoice_error(
            f"INVOICE_PAYLOAD_INVALID (payload is 1-128 bytes, got {len(payload.encode())})"
        )
    if not _CURRENCY_RE.fullmatch(currency):
        raise _invoice_error(f"CURRENCY_INVALID ({currency!r})")
    prices = _parse_prices(p.get("prices"))
    provider_token = str(p.get("provider_token") or "")
    max_tip = p.get("max_tip_amount") or 0
    tips = p.get("suggested_tip_amounts") or []
    if not isinstance(max_tip, int) or max_tip < 0:
        raise _invoice_error(f"max_tip_amount must be a non-negative integer, got {max_tip!r}")
    if currency == STARS:
        if len(prices) != 1:
            raise _invoice_error(f"STARS_INVOICE_INVALID (exactly one price, got {len(prices)})")
        if provider_token:
            raise _invoice_error("STARS_INVOICE_INVALID (no provider_token for Stars)")
        if max_tip or tips:
            raise _invoice_error("STARS_INVOICE_INVALID (no tips for Stars)")
    elif not provider_token:
        raise _invoice_error(f"PAYMENT_PROVIDER_INVALID (a {currency} invoice needs a token)")
    if currency == STARS and prices[0]["amount"] <= 0:
        raise _invoice_error("CURRENCY_TOTAL_AMOUNT_INVALID (Stars price must be > 0)")
    if sum(price["amount"] for price in prices) <= 0:
        raise _invoice_error("CURRENCY_TOTAL_AMOUNT_INVALID (the total must be > 0)")
    if tips and (
        not isinstance(tips, list)
        or len(tips) > 4
        or not all(isinstance(t, int) and 0 < t <= max_tip for t in tips)
        or tips != sorted(set(tips))
    ):
        raise _invoice_error(f"suggested_tip_amounts invalid: {tips!r} (max {max_tip})")
    return SentInvoice(
        title=title,
        description=description,
        payload=payload,
        currency=currency,
        prices=prices,
        provider_token=provider_token,
        max_tip_amount=max_tip,
        start_parameter=str(p.get("start_parameter") or ""),
    )


def _parse_prices(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise _invoice_error("prices must be a non-empty JSON array of LabeledPrice")
    for price in raw:
        label = price.get("label") if isinstance(price, dict) else None
        amount = price.get("amount") if isinstance(price, dict) else None
        # components may be negative (a discount); only the total must be positive
        if not label or not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
            raise _invoice_error(
                f"LabeledPrice needs a label and a non-zero integer amount, got {price!r}"
            )
    return raw


def _not_modified() -> ApiError:
    return ApiError(
        400,
        "Bad Request: message is not modified: specified new message content and reply "
        "markup are exactly the same as a current content and reply markup of the message",
    )


def _short(params: Mapping[str, Any], limit: int = 300) -> str:
    text = repr(dict(params))
    return text if len(text) <= limit else text[:limit] + "…"


# --------------------------------------------------------------------------------------
# The user side
# --------------------------------------------------------------------------------------


class FakeChat:
    """What a private chat (:class:`FakeUser`) and a group (:class:`FakeGroup`) share: the
    chat's visible messages, waiting for the bot's, and pressing their buttons. One
    implementation serves both; ``chat_id`` is the chat's id."""

    fake: FakeTelegram
    chat_id: int

    def chat_json(self) -> dict[str, Any]:
        """The Bot API Chat object of this chat."""
        raise NotImplementedError

    def _refusal(self) -> ApiError | None:
        """The error Telegram answers the bot's requests to this chat with, if any."""
        return None

    # ----- a user's message arriving in the chat --------------------------------------

    def _user_message(self, sender: FakeUser | None, text: str, **fields: Any) -> FakeMessage:
        """A message from ``sender`` (``None``: a channel post), for :meth:`_receive`; a
        leading ``/command`` or ``/command@username`` gets a bot_command entity."""
        message = FakeMessage(
            message_id=self.fake._next_message_id[self.chat_id],
            chat_id=self.chat_id,
            text=text,
            from_bot=False,
            date=int(time.time()),
            sender_id=sender.id if sender is not None else None,
            **fields,
        )
        command = _COMMAND_RE.match(text) if not message.media else None
        if command:
            message.entities = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command.group())}
            ]
        return message

    def _receive(
        self, message: FakeMessage, *, kind: str = "message", deliver: bool = True
    ) -> FakeMessage:
        """Put ``message`` in the chat and, if ``deliver``, send it to the bot as a ``kind``
        update (validated first, so a bad one is neither stored nor queued)."""
        fake = self.fake
        if deliver:
            message.update_id = fake.inject_update({kind: fake._message_json(message)})
        fake._take_message_id(self.chat_id)
        fake._store(message)
        return message

    # ----- buttons -------------------------------------------------------------------

    def _find_button(
        self, wanted: str | re.Pattern[str], message_id: int | None
    ) -> tuple[FakeMessage, Button]:
        chat = self.fake._chats[self.chat_id]
        candidates = [chat[message_id]] if message_id in chat else []
        if message_id is None:
            candidates = [m for m in reversed(chat.values()) if m.buttons]
        for message in candidates:
            button = message.button(wanted)
            if button is not None:
                return message, button
        where = f"message #{message_id}" if message_id is not None else "any message"
        raise AssertionError(
            f"no button {_show(wanted)} in {where} of chat {self.chat_id}; "
            f"messages (newest last):\n{self.describe_chat()}"
        )

    async def _click(
        self,
        user: FakeUser,
        button_text: str | re.Pattern[str],
        message_id: int | None,
        timeout: float,
    ) -> str | None:
        message, button = self._find_button(button_text, message_id)
        if button.url is not None:
            raise AssertionError(f"button {button.text!r} is a URL button: {button.url}")
        if button.callback_data is None:
            raise AssertionError(f"button {button.text!r} has no callback_data: {button.raw}")
        return await self._press(user, message, button.callback_data, timeout)

    async def _press(
        self, user: FakeUser, message: FakeMessage, data: str, timeout: float
    ) -> str | None:
        fake = self.fake
        query_id = str(4_000_000_000_000_000_000 + next(fake._query_ids))
        fake._callback_queries[query_id] = False
        since = fake.mark()
        fake.inject_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.user_json(),
                    "message": fake._message_json(message),
                    "chat_instance": str(-7_000_000_000 - self.chat_id),
                    "data": data,
                }
            }
        )
        try:
            answer = await fake.wait_for_call(
                "answerCallbackQuery",
                lambda c: str(c.params.get("callback_query_id")) == query_id,
                since=since,
                timeout=timeout,
            )
        except AssertionError as e:
            raise AssertionError(
                f"the bot did not answer the callback query {data!r} on message "
                f"#{message.message_id} within {timeout}s\n{e}\nchat:\n{self.describe_chat()}"
            ) from None
        text = answer.params.get("text")
        return None if text is None else str(text)

    # ----- observing -----------------------------------------------------------------

    def messages(self) -> list[FakeMessage]:
        return self.fake.messages(self.chat_id)

    def bot_messages(self) -> list[FakeMessage]:
        return [m for m in self.messages() if m.from_bot]

    def last_bot_message(self) -> FakeMessage | None:
        messages = self.bot_messages()
        return messages[-1] if messages else None

    def buttons(self) -> list[str]:
        """Button texts of the newest bot message that has an inline keyboard."""
        for message in reversed(self.bot_messages()):
            if message.buttons:
                return message.button_texts
        return []

    def edit_calls(self, message_id: int | None = None, *, since: int = 0) -> list[ApiCall]:
        """The bot's edit requests in this chat: see :meth:`FakeTelegram.edit_calls`."""
        return self.fake.edit_calls(self.chat_id, message_id, since=since)

    async def wait_message(
        self,
        contains: str | re.Pattern[str] | None = None,
        *,
        predicate: MessagePredicate | None = None,
        since: int | None = None,
        new: bool = False,
        timeout: float = 10,
    ) -> FakeMessage:
        """Wait until a visible bot message matches; return the newest match (a snapshot).

        ``contains`` is a substring or a regex searched in the visible text. With
        ``since=fake.mark()`` only messages sent or edited after that point count (an edit
        that only removes a keyboard counts too); add ``new=True`` to only accept messages
        *sent* after it.
        """

        def find() -> FakeMessage | None:
            for message in reversed(self.fake._chats[self.chat_id].values()):
                if not message.from_bot:
                    continue
                if since is not None and (message.created if new else message.version) < since:
                    continue
                if contains is not None and not _text_matches(message.text, contains, exact=False):
                    continue
                if predicate is None or predicate(message):
                    return message
            return None

        if not await self.fake._changes.wait_until(lambda: find() is not None, timeout):
            what = f"no bot message matching {_show(contains)}"
            if predicate is not None:
                what += " and the predicate"
            if since is not None:
                what += f" {'sent' if new else 'sent or edited'} since #{since}"
            raise AssertionError(
                f"{what} in chat {self.chat_id} within {timeout}s; "
                f"messages (newest last):\n{self.describe_chat()}"
            )
        found = find()
        assert found is not None
        return copy.deepcopy(found)

    def describe_chat(self, last: int = 8) -> str:
        messages = list(self.fake._chats[self.chat_id].values())[-last:]
        return "\n".join(f"  {m.describe()}" for m in messages) or "  (no messages)"


class FakeUser(FakeChat):
    """A Telegram user in a private chat with the bot (``chat_id == id``)."""

    def __init__(
        self,
        fake: FakeTelegram,
        user_id: int,
        first_name: str,
        language_code: str | None,
        username: str | None,
        last_name: str | None = None,
    ) -> None:
        self.fake = fake
        self.id = user_id
        self.chat_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.language_code = language_code
        self.username = username
        self.blocked = False  # when True, sending to this chat answers 403 "bot was blocked"

    def _refusal(self) -> ApiError | None:
        if self.blocked:  # a correct bot gets this: answered, not recorded as an error
            return ApiError(403, "Forbidden: bot was blocked by the user")
        return None

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.first_name!r})"

    def user_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        optional = {
            "last_name": self.last_name,
            "username": self.username,
            "language_code": self.language_code,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        return data

    def chat_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.chat_id,
            "type": "private",
            "first_name": self.first_name,
        }
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        return data

    # ----- acting --------------------------------------------------------------------

    async def send(self, text: str) -> FakeMessage:
        """Send a private text message; a leading ``/command`` gets a bot_command entity."""
        return copy.deepcopy(self._receive(self._user_message(self, text)))

    async def send_document(
        self,
        filename: str,
        content: bytes,
        *,
        caption: str | None = None,
        mime_type: str = "application/octet-stream",
    ) -> FakeMessage:
        """Send a file as a document; the bot can ``getFile`` it and download its bytes."""
        upload = UploadedFile(filename, content, mime_type)
        info = self.fake._register_file(upload)
        message = self._user_message(
            self, caption or "", document=info, file=upload, media={"document": info}
        )
        return copy.deepcopy(self._receive(message))

    async def start(self, payload: str | None = None) -> FakeMessage:
        """Send ``/start`` (``/start <payload>`` for a deep link's payload), as the Start
        button or a ``t.me/<bot>?start=<payload>`` link does."""
        return await self.send("/start" if payload is None else f"/start {payload}")

    async def open_url(self, url: str) -> FakeMessage:
        """Open a URL (e.g. from :attr:`FakeMessage.url_buttons`) in the Telegram app.

        Only deep links to the bot are supported: ``https://t.me/<bot username>?start=X``
        sends ``/start X`` from this user, ``https://t.me/<bot username>`` opens the chat
        and presses Start (``/start``). Anything else fails the test.
        """
        link = _deep_link(url)
        if link is None or link[0].lower() != self.fake.bot_username.lower():
            raise AssertionError(
                f"{url!r} is not a link to this bot (https://t.me/{self.fake.bot_username}); "
                "the fake can only open the bot's deep links"
            )
        query = link[1]
        if set(query) - {"start"}:
            raise AssertionError(f"{url!r}: the fake only opens ?start= deep links")
        payload = query.get("start")
        if payload is not None and not _START_PAYLOAD_RE.fullmatch(payload):
            raise AssertionError(
                f"{url!r}: the Telegram app ignores an invalid start parameter "
                "(1-64 characters of A-Z, a-z, 0-9, _ and -)"
            )
        return await self.start(payload)

    async def click(
        self,
        button_text: str | re.Pattern[str],
        *,
        message_id: int | None = None,
        timeout: float = 10,
    ) -> str | None:
        """Press an inline button and wait for the bot to answer the callback query.

        Uses the newest message having a button whose stripped text equals ``button_text``
        (or a regex search), or the message ``message_id``. Returns the answer's text.
        """
        return await self._click(self, button_text, message_id, timeout)

    async def click_data(
        self, callback_data: str, message_id: int, timeout: float = 10
    ) -> str | None:
        """Send a callback query with arbitrary (possibly forged) data from ``message_id``."""
        message = self.fake._chats[self.chat_id].get(message_id)
        if message is None:
            raise AssertionError(
                f"no message #{message_id} in chat {self.chat_id}:\n{self.describe_chat()}"
            )
        return await self._press(self, message, callback_data, timeout)

    async def pay(
        self,
        invoice_message: FakeMessage | int | None = None,
        *,
        tip_amount: int = 0,
        timeout: float | None = None,
    ) -> Payment:
        """Tap Pay on an invoice and confirm, as Telegram's payment form does.

        Sends a ``pre_checkout_query`` for the newest unpaid invoice in the chat (or the given
        message / message id) and waits for the bot's ``answerPreCheckoutQuery`` (at most
        :attr:`FakeTelegram.pre_checkout_timeout`, Telegram's 10 s, unless ``timeout`` is
        given). If the bot says ok, the user's ``successful_payment`` message follows. Returns
        the :class:`Payment`; ``payment.ok`` is false (with ``error_message``) if the bot refused.
        """
        fake = self.fake
        message = self._find_invoice(invoice_message)
        invoice = message.invoice
        assert invoice is not None
        if tip_amount and not 0 < tip_amount <= invoice.max_tip_amount:
            raise AssertionError(f"tip {tip_amount} not allowed (max {invoice.max_tip_amount})")
        query_id = str(5_000_000_000_000_000_000 + next(fake._query_ids))
        total = invoice.total_amount + tip_amount
        fake._pre_checkout_queries[query_id] = (time.monotonic(), False)
        since = fake.mark()
        fake.inject_update(
            {
                "pre_checkout_query": {
                    "id": query_id,
                    "from": self.user_json(),
                    "currency": invoice.currency,
                    "total_amount": total,
                    "invoice_payload": invoice.payload,
                }
            }
        )
        wait = fake.pre_checkout_timeout if timeout is None else timeout
        try:
            answer = await fake.wait_for_call(
                "answerPreCheckoutQuery",
                # an answer Telegram refused leaves the query open: the bot may answer again
                lambda c: str(c.params.get("pre_checkout_query_id")) == query_id and c.ok,
                since=since,
                timeout=wait,
            )
        except AssertionError as e:
            raise AssertionError(
                f"the bot did not answer the pre-checkout query for {invoice.payload!r} within "
                f"{wait:g}s (Telegram cancels the payment)\n{e}\nchat:\n{self.describe_chat()}"
            ) from None
        payment = Payment(
            user_id=self.id,
            query_id=query_id,
            currency=invoice.currency,
            total_amount=total,
            invoice_payload=invoice.payload,
            answer=answer,
            ok=answer.params["ok"],
            error_message=answer.params.get("error_message"),
        )
        if not payment.ok:
            return payment
        n = next(fake._charge_ids)
        payment.charge_id = f"stxFake{n:06d}" if invoice.stars else f"6000000{n:06d}_fake"
        payment.provider_charge_id = "" if invoice.stars else f"ch_fake_{n:06d}"
        invoice.charge_id = payment.charge_id
        payment.message, payment.update_id = self._receive_service_message(
            "successful_payment",
            {
                "currency": payment.currency,
                "total_amount": payment.total_amount,
                "invoice_payload": payment.invoice_payload,
                "telegram_payment_charge_id": payment.charge_id,
                "provider_payment_charge_id": payment.provider_charge_id,
            },
        )
        fake.payments.append(payment)
        fake._charges[payment.charge_id] = payment
        return payment

    def repeat_payment(self, payment: Payment) -> int:
        """Deliver the same ``successful_payment`` message again in a new update, as Telegram
        may; returns the new ``update_id``."""
        if payment.message is None:
            raise AssertionError(f"payment {payment.query_id} was not made (ok={payment.ok})")
        return self.fake.inject_update({"message": copy.deepcopy(payment.message)})

    def _receive_service_message(
        self, kind: str, data: dict[str, Any]
    ) -> tuple[dict[str, Any], int]:
        """Put a payment service message from this user in the chat and send it to the bot."""
        message = self._receive(self._user_message(self, "", media={kind: data}))
        assert message.update_id is not None
        return self.fake._message_json(message), message.update_id

    def _find_invoice(self, wanted: FakeMessage | int | None) -> FakeMessage:
        chat = self.fake._chats[self.chat_id]
        if wanted is None:
            unpaid = [m for m in chat.values() if m.invoice and not m.invoice.charge_id]
            if not unpaid:
                chat_text = self.describe_chat()
                raise AssertionError(f"no unpaid invoice in chat {self.chat_id}:\n{chat_text}")
            return unpaid[-1]
        message_id = wanted if isinstance(wanted, int) else wanted.message_id
        message = chat.get(message_id)
        if message is None or message.invoice is None:
            raise AssertionError(
                f"message #{message_id} is not an invoice in chat {self.chat_id}:\n"
                f"{self.describe_chat()}"
            )
        if message.invoice.charge_id:
            raise AssertionError(
                f"invoice #{message_id} is already paid ({message.invoice.charge_id}); Telegram "
                "shows a receipt instead. Use repeat_payment to redeliver the payment."
            )
        return message


_GROUP_ADMIN = {"id": 7_000_001, "is_bot": False, "first_name": "Group admin"}


class FakeGroup(FakeChat):
    """A group, supergroup or channel (``type``) with the bot in it (:meth:`FakeTelegram.group`).

    ``bot_status`` is the bot's membership: ``"member"``, ``"administrator"``, or after
    :meth:`remove_bot` ``"kicked"`` / ``"left"``; while it is not in the chat every method
    targeting the chat answers 403 (``Forbidden: bot was kicked from the supergroup chat``).
    In a group or supergroup where the bot is not an administrator, group privacy mode
    applies (:attr:`FakeTelegram.group_privacy`): members' messages reach the bot only if
    they start with a command for it (``/cmd`` or ``/cmd@<bot username>``).
    In a channel, posts come from the channel (``sender_chat``, no ``from``) as
    ``channel_post`` updates, and the bot must be an administrator.
    """

    def __init__(self, fake: FakeTelegram, chat_id: int, title: str, type: str) -> None:
        self.fake = fake
        self.id = self.chat_id = chat_id
        self.title = title
        self.type = type
        self.bot_status = "administrator" if type == "channel" else "member"

    def __repr__(self) -> str:
        return f"FakeGroup(id={self.id}, title={self.title!r}, type={self.type!r})"

    def chat_json(self) -> dict[str, Any]:
        return {"id": self.chat_id, "type": self.type, "title": self.title}

    @property
    def bot_is_member(self) -> bool:
        return self.bot_status in ("member", "administrator")

    def _refusal(self) -> ApiError | None:
        # a correct bot gets these after being removed: answered, not recorded as errors
        if self.bot_is_member:
            return None
        if self.bot_status == "kicked" or self.type == "group":
            return ApiError(403, f"Forbidden: bot was kicked from the {self.type} chat")
        return ApiError(403, f"Forbidden: bot is not a member of the {self.type} chat")

    def _bot_sees(self, text: str) -> bool:
        if not self.bot_is_member:
            return False
        if self.type == "channel" or self.bot_status == "administrator":
            return True
        if not self.fake.group_privacy:
            return True
        command = _COMMAND_RE.match(text)
        if command is None:
            return False
        mention = command.group(1)
        return mention is None or mention[1:].lower() == self.fake.bot_username.lower()

    # ----- acting --------------------------------------------------------------------

    async def send(self, from_user: FakeUser, text: str) -> FakeMessage:
        """``from_user`` sends a text message in the group (a post, in a channel).

        A leading ``/command`` or ``/command@username`` gets a bot_command entity. The
        message is always in the chat; the bot gets it (``update_id`` set on the returned
        snapshot) only if it would on Telegram: it is in the chat, and privacy mode lets
        the message through (see the class docstring).
        """
        channel = self.type == "channel"
        message = self._user_message(None if channel else from_user, text)
        self._receive(
            message,
            kind="channel_post" if channel else "message",
            deliver=self._bot_sees(text),
        )
        return copy.deepcopy(message)

    async def click(
        self,
        from_user: FakeUser,
        button_text: str | re.Pattern[str],
        *,
        message_id: int | None = None,
        timeout: float = 10,
    ) -> str | None:
        """``from_user`` presses an inline button in the group: see :meth:`FakeUser.click`."""
        return await self._click(from_user, button_text, message_id, timeout)

    def remove_bot(self, by: FakeUser | None = None, *, status: str | None = None) -> int:
        """An admin (``by``, else a made-up one) removes the bot; returns the ``update_id``
        of the ``my_chat_member`` update. The new status is ``"kicked"`` (banned), or for a
        basic group ``"left"``, as Telegram reports them; ``status`` overrides it. From then
        on the bot's requests to the chat answer 403."""
        if not self.bot_is_member:
            raise AssertionError(f"the bot is not in {self!r} (status {self.bot_status!r})")
        new = status or ("left" if self.type == "group" else "kicked")
        if new not in ("kicked", "left"):
            raise AssertionError(f"removed means 'kicked' or 'left', not {new!r}")
        return self._change_bot_status(by, new)

    def add_bot(self, by: FakeUser, *, status: str | None = None) -> int:
        """``by`` adds the bot (back) to the chat: ``my_chat_member`` with the new status
        ``"member"`` (``"administrator"`` in a channel, or as given); returns its
        ``update_id``. The bot may send to the chat again."""
        if self.bot_is_member:
            raise AssertionError(f"the bot is already in {self!r} ({self.bot_status})")
        new = status or ("administrator" if self.type == "channel" else "member")
        if new not in ("member", "administrator") or (
            self.type == "channel" and new != "administrator"
        ):
            raise AssertionError(f"the bot cannot join {self!r} as {new!r}")
        return self._change_bot_status(by, new)

    def _change_bot_status(self, by: FakeUser | None, new: str) -> int:
        update_id = self.fake.inject_update(
            {
                "my_chat_member": {
                    "chat": self.chat_json(),
                    "from": by.user_json() if by is not None else dict(_GROUP_ADMIN),
                    "date": int(time.time()),
                    "old_chat_member": self._bot_member_json(self.bot_status),
                    "new_chat_member": self._bot_member_json(new),
                }
            }
        )  # validates first
        self.bot_status = new
        self.fake._changes.notify()
        return update_id

    def _bot_member_json(self, status: str) -> dict[str, Any]:
        data: dict[str, Any] = {"status": status, "user": self.fake.bot_user()}
        if status == "kicked":
            data["until_date"] = 0  # forever
        elif status == "administrator":
            rights = ("can_manage_chat", "can_delete_messages", "can_invite_users")
            data.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    **{
                        right: right in rights
                        for right in (
                            "can_manage_chat",
                            "can_delete_messages",
                            "can_manage_video_chats",
                            "can_restrict_members",
                            "can_promote_members",
                            "can_change_info",
                            "can_invite_users",
                            "can_post_stories",
                            "can_edit_stories",
                            "can_delete_stories",
                            "can_send_welcome_messages",
                        )
                    },
                }
            )
            if self.type == "channel":
                data.update({"can_post_messages": True, "can_edit_messages": True})
        return data


def _show(wanted: str | re.Pattern[str] | None) -> str:
    if isinstance(wanted, re.Pattern):
        return f"/{wanted.pattern}/"
    return repr(wanted)
