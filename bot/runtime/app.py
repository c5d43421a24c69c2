"""Wiring: the dispatcher with its dialogs and middlewares, and the run (long polling, or
a webhook server: bot/runtime/webhook.py)."""

from __future__ import annotations

import contextlib
import gc
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramUnauthorizedError,
)
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import DisabledEventIsolation, MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    CallbackQuery,
    User,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import setup_dialogs
from aiogram_dialog.api.entities import stack
from aiogram_dialog.manager.message_manager import MessageManager
from redis.exceptions import RedisError

from bot.commands.packages import packages_router
from bot.commands.sessions import sessions_router
from bot.commands.staff import staff_router
from bot.delivery.announce import Announcer
from bot.delivery.courier import Courier
from bot.delivery.sender import Reachability, ReachableAgain, Sender
from bot.deps import Clock, Deps, utc_now
from bot.dialogs.bookings.dialog import bookings_dialog
from bot.dialogs.catalog.again import book_again_router
from bot.dialogs.catalog.dialog import catalog_dialog
from bot.dialogs.menu import menu_dialog
from bot.dialogs.offers import offers_router
from bot.dialogs.payments.checkout import payments_router
from bot.dialogs.payments.fees import fees_router
from bot.dialogs.reminders import reminders_router
from bot.dialogs.staff.dialog import staff_dialog
from bot.handlers import TELEGRAM_FAULTS, commands_router, fallback_router
from bot.runtime.chatlock import serialise_chats
from bot.runtime.config import ConfigError, Settings
from bot.runtime.health import Check, health_server
from bot.runtime.logs import log_updates
from bot.runtime.polling import poll
from bot.runtime.scheduler import build_scheduler, run_with
from bot.runtime.webhook import serve_webhook, telegram_update_types
from bot.text.i18n import build_i18n, setup_i18n
from domain.catalog import reading as catalog_reading
from domain.storage.db import DatabaseError, Engine, create_engine, ping, session_factory, shown_url
from domain.storage.migrate import upgrade_one_at_a_time
from domain.timetable import announce

log = logging.getLogger(__name__)


def _intent_id() -> int:
    """aiogram-dialog's intent ids are the clock second plus one of 100 random values, so two
    dialogs started within a second share an id once in 100 times; a button of the replaced
    dialog then acts on the new one instead of being answered as expired. One of 10,000 makes
    that rare (the id grows by one character of callback data)."""
    return int(time.time()) % 100_000_000 + secrets.randbelow(10_000) * 100_000_000


stack.new_int_id = _intent_id  # for the whole process, as soon as the bot is wired


def build_dispatcher(
    deps: Deps, i18n: I18n, storage: BaseStorage | None = None, **dialog_options
) -> Dispatcher:
    """New routers and dialogs each call: a router attaches to one dispatcher only."""
    dp = Dispatcher(storage=storage or MemoryStorage())
    dp["deps"] = deps
    serialise_chats(dp)  # in place of aiogram-dialog's lock, which comes too late
    if deps.sender is not None and deps.sender.reachability is not None:
        # someone who blocked the bot and writes again can be sent notices again
        again = ReachableAgain(deps.sender.reachability)
        dp.message.outer_middleware(again)
        dp.callback_query.outer_middleware(again)
    dp.include_router(commands_router())
    dp.include_routers(
        staff_router(),
        staff_dialog(),
        payments_router(),
        fees_router(),
        sessions_router(),
        packages_router(),
        offers_router(),
        reminders_router(),
        book_again_router(),
        menu_dialog(),
        catalog_dialog(),
        bookings_dialog(),
        fallback_router(),
    )
    setup_dialogs(dp, **{"events_isolation": DisabledEventIsolation(), **dialog_options})
    setup_i18n(dp, i18n)  # after setup_dialogs, or background dialog updates miss i18n
    log_updates(dp)  # after setup_dialogs too: it notes the dialog state an update is for
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


async def set_commands(bot: Bot, i18n: I18n, admin_ids: Iterable[int] = ()) -> None:
    """Command menus per scope (clients in private chats, staff, groups) and per language:
    the default language for users whose language has no catalog, then one set each."""
    unknown: set[int] = set()  # staff who never opened the bot: not tried again per language
    for language in [None, *sorted(i18n.available_locales)]:
        with i18n.context(), i18n.use_locale(language or i18n.default_locale):
            client, staff, group = _command_menus()
        await bot.set_my_commands(
            client, scope=BotCommandScopeAllPrivateChats(), language_code=language
        )
        await bot.set_my_commands(
            group, scope=BotCommandScopeAllGroupChats(), language_code=language
        )
        for admin_id in sorted(set(admin_ids) - unknown):
            try:
                await bot.set_my_commands(
                    staff, scope=BotCommandScopeChat(chat_id=admin_id), language_code=language
                )
            except TelegramBadRequest as error:  # "chat not found": they never opened the bot
                log.warning("staff commands not set for %s: %s", admin_id, error.message)
                unknown.add(admin_id)


def _command_menus() -> tuple[list[BotCommand], list[BotCommand], list[BotCommand]]:
    """The client, staff and group menus in the current language."""
    client = [
        BotCommand(command="start", description=_("Main menu")),
        BotCommand(command="bookings", description=_("My bookings")),
        BotCommand(command="language", description=_("Language and time zone")),
    ]
    staff = [
        *client,
        BotCommand(command="admin", description=_("Staff: sessions and rosters")),
        BotCommand(command="today", description=_("Staff: today's sessions, check-in")),
        BotCommand(command="import", description=_("Staff: import the catalog file")),
        BotCommand(command="multi", description=_("Staff: make a multi session")),
        BotCommand(command="single", description=_("Staff: make a single session")),
        BotCommand(command="reserve", description=_("Staff: reserve a spot")),
        BotCommand(command="publish", description=_("Staff: announce in the groups")),
        BotCommand(command="groups", description=_("Staff: announcement chats")),
    ]
    group = [
        BotCommand(
            command="announcehere", description=_("Staff: announce new sessions in this chat")
        ),
    ]
    return client, staff, group


async def open_database(settings: Settings) -> Engine:
    """The engine, with the schema brought up to date; a clear ConfigError if unreachable."""
    engine = None
    try:
        engine = create_engine(settings.database_url)
        await upgrade_one_at_a_time(engine)
    except (OSError, DatabaseError) as error:
        if engine is not None:
            await engine.dispose()
        where = shown_url(settings.database_url)
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise ConfigError(
            f"cannot open the database at DATABASE_URL={where}: {reason}. "
            "Check that it exists and is reachable."
        ) from None
    return engine


async def check_telegram(bot: Bot, settings: Settings) -> User:
    try:
        return await bot.get_me()
    except TelegramUnauthorizedError:
        raise ConfigError(
            "Telegram rejected BOT_TOKEN: ask @BotFather for the right one."
        ) from None
    except TelegramNetworkError as error:
        where = settings.telegram_api_base or "https://api.telegram.org"
        raise ConfigError(f"cannot reach the Telegram Bot API at {where}: {error}") from None


async def open_storage(settings: Settings) -> BaseStorage:
    """Dialog and FSM state: this process's memory, or Redis (REDIS_URL) so that a dialog
    started on one instance goes on on another; a clear ConfigError if Redis is unreachable."""
    if settings.redis_url is None:
        return MemoryStorage()
    storage = RedisStorage.from_url(
        settings.redis_url,
        # aiogram-dialog keeps its stacks and contexts under the destiny part of the key;
        # the bot id keeps two bots sharing one Redis apart
        key_builder=DefaultKeyBuilder(
            prefix=settings.redis_key_prefix, with_bot_id=True, with_destiny=True
        ),
    )
    try:
        await storage.redis.ping()
    except (OSError, RedisError) as error:
        await storage.close()
        where = re.sub(r"//[^@/]*@", "//***@", settings.redis_url)
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigError(f"cannot reach Redis at REDIS_URL={where}: {reason}") from None
    return storage


class SpinnerTolerantMessages(MessageManager):
    """Answering a tap only stops its button's spinner, after the new window was shown. If
    Telegram fails that answer, aiogram-dialog would not keep the dialog's new state (it keeps
    it only when the handler returns): the chat would show the new window while the dialog
    stayed on the old one, and the next tap would act on the wrong window."""

    async def answer_callback(self, bot: Bot, callback_query: CallbackQuery) -> None:
        try:
            await super().answer_callback(bot, callback_query)
        except TELEGRAM_FAULTS as error:
            log.warning("could not answer the tap of %s: %r", callback_query.from_user.id, error)


def dialog_options(storage: BaseStorage) -> dict[str, object]:
    # no events_isolation: build_dispatcher locks each chat itself (bot/runtime/chatlock.py),
    # in Redis when the storage is there
    return {"message_manager": SpinnerTolerantMessages()}


@dataclass(frozen=True)
class Running:
    bot: Bot
    me: User
    dp: Dispatcher
    engine: Engine
    storage: BaseStorage

    async def check_database(self) -> None:
        await ping(self.engine)

    def health_checks(self) -> dict[str, Check]:
        checks: dict[str, Check] = {"database": self.check_database}
        if isinstance(self.storage, RedisStorage):
            checks["redis"] = self.storage.redis.ping
        return checks


def freeze_startup_objects() -> None:
    """Move everything built so far (modules, the dispatcher and its dialogs, pydantic's
    schemas: ~300,000 objects) out of the garbage collector's sight: they live as long as
    the process. Otherwise every full collection walks them all, holding the GIL 100-700 ms
    on this machine, and every client's tap waits meanwhile (bench P6). Collections then walk
    only what was made since."""
    gc.collect()
    gc.freeze()


@asynccontextmanager
async def wired(settings: Settings, clock: Clock = utc_now) -> AsyncIterator[Running]:
    """What both run modes share: Telegram and the database checked (the schema upgraded),
    dialog state opened, the dispatcher with its scheduler and courier, the command menus.
    Everything is closed on the way out."""
    bot = build_bot(settings)
    try:
        me = await check_telegram(bot, settings)
        engine = await open_database(settings)
    except ConfigError:
        await bot.session.close()
        raise
    storage: BaseStorage | None = None
    try:
        storage = await open_storage(settings)
        i18n = build_i18n(settings.default_locale)
        db = session_factory(engine)
        redis = storage.redis if isinstance(storage, RedisStorage) else None  # limits shared
        sender = Sender.from_settings(bot, settings, Reachability(db, now=clock), redis=redis)
        deps = Deps(db=db, settings=settings, clock=clock, sender=sender)
        deps = replace(deps, courier=Courier(bot, deps, i18n, sender))
        deps = replace(deps, announcer=Announcer(bot, deps, i18n))
        async with db() as session:
            for chat_id in settings.announce_chats:
                await announce.configured_chat(session, chat_id, clock())
        dp = build_dispatcher(deps, i18n, storage, **dialog_options(storage))
        run_with(dp, build_scheduler(bot, deps, i18n), deps)
        await set_commands(bot, i18n, settings.admin_ids)
        freeze_startup_objects()
        yield Running(bot=bot, me=me, dp=dp, engine=engine, storage=storage)
    finally:
        catalog_reading.close()
        await bot.session.close()
        if storage is not None:
            await storage.close()
        await engine.dispose()


async def run(settings: Settings, clock: Clock = utc_now) -> None:
    """Long polling (with GET /healthz on HEALTH_PORT when set), or a webhook server when
    WEBHOOK_URL is set; until SIGTERM or SIGINT."""
    async with wired(settings, clock) as running:
        if settings.webhook_endpoint is not None:
            log.info("Spotbook is running as @%s (webhook)", running.me.username)
            await serve_webhook(running.dp, running.bot, settings, running.health_checks())
            return
        if (await running.bot.get_webhook_info()).url:
            # back from webhook mode: Telegram refuses getUpdates while a webhook is set
            log.warning("removing the webhook a previous run in webhook mode set")
            await running.bot.delete_webhook()
        log.info("Spotbook is running as @%s (long polling)", running.me.username)
        async with contextlib.AsyncExitStack() as stack:
            if settings.health_port is not None:
                await stack.enter_async_context(
                    health_server(
                        settings.webhook_host, settings.health_port, running.health_checks()
                    )
                )
            await poll(
                running.dp,
                running.bot,
                wait=10,
                allowed_updates=telegram_update_types(running.dp),
            )
