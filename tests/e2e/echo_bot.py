"""A tiny aiogram bot used only to self-test the fake Telegram server and the harness.

Run as ``python -m tests.e2e.echo_bot`` with ``BOT_TOKEN`` and ``TELEGRAM_API_BASE`` set.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command, CommandStart
from aiogram.types import BotCommand, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.types import Message as TgMessage

router = Router()


def _keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in buttons]]
    )


@router.message(CommandStart())
async def start(message: TgMessage) -> None:
    name = message.from_user.first_name if message.from_user else "stranger"
    await message.answer(
        f"Hello, <b>{html.escape(name)}</b>", reply_markup=_keyboard(("Ping", "ping"))
    )


@router.message(Command("long"))
async def too_long(message: TgMessage) -> None:
    # Deliberately invalid: Telegram limits callback_data to 64 bytes.
    await message.answer("Too long", reply_markup=_keyboard(("Long", "x" * 65)))


@router.callback_query(F.data == "ping")
async def ping(callback: CallbackQuery) -> None:
    if isinstance(callback.message, TgMessage):
        await callback.message.edit_text("Pong")
    await callback.answer("pong!")


async def main() -> None:
    logging.basicConfig(level=logging.INFO)
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_BASE"]))
    bot = Bot(
        os.environ["BOT_TOKEN"],
        session=session,
        default=DefaultBotProperties(parse_mode="HTML"),
    )
    dp = Dispatcher()
    dp.include_router(router)
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await dp.start_polling(bot, handle_signals=True, polling_timeout=1)


if __name__ == "__main__":
    asyncio.run(main())
