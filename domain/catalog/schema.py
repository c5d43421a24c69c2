"""The catalog file's shape, declared once: what each entry holds and what each field accepts.

These models are the validation, the field documentation and the published JSON Schema
(`python -m bot catalog-schema`, committed as docs/catalog.schema.json) all at once. They
validate what `loader` reads: every scalar is the text the owner wrote, so each scalar type
below parses text itself (a `Text(...)`, an `Integer(...)`, ...) and describes in the JSON
Schema what an editor reading YAML 1.2 sees (a number, a string, yes or true, ...).

Problems are pydantic errors whose type is the problem code that file.py reports (bad_integer,
bad_key, ...). Rules that span fields or entries (unique keys, overlapping periods, sessions
in the time zone) are checked in file.py after these models.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache, partial
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator
from pydantic_core import PydanticCustomError, core_schema

from domain.catalog.loader import Null, written_key

MAX_TITLE_CHARS = 100
MAX_DESCRIPTION_CHARS = 1000
CAPACITY_RANGE = (1, 1000)
DURATION_RANGE = (5, 1440)
DEFAULT_DURATION_MINUTES = 60
MAX_WEEKLY_SPAN_DAYS = 366
# Fits a 32-bit INTEGER column in every database we might store it in.
MAX_PRICE_MINOR = 2**31 - 1
MAX_CATEGORY_CHARS = 60
RANK_RANGE = (-100, 100)
CANCEL_NOTICE_HOURS_RANGE = (0, 720)
DEFAULT_CANCEL_NOTICE_HOURS = 24
MAX_OVERLOAD_RANGE = (0, 1000)
MIN_CHECK_HOURS_RANGE = (1, 720)  # the minimum-participants check: up to 30 days before
DEFAULT_MIN_CHECK_HOURS = 24
PASS_ENTRIES_RANGE = (1, 1000)
PASS_VALID_DAYS_RANGE = (1, 3660)
COURSE_UNITS_RANGE = (1, 50)  # units of one service in a course
OFFER_HOLD_RANGE = (5, 10080)  # minutes: up to a week
DEFAULT_OFFER_HOLD_MINUTES = 120
MAX_PERIOD_NAME_CHARS = 100
MAX_PERIOD_DAYS = 400
FEE_DUE_DAY_RANGE = (1, 31)  # past the month's end means its last day (money.due_date)
DEFAULT_FEE_DUE_DAY = 1
MAX_FEE_ROWS = 60  # five years of monthly dates
ATTENDANCE_CREDITS_RANGE = (1, 100)
BREAK_RANGE = (0, 600)  # minutes between two spots of a session type
PACKAGE_SESSIONS_RANGE = (1, 20)  # one to twenty sessions per booking
PERCENT_RANGE = (0, 100)
CUTOFF_HOURS_RANGE = (0, 720)
LIMIT_RANGE = (1, 100)  # bookings of a class per client per day / week
MOVES_MAX_RANGE = (0, 100)  # moves of one booking
DEFAULT_SESSION_HOLD_MINUTES = 1440  # a staff reservation waits a day for the client
MAX_TYPE_PACKAGES = 10  # one button each under the client's confirmation request

# Stored values; the file may spell a kind as below (see KIND_SPELLINGS).
PROGRAMME_KINDS = ("ongoing", "one_off", "payg")
PROMOTIONS = ("auto", "offer")
SESSION_KINDS = ("multi", "single")
# What the file may say for each stored value; matched case-insensitively.
KIND_SPELLINGS = {
    "ongoing": "ongoing",
    "one-off": "one_off",
    "one_off": "one_off",
    "pay-as-you-go": "payg",
    "payg": "payg",
}
_KIND_CHOICES = "ongoing, one-off, pay-as-you-go"  # as the owner should write them
# what a late cancel or a no-show does to a course unit: used up, or free again
LATE_CANCEL = ("forfeit", "return")

# A session type's programme is stored under this prefix plus the type's key. KEY_RE never
# accepts "@", so no programme written in the file can take (and rewrite) that key; the type
# key is one character shorter than other keys to keep the result within String(40).
SESSION_TYPE_PROGRAMME_PREFIX = "@"
MAX_KEY_CHARS = 40
MAX_SESSION_TYPE_KEY_CHARS = MAX_KEY_CHARS - len(SESSION_TYPE_PROGRAMME_PREFIX)


def _key_pattern(max_chars: int) -> str:
    return rf"[a-z0-9][a-z0-9_-]{{0,{max_chars - 1}}}"


KEY_RE = re.compile(_key_pattern(MAX_KEY_CHARS))
# [0-9] rather than \d: \d also matches other scripts' digits, which int() would accept.
_INTEGER_RE = re.compile(r"-?[0-9]{1,12}")
_PRICE_RE = re.compile(r"([0-9]{1,12})(?:\.([0-9]+))?")
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_DATETIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{1,2}):([0-9]{2})")
_COLOUR_RE = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
WEEKDAYS = {
    name: number
    for number, names in enumerate(
        [
            ("mon", "monday"),
            ("tue", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        ]
    )
    for name in names
}
_BOOLEANS = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}
# Values echoed back in messages are cut short: a chat message has a size limit.
_MAX_SHOWN_CHARS = 60


def shown(value: str) -> str:
    """A value as a problem echoes it: cut short."""
    if len(value) <= _MAX_SHOWN_CHARS:
        return value
    return value[: _MAX_SHOWN_CHARS - 1] + "…"


def _refuse(code: str, **params: str | int) -> PydanticCustomError:
    return PydanticCustomError(code, code, params)


def _text(value: object) -> str:
    """A scalar's text without surrounding blanks; a list or a group is refused."""
    if not isinstance(value, str):
        raise _refuse("not_a_scalar")
    return str(value).strip()


def _words(words: Iterable[str]) -> dict[str, Any]:
    """Words matched in any case: an editor offers them as written here."""
    words = list(words)
    any_case = "|".join(
        "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word) for word in words
    )
    return {"anyOf": [{"enum": words}, {"type": "string", "pattern": f"^(?:{any_case})$"}]}


# --- scalar types ------------------------------------------------------------------------------


class _Scalar:
    """A scalar field's type: `parse` reads the text or raises the problem; `json_schema`
    says what an editor reading YAML 1.2 should expect there."""

    def parse(self, text: str, context: dict[str, Any]) -> object:
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def __get_pydantic_core_schema__(self, source: object, handler: object) -> Any:
        def validate(value: object, info: core_schema.ValidationInfo) -> object:
            return self.parse(_text(value), info.context or {})

        return core_schema.with_info_plain_validator_function(validate)

    def __get_pydantic_json_schema__(self, schema: object, handler: object) -> dict[str, Any]:
        return self.json_schema()


@dataclass(frozen=True)
class Key(_Scalar):
    """A short permanent name: lowercase letters, digits, "-" and "_"."""

    max_chars: int = MAX_KEY_CHARS

    def parse(self, text: str, context: dict[str, Any]) -> str:
        if not KEY_RE.fullmatch(text):
            raise _refuse("bad_key", value=shown(text))
        if len(text) > self.max_chars:
            raise _refuse("key_too_long", value=text, max=self.max_chars)
        return text

    def json_schema(self) -> dict[str, Any]:
        # `key: 2026` is a number to YAML, and a fine key.
        return {
            "type": ["string", "integer"],
            "pattern": f"^{_key_pattern(self.max_chars)}$",
            "minimum": 0,
        }


@dataclass(frozen=True)
class Text(_Scalar):
    max_chars: int
    empty_ok: bool = False
    # Titles and names become button labels (categories group them): line breaks and runs
    # of spaces fold into one.
    folded: bool = False

    def parse(self, text: str, context: dict[str, Any]) -> str:
        if self.folded:
            text = " ".join(text.split())
        if len(text) > self.max_chars or (not text and not self.empty_ok):
            raise _refuse("bad_text", max=self.max_chars)
        return text

    def json_schema(self) -> dict[str, Any]:
        # `title: 2026` or `title: yes` is still text here, whatever YAML makes of it.
        return {
            "type": ["string", "number", "boolean"],
            "minLength": 0 if self.empty_ok else 1,
            "maxLength": self.max_chars,
        }


@dataclass(frozen=True)
class Integer(_Scalar):
    low: int
    high: int

    def parse(self, text: str, context: dict[str, Any]) -> int:
        if _INTEGER_RE.fullmatch(text) and self.low <= int(text) <= self.high:
            return int(text)
        raise _refuse("bad_integer", value=shown(text), min=self.low, max=self.high)

    def json_schema(self) -> dict[str, Any]:
        # A quoted number ("8") is accepted too: the range then waits for the import.
        return {
            "type": ["integer", "string"],
            "minimum": self.low,
            "maximum": self.high,
            "pattern": f"^{_INTEGER_RE.pattern}$",
        }


@dataclass(frozen=True)
class Price(_Scalar):
    """An amount in the currency's main unit: 12 or 12.50; `currency_digits` in the
    validation context says how many decimals the currency has."""

    def parse(self, text: str, context: dict[str, Any]) -> int:
        digits = context["currency_digits"]
        match = _PRICE_RE.fullmatch(text)
        # Decimal strings rather than floats: 0.1 + 0.2 style rounding has no place in money.
        if match is not None and len(match[2] or "") <= digits:
            fraction = (match[2] or "").ljust(digits, "0")
            minor = int(match[1]) * 10**digits + int(fraction or "0")
            if minor <= MAX_PRICE_MINOR:
                return minor
        raise _refuse("bad_price", value=shown(text))

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": ["number", "string"],
            "minimum": 0,
            "pattern": f"^{_PRICE_RE.pattern}$",
        }


@dataclass(frozen=True)
class Word(_Scalar):
    """One of `words` (written in any case), read as the value it maps to."""

    words: tuple[tuple[str, object], ...]  # (as written, value)
    code: str
    choices: str | None = None  # as a problem lists them (when it does)

    def parse(self, text: str, context: dict[str, Any]) -> object:
        value = dict(self.words).get(text.lower(), _NOT_A_WORD)
        if value is _NOT_A_WORD:
            extra = {} if self.choices is None else {"choices": self.choices}
            raise _refuse(self.code, value=shown(text), **extra)
        return value

    def json_schema(self) -> dict[str, Any]:
        return _words(written for written, _ in self.words)


_NOT_A_WORD = object()


class Boolean(Word):
    def __init__(self) -> None:
        super().__init__(tuple(_BOOLEANS.items()), "bad_boolean")

    def json_schema(self) -> dict[str, Any]:
        return {"anyOf": [{"type": "boolean"}, *super().json_schema()["anyOf"]]}


def _choice(values: tuple[str, ...] | dict[str, str], choices: str | None = None) -> Word:
    spellings = values if isinstance(values, dict) else {value: value for value in values}
    return Word(tuple(spellings.items()), "bad_choice", choices or ", ".join(spellings))


@dataclass(frozen=True)
class Form(_Scalar):
    """Text of a fixed form (`regex`): `read` makes its value from the match, or raises
    ValueError when there is none (2026-02-30)."""

    regex: re.Pattern[str]
    code: str
    read: Callable[[re.Match[str]], object]
    json_format: str | None = None

    def parse(self, text: str, context: dict[str, Any]) -> object:
        match = self.regex.fullmatch(text)
        with suppress(ValueError):
            if match is not None:
                return self.read(match)
        raise _refuse(self.code, value=shown(text))

    def json_schema(self) -> dict[str, Any]:
        form = {} if self.json_format is None else {"format": self.json_format}
        return {"type": "string", "pattern": f"^{self.regex.pattern}$", **form}


def _numbers(match: re.Match[str]) -> list[int]:
    return [int(group) for group in match.groups()]


Colour = partial(Form, _COLOUR_RE, "bad_colour", lambda match: match[0].lower())
Date = partial(Form, _DATE_RE, "bad_date", lambda match: date(*_numbers(match)), "date")
Clock = partial(Form, _TIME_RE, "bad_time", lambda match: time(*_numbers(match)))
# a date and a wall-clock time of the business time zone: 2026-12-01 18:00
LocalDateTime = partial(
    Form, _DATETIME_RE, "bad_datetime", lambda match: datetime(*_numbers(match))
)
Weekday = partial(Word, tuple(WEEKDAYS.items()), "bad_weekday")


@dataclass(frozen=True)
class UnitService(_Scalar):
    """The programme a course unit is of; whether there is one is a rule (file.py)."""

    def parse(self, text: str, context: dict[str, Any]) -> str:
        name = written_key(text)
        if name is None:  # a list or a group written as the key
            raise _refuse("not_a_scalar")
        return name.strip()

    def json_schema(self) -> dict[str, Any]:
        return {"pattern": f"^{_key_pattern(MAX_KEY_CHARS)}$"}


# --- entries -------------------------------------------------------------------------------
#
# Python names are those of the values the file becomes (file.py's specs); where the file says
# it differently, the alias is the file's word.


class Entry(BaseModel):
    """A group of `name: value` lines; `noun` is how a problem names it."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, model_title_generator=lambda model: model.noun.capitalize()
    )
    noun: ClassVar[str]

    @model_validator(mode="before")
    @classmethod
    def _fields_given(cls, value: object) -> object:
        if not isinstance(value, dict):
            raise _refuse("not_a_mapping", noun=cls.noun)
        # `field:` with nothing after it is as if the line were not there (for a field of
        # the entry: an unknown or repeated one is still refused).
        fields = _field_names(cls)
        return {
            name: field
            for name, field in value.items()
            if not (isinstance(field, Null) and name in fields)
        }


@cache
def _field_names(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(info.alias or name for name, info in model.model_fields.items())


def _field(description: str, default: Any = ..., *, alias: str | None = None, **more: Any) -> Any:
    return Field(default, alias=alias, description=description, **more)


KeyText = Annotated[str, Key()]
Title = Annotated[str, Text(MAX_TITLE_CHARS, folded=True)]
Description = Annotated[str, Text(MAX_DESCRIPTION_CHARS, empty_ok=True)]
Category = Annotated[str, Text(MAX_CATEGORY_CHARS, empty_ok=True, folded=True)]
Amount = Annotated[int, Price()]
YesNo = Annotated[bool, Boolean()]
Day = Annotated[date, Date()]


def _count(bounds: tuple[int, int]) -> Any:
    return Annotated[int, Integer(*bounds)]


_KEY = (
    "A short, permanent name the bot recognises the entry by when you import the file "
    'again: lowercase letters, digits, "-" and "_". Don\'t change it once clients have booked.'
)
_SIBLING_KEY = "Unique among its siblings; same rules as a programme key."
_SHOWN = "The name clients see."
_CANCEL_NOTICE = "Cancelling at least this many hours before a session counts as in time."


class BillingPeriod(Entry):
    """A semester, term or season: monthly fees and make-up credits count per period.
    Periods must not overlap."""

    noun: ClassVar[str] = "billing period"
    key: KeyText = _field(_KEY)
    name: Annotated[str, Text(MAX_PERIOD_NAME_CHARS, folded=True)] = _field(_SHOWN)
    starts_on: Day = _field("First day (included).", alias="from")
    ends_on: Day = _field(
        f"Last day (included); at most {MAX_PERIOD_DAYS} days after from.", alias="until"
    )


class TypePackage(Entry):
    """A package option of a single session type: what the client gets for its price."""

    noun: ClassVar[str] = "package"
    key: KeyText = _field(_SIBLING_KEY)
    name: Title = _field(_SHOWN)
    price_minor: Amount = _field("The package's price, e.g. 800 or 800.00.", alias="price")
    description: Description = _field("What the package includes.", "")


class SessionType(Entry):
    """What staff make sessions from in the bot: multi (a session of many short spots, such
    as mini photo sessions) or single (one client takes the whole session)."""

    noun: ClassVar[str] = "session type"
    key: Annotated[str, Key(MAX_SESSION_TYPE_KEY_CHARS)] = _field(_KEY)
    name: Title = _field(_SHOWN)
    kind: Annotated[str, _choice(SESSION_KINDS)] = _field(
        "multi: a session made of many spots; single: one client per session."
    )
    duration_minutes: _count(DURATION_RANGE) = _field("Minutes of one spot.", alias="duration")
    break_minutes: _count(BREAK_RANGE) = _field("Minutes between two spots.", 0, alias="break")
    price_minor: Amount | None = _field("The price; free if left out.", None, alias="price")
    hold_minutes: _count(OFFER_HOLD_RANGE) = _field(
        "Minutes a staff reservation waits for the client.",
        DEFAULT_SESSION_HOLD_MINUTES,
        alias="hold",
    )
    category: Category = _field("Groups what clients browse; none if left out.", "")
    description: Description = _field("What clients read about it.", "")
    public: YesNo = _field('"no" hides the type from what clients browse.', True)
    cancel_notice_hours: _count(CANCEL_NOTICE_HOURS_RANGE) = _field(
        _CANCEL_NOTICE, DEFAULT_CANCEL_NOTICE_HOURS
    )
    packages: list[TypePackage] | None = _field(
        "Single types only: the package options a client picks from.",
        None,
        min_length=1,
        max_length=MAX_TYPE_PACKAGES,
    )


class WeeklyRule(Entry):
    """Sessions on the same weekdays at the same time every week, between two dates."""

    noun: ClassVar[str] = "weekly"
    days: list[Annotated[int, Weekday()]] = _field(
        "The weekdays: mon tue wed thu fri sat sun (or monday ... sunday).", min_length=1
    )
    at: Annotated[time, Clock()] = _field("The local start time, 24-hour: 18:00.", alias="time")
    first: Day = _field("First day (included).", alias="from")
    last: Day = _field(
        f"Last day (included); at most {MAX_WEEKLY_SPAN_DAYS} days after from.", alias="until"
    )
    skipped: list[Day] = _field("Days without a session (holidays).", [], alias="except")


class Package(Entry):
    """The class is booked only as a package of several sessions at once."""

    noun: ClassVar[str] = "package"
    sessions: _count(PACKAGE_SESSIONS_RANGE) = _field("Sessions per booking.")
    price_minor: Amount | None = _field(
        "The package's price; may be left out only when the class is free.", None, alias="price"
    )
    cancel_cutoff_hours: _count(CUTOFF_HOURS_RANGE) | None = _field(
        "Hours before a session until which it may be cancelled; the programme's "
        "cancel_notice_hours if left out.",
        None,
        alias="cancel_until",
    )
    reschedule_cutoff_hours: _count(CUTOFF_HOURS_RANGE) | None = _field(
        "Hours before a session until which it may be moved; the programme's "
        "cancel_notice_hours if left out.",
        None,
        alias="reschedule_until",
    )
    cancel_refund_percent: _count(PERCENT_RANGE) = _field(
        "Percent of a session's share of the price refunded on cancelling.",
        100,
        alias="cancel_refund",
    )
    reschedule_fee_percent: _count(PERCENT_RANGE) = _field(
        "Percent of a session's share of the price charged for moving it.",
        0,
        alias="reschedule_fee",
    )


def _one_or_many(value: object) -> str:
    return "many" if isinstance(value, list) else "one"


class Class(Entry):
    """Something clients book: its sessions, listed or weekly, and how many fit in."""

    noun: ClassVar[str] = "class"
    key: KeyText = _field(_SIBLING_KEY)
    title: Title = _field(_SHOWN)
    capacity: _count(CAPACITY_RANGE) = _field("How many people fit into one session.")
    duration_minutes: _count(DURATION_RANGE) = _field(
        "Length of a session in minutes.", DEFAULT_DURATION_MINUTES, alias="duration"
    )
    price_minor: Amount | None = _field(
        "The price per session, e.g. 12 or 12.50; free if left out.", None, alias="price"
    )
    max_overload: _count(MAX_OVERLOAD_RANGE) = _field(
        "Places beyond capacity that only staff can fill.", 0
    )
    min_participants: _count(CAPACITY_RANGE) | None = _field(
        "Fewer bookings than this min_check_hours before a session cancel it; no minimum "
        "if left out.",
        None,
    )
    min_check_hours: _count(MIN_CHECK_HOURS_RANGE) | None = _field(
        "Hours before a session when its minimum is checked (with min_participants); "
        f"{DEFAULT_MIN_CHECK_HOURS} if left out.",
        None,
    )
    waiting_list: YesNo = _field("When a session is full, clients may join a waiting list.", True)
    promotion: Annotated[str, _choice(PROMOTIONS)] = _field(
        'When a place frees up, "auto" books the first client waiting; "offer" asks them first.',
        "auto",
    )
    offer_hold_minutes: _count(OFFER_HOLD_RANGE) = _field(
        "Minutes an offer waits for the client's answer.",
        DEFAULT_OFFER_HOLD_MINUTES,
        alias="offer_hold",
    )
    package: Package | None = _field(
        "Booked only as a package of several sessions (not in ongoing programmes).", None
    )
    max_per_day: _count(LIMIT_RANGE) | None = _field(
        "Bookings of this class per client per day (not with a package).", None
    )
    max_per_week: _count(LIMIT_RANGE) | None = _field(
        "Bookings of this class per client per week (not with a package).", None
    )
    move_cutoff_hours: _count(CUTOFF_HOURS_RANGE) | None = _field(
        "Hours before a session until which a client may move their booking to another "
        "time; the programme's cancel_notice_hours if left out (a package's sessions follow "
        "the package's reschedule_until).",
        None,
        alias="reschedule_until",
    )
    move_fee_percent: _count(PERCENT_RANGE) = _field(
        "Percent of the session's price a client pays for moving a booking (not a package's "
        "session: the package's reschedule_fee).",
        0,
        alias="reschedule_fee",
    )
    moves_max: _count(MOVES_MAX_RANGE) | None = _field(
        "How often a client may move one booking; 0: never; no limit if left out.",
        None,
        alias="reschedules_max",
    )
    sessions: list[Annotated[datetime, LocalDateTime()]] = _field(
        "Sessions by local date and time: [2026-12-01 18:00, 2026-12-08 18:00].", []
    )
    weekly: (
        Annotated[
            Annotated[WeeklyRule, Tag("one")] | Annotated[list[WeeklyRule], Tag("many")],
            Discriminator(_one_or_many),
        ]
        | None
    ) = _field("Sessions repeating every week: one rule, or a list of them.", None)


class Pass(Entry):
    """An entry pass on sale: a number of sessions of the programme, used within some days."""

    noun: ClassVar[str] = "pass"
    key: KeyText = _field(_SIBLING_KEY)
    title: Title = _field(_SHOWN)
    entries: _count(PASS_ENTRIES_RANGE) = _field("Sessions the pass is good for.")
    price_minor: Amount = _field("The pass's price; more than zero.", alias="price")
    valid_days: _count(PASS_VALID_DAYS_RANGE) = _field(
        "Days the pass can be used, from the day it is bought."
    )


class FeeRow(Entry):
    """A row of a fee schedule: an amount due on a date."""

    noun: ClassVar[str] = "fee"
    due_on: Day = _field("The date the amount is due; each date once.", alias="due")
    amount_minor: Amount = _field("The amount; more than zero.", alias="amount")


class Programme(Entry):
    """What a client chooses first: a programme and its classes."""

    noun: ClassVar[str] = "programme"
    key: KeyText = _field(_KEY)
    title: Title = _field(_SHOWN)
    description: Description = _field(
        'What clients read about it; ">-" lets the text go on over indented lines.', ""
    )
    kind: Annotated[str, _choice(KIND_SPELLINGS, _KIND_CHOICES)] = _field(
        "How clients sign up: pay-as-you-go (book single sessions), ongoing (enrol in a class "
        "for all its sessions) or one-off (a single date, such as a workshop).",
        "payg",
    )
    category: Category = _field("Groups programmes for clients; none if left out.", "")
    rank: _count(RANK_RANGE) | None = _field(
        "Only clients of at least this rank may book; anyone if left out.", None
    )
    valid_from: Day | None = _field("The first day the programme is offered.", None)
    valid_until: Day | None = _field("The last day the programme is offered (included).", None)
    public: YesNo = _field('"no" hides the programme from the list clients browse.', True)
    colour: Annotated[str, Colour()] | None = _field(
        '"#rrggbb" or "#rgb", in quotes: without them "#" starts a comment.', None
    )
    cancel_notice_hours: _count(CANCEL_NOTICE_HOURS_RANGE) = _field(
        _CANCEL_NOTICE, DEFAULT_CANCEL_NOTICE_HOURS
    )
    makeups_carry_over: YesNo = _field(
        "Make-up credits stay usable in the next billing period.", False
    )
    monthly_fee_minor: Amount | None = _field(
        "Not for one-off programmes: the fee enrolled clients pay each month.",
        None,
        alias="monthly_fee",
    )
    fee_due_day: _count(FEE_DUE_DAY_RANGE) = _field(
        "With monthly_fee: the day of the month it is due (past the month's end: its last day).",
        DEFAULT_FEE_DUE_DAY,
    )
    fees: list[FeeRow] | None = _field(
        "Not for one-off programmes, instead of monthly_fee: fees due on given dates.",
        None,
        min_length=1,
        max_length=MAX_FEE_ROWS,
    )
    attendance_credits: _count(ATTENDANCE_CREDITS_RANGE) | None = _field(
        "Not for one-off programmes: sessions an enrolled client may attend per billing "
        "period; no limit if left out.",
        None,
    )
    move_any_class: YesNo = _field(
        "Not for ongoing programmes: a client may move a booking to a session of any class of "
        "the programme with the same price, not only of its own class.",
        False,
        alias="reschedule_to_any_class",
    )
    classes: list[Class] = _field("What can be booked in this programme.", min_length=1)
    passes: list[Pass] = _field("Pay-as-you-go only: entry passes on sale.", [])


class Course(Entry):
    """A course (units of one service) or service package (of several) on sale."""

    noun: ClassVar[str] = "course"
    key: KeyText = _field(_KEY)
    title: Title = _field(_SHOWN)
    price_minor: Amount = _field("The price; more than zero.", alias="price")
    valid_days: _count(PASS_VALID_DAYS_RANGE) | None = _field(
        "Days it can be used, from the day it is bought; no expiry if left out.", None
    )
    late_cancel: Annotated[str, _choice(LATE_CANCEL)] = _field(
        "What a late cancel or a no-show does to the unit: forfeit (used up) or return (free "
        "again).",
        "forfeit",
    )
    units: dict[Annotated[str, UnitService()], _count(COURSE_UNITS_RANGE)] = _field(
        "Pay-as-you-go programmes of this file and how many sessions of each: {massage: 5}.",
        min_length=1,
    )


class CatalogFile(Entry):
    """Everything clients can book at your studio. Edit the file and import it again
    (python -m bot import-catalog FILE): nothing changes until it is valid, and importing the
    same file twice changes nothing. Times are local to the studio's time zone."""

    model_config = ConfigDict(
        title="Spotbook catalog",
        # without session types, the file must list programmes
        json_schema_extra={
            "anyOf": [{"required": ["programmes"]}, {"required": ["session_types"]}]
        },
    )
    noun: ClassVar[str] = "catalog"
    billing_periods: list[BillingPeriod] = _field("Your semesters (or terms, seasons...).", [])
    session_types: list[SessionType] | None = _field(
        "What staff make sessions from in the bot.", None, min_length=1
    )
    programmes: list[Programme] | None = _field(
        "The programmes (what a client chooses first); may be left out when the file has "
        "session types.",
        None,
    )
    courses: list[Course] | None = _field(
        "Courses and service packages on sale; left out, those on sale stay as they are.", None
    )


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of the catalog file (docs/catalog.schema.json).

    Draft 7: the version editors' YAML support (yaml-language-server) implements.
    """
    return {"$schema": "http://json-schema.org/draft-07/schema#", **CatalogFile.model_json_schema()}


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
