from __future__ import annotations

import ast
import string
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.text.catalog_messages import LINE_WRAPPER, PROBLEM_MESSAGES, describe_problem
from domain.catalog import file as catalog_file
from domain.catalog.file import (
    MAX_CATALOG_BYTES,
    PROGRAMME_KINDS,
    PROMOTIONS,
    BillingPeriodSpec,
    Catalog,
    CatalogInvalid,
    CatalogProblem,
    ClassSpec,
    FeeRowSpec,
    PackageSpec,
    ProgrammeSpec,
    SessionTypeSpec,
    TypePackageSpec,
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


ONE_SESSION = "sessions: [2026-12-01 18:00]"


def with_programme(
    *fields: str, class_fields: tuple[str, ...] = (*VALID_CLASS, ONE_SESSION)
) -> str:
    """A one-programme, one-class catalog; the programme's extra fields start at line 4."""
    lines = [
        "programmes:",  # 1
        "  - key: yoga",  # 2
        "    title: Yoga",  # 3
        *("    " + field for field in fields),
        "    classes:",
        "      - " + class_fields[0],
        *("        " + field for field in class_fields[1:]),
    ]
    return "\n".join(lines) + "\n"


def with_periods(*periods: tuple[str, str, str]) -> str:
    """Billing periods (key, from, until) before a valid programme; period n is at 4n - 2."""
    lines = ["billing_periods:"]
    for key, first, until in periods:
        lines += [
            f"  - key: {key}",
            f"    name: {key}",
            f"    from: {first}",
            f"    until: {until}",
        ]
    return "\n".join(lines) + "\n" + with_class(*VALID_CLASS, ONE_SESSION)


def only_programme(text: str) -> ProgrammeSpec:
    return parse(text).programmes[0]


def only_class(text: str, *, tz: ZoneInfo = PRAGUE, currency_digits: int = 2) -> ClassSpec:
    return parse(text, tz=tz, currency_digits=currency_digits).programmes[0].classes[0]


def local_starts(spec: ClassSpec, tz: ZoneInfo = PRAGUE) -> list[str]:
    return [s.starts_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") for s in spec.sessions]


# --- the example --------------------------------------------------------------------------


def test_the_example_studio_file_parses_cleanly():
    catalog = parse(EXAMPLE.read_text(encoding="utf-8"))

    assert [p.key for p in catalog.programmes] == [
        "yoga",
        "advanced-yoga",
        "pottery",
        "tea-ceremony",
    ]
    classes = [c for p in catalog.programmes for c in p.classes]
    assert [c.key for c in classes] == [
        "morning-flow",
        "evening-calm",
        "private-lessons",
        "saturday-practice",
        "wheel-basics",
        "workshop",
    ]
    assert all(c.sessions for c in classes)
    by_key = {c.key: c for c in classes}
    assert by_key["private-lessons"].package == PackageSpec(3, 15000, 24, 12, 50, 10)
    assert (by_key["evening-calm"].package, by_key["evening-calm"].max_per_week) == (None, 2)
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


def test_the_example_shows_every_programme_kind_and_the_new_settings():
    catalog = parse(EXAMPLE.read_text(encoding="utf-8"))
    programmes = {p.key: p for p in catalog.programmes}

    assert {key: p.kind for key, p in programmes.items()} == {
        "yoga": "payg",
        "advanced-yoga": "payg",
        "pottery": "ongoing",
        "tea-ceremony": "one_off",
    }
    assert programmes["yoga"].public is True
    assert (programmes["advanced-yoga"].public, programmes["advanced-yoga"].rank) == (False, 2)
    assert programmes["advanced-yoga"].category == programmes["yoga"].category == "Yoga"
    wheel = programmes["pottery"].classes[0]
    assert (wheel.waiting_list, wheel.promotion, wheel.offer_hold_minutes) == (True, "offer", 180)
    pottery = programmes["pottery"]
    assert (pottery.monthly_fee_minor, pottery.fee_due_day, pottery.attendance_credits) == (
        4500,
        5,
        5,
    )
    workshop = programmes["tea-ceremony"].classes[0]
    assert local_starts(workshop) == ["2027-01-16 14:00"]
    assert (workshop.capacity, workshop.price_minor) == (10, 2500)
    assert [(p.key, p.starts_on, p.ends_on) for p in catalog.billing_periods] == [
        ("winter-2027", date(2026, 12, 1), date(2027, 2, 28))
    ]


def test_the_example_fee_schedule_in_its_comment_parses_once_uncommented():
    text = EXAMPLE.read_text(encoding="utf-8")
    lines = [
        line.replace("    # fees:", "    fees:").replace("    #   - {due", "      - {due")
        for line in text.splitlines()
        if not line.startswith(("    monthly_fee:", "    fee_due_day:"))
    ]

    pottery = parse("\n".join(lines)).programmes[2]

    assert [(row.due_on, row.amount_minor) for row in pottery.fees] == [
        (date(2026, 12, 5), 6000),
        (date(2027, 1, 9), 6000),
        (date(2027, 2, 6), 3000),
    ]


def test_every_date_in_the_example_falls_in_its_winter_semester():
    catalog = parse(EXAMPLE.read_text(encoding="utf-8"))
    (period,) = catalog.billing_periods

    days = [
        s.starts_at.astimezone(PRAGUE).date()
        for p in catalog.programmes
        for c in p.classes
        for s in c.sessions
    ]
    assert all(period.starts_on <= day <= period.ends_on for day in days)


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


# --- programme settings -------------------------------------------------------------------


def test_a_programme_without_the_optional_settings_gets_the_defaults():
    programme = only_programme(with_programme())

    assert programme.kind == "payg"
    assert programme.category == ""
    assert programme.rank is None
    assert (programme.valid_from, programme.valid_until) == (None, None)
    assert programme.public is True
    assert programme.colour is None
    assert programme.cancel_notice_hours == 24
    assert programme.makeups_carry_over is False


def test_a_class_without_the_optional_settings_gets_the_defaults():
    spec = only_class(with_class(*VALID_CLASS, ONE_SESSION))

    assert spec.max_overload == 0
    assert spec.waiting_list is True
    assert spec.promotion == "auto"
    assert spec.offer_hold_minutes == 120


def test_a_catalog_without_billing_periods_has_none():
    assert parse(with_class(*VALID_CLASS, ONE_SESSION)).billing_periods == ()


def test_existing_constructors_keep_working_with_the_new_fields_defaulted():
    spec = ClassSpec("a", "A", 1, 60, None, (), 1)
    programme = ProgrammeSpec("p", "P", "", (spec,), 1)

    assert (spec.promotion, programme.kind) == ("auto", "payg")
    assert Catalog(programmes=(programme,)).billing_periods == ()


def test_the_exported_choices_are_the_stored_values():
    assert PROGRAMME_KINDS == ("ongoing", "one_off", "payg")
    assert PROMOTIONS == ("auto", "offer")


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("ongoing", "ongoing"),
        ("one-off", "one_off"),
        ("one_off", "one_off"),
        ("pay-as-you-go", "payg"),
        ("payg", "payg"),
        ("Ongoing", "ongoing"),
        ("'One-Off'", "one_off"),
    ],
)
def test_a_programme_kind_is_stored_in_its_canonical_form(written, stored):
    assert only_programme(with_programme(f"kind: {written}")).kind == stored


def test_an_unknown_kind_lists_the_choices_as_the_owner_writes_them():
    assert problems_of(with_programme("kind: weekly")) == [
        CatalogProblem(
            4,
            "bad_choice",
            {"field": "kind", "value": "weekly", "choices": "ongoing, one-off, pay-as-you-go"},
        )
    ]


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("yes", True),
        ("no", False),
        ("true", True),
        ("false", False),
        ("on", True),
        ("off", False),
        ("YES", True),
        ("False", False),
        ("'no'", False),
    ],
)
def test_yes_no_settings_accept_the_usual_spellings_in_any_case(written, value):
    programme = only_programme(
        with_programme(f"public: {written}", f"makeups_carry_over: {written}")
    )

    assert (programme.public, programme.makeups_carry_over) == (value, value)


@pytest.mark.parametrize("written", ["maybe", "1", "y", "'yes please'"])
def test_a_yes_no_setting_rejects_anything_else(written):
    problems = problems_of(with_programme("category: Kids", f"public: {written}"))

    assert [(p.line, p.code, p.params["field"]) for p in problems] == [(5, "bad_boolean", "public")]


def test_a_category_is_text_with_its_spaces_folded():
    programme = only_programme(with_programme("category: '  Kids   and  teens '"))

    assert programme.category == "Kids and teens"


def test_an_empty_category_means_uncategorised():
    assert only_programme(with_programme('category: ""')).category == ""


def test_a_category_over_60_characters_is_a_problem():
    problems = problems_of(with_programme("category: " + "x" * 61))

    assert problems == [CatalogProblem(4, "bad_text", {"field": "category", "max": 60})]


@pytest.mark.parametrize(("written", "rank"), [("2", 2), ("-5", -5), ("-100", -100), ("100", 100)])
def test_a_rank_may_be_any_whole_number_from_minus_100_to_100(written, rank):
    assert only_programme(with_programme(f"rank: {written}")).rank == rank


@pytest.mark.parametrize("written", ["101", "-101", "1.5", "high"])
def test_a_rank_outside_its_range_is_a_problem(written):
    assert codes_and_lines(with_programme(f"rank: {written}")) == [(4, "bad_integer")]


def test_validity_dates_are_read_as_dates():
    programme = only_programme(with_programme("valid_from: 2026-12-01", "valid_until: 2027-06-30"))

    assert (programme.valid_from, programme.valid_until) == (date(2026, 12, 1), date(2027, 6, 30))


def test_either_validity_date_may_be_given_alone():
    assert only_programme(with_programme("valid_until: 2027-06-30")).valid_from is None
    assert only_programme(with_programme("valid_from: 2027-06-30")).valid_until is None


def test_a_programme_valid_for_a_single_day_is_fine():
    programme = only_programme(with_programme("valid_from: 2027-01-16", "valid_until: 2027-01-16"))

    assert programme.valid_from == programme.valid_until == date(2027, 1, 16)


def test_validity_ending_before_it_starts_is_reported_at_the_end_date():
    text = with_programme("valid_until: 2026-11-30", "kind: ongoing", "valid_from: 2026-12-01")

    assert problems_of(text) == [
        CatalogProblem(4, "bad_range", {"start": "2026-12-01", "end": "2026-11-30"})
    ]


def test_a_bad_validity_date_is_reported_without_a_range_problem():
    text = with_programme("valid_from: 2026-12-01", "valid_until: 2027-02-30")

    assert codes_and_lines(text) == [(5, "bad_date")]


@pytest.mark.parametrize(
    ("written", "stored"),
    [("'#ffcc00'", "#ffcc00"), ('"#FFCC00"', "#ffcc00"), ('"#AbC"', "#abc"), ("'#123'", "#123")],
)
def test_a_colour_is_hex_stored_lowercase_in_the_form_given(written, stored):
    assert only_programme(with_programme(f"colour: {written}")).colour == stored


@pytest.mark.parametrize("written", ["red", "'#ffcc0'", "'#ggg'", "'ffcc00'", "'#ffcc00aa'"])
def test_a_colour_that_is_not_rgb_hex_is_a_problem(written):
    (problem,) = problems_of(with_programme(f"colour: {written}"))

    assert (problem.line, problem.code) == (4, "bad_colour")
    assert problem.params == {"value": written.strip("'")}


def test_an_unquoted_colour_is_caught_although_yaml_reads_it_as_a_comment():
    text = with_programme("category: Kids", "colour: #ffcc00   # brand yellow")

    assert problems_of(text) == [CatalogProblem(5, "bad_colour", {"value": "#ffcc00"})]


def test_an_empty_colour_with_a_real_comment_is_just_absent():
    assert only_programme(with_programme("colour:   # pick one later")).colour is None


def test_the_american_spelling_color_is_not_a_field():
    assert problems_of(with_programme("color: '#ffcc00'")) == [
        CatalogProblem(4, "unknown_field", {"field": "color"})
    ]


@pytest.mark.parametrize(("written", "hours"), [("0", 0), ("48", 48), ("720", 720)])
def test_the_cancel_notice_is_whole_hours_up_to_a_month(written, hours):
    programme = only_programme(with_programme(f"cancel_notice_hours: {written}"))

    assert programme.cancel_notice_hours == hours


@pytest.mark.parametrize("written", ["-1", "721", "2h"])
def test_a_cancel_notice_outside_its_range_is_a_problem(written):
    (problem,) = problems_of(with_programme(f"cancel_notice_hours: {written}"))

    assert (problem.line, problem.code) == (4, "bad_integer")
    assert (problem.params["min"], problem.params["max"]) == (0, 720)


def test_all_programme_settings_together():
    programme = only_programme(
        with_programme(
            "kind: ongoing",
            "category: Kids",
            "rank: -3",
            "valid_from: 2026-12-01",
            "valid_until: 2027-06-30",
            "public: no",
            "colour: '#FFCC00'",
            "cancel_notice_hours: 48",
            "makeups_carry_over: yes",
        )
    )

    assert programme == ProgrammeSpec(
        key="yoga",
        title="Yoga",
        description="",
        classes=programme.classes,
        line=2,
        kind="ongoing",
        category="Kids",
        rank=-3,
        valid_from=date(2026, 12, 1),
        valid_until=date(2027, 6, 30),
        public=False,
        colour="#ffcc00",
        cancel_notice_hours=48,
        makeups_carry_over=True,
    )


# --- class waiting-list settings ----------------------------------------------------------


def test_all_class_settings_together():
    spec = only_class(
        with_class(
            *VALID_CLASS,
            "max_overload: 2",
            "waiting_list: no",
            "promotion: offer",
            "offer_hold: 180",
            ONE_SESSION,
        )
    )

    assert spec.max_overload == 2
    assert spec.waiting_list is False
    assert spec.promotion == "offer"
    assert spec.offer_hold_minutes == 180


@pytest.mark.parametrize(("written", "stored"), [("auto", "auto"), ("OFFER", "offer")])
def test_a_promotion_is_auto_or_offer_in_any_case(written, stored):
    spec = only_class(with_class(*VALID_CLASS, f"promotion: {written}", ONE_SESSION))

    assert spec.promotion == stored


def test_an_unknown_promotion_lists_the_choices():
    text = with_class(*VALID_CLASS, "promotion: manual", ONE_SESSION)

    assert problems_of(text) == [
        CatalogProblem(
            8, "bad_choice", {"field": "promotion", "value": "manual", "choices": "auto, offer"}
        )
    ]


@pytest.mark.parametrize(
    ("field", "written", "ok"),
    [
        ("max_overload", "0", True),
        ("max_overload", "1000", True),
        ("max_overload", "1001", False),
        ("max_overload", "-1", False),
        ("offer_hold", "5", True),
        ("offer_hold", "10080", True),
        ("offer_hold", "4", False),
        ("offer_hold", "10081", False),
    ],
)
def test_class_numbers_keep_to_their_ranges(field, written, ok):
    text = with_class(*VALID_CLASS, f"{field}: {written}", ONE_SESSION)

    if ok:
        only_class(text)
    else:
        assert codes_and_lines(text) == [(8, "bad_integer")]


def test_a_bad_waiting_list_setting_names_its_field():
    text = with_class(*VALID_CLASS, "waiting_list: sometimes", ONE_SESSION)

    assert problems_of(text) == [
        CatalogProblem(8, "bad_boolean", {"field": "waiting_list", "value": "sometimes"})
    ]


# --- one-off programmes -------------------------------------------------------------------


def one_off(*class_fields: str) -> str:
    """A one-off programme whose class starts at line 6."""
    return with_programme("kind: one-off", class_fields=class_fields)


def test_a_one_off_class_with_one_session_is_fine():
    spec = only_class(one_off(*VALID_CLASS, "sessions: [2027-01-16 14:00]"))

    assert local_starts(spec) == ["2027-01-16 14:00"]


def test_a_one_off_class_may_get_its_single_session_from_a_weekly_rule():
    text = one_off(*VALID_CLASS, *WEEKLY, "  until: 2026-12-13")

    assert len(only_class(text).sessions) == 1


def test_a_one_off_class_with_several_sessions_is_reported_at_the_class():
    text = one_off(*VALID_CLASS, "sessions: [2027-01-16 14:00, 2027-01-17 14:00]")

    assert problems_of(text) == [
        CatalogProblem(6, "one_off_needs_one_session", {"class_key": "morning", "count": 2})
    ]


def test_a_one_off_class_counts_its_weekly_and_listed_sessions_together():
    text = one_off(*VALID_CLASS, "sessions: [2026-12-05 10:00]", *WEEKLY, "  until: 2026-12-07")

    assert problems_of(text) == [
        CatalogProblem(6, "one_off_needs_one_session", {"class_key": "morning", "count": 2})
    ]


def test_a_one_off_class_without_sessions_only_gets_the_no_sessions_problem():
    assert codes_and_lines(one_off(*VALID_CLASS)) == [(6, "no_sessions")]


def test_a_one_off_class_with_a_broken_session_is_not_also_counted():
    text = one_off(*VALID_CLASS, "sessions: [2027-01-16 14:00, 2027-01-32 14:00]")

    assert codes_and_lines(text) == [(9, "bad_datetime")]


def test_the_one_off_rule_is_checked_beside_other_problems_of_the_class():
    text = one_off(*VALID_CLASS, "price: cheap", "sessions: [2027-01-16 14:00, 2027-01-17 14:00]")

    assert codes_and_lines(text) == [(6, "one_off_needs_one_session"), (9, "bad_price")]


def test_the_one_off_rule_applies_to_every_class_of_the_programme():
    text = one_off(*VALID_CLASS, "sessions: [2027-01-16 14:00, 2027-01-17 14:00]") + "\n".join(
        [
            "      - key: second",  # 10
            "        title: Second",
            "        capacity: 2",
            "        sessions: [2027-01-16 16:00]",
            "      - key: third",  # 14
            "        title: Third",
            "        capacity: 2",
            "        sessions: [2027-01-16 16:00, 2027-01-16 18:00, 2027-01-16 20:00]",
        ]
    )

    assert problems_of(text) == [
        CatalogProblem(6, "one_off_needs_one_session", {"class_key": "morning", "count": 2}),
        CatalogProblem(14, "one_off_needs_one_session", {"class_key": "third", "count": 3}),
    ]


@pytest.mark.parametrize("kind", ["ongoing", "pay-as-you-go"])
def test_other_kinds_may_have_many_sessions(kind):
    text = with_programme(
        f"kind: {kind}",
        class_fields=(*VALID_CLASS, "sessions: [2027-01-16 14:00, 2027-01-17 14:00]"),
    )

    assert len(only_class(text).sessions) == 2


def test_an_invalid_kind_does_not_trigger_the_one_off_rule():
    text = with_programme(
        "kind: one-of",
        class_fields=(*VALID_CLASS, "sessions: [2027-01-16 14:00, 2027-01-17 14:00]"),
    )

    assert codes_and_lines(text) == [(4, "bad_choice")]


# --- billing periods ----------------------------------------------------------------------


def test_billing_periods_are_read_with_their_lines_and_sorted_by_start():
    catalog = parse(
        with_periods(
            ("summer-2027", "2027-02-01", "2027-06-30"), ("winter-2027", "2026-09-01", "2027-01-31")
        )
    )

    assert catalog.billing_periods == (
        BillingPeriodSpec("winter-2027", "winter-2027", date(2026, 9, 1), date(2027, 1, 31), 6),
        BillingPeriodSpec("summer-2027", "summer-2027", date(2027, 2, 1), date(2027, 6, 30), 2),
    )


def test_a_billing_period_name_is_folded_text():
    text = (
        "billing_periods:\n"
        "  - {key: w, name: '  Winter   semester ', from: 2026-12-01, until: 2026-12-31}\n"
    )

    (period,) = parse(text + with_class(*VALID_CLASS, ONE_SESSION)).billing_periods

    assert period.name == "Winter semester"


def test_an_empty_list_of_billing_periods_is_fine():
    text = "billing_periods: []\n" + with_class(*VALID_CLASS, ONE_SESSION)

    assert parse(text).billing_periods == ()


def test_a_billing_period_may_share_its_key_with_a_programme():
    assert (
        parse(with_periods(("yoga", "2026-12-01", "2026-12-31"))).billing_periods[0].key == "yoga"
    )


def test_a_billing_period_needs_all_its_fields():
    text = "billing_periods:\n  - key: winter\n    from: 2026-12-01\n" + with_class(
        *VALID_CLASS, ONE_SESSION
    )

    assert problems_of(text) == [
        CatalogProblem(2, "missing_field", {"field": "name"}),
        CatalogProblem(2, "missing_field", {"field": "until"}),
    ]


def test_billing_period_keys_follow_the_key_rules_and_are_unique():
    text = with_periods(
        ("Winter 2027", "2026-09-01", "2026-12-31"),
        ("summer", "2027-01-01", "2027-03-31"),
        ("summer", "2027-04-01", "2027-06-30"),
    )

    assert codes_and_lines(text) == [(2, "bad_key"), (10, "duplicate_key")]


def test_a_billing_period_with_unknown_fields_is_reported():
    text = "billing_periods:\n  - {key: w, name: W, from: 2026-12-01, until: 2026-12-31, to: x}\n"

    assert problems_of(text + with_class(*VALID_CLASS, ONE_SESSION)) == [
        CatalogProblem(2, "unknown_field", {"field": "to"})
    ]


def test_a_billing_period_ending_before_it_starts_is_reported_at_its_end():
    assert problems_of(with_periods(("winter", "2027-01-31", "2026-09-01"))) == [
        CatalogProblem(5, "bad_range", {"start": "2027-01-31", "end": "2026-09-01"})
    ]


def test_a_billing_period_may_last_400_days_but_not_401():
    parse(with_periods(("long", "2026-09-01", "2027-10-05")))  # 400 days, both included

    assert codes_and_lines(with_periods(("long", "2026-09-01", "2027-10-06"))) == [(5, "bad_range")]


def test_billing_periods_that_meet_without_a_shared_day_are_fine():
    catalog = parse(
        with_periods(("a", "2026-09-01", "2027-01-31"), ("b", "2027-02-01", "2027-06-30"))
    )

    assert [p.key for p in catalog.billing_periods] == ["a", "b"]


def test_billing_periods_sharing_a_day_overlap_reported_at_the_later_start():
    text = with_periods(("a", "2026-09-01", "2027-02-01"), ("b", "2027-02-01", "2027-06-30"))

    assert problems_of(text) == [
        CatalogProblem(6, "overlapping_periods", {"first": "a", "second": "b"})
    ]


def test_an_overlap_is_reported_at_the_later_starting_period_whatever_the_file_order():
    text = with_periods(("late", "2027-01-01", "2027-06-30"), ("early", "2026-09-01", "2027-01-31"))

    assert problems_of(text) == [
        CatalogProblem(2, "overlapping_periods", {"first": "early", "second": "late"})
    ]


def test_a_period_inside_another_and_one_after_it_are_each_reported_once():
    text = with_periods(
        ("year", "2026-09-01", "2027-08-31"),
        ("winter", "2026-12-01", "2027-02-28"),
        ("spring", "2027-03-01", "2027-05-31"),
        ("next", "2027-09-01", "2027-12-31"),
    )

    assert problems_of(text) == [
        CatalogProblem(6, "overlapping_periods", {"first": "year", "second": "winter"}),
        CatalogProblem(10, "overlapping_periods", {"first": "year", "second": "spring"}),
    ]


def test_periods_starting_the_same_day_are_reported_at_the_later_line():
    text = with_periods(("a", "2027-01-01", "2027-01-31"), ("b", "2027-01-01", "2027-03-31"))

    assert codes_and_lines(text) == [(6, "overlapping_periods")]


def test_billing_periods_must_be_a_list_of_groups():
    assert codes_and_lines("billing_periods: winter\n" + with_class(*VALID_CLASS, ONE_SESSION)) == [
        (1, "not_a_list")
    ]
    assert codes_and_lines(
        "billing_periods:\n  - winter\n" + with_class(*VALID_CLASS, ONE_SESSION)
    ) == [(2, "not_a_mapping")]


def test_billing_periods_are_checked_even_when_the_programmes_are_missing():
    text = "billing_periods:\n  - {key: w, name: W, from: 2026-12-01, until: 2026-11-01}\n"

    assert codes_and_lines(text) == [(1, "missing_field"), (2, "bad_range")]


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
            "    color: red",  # 11: one spelling only
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
COURSES = """programmes:
  - key: massage
    title: Massage
    classes:
      - key: room1
        title: Room 1
        capacity: 1
        price: 40
        sessions: [2026-12-01 10:00]
  - key: physio
    title: Physio
    classes:
      - key: room2
        title: Room 2
        capacity: 1
        sessions: [2026-12-01 11:00]
  - key: yoga
    title: Yoga
    kind: ongoing
    classes: [{{key: a, title: A, capacity: 5, sessions: [2026-12-01 18:00]}}]
courses:
  - key: m5
    title: Massage ×5
    price: "{price}"
    units: {units}
"""


PASSES = """programmes:
  - key: dropin
    title: Drop-in
    kind: {kind}
    passes:
      - key: ten
        title: 10-entry pass
        entries: {entries}
        price: "{price}"
        valid_days: 90
    classes:
      - key: evening
        title: Evening
        capacity: 8
        sessions: [2026-12-01 18:00]
"""


def test_a_class_minimum_is_read_with_its_check_hours_defaulting_to_a_day():
    [klass] = (
        parse(with_class(*VALID_CLASS, "min_participants: 4", ONE_SESSION)).programmes[0].classes
    )
    [checked] = (
        parse(with_class(*VALID_CLASS, "min_participants: 12", "min_check_hours: 6", ONE_SESSION))
        .programmes[0]
        .classes
    )

    assert (klass.min_participants, klass.min_check_hours) == (4, 24)
    assert (checked.min_participants, checked.min_check_hours) == (12, 6)


def test_a_class_without_a_minimum_has_no_check():
    [klass] = parse(with_class(*VALID_CLASS, ONE_SESSION)).programmes[0].classes

    assert (klass.min_participants, klass.min_check_hours) == (None, None)


@pytest.mark.parametrize("field", ["min_participants: 0", "min_check_hours: 0"])
def test_a_minimum_or_check_time_below_one_is_refused(field):
    text = with_class(*VALID_CLASS, "min_participants: 2", ONE_SESSION)
    if field.startswith("min_participants"):
        text = text.replace("min_participants: 2", field)
    else:
        text = text.replace("min_participants: 2", "min_participants: 2\n        " + field)

    assert [code for _, code in codes_and_lines(text)] == ["bad_integer"]


PACKAGE_CLASS = """programmes:
  - key: coaching
    title: Coaching
    kind: pay-as-you-go
    classes:
      - key: one
        title: One to one
        capacity: 1
        package:
          sessions: 3
          price: "150.00"
          cancel_refund: 50
        price: "60.00"
        sessions: [2027-01-04 10:00]
"""
# Line numbers in PACKAGE_CLASS: 9 "package:", 10 sessions, 11 its price, 12 cancel_refund,
# 13 the class's own price.


def test_a_package_class_is_read_with_its_policy_and_defaults():
    [klass] = parse(PACKAGE_CLASS).programmes[0].classes

    assert klass.package == PackageSpec(
        sessions=3,
        price_minor=15000,
        cancel_cutoff_hours=None,
        reschedule_cutoff_hours=None,
        cancel_refund_percent=50,
        reschedule_fee_percent=0,
    )
    assert (klass.max_per_day, klass.max_per_week) == (None, None)


def test_every_package_field_is_read():
    text = PACKAGE_CLASS.replace(
        "          cancel_refund: 50\n",
        "          cancel_until: 24\n"
        "          reschedule_until: 12\n"
        "          cancel_refund: 0\n"
        "          reschedule_fee: 100\n",
    ).replace("sessions: 3", "sessions: 20")
    [klass] = parse(text).programmes[0].classes

    assert klass.package == PackageSpec(20, 15000, 24, 12, 0, 100)


def test_a_class_without_package_or_limits_keeps_the_defaults():
    [klass] = parse(with_class(*VALID_CLASS, ONE_SESSION)).programmes[0].classes

    assert (klass.package, klass.max_per_day, klass.max_per_week) == (None, None, None)


def test_per_day_and_per_week_limits_are_read():
    [klass] = (
        parse(with_class(*VALID_CLASS, ONE_SESSION, "max_per_day: 1", "max_per_week: 100"))
        .programmes[0]
        .classes
    )

    assert (klass.package, klass.max_per_day, klass.max_per_week) == (None, 1, 100)


def test_a_package_of_a_free_class_may_go_without_a_price_or_at_zero():
    free = PACKAGE_CLASS.replace('        price: "60.00"\n', "")
    [without] = parse(free.replace('          price: "150.00"\n', "")).programmes[0].classes
    [at_zero] = parse(free.replace('"150.00"', "0")).programmes[0].classes

    assert without.package == PackageSpec(3, None, cancel_refund_percent=50)
    assert at_zero.package == PackageSpec(3, 0, cancel_refund_percent=50)


def test_a_package_price_in_stars_is_whole_stars():
    text = PACKAGE_CLASS.replace('"150.00"', "150").replace('"60.00"', "60")
    [klass] = parse(text, currency_digits=0).programmes[0].classes

    assert klass.package == PackageSpec(3, 150, cancel_refund_percent=50)
    assert codes_and_lines(PACKAGE_CLASS, currency_digits=0) == [
        (11, "bad_price"),
        (13, "bad_price"),
    ]


def test_a_package_is_allowed_on_a_one_off_programme_with_one_session():
    text = PACKAGE_CLASS.replace("kind: pay-as-you-go", "kind: one-off").replace(
        "sessions: 3", "sessions: 1"
    )
    [klass] = parse(text).programmes[0].classes

    assert klass.package == PackageSpec(1, 15000, cancel_refund_percent=50)


@pytest.mark.parametrize(
    ("change", "to", "expected"),
    [
        ("sessions: 3", "sessions: 21", [(10, "bad_integer")]),
        ("sessions: 3", "sessions: 0", [(10, "bad_integer")]),
        ("sessions: 3", "sessions: three", [(10, "bad_integer")]),
        ("          sessions: 3\n", "", [(9, "missing_field")]),
        ("cancel_refund: 50", "cancel_refund: 101", [(12, "bad_integer")]),
        ("cancel_refund: 50", "cancel_refund: -1", [(12, "bad_integer")]),
        ("cancel_refund: 50", "reschedule_fee: 101", [(12, "bad_integer")]),
        ("cancel_refund: 50", "cancel_until: 721", [(12, "bad_integer")]),
        ("cancel_refund: 50", "reschedule_until: -1", [(12, "bad_integer")]),
        ("cancel_refund: 50", "tip: 5", [(12, "unknown_field")]),
        ("cancel_refund: 50", "sessions: 4", [(12, "duplicate_field")]),
        ('          price: "150.00"\n', "", [(9, "package_needs_price")]),
        ('"150.00"', "0", [(11, "package_price_not_positive")]),
        ('"150.00"', '"1.234"', [(11, "bad_price")]),
        (
            "        package:\n          sessions: 3\n"
            '          price: "150.00"\n          cancel_refund: 50\n',
            "        package:\n",
            [(9, "missing_field")],
        ),
        ("kind: pay-as-you-go", "kind: ongoing", [(9, "package_on_ongoing")]),
        ("kind: pay-as-you-go", "kind: one-off", [(10, "package_too_big_for_one_off")]),
    ],
    ids=lambda value: value if isinstance(value, str) and "\n" not in value else None,
)
def test_each_package_problem_is_reported_once_at_its_line(change, to, expected):
    assert change in PACKAGE_CLASS
    assert codes_and_lines(PACKAGE_CLASS.replace(change, to)) == expected


def test_a_package_that_is_not_a_group_of_fields_is_refused():
    text = PACKAGE_CLASS.replace(
        '        package:\n          sessions: 3\n          price: "150.00"\n'
        "          cancel_refund: 50\n",
        "        package: 3\n",
    )

    assert codes_and_lines(text) == [(9, "not_a_mapping")]


@pytest.mark.parametrize(
    "limits",
    [
        ["max_per_day: 1"],
        ["max_per_week: 2"],
        ["max_per_day: 1", "max_per_week: 2"],
    ],
    ids=["per day", "per week", "both"],
)
def test_a_package_with_a_booking_limit_is_one_problem_at_the_package_line(limits):
    added = "".join(f"        {limit}\n" for limit in limits)
    after_package = PACKAGE_CLASS.replace(
        '        price: "60.00"\n', f'        price: "60.00"\n{added}'
    )
    before_package = PACKAGE_CLASS.replace("        package:\n", f"{added}        package:\n")

    assert codes_and_lines(after_package) == [(9, "package_with_limits")]
    assert codes_and_lines(before_package) == [(9 + len(limits), "package_with_limits")]


def test_the_limit_conflict_message_names_both_limits():
    [problem] = problems_of(
        PACKAGE_CLASS.replace("        package:", "        max_per_day: 1\n        package:")
    )
    message = describe_problem(problem, lambda text: text)

    assert message.startswith("line 10: A session package can't have a per-day or per-week limit")
    assert "max_per_day" in message
    assert "max_per_week" in message


@pytest.mark.parametrize("limit", ["max_per_day: 0", "max_per_week: 101", "max_per_day: two"])
def test_booking_limits_out_of_range_are_refused(limit):
    assert codes_and_lines(with_class(*VALID_CLASS, ONE_SESSION, limit)) == [(9, "bad_integer")]


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
    "bad_choice": (with_programme("kind: weekly"), 4),
    "bad_boolean": (with_class(*VALID_CLASS, "waiting_list: maybe", ONE_SESSION), 8),
    "bad_colour": (with_programme("colour: '#ffcc0'"), 4),
    "one_off_needs_one_session": (
        with_programme(
            "kind: one-off",
            class_fields=(*VALID_CLASS, "sessions: [2027-01-16 14:00, 2027-01-17 14:00]"),
        ),
        6,
    ),
    "passes_need_payg": (
        PASSES.format(kind="ongoing", entries=10, price="90"),
        6,
    ),
    "any_class_moves_not_ongoing": (
        with_programme("kind: ongoing", "reschedule_to_any_class: yes"),
        5,
    ),
    "course_price_not_positive": (COURSES.format(price="0", units="{massage: 5}"), 24),
    "course_needs_units": (COURSES.format(price="200", units="{}"), 25),
    "course_unknown_service": (COURSES.format(price="200", units="{facial: 5}"), 25),
    "course_service_not_payg": (COURSES.format(price="200", units="{yoga: 5}"), 25),
    "pass_price_not_positive": (
        PASSES.format(kind="payg", entries=10, price="0.00"),
        9,
    ),
    "needs_enrolment": (with_programme("kind: one-off", "attendance_credits: 8"), 5),
    "fee_due_day_without_fee": (with_programme("kind: ongoing", "fee_due_day: 5"), 5),
    "fees_and_monthly_fee": (
        with_programme("monthly_fee: 45", "fees:", "  - {due: 2026-09-01, amount: 120}"),
        5,
    ),
    "duplicate_fee_date": (
        with_programme(
            "fees:", "  - {due: 2026-09-01, amount: 120}", "  - {due: 2026-09-01, amount: 90}"
        ),
        6,
    ),
    "fee_amount_not_positive": (with_programme("fees:", "  - due: 2026-09-01", "    amount: 0"), 6),
    "too_many_fees": (
        with_programme(
            "fees:",
            *(f"  - {{due: {2026 + n // 12}-{n % 12 + 1:02}-01, amount: 50}}" for n in range(61)),
        ),
        5,
    ),
    "session_type_key_too_long": (
        "session_types:\n  - key: "
        + "m" * 40
        + "\n    name: M\n    kind: multi\n    duration: 20\n",
        2,
    ),
    "type_packages_need_single": (
        "session_types:\n  - key: m\n    name: M\n    kind: multi\n    duration: 20\n"
        "    packages:\n      - {key: a, name: A, price: 10}\n",
        7,
    ),
    "too_many_type_packages": (
        "session_types:\n  - key: w\n    name: W\n    kind: single\n    duration: 60\n"
        "    packages:\n"
        + "".join(f"      - {{key: p{n}, name: P, price: 10}}\n" for n in range(11)),
        7,
    ),
    "overlapping_periods": (
        with_periods(("a", "2026-09-01", "2027-01-31"), ("b", "2027-01-01", "2027-06-30")),
        6,
    ),
    "min_participants_above_capacity": (
        with_class(*VALID_CLASS, "min_participants: 13", ONE_SESSION),
        8,
    ),
    "min_check_without_minimum": (with_class(*VALID_CLASS, "min_check_hours: 6", ONE_SESSION), 8),
    "package_with_limits": (
        PACKAGE_CLASS.replace("        package:", "        max_per_week: 2\n        package:"),
        10,
    ),
    "package_on_ongoing": (PACKAGE_CLASS.replace("kind: pay-as-you-go", "kind: ongoing"), 9),
    "package_too_big_for_one_off": (
        PACKAGE_CLASS.replace("kind: pay-as-you-go", "kind: one-off"),
        10,
    ),
    "package_needs_price": (PACKAGE_CLASS.replace('          price: "150.00"\n', ""), 9),
    "package_price_not_positive": (PACKAGE_CLASS.replace('"150.00"', "0"), 11),
    "too_many_sessions_in_catalog": (
        "programmes:\n  - key: gym\n    title: Gym\n    classes:\n"
        + "".join(
            f"      - {{key: c{n}, title: C, capacity: 1, weekly: {{days: [mon, tue, wed, thu, "
            "fri, sat, sun], time: '7:00', from: 2027-01-01, until: 2027-12-31}}\n"
            for n in range(140)
        ),
        0,
    ),
    "too_many_sessions_to_import": (
        "programmes:\n  - key: gym\n    title: Gym\n    classes:\n"
        + "".join(
            f"      - {{key: c{n}, title: C, capacity: 1, weekly: {{days: [mon, tue, wed, thu, "
            "fri, sat, sun], time: '7:00', from: 2027-01-01, until: 2027-12-31}}\n"
            for n in range(30)
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


# --- entry passes -------------------------------------------------------------------------


def test_a_pay_as_you_go_programme_offers_passes():
    catalog = parse(PASSES.format(kind="pay-as-you-go", entries=10, price="90.00"))

    (offer,) = catalog.programmes[0].passes
    assert (offer.key, offer.title, offer.entries, offer.price_minor, offer.valid_days) == (
        "ten",
        "10-entry pass",
        10,
        9000,
        90,
    )
    assert offer.line == 6


def test_passes_on_another_kind_of_programme_are_a_problem_on_their_line():
    assert codes_and_lines(PASSES.format(kind="one-off", entries=10, price="90")) == [
        (6, "passes_need_payg")
    ]


def test_a_pass_with_no_entries_or_no_price_is_a_problem_on_its_line():
    assert codes_and_lines(PASSES.format(kind="payg", entries=0, price="0")) == [
        (8, "bad_integer"),
        (9, "pass_price_not_positive"),
    ]


# --- fees and attendance credits ------------------------------------------------------------


def test_an_ongoing_programme_has_a_monthly_fee_due_day_and_attendance_credits():
    programme = only_programme(
        with_programme(
            "kind: ongoing", "monthly_fee: 45.00", "fee_due_day: 31", "attendance_credits: 8"
        )
    )

    assert (programme.monthly_fee_minor, programme.fee_due_day) == (4500, 31)
    assert programme.attendance_credits == 8
    assert programme.fees == ()


def test_without_the_new_fields_a_programme_has_no_fee_and_no_credit_limit():
    programme = only_programme(with_programme("kind: ongoing"))

    assert (programme.monthly_fee_minor, programme.fee_due_day) == (None, 1)
    assert (programme.fees, programme.attendance_credits) == ((), None)


def test_a_monthly_fee_of_zero_means_no_fee():
    programme = only_programme(with_programme("kind: payg", "monthly_fee: 0"))

    assert programme.monthly_fee_minor is None


def test_a_monthly_fee_in_stars_is_whole_stars():
    text = with_programme("monthly_fee: 300")

    assert parse(text, currency_digits=0).programmes[0].monthly_fee_minor == 300
    assert codes_and_lines(with_programme("monthly_fee: 4.50"), currency_digits=0) == [
        (4, "bad_price")
    ]


def test_a_bad_monthly_fee_names_its_field_when_it_is_not_a_single_value():
    (problem,) = problems_of(with_programme("monthly_fee: [45]"))

    assert (problem.line, problem.code, problem.params) == (
        4,
        "not_a_scalar",
        {"field": "monthly_fee"},
    )


def test_a_fee_schedule_is_read_sorted_by_due_date_with_each_rows_line():
    programme = only_programme(
        with_programme(
            "kind: ongoing",
            "fees:",
            "  - {due: 2026-10-01, amount: 120.00}",
            "  - due: 2026-09-01",
            "    amount: '99.5'",
        )
    )

    assert programme.fees == (
        FeeRowSpec(due_on=date(2026, 9, 1), amount_minor=9950, line=7),
        FeeRowSpec(due_on=date(2026, 10, 1), amount_minor=12000, line=6),
    )
    assert programme.monthly_fee_minor is None


def test_a_schedule_of_sixty_rows_is_fine():
    rows = [f"  - {{due: {2026 + n // 12}-{n % 12 + 1:02}-01, amount: 50}}" for n in range(60)]

    assert len(only_programme(with_programme("fees:", *rows)).fees) == 60


@pytest.mark.parametrize("written", ["0", "32", "-1", "5th"])
def test_a_fee_due_day_outside_one_to_thirty_one_is_a_problem(written):
    problems = problems_of(with_programme("monthly_fee: 45", f"fee_due_day: {written}"))

    assert [(p.line, p.code) for p in problems] == [(5, "bad_integer")]
    assert (problems[0].params["field"], problems[0].params["min"], problems[0].params["max"]) == (
        "fee_due_day",
        1,
        31,
    )


@pytest.mark.parametrize(
    "fee", [(), ("monthly_fee: 0",), ("fees:", "  - {due: 2026-09-01, amount: 1}")]
)
def test_a_fee_due_day_without_a_monthly_fee_is_a_problem(fee):
    text = with_programme(*fee, "fee_due_day: 5")
    day_line = 4 + len(fee)

    assert codes_and_lines(text) == [(day_line, "fee_due_day_without_fee")]


def test_a_fee_schedule_and_a_monthly_fee_together_are_a_problem_at_the_schedule():
    text = with_programme(
        "monthly_fee: 45", "fee_due_day: 5", "fees:", "  - {due: 2026-09-01, amount: 120}"
    )

    assert codes_and_lines(text) == [(6, "fees_and_monthly_fee")]
    (problem,) = problems_of(text)
    assert "not both" in describe_problem(problem, lambda message: message)


def test_a_duplicate_fee_date_is_reported_at_its_second_row():
    text = with_programme(
        "fees:",
        "  - {due: 2026-09-01, amount: 120}",
        "  - {due: 2026-10-01, amount: 120}",
        "  - {due: 2026-09-01, amount: 90}",
    )

    (problem,) = problems_of(text)
    assert (problem.line, problem.code, problem.params) == (
        7,
        "duplicate_fee_date",
        {"value": "2026-09-01"},
    )


def test_fee_rows_report_a_zero_amount_a_bad_date_and_missing_or_unknown_fields_by_line():
    text = with_programme(
        "fees:",
        "  - {due: 2026-09-01, amount: 0.00}",  # 5
        "  - {due: 2026-02-30, amount: 10}",  # 6
        "  - {due: 2026-11-01}",  # 7
        "  - {due: 2026-12-01, amount: 10, note: x}",  # 8
        "  - {due: 2027-01-01, amount: '10.001'}",  # 9
        "  - 2027-02-01",  # 10
    )

    assert codes_and_lines(text) == [
        (5, "fee_amount_not_positive"),
        (6, "bad_date"),
        (7, "missing_field"),
        (8, "unknown_field"),
        (9, "bad_price"),
        (10, "not_a_mapping"),
    ]


def test_an_empty_fee_schedule_is_a_problem():
    assert codes_and_lines(with_programme("fees: []")) == [(4, "empty_list")]


def test_sixty_one_fee_rows_are_too_many():
    rows = [f"  - {{due: {2026 + n // 12}-{n % 12 + 1:02}-01, amount: 50}}" for n in range(61)]

    (problem,) = problems_of(with_programme("fees:", *rows))
    assert (problem.line, problem.code, problem.params) == (5, "too_many_fees", {"limit": 60})


@pytest.mark.parametrize(
    ("written", "ok"), [("1", True), ("100", True), ("0", False), ("101", False)]
)
def test_attendance_credits_are_one_to_a_hundred(written, ok):
    text = with_programme("kind: ongoing", f"attendance_credits: {written}")

    if ok:
        assert only_programme(text).attendance_credits == int(written)
    else:
        assert codes_and_lines(text) == [(5, "bad_integer")]


@pytest.mark.parametrize("kind", ["ongoing", "pay-as-you-go"])
def test_fees_and_credits_are_allowed_where_clients_enrol(kind):
    programme = only_programme(
        with_programme(f"kind: {kind}", "monthly_fee: 30", "attendance_credits: 4")
    )

    assert (programme.monthly_fee_minor, programme.attendance_credits) == (3000, 4)


def test_each_fee_or_credit_field_on_a_one_off_programme_is_reported_at_its_line():
    text = with_programme(
        "kind: one-off",
        "monthly_fee: 45",
        "fee_due_day: 5",
        "attendance_credits: 8",
        "fees:",
        "  - {due: 2026-09-01, amount: 120}",
    )

    problems = problems_of(text)
    assert [(p.line, p.code, p.params["field"]) for p in problems] == [
        (5, "needs_enrolment", "monthly_fee"),
        (6, "needs_enrolment", "fee_due_day"),
        (7, "needs_enrolment", "attendance_credits"),
        (8, "needs_enrolment", "fees"),
    ]


# --- session types --------------------------------------------------------------------------


MINIS = ("key: minis", "name: Mini sessions", "kind: multi", "duration: 20")


def with_session_type(*fields: str, programmes: bool = False) -> str:
    """A catalog holding one session type; its fields start at line 2 (at line 10 after the
    one-class programme, if asked for)."""
    head = with_class(*VALID_CLASS, ONE_SESSION) if programmes else ""
    body = ["  - " + fields[0], *("    " + field for field in fields[1:])]
    return head + "\n".join(["session_types:", *body]) + "\n"


def only_session_type(text: str) -> SessionTypeSpec:
    (spec,) = parse(text).session_types
    return spec


def test_a_file_may_hold_only_session_types_with_the_defaults_filled_in():
    catalog = parse(with_session_type(*MINIS))

    assert catalog.programmes == ()
    assert catalog.session_types == (
        SessionTypeSpec(
            key="minis",
            name="Mini sessions",
            kind="multi",
            duration_minutes=20,
            line=2,
            break_minutes=0,
            price_minor=None,
            hold_minutes=24 * 60,
            category="",
            description="",
            public=True,
            cancel_notice_hours=24,
        ),
    )


def test_every_session_type_field_is_read():
    spec = only_session_type(
        with_session_type(
            "key: wedding",
            "name: Wedding   day",
            "kind: SINGLE",
            "duration: 480",
            "break: 30",
            "price: '1200.50'",
            "hold: 720",
            "category: Photography",
            "description: The whole day, two photographers.",
            "public: no",
            "cancel_notice_hours: 168",
        )
    )

    assert spec == SessionTypeSpec(
        key="wedding",
        name="Wedding day",
        kind="single",
        duration_minutes=480,
        line=2,
        break_minutes=30,
        price_minor=120050,
        hold_minutes=720,
        category="Photography",
        description="The whole day, two photographers.",
        public=False,
        cancel_notice_hours=168,
    )


def test_session_types_sit_beside_programmes_and_billing_periods():
    text = "billing_periods:\n  - {key: w, name: W, from: 2026-12-01, until: 2027-02-28}\n"
    catalog = parse(text + with_session_type(*MINIS, programmes=True))

    assert [p.key for p in catalog.programmes] == ["yoga"]
    assert [p.key for p in catalog.billing_periods] == ["w"]
    assert [t.key for t in catalog.session_types] == ["minis"]
    assert catalog.session_types[0].line == 12  # two lines of periods, eight of programme


def test_a_catalog_without_session_types_has_none():
    assert parse(with_class(*VALID_CLASS, ONE_SESSION)).session_types == ()


def test_without_session_types_the_programmes_are_still_required():
    assert codes_and_lines(
        "billing_periods:\n  - {key: w, name: W, from: 2026-12-01, until: 2027-02-28}\n"
    ) == [(1, "missing_field")]
    assert codes_and_lines("programmes: []\n") == [(1, "empty_catalog")]


def test_an_empty_programme_list_beside_session_types_is_fine():
    catalog = parse("programmes: []\n" + with_session_type(*MINIS))

    assert [t.key for t in catalog.session_types] == ["minis"]


def test_an_empty_session_type_list_is_a_problem_and_an_empty_field_leaves_programmes_required():
    assert codes_and_lines("session_types: []\n") == [(1, "empty_list")]
    assert problems_of("session_types:\n") == [
        CatalogProblem(1, "missing_field", {"field": "programmes"})
    ]


@pytest.mark.parametrize(
    ("field", "problem"),
    [
        ("kind: group", (4, "bad_choice")),
        ("duration: 0", (5, "bad_integer")),
        ("duration: 1441", (5, "bad_integer")),
        ("break: -5", (6, "bad_integer")),
        ("break: 601", (6, "bad_integer")),
        ("hold: 12h", (6, "bad_integer")),
        ("hold: 4", (6, "bad_integer")),
        ("price: '12.345'", (6, "bad_price")),
        ("public: maybe", (6, "bad_boolean")),
        ("cancel_notice_hours: 721", (6, "bad_integer")),
        ("capacity: 4", (6, "unknown_field")),
    ],
)
def test_a_bad_session_type_field_is_reported_at_its_line(field, problem):
    name = field.split(":")[0]
    fields = [f for f in MINIS if not f.startswith(name + ":")]
    # the field replaces its default in place, or comes after the four required ones
    at = next((n for n, f in enumerate(MINIS) if f.startswith(name + ":")), len(fields))
    fields.insert(at, field)

    assert codes_and_lines(with_session_type(*fields)) == [problem]


def test_a_bad_kind_lists_the_two_kinds():
    (problem,) = problems_of(with_session_type(*MINIS[:2], "kind: group", MINIS[3]))

    assert problem.params == {"field": "kind", "value": "group", "choices": "multi, single"}


def test_key_name_kind_and_duration_are_required():
    problems = problems_of("session_types:\n  - public: yes\n")

    assert [(p.line, p.code, p.params["field"]) for p in problems] == [
        (2, "missing_field", "key"),
        (2, "missing_field", "name"),
        (2, "missing_field", "kind"),
        (2, "missing_field", "duration"),
    ]


def test_two_session_types_with_one_key_are_reported_at_the_second():
    text = with_session_type(*MINIS) + "".join(
        ["  - key: minis\n", "    name: Again\n", "    kind: single\n", "    duration: 60\n"]
    )

    assert problems_of(text) == [CatalogProblem(6, "duplicate_key", {"value": "minis"})]


def test_a_session_type_may_share_its_key_with_a_programme():
    catalog = parse(with_session_type("key: yoga", *MINIS[1:], programmes=True))

    assert (catalog.programmes[0].key, catalog.session_types[0].key) == ("yoga", "yoga")


def test_a_session_type_key_keeps_a_programme_keys_rules_and_one_character_less():
    assert codes_and_lines(with_session_type("key: Minis!", *MINIS[1:])) == [(2, "bad_key")]
    assert only_session_type(with_session_type("key: " + "m" * 39, *MINIS[1:])).key == "m" * 39
    (problem,) = problems_of(with_session_type("key: " + "m" * 40, *MINIS[1:]))
    assert (problem.line, problem.code, problem.params) == (
        2,
        "session_type_key_too_long",
        {"value": "m" * 40, "max": 39},
    )


def test_a_session_type_programme_key_is_one_no_file_programme_can_have():
    key = "m" * 39

    programme_key = catalog_file.session_type_programme_key(key)

    assert len(programme_key) <= 40  # Programme.key is String(40)
    assert catalog_file._KEY_RE.fullmatch(programme_key) is None
    assert codes_and_lines(with_programme().replace("key: yoga", f"key: '{programme_key}'")) == [
        (2, "bad_key")
    ]


def test_a_session_type_that_is_not_a_group_is_reported():
    assert codes_and_lines("session_types:\n  - minis\n") == [(2, "not_a_mapping")]
    assert codes_and_lines("session_types: minis\n") == [(1, "not_a_list")]


def test_the_example_offers_photo_mini_sessions():
    (spec,) = parse(EXAMPLE.read_text(encoding="utf-8")).session_types

    assert (spec.kind, spec.duration_minutes, spec.break_minutes) == ("multi", 20, 10)
    assert (spec.price_minor, spec.hold_minutes) == (3000, 720)


WEDDING = ("key: wedding", "name: Wedding", "kind: single", "duration: 480")


def test_a_single_type_lists_its_package_options_in_file_order():
    spec = only_session_type(
        with_session_type(
            *WEDDING,
            "packages:",
            "  - {key: basic, name: Basic, price: '800.00'}",
            "  - key: full",
            "    name: Full   day",
            "    price: 1500",
            "    description: Two photographers, 400 photos.",
        )
    )

    assert spec.packages == (
        TypePackageSpec("basic", "Basic", 80000, 7),
        TypePackageSpec("full", "Full day", 150000, 8, "Two photographers, 400 photos."),
    )


def test_a_type_without_packages_has_none():
    assert only_session_type(with_session_type(*WEDDING)).packages == ()


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (["packages: []"], (6, "empty_list")),
        (["packages:", "  - {key: a, name: A}"], (7, "missing_field")),
        (["packages:", "  - {key: a, name: A, price: ten}"], (7, "bad_price")),
        (
            ["packages:", "  - {key: a, name: A, price: 1}", "  - {key: a, name: B, price: 2}"],
            (8, "duplicate_key"),
        ),
        (["packages:", "  - {key: a, name: A, price: 1, photos: 10}"], (7, "unknown_field")),
        (["packages:", "  - basic"], (7, "not_a_mapping")),
    ],
)
def test_a_bad_package_option_is_reported_at_its_line(lines, problem):
    assert codes_and_lines(with_session_type(*WEDDING, *lines)) == [problem]


# --- courses and service packages -----------------------------------------------------------


def test_a_course_and_a_service_package_name_pay_as_you_go_programmes_of_the_file():
    text = COURSES.format(price="200", units="{massage: 5}") + (
        "  - key: recovery\n"
        "    title: Recovery package\n"
        "    price: 150.50\n"
        "    valid_days: 90\n"
        "    late_cancel: return\n"
        "    units: {physio: 2, massage: 3}\n"
    )
    course, package = parse(text).courses
    assert (course.key, course.title, course.price_minor) == ("m5", "Massage ×5", 20000)
    assert (course.units, course.valid_days, course.late_cancel) == (
        (("massage", 5),),
        None,
        "forfeit",
    )
    assert package.units == (("physio", 2), ("massage", 3))  # in file order
    assert (package.price_minor, package.valid_days, package.late_cancel) == (15050, 90, "return")


@pytest.mark.parametrize(
    ("units", "problem"),
    [
        ("{massage: 0}", (25, "bad_integer")),
        ("{massage: 51}", (25, "bad_integer")),
        ("[massage]", (25, "course_needs_units")),
        ("{massage: 2, massage: 3}", (25, "duplicate_key")),
    ],
)
def test_a_course_with_bad_units_is_a_problem_on_their_line(units, problem):
    assert codes_and_lines(COURSES.format(price="200", units=units)) == [problem]


def test_a_bad_late_cancel_policy_and_a_duplicate_course_key_are_problems():
    text = COURSES.format(price="200", units="{massage: 5}") + (
        "    late_cancel: keep\n  - key: m5\n    title: Again\n    price: 1\n"
        "    units: {massage: 1}\n"
    )
    assert codes_and_lines(text) == [(26, "bad_choice"), (27, "duplicate_key")]


def weekly_classes(count: int, days: str = "[mon, wed]") -> str:
    """`count` classes of a weekly rule through 2027: 104 sessions each (Mondays, Wednesdays)."""
    rows = "".join(
        f"      - {{key: c{n}, title: C, capacity: 1, weekly: {{days: {days}, time: '7:00',"
        " from: 2027-01-01, until: 2027-12-31}}\n"
        for n in range(count)
    )
    return "programmes:\n  - key: gym\n    title: Gym\n    classes:\n" + rows


def test_a_file_over_the_import_cap_is_refused_with_the_sessions_its_rules_make():
    with pytest.raises(CatalogInvalid) as raised:
        parse_catalog(weekly_classes(3), tz=PRAGUE, currency_digits=2, max_sessions=200)

    # counted on past the cap: the third class's sessions are in the count too
    assert raised.value.problems == [
        CatalogProblem(0, "too_many_sessions_to_import", {"count": 312, "limit": 200})
    ]


def test_a_file_at_the_import_cap_is_read():
    catalog = parse_catalog(weekly_classes(3), tz=PRAGUE, currency_digits=2, max_sessions=312)

    assert sum(len(c.sessions) for c in catalog.programmes[0].classes) == 312


def test_the_import_cap_comes_first_and_other_problems_are_still_listed():
    text = weekly_classes(3).replace("capacity: 1,", "capacity: 0,", 1)
    with pytest.raises(CatalogInvalid) as raised:
        parse_catalog(text, tz=PRAGUE, currency_digits=2, max_sessions=200)

    codes = [problem.code for problem in raised.value.problems]
    assert codes[0] == "too_many_sessions_to_import"
    assert len(codes) > 1


def test_a_file_past_the_hard_limit_says_so_without_counting_on():
    text = BAD_FILES["too_many_sessions_in_catalog"][0]

    assert codes_and_lines(text) == [(0, "too_many_sessions_in_catalog")]


def test_the_default_import_cap_lets_a_year_of_190_weekly_sessions_in():
    # 27 classes x 7 days x 52-53 weeks: 9,855 sessions
    catalog = parse(weekly_classes(27, "[mon, tue, wed, thu, fri, sat, sun]"))

    assert sum(len(c.sessions) for c in catalog.programmes[0].classes) == 27 * 365
