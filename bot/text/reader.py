"""Who reads a message: their time zone as the update being handled tells it, and a
:class:`Formatter` of dates, times and money for them."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location

from bot.runtime.config import Settings
from bot.text import formatting

# The time zone of whoever sent the update being handled, when they set their own (the i18n
# middleware sets it). Messages to someone else (notices, group cards) name their zone instead.
READER_ZONE: ContextVar[ZoneInfo | None] = ContextVar("reader_zone", default=None)


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
