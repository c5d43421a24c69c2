"""What handlers and getters need, injected through the dispatcher's workflow data."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html import escape
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiogram.types import User
from aiogram.utils.i18n import I18n
from aiogram_dialog import DialogManager
from babel.dates import get_timezone_location

from bot.runtime.config import Settings
from bot.text import formatting
from domain.clients.record import ClientRef
from domain.storage.db import SessionFactory

if TYPE_CHECKING:
    from bot.delivery.announce import Announcer
    from bot.delivery.courier import Courier
    from bot.delivery.sender import Sender

Clock = Callable[[], datetime]

# The time zone of whoever sent the update being handled, when they set their own (the i18n
# middleware sets it). Messages to someone else (notices, group cards) name their zone instead.
READER_ZONE: ContextVar[ZoneInfo | None] = ContextVar("reader_zone", default=None)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    db: SessionFactory
    settings: Settings
    clock: Clock = utc_now
    # the one rate-limited path for messages sent unasked (see bot/delivery/sender.py); one per bot
    sender: Sender | None = None
    # sends the notification outbox (bot/delivery/courier.py); None: each send_due drains it inline
    courier: Courier | None = None
    # posts and refreshes announcement cards in groups (bot/delivery/announce.py); None: not running
    announcer: Announcer | None = None


@dataclass(frozen=True)
class Formatter:
    """Formats values for one reader: their locale and time zone (the business's unless they
    set their own), and the business's currency."""

    settings: Settings
    locale: str
    # the reader's own zone; by default the one of the update's sender, if they set one
    own_zone: ZoneInfo | None = field(default_factory=READER_ZONE.get)

    @property
    def zone(self) -> ZoneInfo:
        return self.own_zone or self.settings.zone

    def short_when(self, moment: datetime) -> str:
        return formatting.short_when(moment, self.zone, self.locale)

    def long_when(self, moment: datetime) -> str:
        return formatting.long_when(moment, self.zone, self.locale)

    def time(self, moment: datetime) -> str:
        return formatting.time_of_day(moment, self.zone, self.locale)

    def day(self, value: date) -> str:
        return formatting.day(value, self.locale)

    def clock(self, moment: datetime) -> str:
        return formatting.clock(moment, self.zone, self.locale)

    def month(self, year: int, month: int) -> str:
        return formatting.month(year, month, self.locale)

    def money(self, minor: int) -> str:
        return formatting.money(minor, self.settings.currency, self.locale)

    def duration(self, minutes: int) -> str:
        return formatting.duration(minutes, self.locale)

    def city(self) -> str:
        return get_timezone_location(self.zone, self.locale, return_city=True)


def deps_of(manager: DialogManager) -> Deps:
    return manager.middleware_data["deps"]


def i18n_of(manager: DialogManager) -> I18n:
    return manager.middleware_data["i18n"]


def formatter_of(manager: DialogManager) -> Formatter:
    return Formatter(deps_of(manager).settings, i18n_of(manager).current_locale)


def client_of(manager: DialogManager) -> ClientRef:
    return client_ref(manager.middleware_data["event_from_user"])


def client_ref(user: User) -> ClientRef:
    return ClientRef(id=user.id, first_name=user.first_name, language_code=user.language_code)


def html(value: str) -> str:
    """Catalog titles and names are the studio's or the user's text: never markup."""
    return escape(value, quote=False)
