"""The user driver: a Telegram user in a private chat with the bot, who sends commands,
messages and documents, taps buttons, opens deep links and pays invoices."""

# The waits take a ``timeout`` argument on purpose: it is the API the tests read best.
# ruff: noqa: ASYNC109

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from aiogram.types import Update

from tests.fake_telegram import payments
from tests.fake_telegram.chats import FakeChat
from tests.fake_telegram.files import register_file
from tests.fake_telegram.keyboards import START_PAYLOAD_RE, deep_link
from tests.fake_telegram.model import ApiError, FakeMessage, UploadedFile
from tests.fake_telegram.payments import Payment

if TYPE_CHECKING:
    from tests.fake_telegram.server import FakeTelegram


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
        info = register_file(self.fake, upload)
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
        link = deep_link(url)
        if link is None or link[0].lower() != self.fake.bot_username.lower():
            raise AssertionError(
                f"{url!r} is not a link to this bot (https://t.me/{self.fake.bot_username}); "
                "the fake can only open the bot's deep links"
            )
        query = link[1]
        if set(query) - {"start"}:
            raise AssertionError(f"{url!r}: the fake only opens ?start= deep links")
        payload = query.get("start")
        if payload is not None and not START_PAYLOAD_RE.fullmatch(payload):
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

    def tap_update(self, button_text: str | re.Pattern[str]) -> dict[str, Any]:
        """A tap on the newest such button as the update Telegram would POST, with its
        update_id, but not queued: for a test that delivers it to a webhook itself (say, two
        taps to two instances at once). Its answer shows in ``answerCallbackQuery`` calls."""
        message, button = self._find_button(button_text, None)
        assert button.callback_data is not None, button.raw
        update = {
            "update_id": next(self.fake._update_ids),
            "callback_query": self._callback_query(self, message, button.callback_data),
        }
        Update.model_validate(update)
        return update

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
        return await payments.pay(self, invoice_message, tip_amount, timeout)

    def repeat_payment(self, payment: Payment) -> int:
        """Deliver the same ``successful_payment`` message again in a new update, as Telegram
        may; returns the new ``update_id``."""
        if payment.message is None:
            raise AssertionError(f"payment {payment.query_id} was not made (ok={payment.ok})")
        return self.fake.inject_update({"message": copy.deepcopy(payment.message)})
