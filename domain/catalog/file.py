"""The catalog file: programmes, their classes and sessions, as YAML a studio owner can edit.

Beside the programmes the file may list billing periods (semesters and the like) and session
types (seed 001 Booking Sessions: what staff later make multi and single sessions from).

`parse_catalog` turns the text into a `Catalog` or raises `CatalogInvalid` listing every
problem it found, each with a 1-based line number, a stable code and plain params, so the
bot can show "line 7: unknown field "capcity"" in the owner's language.

The YAML is composed into a node tree and walked by hand instead of `yaml.safe_load`:
YAML 1.1 implicit typing turns `18:00` into 1080 and `2026-12-01` into a date, and silently
keeps the last of two duplicate keys. Reading each scalar's text keeps every value as the
owner wrote it, and nodes carry line numbers.

All times in the file are local to the business time zone; sessions come out in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from domain.errors import DomainError

_Spec = TypeVar("_Spec")

MAX_CATALOG_BYTES = 1024 * 1024
MAX_SESSIONS_PER_CLASS = 1000
# Far above any real timetable; without it 1 MiB of weekly rules yields millions of sessions.
MAX_SESSIONS_PER_CATALOG = 50_000
# Past this many the owner has a systematic mistake to fix, and a longer list is no help
# (and would not fit a chat message anyway).
MAX_PROBLEMS = 100
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
PACKAGE_SESSIONS_RANGE = (1, 20)  # seed 002: one to twenty sessions per booking
PERCENT_RANGE = (0, 100)
CUTOFF_HOURS_RANGE = (0, 720)
LIMIT_RANGE = (1, 100)  # bookings of a class per client per day / week
DEFAULT_SESSION_HOLD_MINUTES = 1440  # a staff reservation waits a day for the client

# Stored values; the file may spell a kind as below (see _KIND_SPELLINGS).
PROGRAMME_KINDS = ("ongoing", "one_off", "payg")
PROMOTIONS = ("auto", "offer")
SESSION_KINDS = ("multi", "single")

# A session type's programme is stored under this prefix plus the type's key. _KEY_RE never
# accepts "@", so no programme written in the file can take (and rewrite) that key; the type
# key is one character shorter than other keys to keep the result within String(40).
SESSION_TYPE_PROGRAMME_PREFIX = "@"
MAX_SESSION_TYPE_KEY_CHARS = 40 - len(SESSION_TYPE_PROGRAMME_PREFIX)

_KEY_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
# [0-9] rather than \d: \d also matches other scripts' digits, which int() would accept.
_INTEGER_RE = re.compile(r"-?[0-9]{1,12}")
_PRICE_RE = re.compile(r"([0-9]{1,12})(?:\.([0-9]+))?")
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_DATETIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{1,2}):([0-9]{2})")
_WEEKDAYS = {
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
# What the file may say for each stored value; matched case-insensitively.
_KIND_SPELLINGS = {
    "ongoing": "ongoing",
    "one-off": "one_off",
    "one_off": "one_off",
    "pay-as-you-go": "payg",
    "payg": "payg",
}
_KIND_CHOICES = "ongoing, one-off, pay-as-you-go"  # as the owner should write them
_PROMOTION_SPELLINGS = {value: value for value in PROMOTIONS}
_SESSION_KIND_SPELLINGS = {value: value for value in SESSION_KINDS}
_BOOLEANS = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}
_COLOUR_RE = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
# `colour: #ffcc00` without quotes: YAML reads "#" as the start of a comment, leaving the
# field empty. Caught by looking at the rest of the line after the field name.
_UNQUOTED_COLOUR_RE = re.compile(r"[ \t]*:[ \t]+(#[0-9a-fA-F]+)(?=[ \t\r\n\x00]|$)")
_FOLDED_TEXT_FIELDS = frozenset({"title", "name", "category"})
_NULL_TAG = "tag:yaml.org,2002:null"
# Values echoed back in messages are cut short: a chat message has a size limit.
_MAX_SHOWN_CHARS = 60

_ROOT_FIELDS = frozenset({"programmes", "billing_periods", "session_types", "courses"})
_PERIOD_FIELDS = frozenset({"key", "name", "from", "until"})
_PROGRAMME_FIELDS = frozenset(
    {
        "key",
        "title",
        "description",
        "classes",
        "kind",
        "category",
        "rank",
        "valid_from",
        "valid_until",
        "public",
        "colour",
        "cancel_notice_hours",
        "makeups_carry_over",
        "passes",
        "monthly_fee",
        "fee_due_day",
        "fees",
        "attendance_credits",
    }
)
# Charged to, or counted for, enrolled clients: a one-off programme has no enrolment.
_ENROLMENT_FIELDS = ("monthly_fee", "fee_due_day", "fees", "attendance_credits")
_PASS_FIELDS = frozenset({"key", "title", "entries", "price", "valid_days"})
_COURSE_FIELDS = frozenset({"key", "title", "price", "valid_days", "late_cancel", "units"})
# what a late cancel or a no-show does to the unit: used up, or free again
_LATE_CANCEL = {"forfeit": "forfeit", "return": "return"}
_FEE_FIELDS = frozenset({"due", "amount"})
_CLASS_FIELDS = frozenset(
    {
        "key",
        "title",
        "capacity",
        "duration",
        "price",
        "sessions",
        "weekly",
        "max_overload",
        "waiting_list",
        "promotion",
        "offer_hold",
        "package",
        "max_per_day",
        "max_per_week",
    }
)
_PACKAGE_FIELDS = frozenset(
    {"sessions", "price", "cancel_until", "reschedule_until", "cancel_refund", "reschedule_fee"}
)
_WEEKLY_FIELDS = frozenset({"days", "time", "from", "until", "except"})
_SESSION_TYPE_FIELDS = frozenset(
    {
        "key",
        "name",
        "kind",
        "duration",
        "break",
        "price",
        "hold",
        "category",
        "description",
        "public",
        "cancel_notice_hours",
        "packages",
    }
)
_TYPE_PACKAGE_FIELDS = frozenset({"key", "name", "price", "description"})
MAX_TYPE_PACKAGES = 10  # one button each under the client's confirmation request


@dataclass(frozen=True)
class SessionSpec:
    starts_at: datetime  # aware, UTC
    line: int


@dataclass(frozen=True)
class ClassSpec:
    key: str
    title: str
    capacity: int
    duration_minutes: int
    price_minor: int | None
    sessions: tuple[SessionSpec, ...]  # sorted by starts_at
    line: int
    max_overload: int = 0  # places beyond capacity that only staff may fill
    waiting_list: bool = True
    promotion: str = "auto"  # one of PROMOTIONS: what happens when a place frees up
    offer_hold_minutes: int = DEFAULT_OFFER_HOLD_MINUTES  # how long an offer waits for an answer
    package: PackageSpec | None = None  # booked only as a package of N sessions (seed 002)
    max_per_day: int | None = None  # bookings of this class per client per local day
    max_per_week: int | None = None


@dataclass(frozen=True)
class PackageSpec:
    """Exactly ``sessions`` sessions per booking for ``price_minor``; each may be cancelled
    (``cancel_refund_percent`` of price / sessions back) or moved (``reschedule_fee_percent``
    charged) until its cut-off (None: the programme's cancel_notice_hours)."""

    sessions: int
    price_minor: int | None  # None (or 0) only when the class is free: no price of its own
    cancel_cutoff_hours: int | None = None
    reschedule_cutoff_hours: int | None = None
    cancel_refund_percent: int = 100
    reschedule_fee_percent: int = 0


@dataclass(frozen=True)
class ProgrammeSpec:
    key: str
    title: str
    description: str
    classes: tuple[ClassSpec, ...]
    line: int
    kind: str = "payg"  # one of PROGRAMME_KINDS
    category: str = ""  # empty: uncategorised
    rank: int | None = None  # None: no rank restriction
    valid_from: date | None = None
    valid_until: date | None = None  # inclusive
    public: bool = True
    colour: str | None = None  # "#rgb" or "#rrggbb", lowercase
    cancel_notice_hours: int = DEFAULT_CANCEL_NOTICE_HOURS  # cancelling earlier is "in time"
    makeups_carry_over: bool = False  # make-up credits usable in the next billing period
    passes: tuple[PassSpec, ...] = ()  # entry passes on sale (pay-as-you-go only)
    monthly_fee_minor: int | None = None  # None: no monthly fee
    fee_due_day: int = DEFAULT_FEE_DUE_DAY  # day of the month the monthly fee is due
    fees: tuple[FeeRowSpec, ...] = ()  # custom fee schedule, by due date; replaces monthly_fee
    attendance_credits: int | None = None  # sessions per period; None: no limit


@dataclass(frozen=True)
class PassSpec:
    """An entry pass on sale: ``entries`` sessions of the programme, usable for ``valid_days``
    local days from the day it is bought."""

    key: str
    title: str
    entries: int
    price_minor: int
    valid_days: int
    line: int


@dataclass(frozen=True)
class FeeRowSpec:
    """A row of a custom fee schedule: ``amount_minor`` is due on ``due_on``."""

    due_on: date
    amount_minor: int
    line: int


class _Billing(NamedTuple):
    monthly_fee_minor: int | None
    fee_due_day: int
    fees: tuple[FeeRowSpec, ...]
    attendance_credits: int | None


@dataclass(frozen=True)
class BillingPeriodSpec:
    key: str
    name: str
    starts_on: date  # inclusive
    ends_on: date  # inclusive
    line: int


@dataclass(frozen=True)
class SessionTypeSpec:
    """What staff make sessions from in the bot: each session is a class of the type's own
    programme (one-off), made of spots of ``duration_minutes`` with ``break_minutes`` after
    each. The last four fields describe that programme."""

    key: str  # at most MAX_SESSION_TYPE_KEY_CHARS
    name: str
    kind: str  # one of SESSION_KINDS
    duration_minutes: int
    line: int
    break_minutes: int = 0
    price_minor: int | None = None  # None: free
    hold_minutes: int = DEFAULT_SESSION_HOLD_MINUTES  # how long a reservation awaits the client
    category: str = ""
    description: str = ""
    public: bool = True
    cancel_notice_hours: int = DEFAULT_CANCEL_NOTICE_HOURS
    packages: tuple[TypePackageSpec, ...] = ()  # a single type's package options


@dataclass(frozen=True)
class TypePackageSpec:
    """A package option of a single session type (seed 001): what the client gets for its
    price. Staff pick one when making the session, or the client picks when confirming."""

    key: str
    name: str
    price_minor: int
    line: int
    description: str = ""


@dataclass(frozen=True)
class Catalog:
    programmes: tuple[ProgrammeSpec, ...]
    billing_periods: tuple[BillingPeriodSpec, ...] = ()  # sorted by starts_on
    session_types: tuple[SessionTypeSpec, ...] = ()  # in file order
    # in file order; None: the file has no "courses" (those on sale stay as they are)
    courses: tuple[CourseSpec, ...] | None = None


@dataclass(frozen=True)
class CourseSpec:
    """A course (units of one service) or service package (of several) on sale: ``units``
    are (programme key, count) in file order; each programme is a pay-as-you-go one of the
    file. ``valid_days`` from the day it is bought (None: no expiry)."""

    key: str
    title: str
    price_minor: int
    units: tuple[tuple[str, int], ...]
    line: int
    valid_days: int | None = None
    late_cancel: str = "forfeit"  # domain.courses.rules.LatePolicy


def session_type_programme_key(type_key: str) -> str:
    """The key of a session type's programme: one no programme in the file can have."""
    return SESSION_TYPE_PROGRAMME_PREFIX + type_key


class CatalogProblem(NamedTuple):
    line: int  # 1-based; 0 when the problem is the whole file
    code: str
    params: dict[str, Any]  # plain str/int values for the message


class CatalogInvalid(DomainError):
    code = "catalog_invalid"

    def __init__(self, problems: list[CatalogProblem]) -> None:
        super().__init__(problems=problems)
        self.problems = problems


def parse_catalog(text: str, *, tz: ZoneInfo, currency_digits: int) -> Catalog:
    """Parse and validate a catalog file; raise `CatalogInvalid` with all problems, by line."""
    if currency_digits < 0:
        raise ValueError("currency_digits must not be negative")
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_CATALOG_BYTES:
        raise CatalogInvalid(
            [CatalogProblem(0, "too_large", {"size": size, "limit": MAX_CATALOG_BYTES})]
        )
    root = _compose(text)
    parser = _Parser(tz=tz, currency_digits=currency_digits)
    try:
        catalog = parser.catalog(root)
    except _StopChecking:  # the reason is among the problems
        catalog = Catalog(programmes=())
    if parser.problems:
        raise CatalogInvalid(sorted(parser.problems, key=lambda problem: problem.line))
    return catalog


# --- YAML -------------------------------------------------------------------------------


class _AliasUsed(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _NoAliasLoader(yaml.SafeLoader):
    """Refuses `*alias` references.

    The format has no use for them, and they are a cheap way to make a small file expand
    into an enormous catalog (the "billion laughs" pattern).
    """

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            raise _AliasUsed(self.peek_event().start_mark.line + 1)
        return super().compose_node(parent, index)


def _compose(text: str) -> Node | None:
    """The document's node tree (None for an empty file); syntax errors become problems."""
    try:
        return yaml.compose(text, Loader=_NoAliasLoader)
    except _AliasUsed as exc:
        raise CatalogInvalid([CatalogProblem(exc.line, "alias_not_supported", {})]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        detail = exc.problem or exc.context or str(exc)
        raise CatalogInvalid([CatalogProblem(line, "yaml_syntax", {"detail": detail})]) from None
    except yaml.reader.ReaderError as exc:
        # Raised for characters YAML forbids; it knows the offset, not the line.
        line = text.count("\n", 0, exc.position) + 1
        problem = CatalogProblem(line, "yaml_syntax", {"detail": exc.reason})
        raise CatalogInvalid([problem]) from None
    except yaml.YAMLError as exc:
        raise CatalogInvalid([CatalogProblem(0, "yaml_syntax", {"detail": str(exc)})]) from None
    except RecursionError:
        # The composer recurses once per nesting level; thousands of `[` exhaust the stack.
        problem = CatalogProblem(0, "yaml_syntax", {"detail": "the file is nested too deeply"})
        raise CatalogInvalid([problem]) from None


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _is_null(node: Node) -> bool:
    """`field:` with nothing after it (or `~`, `null`): treated as if the field were absent."""
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


def _shown(value: str) -> str:
    if len(value) <= _MAX_SHOWN_CHARS:
        return value
    return value[: _MAX_SHOWN_CHARS - 1] + "…"


def _local_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


# --- validation -------------------------------------------------------------------------


class _StopChecking(Exception):
    """Raised after adding a problem that makes checking the rest of the file pointless."""


class _Problems(list[CatalogProblem]):
    def add(self, at: Node | int, code: str, **params: str | int) -> None:
        self.append(CatalogProblem(at if isinstance(at, int) else _line(at), code, params))
        if len(self) >= MAX_PROBLEMS:
            self.append(CatalogProblem(0, "too_many_problems", {"limit": MAX_PROBLEMS}))
            raise _StopChecking


class _Mapping:
    """A YAML mapping whose duplicate and unknown fields have been reported."""

    def __init__(self, node: MappingNode, allowed: frozenset[str], problems: _Problems) -> None:
        self.node = node
        self._problems = problems
        self._values: dict[str, tuple[ScalarNode, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):  # `? [a, b]`: a list used as a field name
                problems.add(key_node, "unknown_field", field="?")
                continue
            name = key_node.value
            if name in self._values:
                # Keep the first: PyYAML would silently keep the last, hiding the typo.
                problems.add(key_node, "duplicate_field", field=_shown(name))
            elif name not in allowed:
                problems.add(key_node, "unknown_field", field=_shown(name))
            else:
                self._values[name] = (key_node, value_node)

    def key_node(self, name: str) -> ScalarNode | None:
        entry = self._values.get(name)
        return None if entry is None else entry[0]

    def get(self, name: str, *, required: bool = False) -> Node | None:
        """The field's value node; None when absent or empty (reported when required)."""
        entry = self._values.get(name)
        if entry is not None and not _is_null(entry[1]):
            return entry[1]
        if required:
            self._problems.add(entry[0] if entry else self.node, "missing_field", field=name)
        return None


class _LocalStart(NamedTuple):
    local: datetime  # naive, business wall time
    line: int


class _Parser:
    def __init__(self, *, tz: ZoneInfo, currency_digits: int) -> None:
        self.tz = tz
        self.currency_digits = currency_digits
        self.problems = _Problems()
        self.session_count = 0

    # Structure: each level reports its own problems and returns None when invalid, so that
    # one bad class does not stop the rest of the file from being checked.

    def catalog(self, root: Node | None) -> Catalog:
        if root is None:
            self.problems.add(0, "empty_catalog")
            return Catalog(programmes=())
        if not isinstance(root, MappingNode):
            self.problems.add(root, "not_a_mapping", field="catalog")
            return Catalog(programmes=())
        fields = _Mapping(root, _ROOT_FIELDS, self.problems)
        periods_node = fields.get("billing_periods")
        periods = () if periods_node is None else self.billing_periods(periods_node)
        types_node = fields.get("session_types")
        types = () if types_node is None else self.session_types(types_node)
        # A file may hold only session types; without them it must list programmes.
        items = fields.get("programmes", required=types_node is None)
        if items is None:
            return Catalog(programmes=(), billing_periods=periods, session_types=types)
        if isinstance(items, SequenceNode) and not items.value:
            if types_node is None:
                self.problems.add(items, "empty_catalog")
            return Catalog(programmes=(), billing_periods=periods, session_types=types)
        keys: set[str] = set()
        programmes = [self.programme(node, keys) for node in self.items(items, "programmes")]
        parsed = tuple(programme for programme in programmes if programme is not None)
        courses_node = fields.get("courses")
        return Catalog(
            programmes=parsed,
            billing_periods=periods,
            session_types=types,
            courses=None if courses_node is None else self.courses(courses_node, parsed, keys),
        )

    def courses(
        self, node: Node, programmes: tuple[ProgrammeSpec, ...], programme_keys: set[str]
    ) -> tuple[CourseSpec, ...]:
        """Courses name programmes of this file (``programme_keys``: every key seen, also of
        a programme with problems, which is reported there rather than here)."""
        kinds = {p.key: p.kind for p in programmes}
        specs = self.keyed(
            self.items(node, "courses"),
            lambda item, keys: self.course(item, keys, kinds, programme_keys),
        )
        return specs or ()

    def course(
        self, node: Node, keys: set[str], kinds: dict[str, str], programme_keys: set[str]
    ) -> CourseSpec | None:
        if not isinstance(node, MappingNode):
            self.problems.add(node, "not_a_mapping", field="course")
            return None
        fields = _Mapping(node, _COURSE_FIELDS, self.problems)
        key = self.key(fields.get("key", required=True), keys)
        title = self.text(fields.get("title", required=True), "title", MAX_TITLE_CHARS)
        price_node = fields.get("price", required=True)
        price = None if price_node is None else self.price(price_node)
        if price_node is not None and price == 0:
            self.problems.add(price_node, "course_price_not_positive")
            price = None
        valid_node = fields.get("valid_days")
        valid_days = self.integer(valid_node, "valid_days", PASS_VALID_DAYS_RANGE)
        late_node = fields.get("late_cancel")
        late = (
            "forfeit"
            if late_node is None
            else self.choice(late_node, "late_cancel", _LATE_CANCEL, "forfeit, return")
        )
        units = self.course_units(fields.get("units", required=True), kinds, programme_keys)
        if None in (key, title, price, late, units) or (valid_node and valid_days is None):
            return None
        return CourseSpec(key, title, price, units, _line(node), valid_days, late)

    def course_units(
        self, node: Node | None, kinds: dict[str, str], programme_keys: set[str]
    ) -> tuple[tuple[str, int], ...] | None:
        """``units: {massage: 5}`` or several services ``{massage: 3, physio: 2}``."""
        if node is None:
            return None
        if not isinstance(node, MappingNode) or not node.value:
            self.problems.add(node, "course_needs_units")
            return None
        before = len(self.problems)
        units: dict[str, int] = {}
        for key_node, value_node in node.value:
            service = self.scalar(key_node, "units")
            count = self.integer(value_node, "units", COURSE_UNITS_RANGE)
            if service is None or count is None:
                continue
            if service in units:
                self.problems.add(key_node, "duplicate_key", value=_shown(service))
            elif service not in programme_keys:
                self.problems.add(key_node, "course_unknown_service", value=_shown(service))
            elif service in kinds and kinds[service] != "payg":
                self.problems.add(key_node, "course_service_not_payg", value=_shown(service))
            units[service] = count
        if len(self.problems) > before:
            return None
        return tuple(units.items())

    def session_types(self, node: Node) -> tuple[SessionTypeSpec, ...]:
        items = self.items(node, "session_types")
        if isinstance(node, SequenceNode) and not items:
            self.problems.add(node, "empty_list", field="session_types")
        keys: set[str] = set()  # unique among the session types; programmes have their own
        specs = [self.session_type(item, keys) for item in items]
        return tuple(spec for spec in specs if spec is not None)

    def session_type(self, node: Node, keys: set[str]) -> SessionTypeSpec | None:
        if not isinstance(node, MappingNode):
            self.problems.add(node, "not_a_mapping", field="session type")
            return None
        before = len(self.problems)
        fields = _Mapping(node, _SESSION_TYPE_FIELDS, self.problems)
        key_node = fields.get("key", required=True)
        key = self.key(key_node, keys)
        if key is not None and key_node is not None and len(key) > MAX_SESSION_TYPE_KEY_CHARS:
            self.problems.add(
                key_node, "session_type_key_too_long", value=key, max=MAX_SESSION_TYPE_KEY_CHARS
            )
        name = self.text(fields.get("name", required=True), "name", MAX_TITLE_CHARS)
        kind_node = fields.get("kind", required=True)
        kind = (
            None
            if kind_node is None
            else self.choice(kind_node, "kind", _SESSION_KIND_SPELLINGS, ", ".join(SESSION_KINDS))
        )
        duration = self.integer(fields.get("duration", required=True), "duration", DURATION_RANGE)
        break_minutes = self.optional_integer(fields, "break", BREAK_RANGE, default=0)
        price_node = fields.get("price")
        price = None if price_node is None else self.price(price_node)
        hold = self.optional_integer(
            fields, "hold", OFFER_HOLD_RANGE, default=DEFAULT_SESSION_HOLD_MINUTES
        )
        category_node = fields.get("category")
        category = (
            ""
            if category_node is None
            else self.text(category_node, "category", MAX_CATEGORY_CHARS, empty_ok=True)
        )
        description_node = fields.get("description")
        description = (
            ""
            if description_node is None
            else self.text(description_node, "description", MAX_DESCRIPTION_CHARS, empty_ok=True)
        )
        public = self.boolean(fields.get("public"), "public", default=True)
        notice = self.optional_integer(
            fields,
            "cancel_notice_hours",
            CANCEL_NOTICE_HOURS_RANGE,
            default=DEFAULT_CANCEL_NOTICE_HOURS,
        )
        if len(self.problems) > before or key is None or name is None or kind is None:
            return None
        if duration is None or break_minutes is None or hold is None or notice is None:
            return None
        if category is None or description is None or public is None:
            return None
        packages = self.type_packages(fields.get("packages"), kind)
        if packages is None:
            return None
        return SessionTypeSpec(
            key=key,
            name=name,
            kind=kind,
            duration_minutes=duration,
            line=_line(node),
            break_minutes=break_minutes,
            price_minor=price,
            hold_minutes=hold,
            category=category,
            description=description,
            public=public,
            cancel_notice_hours=notice,
            packages=packages,
        )

    def type_packages(self, node: Node | None, kind: str) -> tuple[TypePackageSpec, ...] | None:
        if node is None:
            return ()
        if kind != "single":
            self.problems.add(node, "type_packages_need_single")
            return None
        items = self.items(node, "packages")
        if isinstance(node, SequenceNode) and not items:
            self.problems.add(node, "empty_list", field="packages")
            return None
        if len(items) > MAX_TYPE_PACKAGES:
            self.problems.add(node, "too_many_type_packages", max=MAX_TYPE_PACKAGES)
            return None
        return self.keyed(items, self.type_package)  # a package key is unique within its type

    def type_package(self, node: Node, keys: set[str]) -> TypePackageSpec | None:
        if not isinstance(node, MappingNode):
            self.problems.add(node, "not_a_mapping", field="package")
            return None
        fields = _Mapping(node, _TYPE_PACKAGE_FIELDS, self.problems)
        key = self.key(fields.get("key", required=True), keys)
        name = self.text(fields.get("name", required=True), "name", MAX_TITLE_CHARS)
        price_node = fields.get("price", required=True)
        price = None if price_node is None else self.price(price_node)
        description_node = fields.get("description")
        description = (
            ""
            if description_node is None
            else self.text(description_node, "description", MAX_DESCRIPTION_CHARS, empty_ok=True)
        )
        if key is None or name is None or price is None or description is None:
            return None
        return TypePackageSpec(key, name, price, _line(node), description)

    def billing_periods(self, node: Node) -> tuple[BillingPeriodSpec, ...]:
        keys: set[str] = set()  # unique among the periods; programmes have their own
        periods = [self.billing_period(item, keys) for item in self.items(node, "billing_periods")]
        valid = sorted(
            (period for period in periods if period is not None),
            key=lambda period: (period.starts_on, period.line),
        )
        # Sorted by start, a period overlaps an earlier one exactly when it starts on or
        # before the latest end so far; the later-starting one is the one to point at.
        latest: BillingPeriodSpec | None = None
        for period in valid:
            if latest is not None and period.starts_on <= latest.ends_on:
                self.problems.add(
                    period.line, "overlapping_periods", first=latest.key, second=period.key
                )
            if latest is None or period.ends_on > latest.ends_on:
                latest = period
        return tuple(valid)

    def billing_period(self, node: Node, keys: set[str]) -> BillingPeriodSpec | None:
        if not isinstance(node, MappingNode):
            self.problems.add(node, "not_a_mapping", field="billing period")
            return None
        before = len(self.problems)
        fields = _Mapping(node, _PERIOD_FIELDS, self.problems)
        key = self.key(fields.get("key", required=True), keys)
        name = self.text(fields.get("name", required=True), "name", MAX_PERIOD_NAME_CHARS)
        first = self.date(fields.get("from", required=True), "from")
        until_node = fields.get("until", required=True)
        last = self.date(until_node, "until")
        if (
            first is not None
            and last is not None
            and until_node is not None
            and (last < first or (last - first).days + 1 > MAX_PERIOD_DAYS)
        ):
            self.problems.add(
                until_node, "bad_range", start=first.isoformat(), end=last.isoformat()
            )
        if len(self.problems) > before or key is None or name is None:
            return None
        if first is None or last is None:
            return None
        return BillingPeriodSpec(
            key=key, name=name, starts_on=first, ends_on=last, line=_line(node)
        )

    def programme(self, node: Node, keys: set[str]) -> ProgrammeSpec | None:
        if not isinstance(node, MappingNode):
            self.problems.add(node, "not_a_mapping", field="programme")
            return None
        before = len(self.problems)
        fields = _Mapping(node, _PROGRAMME_FIELDS, self.problems)
        key = self.key(fields.get("key", required=True), keys)
        title = self.text(fields.get("title", required=True), "title", MAX_TITLE_CHARS)
        description_node = fields.get("description")
        description = (
            ""
            if description_node is None
            else self.text(description_node, "description", MAX_DESCRIPTION_CHARS, empty_ok=True)
        )
        kind_node = fields.get("kind")
        kind = (
            "payg"
            if kind_node is None
            else self.choice(kind_node, "kind", _KIND_SPELLINGS, _KIND_CHOICES)
        )
        category_node = fields.get("category")
        category = (
            ""
            if category_node is None
            else self.text(category_node, "category", MAX_CATEGORY_CHARS, empty_ok=True)
        )
        rank_node = fields.get("rank")
        rank = None if rank_node is None else self.integer(rank_node, "rank", RANK_RANGE)
        valid_from = self.date(fields.get("valid_from"), "valid_from")
        valid_until_node = fields.get("valid_until")
        valid_until = self.date(valid_until_node, "valid_until")
        if valid_from is not None and valid_until is not None and valid_until < valid_from:
            self.problems.add(
                valid_until_node or node,
                "bad_range",
                start=valid_from.isoformat(),
                end=valid_until.isoformat(),
            )
        public = self.boolean(fields.get("public"), "public", default=True)
        colour = self.colour(fields)
        notice_node = fields.get("cancel_notice_hours")
        cancel_notice_hours = (
            DEFAULT_CANCEL_NOTICE_HOURS
            if notice_node is None
            else self.integer(notice_node, "cancel_notice_hours", CANCEL_NOTICE_HOURS_RANGE)
        )
        makeups_carry_over = self.boolean(
            fields.get("makeups_carry_over"), "makeups_carry_over", default=False
        )
        billing = self.billing(fields, kind)
        classes: list[ClassSpec | None] = []
        classes_node = fields.get("classes", required=True)
        if classes_node is not None:
            class_keys: set[str] = set()  # a class key is unique within its programme
            one_off = kind == "one_off"
            classes = [
                self.class_(item, class_keys, one_off=one_off, kind=kind)
                for item in self.items(classes_node, "classes")
            ]
            if isinstance(classes_node, SequenceNode) and not classes_node.value:
                self.problems.add(classes_node, "empty_list", field="classes")
        if len(self.problems) > before or key is None or title is None or description is None:
            return None
        if kind is None or category is None or public is None or makeups_carry_over is None:
            return None
        if billing is None:
            return None
        passes = self.passes(fields.get("passes"), kind)
        if cancel_notice_hours is None or passes is None:
            return None
        return ProgrammeSpec(
            key=key,
            title=title,
            description=description,
            classes=tuple(spec for spec in classes if spec is not None),
            line=_line(node),
            kind=kind,
            category=category,
            rank=rank,
            valid_from=valid_from,
            valid_until=valid_until,
            public=public,
            colour=colour,
            cancel_notice_hours=cancel_notice_hours,
            makeups_carry_over=makeups_carry_over,
            passes=passes,
            monthly_fee_minor=billing.monthly_fee_minor,
            fee_due_day=billing.fee_due_day,
            fees=billing.fees,
            attendance_credits=billing.attendance_credits,
        )

    def billing(self, fields: _Mapping, kind: str | None) -> _Billing | None:
        """The monthly fee, the fee schedule and attendance credits; None when any is invalid."""
        before = len(self.problems)
        if kind == "one_off":
            for name in _ENROLMENT_FIELDS:
                if fields.get(name) is not None:
                    at = fields.key_node(name) or fields.node
                    self.problems.add(at, "needs_enrolment", field=name)
            if len(self.problems) > before:
                return None
        fee_node = fields.get("monthly_fee")
        monthly_fee = None if fee_node is None else self.price(fee_node, "monthly_fee")
        day_node = fields.get("fee_due_day")
        fee_due_day = (
            DEFAULT_FEE_DUE_DAY
            if day_node is None
            else self.integer(day_node, "fee_due_day", FEE_DUE_DAY_RANGE)
        )
        fees_node = fields.get("fees")
        fees = () if fees_node is None else self.fee_schedule(fees_node)
        credits_node = fields.get("attendance_credits")
        attendance_credits = (
            None
            if credits_node is None
            else self.integer(credits_node, "attendance_credits", ATTENDANCE_CREDITS_RANGE)
        )
        # `monthly_fee: 0` is the same as leaving it out.
        has_monthly_fee = fee_node is not None and monthly_fee != 0
        if has_monthly_fee and fees_node is not None:
            self.problems.add(fields.key_node("fees") or fields.node, "fees_and_monthly_fee")
        elif day_node is not None and not has_monthly_fee:
            at = fields.key_node("fee_due_day") or fields.node
            self.problems.add(at, "fee_due_day_without_fee")
        if len(self.problems) > before or fee_due_day is None or fees is None:
            return None
        return _Billing(monthly_fee or None, fee_due_day, fees, attendance_credits)

    def fee_schedule(self, node: Node) -> tuple[FeeRowSpec, ...] | None:
        items = self.items(node, "fees")
        if isinstance(node, SequenceNode) and not items:
            self.problems.add(node, "empty_list", field="fees")
        if len(items) > MAX_FEE_ROWS:
            self.problems.add(node, "too_many_fees", limit=MAX_FEE_ROWS)
            return None
        before = len(self.problems)
        seen: set[date] = set()  # each due date once
        rows = [self.fee_row(item, seen) for item in items]
        if len(self.problems) > before:
            return None
        return tuple(sorted((row for row in rows if row is not None), key=lambda row: row.due_on))

    def fee_row(self, node: Node, seen: set[date]) -> FeeRowSpec | None:
        if not isinstance(node, MappingNode):
            self.problems.add(node, "not_a_mapping", field="fee")
            return None
        fields = _Mapping(node, _FEE_FIELDS, self.problems)
        due_node = fields.get("due", required=True)
        due = self.date(due_node, "due")
        amount_node = fields.get("amount", required=True)
        amount = None if amount_node is None else self.price(amount_node, "amount")
        if due is not None and due_node is not None and due in seen:
            self.problems.add(due_node, "duplicate_fee_date", value=due.isoformat())
            due = None
        elif due is not None:
            seen.add(due)
        if amount_node is not None and amount == 0:
            self.problems.add(amount_node, "fee_amount_not_positive")
            amount = None
        if due is None or amount is None:
            return None
        return FeeRowSpec(due, amount, _line(node))

    def passes(self, node: Node | None, kind: str | None) -> tuple[PassSpec, ...] | None:
        if node is None:
            return ()
        if kind is not None and kind != "payg":
            self.problems.add(node, "passes_need_payg")
            return None
        # a pass key is unique within its programme
        return self.keyed(self.items(node, "passes"), self.entry_pass)

    def entry_pass(self, node: Node, keys: set[str]) -> PassSpec | None:
        if not isinstance(node, MappingNode):
            self.problems.add(node, "not_a_mapping", field="pass")
            return None
        fields = _Mapping(node, _PASS_FIELDS, self.problems)
        key = self.key(fields.get("key", required=True), keys)
        title = self.text(fields.get("title", required=True), "title", MAX_TITLE_CHARS)
        entries = self.integer(fields.get("entries", required=True), "entries", PASS_ENTRIES_RANGE)
        price_node = fields.get("price", required=True)
        price = None if price_node is None else self.price(price_node)
        valid_days = self.integer(
            fields.get("valid_days", required=True), "valid_days", PASS_VALID_DAYS_RANGE
        )
        if price_node is not None and price == 0:
            self.problems.add(price_node, "pass_price_not_positive")
            return None
        if key is None or title is None or entries is None or price is None or valid_days is None:
            return None
        return PassSpec(key, title, entries, price, valid_days, _line(node))

    def class_(
        self, node: Node, keys: set[str], *, one_off: bool = False, kind: str | None = None
    ) -> ClassSpec | None:
        if not isinstance(node, MappingNode):
            self.problems.add(node, "not_a_mapping", field="class")
            return None
        before = len(self.problems)
        fields = _Mapping(node, _CLASS_FIELDS, self.problems)
        key_node = fields.get("key", required=True)
        key = self.key(key_node, keys)
        title = self.text(fields.get("title", required=True), "title", MAX_TITLE_CHARS)
        capacity = self.integer(fields.get("capacity", required=True), "capacity", CAPACITY_RANGE)
        duration_node = fields.get("duration")
        duration = (
            DEFAULT_DURATION_MINUTES
            if duration_node is None
            else self.integer(duration_node, "duration", DURATION_RANGE)
        )
        price_node = fields.get("price")
        price = None if price_node is None else self.price(price_node)
        overload_node = fields.get("max_overload")
        max_overload = (
            0
            if overload_node is None
            else self.integer(overload_node, "max_overload", MAX_OVERLOAD_RANGE)
        )
        waiting_list = self.boolean(fields.get("waiting_list"), "waiting_list", default=True)
        promotion_node = fields.get("promotion")
        promotion = (
            "auto"
            if promotion_node is None
            else self.choice(
                promotion_node, "promotion", _PROMOTION_SPELLINGS, ", ".join(PROMOTIONS)
            )
        )
        hold_node = fields.get("offer_hold")
        offer_hold = (
            DEFAULT_OFFER_HOLD_MINUTES
            if hold_node is None
            else self.integer(hold_node, "offer_hold", OFFER_HOLD_RANGE)
        )
        package_key = fields.key_node("package")
        package = self.package(fields.get("package"), package_key, kind, price)
        limits = [
            None if (n := fields.get(name)) is None else self.integer(n, name, LIMIT_RANGE)
            for name in ("max_per_day", "max_per_week")
        ]
        if package_key is not None and any(
            fields.get(name) is not None for name in ("max_per_day", "max_per_week")
        ):
            # seed 002: a session package works only with unlimited bookings per day and week.
            # One problem for both limits, on the "package:" line.
            self.problems.add(package_key, "package_with_limits")
        # Name the class even when its key is invalid, so the message says which one.
        class_key = key_node.value if isinstance(key_node, ScalarNode) else ""
        before_sessions = len(self.problems)
        sessions = self.class_sessions(fields, _shown(class_key))
        if one_off and len(self.problems) == before_sessions and len(sessions) != 1:
            # Checked only when the sessions themselves are fine: otherwise the count is moot.
            self.problems.add(
                node, "one_off_needs_one_session", class_key=_shown(class_key), count=len(sessions)
            )
        if len(self.problems) > before or key is None or title is None:
            return None
        if capacity is None or duration is None or max_overload is None or offer_hold is None:
            return None
        if waiting_list is None or promotion is None:
            return None
        return ClassSpec(
            key=key,
            title=title,
            capacity=capacity,
            duration_minutes=duration,
            price_minor=price,
            sessions=sessions,
            line=_line(node),
            max_overload=max_overload,
            waiting_list=waiting_list,
            promotion=promotion,
            offer_hold_minutes=offer_hold,
            package=package,
            max_per_day=limits[0],
            max_per_week=limits[1],
        )

    def package(
        self,
        node: Node | None,
        key_node: Node | None,
        kind: str | None,
        class_price: int | None,
    ) -> PackageSpec | None:
        if key_node is None:
            return None
        if node is None:  # "package:" with nothing under it (or mis-indented fields)
            self.problems.add(key_node, "missing_field", field="sessions")
            return None
        if not isinstance(node, MappingNode):
            self.problems.add(node, "not_a_mapping", field="package")
            return None
        if kind == "ongoing":
            # Enrolling in an ongoing class books every session: there is nothing to pick.
            self.problems.add(key_node, "package_on_ongoing")
            return None
        fields = _Mapping(node, _PACKAGE_FIELDS, self.problems)
        before = len(self.problems)
        has_sessions = fields.key_node("sessions") is not None
        if not has_sessions:  # reported at "package:" rather than at its first field
            self.problems.add(key_node, "missing_field", field="sessions")
        sessions_node = fields.get("sessions", required=has_sessions)
        sessions = self.integer(sessions_node, "sessions", PACKAGE_SESSIONS_RANGE)
        if kind == "one_off" and sessions is not None and sessions > 1:
            # A one-off class has exactly one session: a bigger package could never be booked.
            self.problems.add(sessions_node, "package_too_big_for_one_off", sessions=sessions)
        price_node = fields.get("price")
        price = None if price_node is None else self.price(price_node)
        # A package may go without a price (or at 0) only when the class itself is free.
        if price_node is None and class_price:
            self.problems.add(key_node, "package_needs_price")
        if price_node is not None and price == 0 and class_price:
            self.problems.add(price_node, "package_price_not_positive")

        def number(name: str, bounds: tuple[int, int], default: int | None) -> int | None:
            found = fields.get(name)
            return default if found is None else self.integer(found, name, bounds)

        cancel_until = number("cancel_until", CUTOFF_HOURS_RANGE, None)
        reschedule_until = number("reschedule_until", CUTOFF_HOURS_RANGE, None)
        refund = number("cancel_refund", PERCENT_RANGE, 100)
        fee = number("reschedule_fee", PERCENT_RANGE, 0)
        if len(self.problems) > before or sessions is None or refund is None or fee is None:
            return None
        return PackageSpec(sessions, price, cancel_until, reschedule_until, refund, fee)

    def class_sessions(self, fields: _Mapping, class_key: str) -> tuple[SessionSpec, ...]:
        before = len(self.problems)
        unique: dict[datetime, _LocalStart] = {}
        for starts in self.session_sources(fields):
            self.add_unique(unique, starts)
            if len(unique) > MAX_SESSIONS_PER_CLASS:
                # Stop here: more rules cannot fix this, and generating them costs time.
                self.problems.add(
                    fields.node,
                    "too_many_sessions",
                    class_key=class_key,
                    limit=MAX_SESSIONS_PER_CLASS,
                )
                return ()
        if not unique and len(self.problems) == before:
            # Only when nothing else explains it: an invalid session list already said why.
            self.problems.add(fields.node, "no_sessions", class_key=class_key)
        self.session_count += len(unique)
        if self.session_count > MAX_SESSIONS_PER_CATALOG:
            self.problems.append(
                CatalogProblem(
                    0, "too_many_sessions_in_catalog", {"limit": MAX_SESSIONS_PER_CATALOG}
                )
            )
            raise _StopChecking
        sessions = [self.session(start) for start in unique.values()]
        return tuple(
            sorted((spec for spec in sessions if spec is not None), key=lambda spec: spec.starts_at)
        )

    def session_sources(self, fields: _Mapping) -> Iterator[list[_LocalStart]]:
        """The listed sessions, then each weekly rule's; lazily, so a class can stop early."""
        sessions_node = fields.get("sessions")
        if sessions_node is not None:
            yield self.listed_sessions(sessions_node)
        weekly_node = fields.get("weekly")
        if weekly_node is not None:
            rules = weekly_node.value if isinstance(weekly_node, SequenceNode) else [weekly_node]
            for rule in rules:
                yield self.weekly_sessions(rule)

    def add_unique(self, unique: dict[datetime, _LocalStart], starts: list[_LocalStart]) -> None:
        for start in starts:
            if start.local in unique:
                self.problems.add(start.line, "duplicate_session", value=_local_text(start.local))
            else:
                unique[start.local] = start

    def listed_sessions(self, node: Node) -> list[_LocalStart]:
        starts = []
        for item in self.items(node, "sessions"):
            value = self.scalar(item, "sessions")
            if value is None:
                continue
            moment = _parse_datetime(value)
            if moment is None:
                self.problems.add(item, "bad_datetime", value=_shown(value))
            else:
                starts.append(_LocalStart(moment, _line(item)))
        return starts

    def weekly_sessions(self, node: Node) -> list[_LocalStart]:
        if not isinstance(node, MappingNode):
            self.problems.add(node, "not_a_mapping", field="weekly")
            return []
        fields = _Mapping(node, _WEEKLY_FIELDS, self.problems)
        days = self.weekdays(fields.get("days", required=True))
        at = self.time(fields.get("time", required=True))
        first = self.date(fields.get("from", required=True), "from")
        until_node = fields.get("until", required=True)
        last = self.date(until_node, "until")
        skipped = self.except_dates(fields.get("except"))
        if days is None or at is None or first is None or last is None or until_node is None:
            return []
        if last < first or (last - first).days + 1 > MAX_WEEKLY_SPAN_DAYS:
            self.problems.add(
                until_node, "bad_range", start=first.isoformat(), end=last.isoformat()
            )
            return []
        line = _line(node)
        starts = []
        used: set[date] = set()
        # Counting in local dates and combining with the local time keeps 18:00 at 18:00 on
        # both sides of a DST change; the UTC offset is applied per session afterwards.
        for day in _days_between(first, last):
            if day.weekday() not in days:
                continue
            if day in skipped:
                used.add(day)
            else:
                starts.append(_LocalStart(datetime.combine(day, at), line))
        for day, except_line in skipped.items():
            if day not in used:
                # Most likely a typo (wrong year or weekday) that leaves the holiday class on.
                self.problems.add(except_line, "unused_except_date", value=day.isoformat())
        return starts

    def session(self, start: _LocalStart) -> SessionSpec | None:
        utc = _to_utc(start.local, self.tz)
        if utc is None:
            self.problems.add(start.line, "nonexistent_local_time", value=_local_text(start.local))
            return None
        return SessionSpec(starts_at=utc, line=start.line)

    # --- single fields ---

    def keyed(
        self, items: list[Node], parse: Callable[[Node, set[str]], _Spec | None]
    ) -> tuple[_Spec, ...] | None:
        """Each item parsed knowing its earlier siblings' keys; None if any had a problem."""
        before = len(self.problems)
        keys: set[str] = set()
        specs = [parse(item, keys) for item in items]
        if len(self.problems) > before:
            return None
        return tuple(spec for spec in specs if spec is not None)

    def items(self, node: Node, field: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            self.problems.add(node, "not_a_list", field=field)
            return []
        return list(node.value)

    def scalar(self, node: Node | None, field: str) -> str | None:
        if node is None:
            return None
        if not isinstance(node, ScalarNode):
            self.problems.add(node, "not_a_scalar", field=field)
            return None
        return str(node.value).strip()

    def key(self, node: Node | None, seen: set[str]) -> str | None:
        """A stable key; `seen` holds the keys of earlier siblings and gets this one added."""
        value = self.scalar(node, "key")
        if value is None or node is None:
            return None
        if not _KEY_RE.fullmatch(value):
            self.problems.add(node, "bad_key", value=_shown(value))
            return None
        if value in seen:
            self.problems.add(node, "duplicate_key", value=value)
            return None
        seen.add(value)
        return value

    def text(
        self, node: Node | None, field: str, max_chars: int, *, empty_ok: bool = False
    ) -> str | None:
        value = self.scalar(node, field)
        if value is None or node is None:
            return None
        if field in _FOLDED_TEXT_FIELDS:
            # Titles and names become button labels (categories group them): fold line
            # breaks and runs of spaces into one.
            value = " ".join(value.split())
        if len(value) > max_chars or (not value and not empty_ok):
            self.problems.add(node, "bad_text", field=field, max=max_chars)
            return None
        return value

    def integer(self, node: Node | None, field: str, bounds: tuple[int, int]) -> int | None:
        value = self.scalar(node, field)
        if value is None or node is None:
            return None
        low, high = bounds
        if _INTEGER_RE.fullmatch(value) and low <= int(value) <= high:
            return int(value)
        self.problems.add(node, "bad_integer", field=field, value=_shown(value), min=low, max=high)
        return None

    def optional_integer(
        self, fields: _Mapping, field: str, bounds: tuple[int, int], *, default: int
    ) -> int | None:
        node = fields.get(field)
        return default if node is None else self.integer(node, field, bounds)

    def boolean(self, node: Node | None, field: str, *, default: bool) -> bool | None:
        """yes/no, true/false or on/off in any case; `default` when the field is absent."""
        if node is None:
            return default
        value = self.scalar(node, field)
        if value is None:
            return None
        parsed = _BOOLEANS.get(value.lower())
        if parsed is None:
            self.problems.add(node, "bad_boolean", field=field, value=_shown(value))
        return parsed

    def choice(self, node: Node, field: str, spellings: dict[str, str], choices: str) -> str | None:
        """The stored value for one of the accepted `spellings` (matched in any case)."""
        value = self.scalar(node, field)
        if value is None:
            return None
        stored = spellings.get(value.lower())
        if stored is None:
            self.problems.add(node, "bad_choice", field=field, value=_shown(value), choices=choices)
        return stored

    def colour(self, fields: _Mapping) -> str | None:
        """The colour as #rgb or #rrggbb, lowercased; None when absent."""
        node = fields.get("colour")
        if node is None:
            unquoted = _unquoted_colour(fields.key_node("colour"))
            if unquoted is not None:
                self.problems.add(
                    fields.key_node("colour") or fields.node, "bad_colour", value=unquoted
                )
            return None
        value = self.scalar(node, "colour")
        if value is None:
            return None
        if not _COLOUR_RE.fullmatch(value):
            self.problems.add(node, "bad_colour", value=_shown(value))
            return None
        return value.lower()

    def price(self, node: Node, field: str = "price") -> int | None:
        """The price in minor units: "12.5" with 2 currency digits is 1250."""
        value = self.scalar(node, field)
        if value is None:
            return None
        match = _PRICE_RE.fullmatch(value)
        # Decimal strings rather than floats: 0.1 + 0.2 style rounding has no place in money.
        if match is not None and len(match[2] or "") <= self.currency_digits:
            fraction = (match[2] or "").ljust(self.currency_digits, "0")
            minor = int(match[1]) * 10**self.currency_digits + int(fraction or "0")
            if minor <= MAX_PRICE_MINOR:
                return minor
        self.problems.add(node, "bad_price", value=_shown(value))
        return None

    def date(self, node: Node | None, field: str) -> date | None:
        value = self.scalar(node, field)
        if value is None or node is None:
            return None
        parsed = _parse_date(value)
        if parsed is None:
            self.problems.add(node, "bad_date", value=_shown(value))
        return parsed

    def time(self, node: Node | None) -> time | None:
        value = self.scalar(node, "time")
        if value is None or node is None:
            return None
        match = _TIME_RE.fullmatch(value)
        try:
            if match is not None:
                return time(int(match[1]), int(match[2]))
        except ValueError:
            pass
        self.problems.add(node, "bad_time", value=_shown(value))
        return None

    def weekdays(self, node: Node | None) -> set[int] | None:
        if node is None:
            return None
        items = self.items(node, "days")
        if isinstance(node, SequenceNode) and not items:
            self.problems.add(node, "empty_list", field="days")
        days: set[int] = set()
        valid = bool(items)
        for item in items:
            value = self.scalar(item, "days")
            number = None if value is None else _WEEKDAYS.get(value.lower())
            if number is None:
                valid = False
                if value is not None:
                    self.problems.add(item, "bad_weekday", value=_shown(value))
            else:
                days.add(number)
        return days if valid else None

    def except_dates(self, node: Node | None) -> dict[date, int]:
        """Dates to skip, each with its line (to point at one that skips nothing)."""
        dates: dict[date, int] = {}
        if node is None:
            return dates
        for item in self.items(node, "except"):
            day = self.date(item, "except")
            if day is not None:
                dates.setdefault(day, _line(item))
        return dates


def _unquoted_colour(key_node: ScalarNode | None) -> str | None:
    """The colour after `colour:` that YAML took for a comment, as in `colour: #ffcc00`."""
    if key_node is None:
        return None
    mark = key_node.end_mark
    if mark.buffer is None:  # only a stream (not a str) leaves the mark without its text
        return None
    match = _UNQUOTED_COLOUR_RE.match(mark.buffer, mark.pointer)
    return None if match is None else _shown(match[1])


def _parse_date(value: str) -> date | None:
    match = _DATE_RE.fullmatch(value)
    try:
        return None if match is None else date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:  # 2026-02-30
        return None


def _parse_datetime(value: str) -> datetime | None:
    match = _DATETIME_RE.fullmatch(value)
    if match is None:
        return None
    try:
        year, month, day, hour, minute = (int(part) for part in match.groups())
        return datetime(year, month, day, hour, minute)
    except ValueError:
        return None


def _days_between(first: date, last: date) -> Iterable[date]:
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def _to_utc(local: datetime, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall time; None when the clocks skip it (DST gap).

    An ambiguous time (clocks going back) means its first occurrence, fold=0. zoneinfo
    quietly shifts a nonexistent time instead of failing, so a round trip through UTC that
    does not come back to the same wall time reveals the gap.
    """
    utc = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != local:
        return None
    return utc
