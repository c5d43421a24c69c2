"""Dates, times, money and durations for people (Babel, in the business's time zone), and
the studio's or a user's text made safe to show in HTML."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from html import escape
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time, format_timedelta
from babel.numbers import format_currency, format_decimal, get_currency_precision

# Babel's formatting is slow (a list of sessions spent more on it than on its query) and a
# value formats the same way every time: each formatter keeps what it made for a while.
_remembered = lru_cache(maxsize=4096)


@_remembered
def short_when(moment: datetime, zone: ZoneInfo, locale: str) -> str:
    """For buttons: 'Tue, Dec 1, 6:00 PM' (in English)."""
    local = moment.astimezone(zone)
    return _join(format_skeleton("MMMEd", local, locale=locale), local, locale)


@_remembered
def long_when(moment: datetime, zone: ZoneInfo, locale: str) -> str:
    """For confirmations: 'Tuesday, December 1, 2026, 6:00 PM' (in English)."""
    local = moment.astimezone(zone)
    return _join(format_date(local, "full", locale=locale), local, locale)


def _join(day: str, local: datetime, locale: str) -> str:
    time = format_time(local, "short", locale=locale)
    # the locale's own way of joining a date and a time ("{1}, {0}", "{1} {0}", ...)
    pattern = Locale.parse(locale).datetime_formats["short"]
    return pattern.replace("{1}", day).replace("{0}", time)


@_remembered
def day(value: date, locale: str) -> str:
    """A calendar day: 'Nov 30, 2026' (in English)."""
    return format_date(value, "medium", locale=locale)


@_remembered
def month(year: int, month: int, locale: str) -> str:
    """A month of a year: 'November 2026' (in English)."""
    return format_skeleton("yMMMM", date(year, month, 1), locale=locale)


@_remembered
def clock(moment: datetime, zone: ZoneInfo, locale: str) -> str:
    """A time of day on the business's clock: '6:00 PM' (in English)."""
    return format_time(moment.astimezone(zone), "short", locale=locale)


@_remembered
def time_of_day(moment: datetime, zone: ZoneInfo, locale: str) -> str:
    """For deadlines today or tomorrow: 'Tue 6:00 PM' (in English)."""
    local = moment.astimezone(zone)
    return _join(format_skeleton("E", local, locale=locale), local, locale)


@_remembered
def money(minor: int, currency: str, locale: str) -> str:
    if currency == "XTR":  # Telegram Stars: whole stars, unknown to Babel
        return f"{format_decimal(minor, locale=locale)} ⭐"
    amount = Decimal(minor).scaleb(-get_currency_precision(currency))
    return format_currency(amount, currency, locale=locale)


@_remembered
def duration(minutes: int, locale: str) -> str:
    span = timedelta(minutes=minutes)
    if minutes % 60 == 0:
        return format_timedelta(span, locale=locale)
    # Babel rounds to one unit (90 min -> "2 hours"); minutes stay exact.
    return format_timedelta(span, granularity="minute", threshold=10_000, locale=locale)


# Telegram shows no colours in buttons: a programme's colour becomes the nearest coloured dot.
_DOTS = {
    "🔴": (220, 40, 40),
    "🟠": (245, 140, 30),
    "🟡": (245, 210, 40),
    "🟢": (60, 170, 70),
    "🔵": (40, 110, 220),
    "🟣": (140, 70, 190),
    "🟤": (130, 80, 50),
    "⚫": (30, 30, 30),
    "⚪": (235, 235, 235),
}


def colour_dot(colour: str | None) -> str:
    """'#aa5500' → '🟤'; no colour → ''."""
    if not colour:
        return ""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    try:
        rgb = tuple(int(digits[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return ""
    return min(
        _DOTS, key=lambda dot: sum((a - b) ** 2 for a, b in zip(_DOTS[dot], rgb, strict=True))
    )


def html(value: str) -> str:
    """Catalog titles and names are the studio's or the user's text: never markup."""
    return escape(value, quote=False)
