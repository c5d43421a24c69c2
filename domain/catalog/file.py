"""The catalog file: programmes, their classes and sessions, as YAML a studio owner can edit.

Beside the programmes the file may list billing periods (semesters and the like), session
types (what staff later make multi and single sessions from) and courses.

`parse_catalog` turns the text into a `Catalog` or raises `CatalogInvalid` listing every
problem it found, each with a 1-based line number, a stable code and plain params, so the
bot can show "line 7: unknown field "capcity"" in the owner's language.

A file is read in three steps. `loader` turns the text into plain values that keep every
scalar as the owner wrote it and remember their lines. The models of `schema` check the
shape and each field. The rules here check what spans fields and entries: unique keys,
ranges, what needs what, sessions in the time zone. Every problem code a file can get is
written in this module, from the schema's errors or from a rule.

All times in the file are local to the business time zone; sessions come out in UTC.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache, partial
from types import NoneType, UnionType
from typing import Annotated, Any, NamedTuple, Union, get_args, get_origin
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Tag, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from domain.catalog import schema
from domain.catalog.loader import (
    AliasRefused,
    Map,
    Null,
    Seq,
    Text,
    YamlRefused,
    key_line,
    line_of,
    load,
    written_key,
)
from domain.catalog.schema import (
    DEFAULT_CANCEL_NOTICE_HOURS,
    DEFAULT_FEE_DUE_DAY,
    DEFAULT_MIN_CHECK_HOURS,
    DEFAULT_OFFER_HOLD_MINUTES,
    DEFAULT_SESSION_HOLD_MINUTES,
    MAX_FEE_ROWS,
    MAX_PERIOD_DAYS,
    MAX_TYPE_PACKAGES,
    MAX_WEEKLY_SPAN_DAYS,
    SESSION_TYPE_PROGRAMME_PREFIX,
    CatalogFile,
    shown,
)
from domain.catalog.schema import KEY_RE as _KEY_RE  # noqa: F401 - tests read it here
from domain.catalog.schema import PROGRAMME_KINDS as PROGRAMME_KINDS
from domain.catalog.schema import PROMOTIONS as PROMOTIONS
from domain.catalog.schema import RANK_RANGE as RANK_RANGE
from domain.catalog.schema import SESSION_KINDS as SESSION_KINDS
from domain.errors import DomainError

MAX_CATALOG_BYTES = 1024 * 1024
MAX_SESSIONS_PER_CLASS = 1000
# Far above any real timetable; without it 1 MiB of weekly rules yields millions of sessions.
MAX_SESSIONS_PER_CATALOG = 50_000
# What one import may hold unless IMPORT_MAX_SESSIONS says otherwise: a year of about 190
# sessions a week, and an import the bot writes without keeping clients waiting (bench/).
DEFAULT_MAX_IMPORT_SESSIONS = 10_000
# Past this many the owner has a systematic mistake to fix, and a longer list is no help
# (and would not fit a chat message anyway).
MAX_PROBLEMS = 100

# Fields charged to, or counted for, enrolled clients: a one-off programme has no enrolment.
_ENROLMENT_FIELDS = ("monthly_fee", "fee_due_day", "fees", "attendance_credits")
# `colour: #ffcc00` without quotes: YAML reads "#" as the start of a comment, leaving the
# field empty. Caught by looking at the rest of the line after the field name.
_UNQUOTED_COLOUR_RE = re.compile(r"[ \t]*:[ \t]+(#[0-9a-fA-F]+)(?=[ \t\r\n\x00]|$)")


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
    min_participants: int | None = None  # fewer active bookings at the check cancel a session
    min_check_hours: int | None = None  # hours before the start; set exactly with the minimum
    waiting_list: bool = True
    promotion: str = "auto"  # one of PROMOTIONS: what happens when a place frees up
    offer_hold_minutes: int = DEFAULT_OFFER_HOLD_MINUTES  # how long an offer waits for an answer
    package: PackageSpec | None = None  # booked only as a package of N sessions
    max_per_day: int | None = None  # bookings of this class per client per local day
    max_per_week: int | None = None
    # moving a booking (not a package's session): cut-off hours (None: the programme's
    # cancel_notice_hours), fee in % of the price, most moves per booking (None: no limit)
    move_cutoff_hours: int | None = None
    move_fee_percent: int = 0
    moves_max: int | None = None


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
    # a booking may move to a session of any class of the programme of the same price (not
    # for ongoing programmes: their sessions move within the programme anyway)
    move_any_class: bool = False


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
    """A package option of a single session type: what the client gets for its price. Staff
    pick one when making the session, or the client picks when confirming."""

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


def parse_catalog(
    text: str,
    *,
    tz: ZoneInfo,
    currency_digits: int,
    max_sessions: int = DEFAULT_MAX_IMPORT_SESSIONS,
) -> Catalog:
    """Parse and validate a catalog file; raise `CatalogInvalid` with all problems, by line.

    A file whose sessions number more than `max_sessions` is refused with their count.
    """
    if currency_digits < 0:
        raise ValueError("currency_digits must not be negative")
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_CATALOG_BYTES:
        raise CatalogInvalid(
            [CatalogProblem(0, "too_large", {"size": size, "limit": MAX_CATALOG_BYTES})]
        )
    try:
        raw = load(text)
    except AliasRefused as refused:
        raise CatalogInvalid([CatalogProblem(refused.line, "alias_not_supported", {})]) from None
    except YamlRefused as refused:
        problem = CatalogProblem(refused.line, "yaml_syntax", {"detail": refused.detail})
        raise CatalogInvalid([problem]) from None
    if raw is None:
        raise CatalogInvalid([CatalogProblem(0, "empty_catalog", {})])
    context = {"currency_digits": currency_digits}
    problems = _Problems(raw)
    model = None
    try:
        model = CatalogFile.model_validate(raw, context=context)
    except ValidationError as invalid:
        for error in invalid.errors(include_url=False, include_input=False):
            _add_schema_problem(problems, error)
    rules = _Rules(problems, raw, tz=tz, context=context, max_sessions=max_sessions)
    with suppress(_StopChecking):  # the reason is among the problems
        rules.catalog()
    found = problems.listed()
    if rules.session_count > max_sessions and not problems.stopped:
        # First, and never cut by MAX_PROBLEMS: it matters more than any single line.
        params = {"count": rules.session_count, "limit": max_sessions}
        found.insert(0, CatalogProblem(0, "too_many_sessions_to_import", params))
    if found:
        raise CatalogInvalid(found)
    if model is None:  # the schema's problems were all in courses, which are not read
        without_courses = {name: value for name, value in raw.items() if name != "courses"}
        model = CatalogFile.model_validate(without_courses, context=context)
    return _catalog(model, raw, rules.sessions)


# --- problems ------------------------------------------------------------------------------
#
# Problems come out sorted by line. Problems on one line keep the order in which the file is
# checked: an entry's unknown and repeated fields first, then its fields in the order the
# schema declares them, each field's rules right after the field, the entry's own rules
# last. That order also decides which problems are listed when there are too many.

Loc = tuple[str | int, ...]  # where in the file's values: field names and list indexes
_Order = tuple[tuple[int, int], ...]


class _StopChecking(Exception):
    """Raised after a problem that makes checking the rest of the file pointless."""


class _Problem(NamedTuple):
    loc: Loc
    order: _Order
    problem: CatalogProblem


class _Problems:
    def __init__(self, raw: object) -> None:
        self.raw = raw
        self._found: list[_Problem] = []
        self._under: Counter[Loc] = Counter()  # how many problems lie under each location
        self._dropped: dict[Loc, int] = {}  # where, and how many problems were found then
        self._last: _Order | None = None

    def add(
        self,
        at: Loc | _Where,
        code: str,
        *,
        line: int | None = None,
        after: int = 0,
        **params: str | int,
    ) -> None:
        """A problem at `at`, on the line of its value unless `line` says otherwise; a rule's
        problem comes `after` the schema's own problems there."""
        where = at if isinstance(at, _Where) else _locate(at, self.raw)
        problem = CatalogProblem(where.line if line is None else line, code, params)
        self._found.append(_Problem(where.loc, (*where.order, (1, after)), problem))
        self._under.update(where.loc[:n] for n in range(len(where.loc) + 1))

    def last_one(self) -> _StopChecking:
        """The problem just added is the last: nothing after it in the file is checked."""
        self._last = self._found[-1].order
        return _StopChecking()

    @property
    def stopped(self) -> bool:
        return self._last is not None

    def within(self, loc: Loc, *, but: Iterable[Loc] = ()) -> bool:
        """Any problem under `loc` (other than under the `but` parts of it)?"""
        return self._under[loc] > sum(self._under[(*loc, *part)] for part in but)

    def drop(self, loc: Loc) -> None:
        """Forget the problems found so far under `loc`: the file is not read there."""
        if self._under[loc] and not self._dropped_at(loc, len(self._found) - 1):
            self._under.subtract({loc[:n]: self._under[loc] for n in range(len(loc) + 1)})
            self._dropped[loc] = len(self._found)

    def _dropped_at(self, loc: Loc, index: int) -> bool:
        """Whether the problem found `index`-th, at `loc`, has been forgotten."""
        return any(index < self._dropped.get(loc[:n], 0) for n in range(len(loc) + 1))

    def listed(self) -> list[CatalogProblem]:
        listed = []
        kept = [f for n, f in enumerate(self._found) if not self._dropped_at(f.loc, n)]
        for found in sorted(kept, key=lambda found: found.order):
            listed.append(found.problem)
            if found.order == self._last:
                break
            if len(listed) >= MAX_PROBLEMS:
                listed.append(CatalogProblem(0, "too_many_problems", {"limit": MAX_PROBLEMS}))
                break
        return sorted(listed, key=lambda problem: problem.line)


def _add_schema_problem(problems: _Problems, error: Any) -> None:
    """The problem of one of the schema's errors (its type is the problem's code, or the
    pydantic error it stands for)."""
    where = _locate(error["loc"], problems.raw)
    params, field = error.get("ctx") or {}, where.field
    at_key = where._replace(line=where.key_line)  # for a problem with a key rather than a value
    name = written_key(field)  # as written; None for a list or a mapping used as a name
    match error["type"]:
        case "missing":
            problems.add(where, "missing_field", field=field)
        case "extra_forbidden" if name is None:
            problems.add(at_key, "unknown_field", field="?")
        case "extra_forbidden" if where.repeats_field:  # the loader kept the repeat aside
            problems.add(at_key, "duplicate_field", field=shown(name))
        case "extra_forbidden":
            problems.add(at_key, "unknown_field", field=shown(name))
        case "not_a_mapping":
            problems.add(where, "not_a_mapping", field=params["noun"])
        case "list_type":
            problems.add(where, "not_a_list", field=field)
        case "dict_type" | "too_short" if field == "units":  # a course's units
            problems.add(where, "course_needs_units")
        case "too_short":
            problems.add(where, "empty_list", field=field)
        case "too_long" if field == "fees":
            problems.add(where, "too_many_fees", limit=params["max_length"])
        case "too_long":  # a session type's packages
            problems.add(where, "too_many_type_packages", max=params["max_length"])
        case "not_a_scalar" if error["loc"][-1] == "[key]":  # a list used as a name
            problems.add(at_key, "not_a_scalar", field=field)
        case "not_a_scalar":
            problems.add(where, "not_a_scalar", field=field)
        case "bad_key":
            problems.add(where, "bad_key", **params)
        case "key_too_long":  # only session type keys are shorter than the rest
            problems.add(where, "session_type_key_too_long", **params)
        case "bad_text":
            problems.add(where, "bad_text", field=field, **params)
        case "bad_integer":
            problems.add(where, "bad_integer", field=field, **params)
        case "bad_boolean":
            problems.add(where, "bad_boolean", field=field, **params)
        case "bad_choice":
            problems.add(where, "bad_choice", field=field, **params)
        case "bad_price":
            problems.add(where, "bad_price", **params)
        case "bad_colour":
            problems.add(where, "bad_colour", **params)
        case "bad_date":
            problems.add(where, "bad_date", **params)
        case "bad_time":
            problems.add(where, "bad_time", **params)
        case "bad_datetime":
            problems.add(where, "bad_datetime", **params)
        case "bad_weekday":
            problems.add(where, "bad_weekday", **params)
        case other:
            raise AssertionError(f"the schema raised {other!r}, which has no problem code")


class _Where(NamedTuple):
    loc: Loc  # without the schema's union tags and "[key]"
    order: _Order
    field: str  # the nearest field's name: the one a problem names
    line: int  # of the value; of its key, or of the mapping, when absent
    key_line: int  # of the last key of `loc`
    repeats_field: bool  # the last key is a field of its entry, written a second time


def _locate(loc: Iterable[str | int], raw: object) -> _Where:
    """Follow a location (the schema's or a rule's) through the schema and the file."""
    annotation: Any = CatalogFile
    values: list[object] = [raw]
    path: list[str | int] = []
    order: list[tuple[int, int]] = []
    field, repeats_field = "catalog", False
    for part in loc:
        step = _step(annotation, part if isinstance(part, str) else None, values[-1].__class__)
        annotation = step.annotation
        if step.kind == "tag":  # not a part of the file
            continue
        if step.kind == "key":  # a mapping's key rather than its value
            order.append((-1, 0))
            continue
        if step.kind == "extra":  # an unknown or repeated field: reported before the others
            order.append((-1, _position(values[-1], part)))
            repeats_field = written_key(str(part)) in _fields_of(step.model)
        else:
            rank = _position(values[-1], part) if step.kind == "entry" else step.rank
            order.append((0, part if step.kind == "item" and isinstance(part, int) else rank))
        if step.kind in ("field", "extra"):
            field = str(part)
        path.append(part)
        values.append(_child(values[-1], part))
    last_key_line = key_line(values[-2], str(path[-1])) if path else 0
    return _Where(
        tuple(path), tuple(order), field, line_of(raw, path), last_key_line, repeats_field
    )


class _Step(NamedTuple):
    kind: str  # tag, key, field, extra (not a field of `model`), entry (of a mapping), item
    rank: int
    annotation: Any  # of what the step reaches
    model: Any = None


@lru_cache(maxsize=4096)
def _step(annotation: Any, name: str | None, container: type) -> _Step:
    """One step of a location through the schema: `name` for a field or a key (None for a
    list index), from a value of type `container`."""
    annotation = _bare(annotation)
    if tags := _tags(annotation):  # one rule or a list of them: the member the value is
        if name in tags:
            return _Step("tag", 0, tags[name])
        annotation = _bare(tags["many" if issubclass(container, Seq) else "one"])
    if name == "[key]":
        return _Step("key", 0, annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        known = _fields_of(annotation).get(name)
        if known is None:
            return _Step("extra", 0, None, annotation)
        return _Step("field", known.rank, known.annotation)
    if get_origin(annotation) is dict:
        return _Step("entry", 0, get_args(annotation)[1])
    return _Step("item", 0, (get_args(annotation) or (None,))[0])


def _bare(annotation: Any) -> Any:
    """The type itself: without Annotated metadata, and without `| None`."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, UnionType) and NoneType in get_args(annotation):
            (annotation,) = (arg for arg in get_args(annotation) if arg is not NoneType)
        else:
            return annotation


def _tags(annotation: Any) -> dict[str | int, Any]:
    """The members of a tagged union by tag; empty for any other type."""
    if get_origin(annotation) not in (Union, UnionType):
        return {}
    return {
        meta.tag: member
        for member in get_args(annotation)
        for meta in getattr(member, "__metadata__", ())
        if isinstance(meta, Tag)
    }


class _Field(NamedTuple):
    rank: int  # in the model's declaration
    annotation: Any  # with its constraints
    info: FieldInfo


@cache
def _fields_of(model: type[BaseModel]) -> dict[str | int, _Field]:
    """A model's fields by the name the file gives them."""
    return {
        info.alias or name: _Field(
            rank,
            Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation,
            info,
        )
        for rank, (name, info) in enumerate(model.model_fields.items())
    }


def _position(value: object, key: str | int) -> int:
    return value.positions.get(str(key), 0) if isinstance(value, Map) else 0


def _child(value: object, part: str | int) -> object:
    if isinstance(value, dict):
        return value.get(part)
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return value[part]
    return None


# --- rules ---------------------------------------------------------------------------------


@cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


class _Entry:
    """A mapping of the file read through its model: each field as the model's type reads
    it, or None when invalid (the schema has said why)."""

    def __init__(self, raw: Map, model: type[BaseModel], loc: Loc, rules: _Rules) -> None:
        self.raw, self.model, self.loc, self.rules = raw, model, loc, rules

    def has(self, name: str) -> bool:
        return name in self.raw and not isinstance(self.raw[name], Null)

    def value(self, name: str) -> Any:
        """The field's value; its default when absent (None when it has none)."""
        field = _fields_of(self.model)[name]
        if not self.has(name):
            return None if field.info.is_required() else field.info.default
        return self.rules.read(field.annotation, self.raw[name])

    def item(self, name: str, raw: object) -> Any:
        """An item of a list field (a value of a mapping field) as its type reads it."""
        return self.rules.read(get_args(_bare(_fields_of(self.model)[name].annotation))[-1], raw)

    def items(self, name: str) -> list[object]:
        found = self.raw.get(name)
        return list(found) if isinstance(found, Seq) else []

    def entries(self, name: str, model: type[BaseModel]) -> Iterator[_Entry]:
        """The list's items that are mappings (the schema reports the others)."""
        for index, item in enumerate(self.items(name)):
            if isinstance(item, Map):
                yield _Entry(item, model, (*self.loc, name, index), self.rules)

    def at(self, *parts: str | int) -> Loc:
        return (*self.loc, *parts)

    def line(self) -> int:
        return self.raw.line

    def key_line(self, name: str) -> int:
        return key_line(self.raw, name)


class _LocalStart(NamedTuple):
    local: datetime  # naive, business wall time
    line: int


class _Rules:
    """What the schema cannot say, checked in the order the file is read: each entry's
    rules once its fields are read, and nothing where the file is not read at all (the
    passes of a programme that may not sell any, the rules after too many sessions)."""

    def __init__(
        self,
        problems: _Problems,
        raw: object,
        *,
        tz: ZoneInfo,
        context: dict[str, Any],
        max_sessions: int,
    ) -> None:
        self.problems, self.raw, self.tz, self.context = problems, raw, tz, context
        self.max_sessions = max_sessions
        self.session_count = 0  # of the classes with no more than MAX_SESSIONS_PER_CLASS
        self.sessions: dict[Loc, tuple[SessionSpec, ...]] = {}  # by class

    def read(self, annotation: Any, raw: object) -> Any:
        with suppress(ValidationError):
            return _adapter(annotation).validate_python(raw, context=self.context)
        return None

    def catalog(self) -> None:
        if not isinstance(self.raw, Map):
            return  # the schema says so; there is nothing more to check
        root = _Entry(self.raw, CatalogFile, (), self)
        self.billing_periods(root)
        type_keys: set[str] = set()  # unique among the session types; programmes have their own
        for entry in root.entries("session_types", schema.SessionType):
            self.session_type(entry, type_keys)
        programmes = root.raw.get("programmes")
        if not root.has("programmes") or programmes == []:
            # A file may hold only session types; without them it must list programmes.
            if not root.has("session_types"):
                code = "empty_catalog" if root.has("programmes") else "missing_field"
                params = {} if root.has("programmes") else {"field": "programmes"}
                self.problems.add(("programmes",), code, **params)
            self.problems.drop(("courses",))  # they would name programmes: none to name
            return
        keys: set[str] = set()
        kinds = {}  # of the programmes without problems
        for entry in root.entries("programmes", schema.Programme):
            kind = self.programme(entry, keys)
            if not self.problems.within(entry.loc):
                kinds[entry.value("key")] = kind
        course_keys: set[str] = set()
        for entry in root.entries("courses", schema.Course):
            self.course(entry, course_keys, kinds, keys)

    def key(self, entry: _Entry, seen: set[str]) -> None:
        """An entry's key must not be taken by an earlier sibling (`seen`)."""
        key = self.read(schema.KeyText, entry.raw["key"]) if entry.has("key") else None
        if key in seen:
            self.problems.drop(entry.at("key"))  # a repeated key is repeated, however long
            self.problems.add(entry.at("key"), "duplicate_key", after=1, value=key)
        elif key is not None:
            seen.add(key)

    def billing_periods(self, root: _Entry) -> None:
        keys: set[str] = set()  # unique among the periods; programmes have their own
        valid = []
        for entry in root.entries("billing_periods", schema.BillingPeriod):
            self.key(entry, keys)
            first, last = entry.value("from"), entry.value("until")
            if _bad_range(first, last, MAX_PERIOD_DAYS):
                self.problems.add(
                    entry.at("until"), "bad_range", after=1, start=str(first), end=str(last)
                )
            if not self.problems.within(entry.loc):
                valid.append((first, entry.line(), entry.value("key"), last))
        # Sorted by start, a period overlaps an earlier one exactly when it starts on or
        # before the latest end so far; the later-starting one is the one to point at.
        latest: tuple[str, date] | None = None
        for first, line, key, last in sorted(valid, key=lambda period: period[:2]):
            if latest is not None and first <= latest[1]:
                self.problems.add(
                    ("billing_periods",),
                    "overlapping_periods",
                    line=line,
                    after=1,
                    first=latest[0],
                    second=key,
                )
            if latest is None or last > latest[1]:
                latest = (key, last)

    def session_type(self, entry: _Entry, keys: set[str]) -> None:
        self.key(entry, keys)
        if not entry.has("packages"):
            return
        if self.problems.within(entry.loc, but=[("packages",)]):
            self.problems.drop(entry.at("packages"))  # read once the type itself is fine
        elif entry.value("kind") != "single":
            self.problems.drop(entry.at("packages"))
            self.problems.add(entry.at("packages"), "type_packages_need_single", after=1)
        elif len(entry.items("packages")) <= MAX_TYPE_PACKAGES:
            package_keys: set[str] = set()  # a package key is unique within its type
            for package in entry.entries("packages", schema.TypePackage):
                self.key(package, package_keys)

    def programme(self, entry: _Entry, keys: set[str]) -> str | None:
        """Checks a programme; its kind (None when invalid)."""
        self.key(entry, keys)
        valid_from, valid_until = entry.value("valid_from"), entry.value("valid_until")
        if valid_from is not None and valid_until is not None and valid_until < valid_from:
            start, end = str(valid_from), str(valid_until)
            self.problems.add(entry.at("valid_until"), "bad_range", after=1, start=start, end=end)
        written = entry.raw.get("colour")
        if isinstance(written, Null) and (match := _UNQUOTED_COLOUR_RE.match(written.after_key)):
            line = entry.key_line("colour")
            self.problems.add(
                entry.at("colour"), "bad_colour", line=line, after=1, value=shown(match[1])
            )
        kind = entry.value("kind")
        self.billing(entry, kind)
        if kind == "ongoing" and entry.value("reschedule_to_any_class"):
            line = entry.key_line("reschedule_to_any_class")
            at = entry.at("reschedule_to_any_class")
            self.problems.add(at, "any_class_moves_not_ongoing", line=line, after=1)
        class_keys: set[str] = set()  # a class key is unique within its programme
        for class_ in entry.entries("classes", schema.Class):
            self.class_(class_, class_keys, kind)
        self.passes(entry, kind)
        return kind

    def billing(self, entry: _Entry, kind: str | None) -> None:
        """The monthly fee, the fee schedule and attendance credits."""
        if kind == "one_off" and any(entry.has(name) for name in _ENROLMENT_FIELDS):
            for name in filter(entry.has, _ENROLMENT_FIELDS):
                self.problems.drop(entry.at(name))  # not read: it should not be there at all
                line = entry.key_line(name)
                self.problems.add(entry.at(name), "needs_enrolment", line=line, field=name)
            return
        # `monthly_fee: 0` is the same as leaving it out.
        has_monthly_fee = entry.has("monthly_fee") and entry.value("monthly_fee") != 0
        at = entry.at("attendance_credits")  # after the last billing field is read
        if has_monthly_fee and entry.has("fees"):
            line = entry.key_line("fees")
            self.problems.add(at, "fees_and_monthly_fee", line=line, after=1)
        elif entry.has("fee_due_day") and not has_monthly_fee:
            line = entry.key_line("fee_due_day")
            self.problems.add(at, "fee_due_day_without_fee", line=line, after=1)
        if len(entry.items("fees")) > MAX_FEE_ROWS:
            return
        due_dates: set[date] = set()  # each due date once
        for row in entry.entries("fees", schema.FeeRow):
            due = row.value("due")
            if due in due_dates:
                line = line_of(row.raw, ("due",))
                self.problems.add(row.loc, "duplicate_fee_date", line=line, after=1, value=str(due))
            elif due is not None:
                due_dates.add(due)
            if row.has("amount") and row.value("amount") == 0:
                line = line_of(row.raw, ("amount",))
                self.problems.add(row.loc, "fee_amount_not_positive", line=line, after=2)

    def passes(self, entry: _Entry, kind: str | None) -> None:
        if not entry.has("passes"):
            return
        if self.problems.within(entry.loc, but=[("passes",)]):
            self.problems.drop(entry.at("passes"))  # read once the programme itself is fine
        elif kind != "payg":
            self.problems.drop(entry.at("passes"))
            self.problems.add(entry.at("passes"), "passes_need_payg", after=1)
        else:
            keys: set[str] = set()  # a pass key is unique within its programme
            for offer in entry.entries("passes", schema.Pass):
                self.key(offer, keys)
                if offer.has("price") and offer.value("price") == 0:
                    line = line_of(offer.raw, ("price",))
                    self.problems.add(offer.loc, "pass_price_not_positive", line=line, after=1)

    def class_(self, entry: _Entry, keys: set[str], kind: str | None) -> None:
        self.key(entry, keys)
        if "package" in entry.raw:
            self.package(entry, kind)
            if entry.has("max_per_day") or entry.has("max_per_week"):
                # A session package works only with unlimited bookings per day and week. One
                # problem for both limits, on the "package:" line.
                line = entry.key_line("package")
                self.problems.add(
                    entry.at("max_per_week"), "package_with_limits", line=line, after=1
                )
        # Name the class even when its key is invalid, so the message says which one.
        written = entry.raw.get("key")
        class_key = shown(str(written)) if isinstance(written, Text) and entry.has("key") else ""
        self.minimum(entry)
        sessions, clean = self.class_sessions(entry, class_key)
        if kind == "one_off" and clean and len(sessions) != 1:
            # Checked only when the sessions themselves are fine: otherwise the count is moot.
            self.problems.add(
                entry.loc,
                "one_off_needs_one_session",
                after=4,
                class_key=class_key,
                count=len(sessions),
            )
        self.sessions[entry.loc] = sessions

    def minimum(self, class_: _Entry) -> None:
        """A minimum fits the class's capacity; a check time needs a minimum."""
        least, capacity = class_.value("min_participants"), class_.value("capacity")
        if least is not None and capacity is not None and least > capacity:
            self.problems.add(
                class_.at("min_participants"),
                "min_participants_above_capacity",
                after=1,
                value=least,
                capacity=capacity,
            )
        if class_.has("min_check_hours") and not class_.has("min_participants"):
            self.problems.add(class_.at("min_check_hours"), "min_check_without_minimum", after=1)

    def package(self, class_: _Entry, kind: str | None) -> None:
        written, at, line = class_.raw["package"], class_.at("package"), class_.key_line("package")
        if isinstance(written, Null):  # "package:" with nothing under it (or mis-indented)
            self.problems.add(at, "missing_field", line=line, after=1, field="sessions")
        elif isinstance(written, Map) and kind == "ongoing":
            # Enrolling in an ongoing class books every session: there is nothing to pick.
            self.problems.drop(at)
            self.problems.add(at, "package_on_ongoing", line=line, after=1)
        elif isinstance(written, Map):
            if "sessions" not in written.key_lines:  # reported at "package:", not under it
                self.problems.drop((*at, "sessions"))
                self.problems.add((*at, "sessions"), "missing_field", line=line, field="sessions")
            package = _Entry(written, schema.Package, at, self)
            sessions = package.value("sessions")
            if kind == "one_off" and sessions is not None and sessions > 1:
                # A one-off class has one session: a bigger package could never be booked.
                self.problems.add(
                    (*at, "sessions"), "package_too_big_for_one_off", after=1, sessions=sessions
                )
            # A package may go without a price (or at 0) only when the class itself is free.
            if class_.has("price") and class_.value("price"):
                if not package.has("price"):
                    self.problems.add((*at, "price"), "package_needs_price", line=line, after=1)
                elif package.value("price") == 0:
                    self.problems.add((*at, "price"), "package_price_not_positive", after=1)

    # --- sessions ---

    def class_sessions(
        self, class_: _Entry, class_key: str
    ) -> tuple[tuple[SessionSpec, ...], bool]:
        """The class's sessions, and whether they came without a problem."""
        unique: dict[datetime, _LocalStart] = {}
        for source, after, starts in self.session_sources(class_):
            for start in starts:
                if start.local in unique:
                    value = _local_text(start.local)
                    self.problems.add(
                        source, "duplicate_session", line=start.line, after=after, value=value
                    )
                else:
                    unique[start.local] = start
            if len(unique) > MAX_SESSIONS_PER_CLASS:
                # Stop here: more rules cannot fix this, and generating them costs time.
                self.problems.add(
                    source,
                    "too_many_sessions",
                    line=class_.line(),
                    after=after + 1,
                    class_key=class_key,
                    limit=MAX_SESSIONS_PER_CLASS,
                )
                self.forget_rules_after(class_, source)
                return (), False
        clean = not any(self.problems.within(class_.at(name)) for name in ("sessions", "weekly"))
        if not unique and clean:
            # Only when nothing else explains it: an invalid session list already said why.
            self.problems.add(class_.loc, "no_sessions", after=1, class_key=class_key)
            clean = False
        self.session_count += len(unique)
        if self.session_count > MAX_SESSIONS_PER_CATALOG:
            limit = MAX_SESSIONS_PER_CATALOG
            self.problems.add(
                class_.loc, "too_many_sessions_in_catalog", line=0, after=2, limit=limit
            )
            raise self.problems.last_one()
        if self.session_count > self.max_sessions:
            # The file is refused (see parse_catalog): from here on sessions are only counted.
            return (), False
        sessions = []
        for start in unique.values():
            utc = _to_utc(start.local, self.tz)
            if utc is None:
                value = _local_text(start.local)
                self.problems.add(
                    class_.loc, "nonexistent_local_time", line=start.line, after=3, value=value
                )
                clean = False
            else:
                sessions.append(SessionSpec(starts_at=utc, line=start.line))
        return tuple(sorted(sessions, key=lambda spec: spec.starts_at)), clean

    def session_sources(self, class_: _Entry) -> Iterator[tuple[Loc, int, list[_LocalStart]]]:
        """The listed sessions, then each weekly rule's, with where a repeat among them is
        reported; lazily, so a class can stop early."""
        if class_.has("sessions"):
            starts = [
                _LocalStart(moment, line_of(item, ()))
                for item in class_.items("sessions")
                if (moment := class_.item("sessions", item)) is not None
            ]
            yield class_.at("sessions"), 1, starts
        weekly = class_.raw.get("weekly")
        if class_.has("weekly"):
            rules = enumerate(weekly) if isinstance(weekly, Seq) else [(None, weekly)]
            for index, rule in rules:
                at = class_.at("weekly") if index is None else class_.at("weekly", index)
                if isinstance(rule, Map):
                    yield at, 3, self.weekly_sessions(_Entry(rule, schema.WeeklyRule, at, self))
                else:
                    yield at, 3, []

    def forget_rules_after(self, class_: _Entry, source: Loc) -> None:
        """The weekly rules after `source` are never read: forget their problems."""
        weekly = class_.raw.get("weekly")
        if source[-1] == "sessions":
            self.problems.drop(class_.at("weekly"))
        elif isinstance(weekly, Seq):
            for index in range(int(source[-1]) + 1, len(weekly)):
                self.problems.drop(class_.at("weekly", index))

    def weekly_sessions(self, rule: _Entry) -> list[_LocalStart]:
        days, at = rule.value("days"), rule.value("time")
        first, last = rule.value("from"), rule.value("until")
        skipped: dict[date, int] = {}  # each with its line, to point at one that skips nothing
        for item in rule.items("except"):
            if (day := rule.item("except", item)) is not None:
                skipped.setdefault(day, line_of(item, ()))
        if days is None or at is None or first is None or last is None:
            return []
        if _bad_range(first, last, MAX_WEEKLY_SPAN_DAYS):
            line = line_of(rule.raw, ("until",))
            start, end = str(first), str(last)
            self.problems.add(rule.loc, "bad_range", line=line, after=1, start=start, end=end)
            return []
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
                starts.append(_LocalStart(datetime.combine(day, at), rule.line()))
        for day, line in skipped.items():
            if day not in used:
                # Most likely a typo (wrong year or weekday) that leaves the holiday class on.
                self.problems.add(
                    rule.loc, "unused_except_date", line=line, after=2, value=str(day)
                )
        return starts

    # --- courses ---

    def course(
        self, entry: _Entry, keys: set[str], kinds: dict[str, str], programme_keys: set[str]
    ) -> None:
        """Courses name programmes of this file (``programme_keys``: every key seen, also of
        a programme with problems, which is reported there rather than here)."""
        self.key(entry, keys)
        if entry.has("price") and entry.value("price") == 0:
            self.problems.add(entry.at("price"), "course_price_not_positive", after=1)
        units = entry.raw.get("units")
        if not isinstance(units, Map):
            return  # the schema says so
        seen: set[str] = set()
        for written, count in units.items():
            name = written_key(written)
            if name is None or entry.item("units", count) is None:
                continue  # the schema says why
            service, at = name.strip(), entry.at("units", written)
            line, value = key_line(units, written), shown(name.strip())
            if service in seen:
                self.problems.add(at, "duplicate_key", line=line, after=1, value=value)
            elif service not in programme_keys:
                self.problems.add(at, "course_unknown_service", line=line, after=1, value=value)
            elif kinds.get(service, "payg") != "payg":
                self.problems.add(at, "course_service_not_payg", line=line, after=1, value=value)
            seen.add(service)


def _bad_range(first: date | None, last: date | None, max_days: int) -> bool:
    """Ending before it starts, or lasting longer than `max_days` (both days included)."""
    if first is None or last is None:
        return False
    return last < first or (last - first).days + 1 > max_days


def _local_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


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


# --- the catalog ---------------------------------------------------------------------------


def _catalog(
    model: CatalogFile, raw: object, sessions: dict[Loc, tuple[SessionSpec, ...]]
) -> Catalog:
    """The `Catalog` of a file without problems: the models' values under the specs' names
    (schema.py names its fields so), the file's lines."""

    def spec(cls: type[Any], entry: BaseModel, at: Loc, **given: Any) -> Any:
        names = {field.name for field in fields(cls)}
        values = {name: getattr(entry, name) for name in type(entry).model_fields if name in names}
        if "line" in names:
            values["line"] = line_of(raw, at)
        return cls(**values | given)

    def each(entries: list[Any] | None, at: Loc, build: Callable[..., Any]) -> tuple[Any, ...]:
        return tuple(build(entry, (*at, index)) for index, entry in enumerate(entries or ()))

    def class_(entry: schema.Class, at: Loc) -> ClassSpec:
        package = entry.package and spec(PackageSpec, entry.package, at)
        check = entry.min_participants and (entry.min_check_hours or DEFAULT_MIN_CHECK_HOURS)
        return spec(
            ClassSpec, entry, at, sessions=sessions[at], package=package, min_check_hours=check
        )

    def programme(entry: schema.Programme, at: Loc) -> ProgrammeSpec:
        fees = each(entry.fees, (*at, "fees"), partial(spec, FeeRowSpec))
        return spec(
            ProgrammeSpec,
            entry,
            at,
            classes=each(entry.classes, (*at, "classes"), class_),
            passes=each(entry.passes, (*at, "passes"), partial(spec, PassSpec)),
            fees=tuple(sorted(fees, key=lambda row: row.due_on)),
            monthly_fee_minor=entry.monthly_fee_minor or None,  # 0: no fee
        )

    def session_type(entry: schema.SessionType, at: Loc) -> SessionTypeSpec:
        packages = each(entry.packages, (*at, "packages"), partial(spec, TypePackageSpec))
        return spec(SessionTypeSpec, entry, at, packages=packages)

    def course(entry: schema.Course, at: Loc) -> CourseSpec:
        return spec(CourseSpec, entry, at, units=tuple(entry.units.items()))

    periods = each(model.billing_periods, ("billing_periods",), partial(spec, BillingPeriodSpec))
    periods = tuple(sorted(periods, key=lambda period: (period.starts_on, period.line)))
    types = each(model.session_types, ("session_types",), session_type)
    if not model.programmes:  # courses are read only beside programmes
        return Catalog(programmes=(), billing_periods=periods, session_types=types)
    return Catalog(
        programmes=each(model.programmes, ("programmes",), programme),
        billing_periods=periods,
        session_types=types,
        courses=None if model.courses is None else each(model.courses, ("courses",), course),
    )
