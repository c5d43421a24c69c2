"""The fake Bot API server: an aiohttp app on 127.0.0.1 speaking the Telegram Bot API, its
state (chats and their messages, pending updates, files, payments), and what tests use to
watch the bot and to make Telegram misbehave (errors, dropped connections, slowness).

The Bot API methods themselves live by topic in the modules next to this one (messages,
files, profile, updates, webhook, payments); each is a function ``(fake, call) -> result``.
Names with a leading underscore are this package's own: those modules use them, tests don't.
"""

# The waits take a ``timeout`` argument on purpose: it is the API the tests read best.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextvars
import copy
import functools
import inspect
import itertools
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from aiohttp import web

from tests.fake_telegram import files, messages, payments, profile, updates, webhook
from tests.fake_telegram.changes import Changes
from tests.fake_telegram.chats import FakeChat
from tests.fake_telegram.formatting import render_text
from tests.fake_telegram.groups import FakeGroup
from tests.fake_telegram.keyboards import parse_markup
from tests.fake_telegram.messages import EDIT_METHODS
from tests.fake_telegram.model import (
    ApiCall,
    ApiError,
    CallPredicate,
    FakeMessage,
    Handler,
    UploadedFile,
    short,
)
from tests.fake_telegram.params import decode_params, read_request
from tests.fake_telegram.payments import Payment, StarRefund
from tests.fake_telegram.users import FakeUser
from tests.fake_telegram.webhook import WebhookDelivery

_current_call: contextvars.ContextVar[ApiCall | None] = contextvars.ContextVar(
    "_current_call", default=None
)

# The methods the fake implements: a function (fake, call) -> result each, sync or async.
BUILTIN_METHODS: dict[str, Callable[[Any, ApiCall], Any]] = {
    **profile.METHODS,
    **updates.METHODS,
    **webhook.METHODS,
    **messages.METHODS,
    **files.METHODS,
    **payments.METHODS,
}


class FakeTelegram:
    """An in-process HTTP server speaking the Telegram Bot API (see the package docstring,
    ``tests/fake_telegram/__init__.py``)."""

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
        # the update id being POSTed to the webhook right now (the bot has not answered yet)
        self.webhook_posting: int | None = None
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
        # getStarTransactions: StarTransaction objects, oldest first
        self.star_transactions: list[dict[str, Any]] = []
        self.star_transactions_newest_first = False  # list them the other way round
        self._allowed_updates: set[str] | None = None  # None: Telegram's default set
        self._poll_generation = 0
        self._closing = False
        self._changes = Changes()
        self._runner: web.AppRunner | None = None
        for name, method in BUILTIN_METHODS.items():
            self._handlers[name.lower()] = (name, functools.partial(method, self))

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
        self._webhook_task = asyncio.create_task(webhook.deliver(self))

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

    def take_stars_unseen(
        self, user: FakeUser, payload: str, amount: int, *, seconds_ago: int = 0
    ) -> str:
        """Telegram took ``amount`` Stars from ``user`` for the invoice ``payload``
        ``seconds_ago``, but the bot never got the ``successful_payment`` (it died handling
        it): the payment is only in ``getStarTransactions`` (and refundable). Returns its
        charge id."""
        return payments.take_stars_unseen(user, payload, amount, seconds_ago)

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
            if call.method in EDIT_METHODS
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
        return updates.inject_update(self, update)

    def bot_commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str | None = None
    ) -> list[dict[str, Any]]:
        """The commands the bot set (``setMyCommands``) for a scope and language."""
        return self._commands.get(
            profile.commands_key({"scope": scope, "language_code": language_code}), []
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
            text, entities = render_text(params, "text", limit=4096, required=True)
        else:
            text, entities = render_text(params, text_key, limit=1024, required=False)
        buttons, reply_keyboard, inline_markup = parse_markup(params.get("reply_markup"))
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
        return files.download(self, request)

    async def _handle_bad_path(self, request: web.Request) -> web.Response:
        self.errors.append(f"request to unknown path {request.method} {request.path}")
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw_params, uploads = await read_request(request)
        params = decode_params(raw_params)
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                name = value.removeprefix("attach://")
                if name in uploads:
                    params[key] = uploads.pop(name)
        params.update(uploads)

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
                self.errors.append(f"{call.method}: {e.description} (params: {short(params)})")
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
