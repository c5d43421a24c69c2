"""Driving dialogs in-process: a chat with one user, and buttons with forged callback data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from aiogram.methods import AnswerCallbackQuery, SendMessage, TelegramMethod
from aiogram.types import Chat as TelegramChat
from aiogram.types import InlineKeyboardButton, Message
from aiogram_dialog.test_tools import BotClient, MockMessageManager
from aiogram_dialog.test_tools.bot_client import FakeBot
from aiogram_dialog.test_tools.keyboard import InlineButtonTextLocator
from sqlalchemy import select

from domain.booking.status import BookingStatus
from domain.storage.models import Booking


class ForgedButton:
    """A locator that presses a real button with its item id swapped: forged callback data."""

    def __init__(self, text: str, item_id: str) -> None:
        self.real = InlineButtonTextLocator(f".*{re.escape(text)}.*")
        self.item_id = item_id

    def find_button(self, message: Message) -> InlineKeyboardButton | None:
        button = self.real.find_button(message)
        if button is None:
            return None
        prefix = button.callback_data.rsplit(":", 1)[0]
        return button.model_copy(update={"callback_data": f"{prefix}:{self.item_id}"})


class RecordingBot(FakeBot):
    """Answers what handlers send outside dialogs (notices, alerts), and remembers it."""

    def __init__(self) -> None:
        self.calls: list[TelegramMethod] = []

    async def __call__(self, method: TelegramMethod, request_timeout: int | None = None):
        self.calls.append(method)
        if isinstance(method, AnswerCallbackQuery):
            return True
        if isinstance(method, SendMessage):
            chat = TelegramChat(id=int(method.chat_id), type="private")
            return Message(message_id=1, date=datetime.now(), chat=chat, text=method.text)
        raise RuntimeError(f"unexpected call {type(method).__name__}")

    def texts(self) -> list[str]:
        return [
            str(call.text)
            for call in self.calls
            if isinstance(call, AnswerCallbackQuery | SendMessage) and call.text
        ]


@dataclass
class Chat:
    client: BotClient
    messages: MockMessageManager

    async def start(self) -> Message:
        await self.client.send("/start")
        return self.messages.one_message()

    async def click(self, text: str) -> Message:
        return await self.press(InlineButtonTextLocator(f".*{re.escape(text)}.*"))

    async def press(self, locator) -> Message:
        message = self.messages.one_message()
        self.messages.reset_history()
        await self.client.click(message, locator)
        sent = self.messages.sent_messages
        assert len(sent) == 1, f"expected one new screen, got {[m.text for m in sent]}"
        return sent[0]

    def buttons(self) -> list[str]:
        markup = self.messages.one_message().reply_markup
        return [button.text for row in markup.inline_keyboard for button in row]


async def active_bookings(db_factory) -> list[tuple[int, int]]:
    async with db_factory() as db:
        rows = await db.execute(
            select(Booking.client_id, Booking.session_id).where(
                Booking.status == BookingStatus.ACTIVE
            )
        )
    return list(rows)
