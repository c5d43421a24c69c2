from __future__ import annotations

import ast
import string
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.catalog_messages import LINE_WRAPPER, PROBLEM_MESSAGES, describe_problem
from domain import catalog_file
from domain.catalog_file import (
    MAX_CATALOG_BYTES,
    Catalog,
    CatalogInvalid,
    CatalogProblem,
    ClassSpec,
    parse_catalog,
)

PRAGUE = ZoneInfo("Europe/Prague")
EXAMPLE = Path(__file__).parents[2] / "examples" / "studio.yaml"


def parse(text: str, *, tz: ZoneInfo = PRAGUE, currency_digits: int = 2) -> Catalog:
    return parse_catalog(text, tz=tz, currency_digits=currency_digits)


def problems_of(text: str, *, currency_digits: int = 2) -> list[CatalogProblem]:
    with pytest.raises(CatalogInvalid) as raised:
        parse(text, currency_digits=currency_digits)
    return raised.value.problems


def codes_and_lines(text: str, *, currency_digits: int = 2) -> list[tuple[int, str]]:
    return [(p.line, p.code) for p in problems_of(text, currency_digits=currency_digits)]


def with_class(*fields: str) -> str:
    """A one-programme catalog; the class's fields start at line 5."""
    header = [
        "programmes:",  # 1
        "  - key: yoga",  # 2
        "    title: Yoga",  # 3
        "    classes:",  # 4
    ]
    body = ["      - " + fields[0], *("        " + field for field in fields[1:])]
    return "\n".join(header + body) + "\n"


VALID_CLASS = ("key: morning", "title: Morning flow", "capacity: 12")


def only_class(text: str, *, tz: ZoneInfo = PRAGUE, currency_digits: int = 2) -> ClassSpec:
    return parse(text, tz=tz, currency_digits=currency_digits).programmes[0].classes[0]


def local_starts(spec: ClassSpec, tz: ZoneInfo = PRAGUE) -> list[str]:
    return [s.starts_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") for s in spec.sessions]


# --- the example --------------------------------------------------------------------------


def test_the_example_studio_file_parses_cleanly():
    catalog = parse(EXAMPLE.read_text(encoding="utf-8"))

    assert [p.key for p in catalog.programmes] == ["yoga", "pottery"]
    classes = [c for p in catalog.programmes for c in p.classes]
    assert [c.key for c in classes] == ["morning-flow", "evening-calm", "wheel-basics"]
    assert all(c.sessions for c in classes)
    first_session = min(s.starts_at for c in classes for s in c.sessions)
    assert first_session > datetime(2026, 11, 21, tzinfo=UTC)


def test_the_example_morning_class_skips_christmas_and_new_year():
    catalog = parse(EXAMPLE.read_text(encoding="utf-8"))
    morning = catalog.programmes[0].classes[0]

    starts = local_starts(morning)
    assert starts[0] == "2026-12-02 07:30"
    assert "2026-12-25 07:30" not in starts
    assert "2027-01-01 07:30" not in starts
    assert morning.price_minor == 1250


# --- fields and conversion ----------------------------------------------------------------


def test_a_valid_class_gets_its_fields_and_the_default_duration():
    spec = only_class(with_class(*VALID_CLASS, "sessions: [2026-12-01 18:00]"))

    assert (spec.key, spec.title, spec.capacity) == ("morning", "Morning flow", 12)
    assert spec.duration_minutes == 60
    assert spec.price_minor is None
    assert spec.line == 5


def test_a_winter_session_converts_from_local_time_with_the_winter_offset():
    spec = only_class(with_class(*VALID_CLASS, "sessions:", "  - 2026-12-01 18:00"))

    assert spec.sessions[0].starts_at == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    assert spec.sessions[0].line == 9


def test_a_summer_session_converts_from_local_time_with_the_summer_offset():
    spec = only_class(with_class(*VALID_CLASS, "sessions: [2027-07-01 18:00]"))

    assert spec.sessions[0].starts_at == datetime(2027, 7, 1, 16, 0, tzinfo=UTC)


def test_sessions_come_out_sorted_by_start():
    spec = only_class(
        with_class(*VALID_CLASS, "sessions: [2026-12-03 18:00, 2026-12-01 18:00, 2026-12-02 9:00]")
    )

    assert local_starts(spec) == ["2026-12-01 18:00", "2026-12-02 09:00", "2026-12-03 18:00"]


def test_an_unquoted_time_like_07_30_means_half_past_seven_not_the_number_450():
    spec = only_class(
        with_class(
            *VALID_CLASS,
            "weekly:",
            "  days: [tue]",
            "  time: 07:30",
            "  from: 2026-12-01",
            "  until: 2026-12-01",
        )
    )

    assert local_starts(spec) == ["2026-12-01 07:30"]


def test_a_weekly_rule_keeps_the_local_wall_time_across_the_dst_change():
    # Summer time starts in Prague on Sunday 2027-03-28.
    spec = only_class(
        with_class(
            *VALID_CLASS,
            "weekly:",
            "  days: [SUN]",
            "  time: '18:00'",
            "  from: 2027-03-21",
            "  until: 2027-04-04",
        )
    )

    assert local_starts(spec) == ["2027-03-21 18:00", "2027-03-28 18:00", "2027-04-04 18:00"]
    assert [s.starts_at.hour for s in spec.sessions] == [17, 16, 16]
    assert all(s.line == 9 for s in spec.sessions)


def test_a_weekly_rule_skips_its_except_dates():
    spec = only_class(
        with_class(
            *VALID_CLASS,
            "weekly:",
            "  days: [mon, wed]",
            "  time: '18:00'",
            "  from: 2026-12-07",
            "  until: 2026-12-16",
            "  except: [2026-12-09, 2026-12-14]",
        )
    )

    assert local_starts(spec) == ["2026-12-07 18:00", "2026-12-16 18:00"]


def test_weekly_may_be_a_list_of_rules_combined_with_listed_sessions():
    spec = only_class(
        with_class(
            *VALID_CLASS,
            "sessions: [2026-12-05 10:00]",
            "weekly:",
            "  - {days: [mon], time: '18:00', from: 2026-12-07, until: 2026-12-07}",
            "  - {days: [thursday], time: '9:15', from: 2026-12-01, until: 2026-12-03}",
        )
    )

    assert local_starts(spec) == ["2026-12-03 09:15", "2026-12-05 10:00", "2026-12-07 18:00"]


def test_an_ambiguous_local_time_takes_its_first_occurrence():
    # Clocks go back at 03:00 on 2026-10-25, so 02:30 happens twice; the first is summer time.
    spec = only_class(with_class(*VALID_CLASS, "sessions: [2026-10-25 02:30]"))

    assert spec.sessions[0].starts_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_a_local_time_inside_the_dst_gap_is_rejected():
    text = with_class(*VALID_CLASS, "sessions:", "  - 2026-03-29 02:30")

    assert problems_of(text) == [
        CatalogProblem(9, "nonexistent_local_time", {"value": "2026-03-29 02:30"})
    ]


@pytest.mark.parametrize(
    ("price", "digits", "minor"),
    [
        ("12", 2, 1200),
        ("'12.5'", 2, 1250),
        ('"12.50"', 2, 1250),
        ("0", 2, 0),
        ("'1200'", 0, 1200),
        ("7.125", 3, 7125),
    ],
)
def test_a_price_becomes_integer_minor_units_of_the_currency(price, digits, minor):
    spec = only_class(
        with_class(*VALID_CLASS, f"price: {price}", "sessions: [2026-12-01 18:00]"),
        currency_digits=digits,
    )

    assert spec.price_minor == minor


@pytest.mark.parametrize(
    ("price", "digits"),
    [("'12.505'", 2), ("12.5", 0), ("-3", 2), ("12,50", 2), ("1e3", 2), ("99999999999", 2)],
)
def test_a_price_that_the_currency_cannot_express_is_a_problem(price, digits):
    text = with_class(*VALID_CLASS, f"price: {price}", "sessions: [2026-12-01 18:00]")

    assert codes_and_lines(text, currency_digits=digits) == [(8, "bad_price")]


def test_a_quoted_number_is_accepted_where_a_number_is_expected():
    spec = only_class(
        with_class(
            *VALID_CLASS[:2], "capacity: '8'", 'duration: "45"', "sessions: [2026-12-01 18:00]"
        )
    )

    assert (spec.capacity, spec.duration_minutes) == (8, 45)


def test_yaml_literals_like_yes_and_numbers_stay_text_in_titles_and_keys():
    spec = only_class(
        with_class("key: 2026", "title: yes", "capacity: 3", "sessions: [2026-12-01 18:00]")
    )

    assert (spec.key, spec.title) == ("2026", "yes")


# --- problems -----------------------------------------------------------------------------


def test_a_typo_in_a_field_name_is_reported_at_its_line():
    text = with_class(
        "key: morning", "title: Morning flow", "capcity: 12", "sessions: [2026-12-01 18:00]"
    )

    assert problems_of(text) == [
        CatalogProblem(5, "missing_field", {"field": "capacity"}),
        CatalogProblem(7, "unknown_field", {"field": "capcity"}),
    ]


def test_a_duplicate_mapping_key_is_reported_instead_of_silently_keeping_one():
    text = with_class(*VALID_CLASS, "capacity: 20", "sessions: [2026-12-01 18:00]")

    assert problems_of(text) == [CatalogProblem(8, "duplicate_field", {"field": "capacity"})]


def test_several_problems_are_reported_together_sorted_by_line():
    text = "\n".join(
        [
            "programmes:",  # 1
            "  - key: Yoga!",  # 2
            "    title: Yoga",  # 3
            "    classes:",  # 4
            "      - key: morning",  # 5
            "        title: Morning",  # 6
            "        capacity: 0",  # 7
            "        sessions: [2026-12-01 18:00]",  # 8
            "  - key: pottery",  # 9
            "    title: Pottery",  # 10
            "    colour: red",  # 11
            "    classes:",  # 12
            "      - key: wheel",  # 13
            "        title: Wheel",  # 14
            "        capacity: 6",  # 15
            "        sessions: [2026-12-01 25:00]",  # 16
        ]
    )

    assert codes_and_lines(text) == [
        (2, "bad_key"),
        (7, "bad_integer"),
        (11, "unknown_field"),
        (16, "bad_datetime"),
    ]


def test_an_invalid_catalog_error_carries_its_problems_as_params():
    with pytest.raises(CatalogInvalid) as raised:
        parse("")

    assert raised.value.code == "catalog_invalid"
    assert raised.value.params == {"problems": raised.value.problems}
    assert raised.value.problems == [CatalogProblem(0, "empty_catalog", {})]


def test_a_file_over_the_size_limit_is_rejected_before_parsing():
    text = "#" * (MAX_CATALOG_BYTES + 1)

    assert problems_of(text) == [
        CatalogProblem(0, "too_large", {"size": MAX_CATALOG_BYTES + 1, "limit": MAX_CATALOG_BYTES})
    ]


def test_the_size_limit_counts_bytes_not_characters():
    text = "# " + "č" * (MAX_CATALOG_BYTES // 2)

    assert codes_and_lines(text) == [(0, "too_large")]


def test_a_problem_flood_stops_at_the_problem_limit():
    text = "programmes: []\n" + "".join(f"typo{n}: 1\n" for n in range(500))

    problems = problems_of(text)

    assert len(problems) == catalog_file.MAX_PROBLEMS + 1
    assert problems[0] == CatalogProblem(
        0, "too_many_problems", {"limit": catalog_file.MAX_PROBLEMS}
    )


def test_deeply_nested_yaml_is_a_syntax_problem_not_a_crash():
    assert codes_and_lines("[" * 100_000) == [(0, "yaml_syntax")]


def test_no_sessions_is_not_reported_on_top_of_a_broken_session_list():
    text = with_class(*VALID_CLASS, "sessions: [tomorrow]")

    assert codes_and_lines(text) == [(8, "bad_datetime")]


def test_a_class_key_may_repeat_in_another_programme():
    text = with_class(*VALID_CLASS, "sessions: [2026-12-01 18:00]") + "\n".join(
        [
            "  - key: pilates",
            "    title: Pilates",
            "    classes:",
            "      - key: morning",
            "        title: Morning",
            "        capacity: 5",
            "        sessions: [2026-12-01 18:00]",
        ]
    )

    catalog = parse(text)

    assert [c.key for p in catalog.programmes for c in p.classes] == ["morning", "morning"]


# One bad file per problem code: (file, line where the problem is expected).
WEEKLY = ("weekly:", "  days: [mon]", "  time: '18:00'", "  from: 2026-12-07")
BAD_FILES: dict[str, tuple[str, int]] = {
    "yaml_syntax": ("programmes:\n  - key: a\n   title: b\n", 3),
    "too_large": (" " * (MAX_CATALOG_BYTES + 1), 0),
    "alias_not_supported": (
        with_class(*VALID_CLASS, "sessions: &dates [2026-12-01 18:00]", "title2: *dates"),
        9,
    ),
    "too_many_problems": ("".join(f"typo{n}: 1\n" for n in range(200)), 0),
    "empty_catalog": ("# only a comment\nprogrammes: []\n", 2),
    "not_a_mapping": ("programmes:\n  - yoga\n", 2),
    "not_a_list": ("programmes: yoga\n", 1),
    "not_a_scalar": (with_class(*VALID_CLASS, "sessions: [[2026-12-01 18:00]]"), 8),
    "empty_list": ("programmes:\n  - key: yoga\n    title: Yoga\n    classes: []\n", 4),
    "missing_field": (
        with_class("key: morning", "title: Morning", "sessions: [2026-12-01 18:00]"),
        5,
    ),
    "unknown_field": (with_class(*VALID_CLASS, "sessions: [2026-12-01 18:00]", "colour: red"), 9),
    "duplicate_field": (
        with_class(*VALID_CLASS, "title: Again", "sessions: [2026-12-01 18:00]"),
        8,
    ),
    "bad_key": (
        with_class("key: Morning Flow", *VALID_CLASS[1:], "sessions: [2026-12-01 18:00]"),
        5,
    ),
    "duplicate_key": (
        with_class(*VALID_CLASS, "sessions: [2026-12-01 18:00]")
        + "      - key: morning\n        title: Again\n        capacity: 1\n"
        "        sessions: [2026-12-02 18:00]\n",
        9,
    ),
    "bad_text": (
        with_class(
            "key: morning", "title: " + "x" * 101, "capacity: 1", "sessions: [2026-12-01 18:00]"
        ),
        6,
    ),
    "bad_integer": (with_class(*VALID_CLASS, "duration: 2", "sessions: [2026-12-01 18:00]"), 8),
    "bad_price": (with_class(*VALID_CLASS, "price: '12.505'", "sessions: [2026-12-01 18:00]"), 8),
    "bad_datetime": (with_class(*VALID_CLASS, "sessions:", "  - 2026-02-30 18:00"), 9),
    "bad_date": (with_class(*VALID_CLASS, *WEEKLY, "  until: 2026-13-01"), 12),
    "bad_time": (
        with_class(
            *VALID_CLASS,
            "weekly:",
            "  days: [mon]",
            "  time: '24:00'",
            "  from: 2026-12-07",
            "  until: 2026-12-31",
        ),
        10,
    ),
    "bad_weekday": (
        with_class(
            *VALID_CLASS,
            "weekly:",
            "  days: [mon, funday]",
            "  time: '18:00'",
            "  from: 2026-12-07",
            "  until: 2026-12-31",
        ),
        9,
    ),
    "bad_range": (with_class(*VALID_CLASS, *WEEKLY, "  until: 2026-12-01"), 12),
    "unused_except_date": (
        with_class(*VALID_CLASS, *WEEKLY, "  until: 2026-12-31", "  except:", "  - 2025-12-08"),
        14,
    ),
    "nonexistent_local_time": (with_class(*VALID_CLASS, "sessions: [2026-03-29 02:00]"), 8),
    "duplicate_session": (
        with_class(*VALID_CLASS, "sessions: [2026-12-07 18:00]", *WEEKLY, "  until: 2026-12-07"),
        10,
    ),
    "no_sessions": (with_class(*VALID_CLASS), 5),
    "too_many_sessions": (
        with_class(
            *VALID_CLASS,
            "weekly:",
            *(
                f"  - {{days: [mon, tue, wed, thu, fri, sat, sun], time: '{hour}:00', "
                "from: 2027-01-01, until: 2027-12-31}"
                for hour in (8, 12, 18)
            ),
        ),
        5,
    ),
    "too_many_sessions_in_catalog": (
        "programmes:\n  - key: gym\n    title: Gym\n    classes:\n"
        + "".join(
            f"      - {{key: c{n}, title: C, capacity: 1, weekly: {{days: [mon, tue, wed, thu, "
            "fri, sat, sun], time: '7:00', from: 2027-01-01, until: 2027-12-31}}\n"
            for n in range(140)
        ),
        0,
    ),
}


@pytest.mark.parametrize(("code", "case"), BAD_FILES.items(), ids=list(BAD_FILES))
def test_each_problem_code_is_reported_at_its_line(code, case):
    text, line = case

    assert (line, code) in codes_and_lines(text)


def emitted_codes() -> set[str]:
    """Every code literal the parser passes to a problem, read from its source."""
    tree = ast.parse(Path(catalog_file.__file__).read_text(encoding="utf-8"))
    codes = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or len(node.args) < 2:
            continue
        name = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        if name in {"add", "CatalogProblem"} and isinstance(node.args[1], ast.Constant):
            codes.add(node.args[1].value)
    return codes


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_code_the_parser_can_emit_has_a_bad_file_example_and_a_message():
    assert emitted_codes() == set(BAD_FILES) == set(PROBLEM_MESSAGES)


@pytest.mark.parametrize("code", BAD_FILES, ids=list(BAD_FILES))
def test_every_message_placeholder_matches_the_params_the_parser_emits(code):
    problems = problems_of(BAD_FILES[code][0])

    for problem in problems:
        assert placeholders(PROBLEM_MESSAGES[problem.code]) == set(problem.params), problem
        assert all(type(value) in (str, int) for value in problem.params.values())


# --- messages -----------------------------------------------------------------------------


def test_a_problem_is_described_with_its_line_and_formatted_message():
    problem = CatalogProblem(7, "unknown_field", {"field": "capcity"})

    text = describe_problem(problem, lambda message: message)

    assert text == 'line 7: "capcity" is not a known field here — check the spelling.'


def test_a_whole_file_problem_is_described_without_a_line():
    text = describe_problem(CatalogProblem(0, "empty_catalog", {}), lambda message: message)

    assert text == "The catalog has no programmes."


def test_the_description_and_its_line_wrapper_both_go_through_gettext():
    translations = {
        PROBLEM_MESSAGES["bad_time"]: "„{value}“ ist keine gültige Uhrzeit.",
        LINE_WRAPPER: "Zeile {line}: {message}",
    }

    text = describe_problem(
        CatalogProblem(3, "bad_time", {"value": "25:00"}),
        lambda message: translations.get(message, message),
    )

    assert text == "Zeile 3: „25:00“ ist keine gültige Uhrzeit."


def test_a_translation_with_a_broken_placeholder_falls_back_to_english():
    text = describe_problem(
        CatalogProblem(3, "bad_time", {"value": "25:00"}),
        lambda message: "{wert} kaputt" if "time" in message else message,
    )

    assert text == 'line 3: "25:00" is not a valid time; write it as 18:00.'
