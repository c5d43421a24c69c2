"""What the fake keeps and hands to tests: the calls the bot made, the messages of a chat,
the files it uploaded, and the errors it answers with."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fake_telegram.payments import SentInvoice

Handler = Callable[[dict[str, Any]], Any | Awaitable[Any]]
CallPredicate = Callable[["ApiCall"], bool]
MessagePredicate = Callable[["FakeMessage"], bool]


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
        return f"#{self.index} {self.method}({short(shown, 200)}) -> {status}"


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
                if text_matches(b.text.strip(), text, exact=True):
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


def text_matches(text: str, wanted: str | re.Pattern[str], *, exact: bool) -> bool:
    if isinstance(wanted, re.Pattern):
        return wanted.search(text) is not None
    return text == wanted if exact else wanted in text


def short(params: Mapping[str, Any], limit: int = 300) -> str:
    text = repr(dict(params))
    return text if len(text) <= limit else text[:limit] + "…"
