"""Wiring: the dispatcher with its dialogs and middlewares, and the polling run."""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats
from aiogram.utils.i18n import I18n
from aiogram_dialog import setup_dialogs

from bot.config import Settings
from bot.deps import Clock, Deps, utc_now
from bot.dialogs.bookings import bookings_dialog
from bot.dialogs.catalog import catalog_dialog
from bot.dialogs.menu import menu_dialog
from bot.handlers import commands_router
from bot.i18n import build_i18n, setup_i18n
from domain.storage.db import create_engine, session_factory
from domain.storage.migrate import upgrade_to_head

log = logging.getLogger(__name__)


def build_dispatcher(
    deps: Deps, i18n: I18n, storage: BaseStorage | None = None, **dialog_options
) -> Dispatcher:
    """New routers and dialogs each call: a router attaches to one dispatcher only."""
    dp = Dispatcher(storage=storage or MemoryStorage())
    dp["deps"] = deps
    dp.include_router(commands_router())
    dp.include_routers(menu_dialog(), catalog_dialog(), bookings_dialog())
    setup_dialogs(dp, **dialog_options)
    setup_i18n(dp, i18n)  # after setup_dialogs, or background dialog updates miss i18n
    return dp


def build_bot(settings: Settings) -> Bot:
    session = None
    if settings.telegram_api_base:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    return Bot(
        settings.require_token(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


async def set_commands(bot: Bot, i18n: I18n) -> None:
    with i18n.use_locale(i18n.default_locale):
        commands = [
            BotCommand(command="start", description=i18n.gettext("Main menu")),
            BotCommand(command="bookings", description=i18n.gettext("My bookings")),
        ]
    await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats())


async def run_polling(settings: Settings, clock: Clock = utc_now) -> None:
    bot = build_bot(settings)
    engine = create_engine(settings.database_url)
    try:
        await upgrade_to_head(engine)
        i18n = build_i18n(settings.default_locale)
        dp = build_dispatcher(
            Deps(db=session_factory(engine), settings=settings, clock=clock), i18n
        )
        await set_commands(bot, i18n)
        me = await bot.get_me()
        log.info("Spotbook is running as @%s (long polling)", me.username)
        await dp.start_polling(bot, polling_timeout=10)
    finally:
        await bot.session.close()
        await engine.dispose()
