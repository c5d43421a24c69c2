"""The client's dialogs, driven in-process with aiogram-dialog's test tools."""

from __future__ import annotations

import re

import pytest
from aiogram_dialog.test_tools import BotClient, MockMessageManager
from aiogram_dialog.test_tools.keyboard import InlineButtonTextLocator
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage

from bot.app import build_dispatcher
from bot.config import Settings
from bot.deps import Deps
from bot.i18n import build_i18n
from tests.support.catalog import load


@pytest.fixture
async def client(db_factory, clock):
    await load(db_factory)
    settings = Settings(TZ="Europe/Prague", currency="EUR", bot_token=None)
    messages = MockMessageManager()
    dp = build_dispatcher(
        Deps(db=db_factory, settings=settings, clock=clock),
        build_i18n("en"),
        storage=JsonMemoryStorage(),
        message_manager=messages,
    )
    bot_client = BotClient(dp, user_id=42)
    return bot_client, messages


async def click(bot_client, messages, text):
    message = messages.one_message()
    messages.reset_history()
    await bot_client.click(message, InlineButtonTextLocator(f".*{re.escape(text)}.*"))
    return messages.one_message()


async def test_a_client_books_from_start_to_confirmation(client):
    bot_client, messages = client
    await bot_client.send("/start")
    menu = messages.one_message()
    assert "Hello" in menu.text
    await click(bot_client, messages, "Book a session")
    sessions = await click(bot_client, messages, "Yoga & Breath")
    print(sessions.text, sessions.reply_markup)
    card = await click(bot_client, messages, "Tue, Dec 1")
    print(card.text)
    done = await click(bot_client, messages, "Book")
    print(done.text)
    assert "booked" in done.text
