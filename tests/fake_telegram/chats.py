"""What a private chat and a group share on the user's side: the chat's visible messages,
a user's message arriving in it, waiting for the bot's, and pressing their buttons."""

# The waits take a ``timeout`` argument on purpose: it is the API the tests read best.
# ruff: noqa: ASYNC109

from __future__ import annotations

import copy
import re
import time
from typing import TYPE_CHECKING, Any

from tests.fake_telegram.formatting import utf16_len
from tests.fake_telegram.model import (
    ApiCall,
    ApiError,
    Button,
    FakeMessage,
    MessagePredicate,
    text_matches,
)

if TYPE_CHECKING:
    from tests.fake_telegram.server import FakeTelegram
    from tests.fake_telegram.users import FakeUser

# A leading bot command, optionally addressed to one bot: /book, /book@spotbook_bot.
COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")


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
        command = COMMAND_RE.match(text) if not message.media else None
        if command:
            message.entities = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}
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

    def _callback_query(self, user: FakeUser, message: FakeMessage, data: str) -> dict[str, Any]:
        """A new callback query (its answer awaited like any other) for an update."""
        fake = self.fake
        query_id = str(4_000_000_000_000_000_000 + next(fake._query_ids))
        fake._callback_queries[query_id] = False
        return {
            "id": query_id,
            "from": user.user_json(),
            "message": fake._message_json(message),
            "chat_instance": str(-7_000_000_000 - self.chat_id),
            "data": data,
        }

    async def _press(
        self, user: FakeUser, message: FakeMessage, data: str, timeout: float
    ) -> str | None:
        fake = self.fake
        query = self._callback_query(user, message, data)
        query_id = query["id"]
        since = fake.mark()
        fake.inject_update({"callback_query": query})
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
                if contains is not None and not text_matches(message.text, contains, exact=False):
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


def _show(wanted: str | re.Pattern[str] | None) -> str:
    if isinstance(wanted, re.Pattern):
        return f"/{wanted.pattern}/"
    return repr(wanted)
