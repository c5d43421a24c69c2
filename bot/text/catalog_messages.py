"""English texts for the catalog file's problems; translated at the edge with gettext.

The parser (domain/catalog/file.py) reports each problem as a stable code plus params; the
message for a code uses exactly those params as {placeholders}.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.text.i18n import N_
from domain.catalog.file import CatalogProblem

PROBLEM_MESSAGES: dict[str, str] = {
    "yaml_syntax": N_("The file is not valid YAML: {detail}"),
    "too_large": N_("The file is {size} bytes, but at most {limit} bytes are accepted."),
    "alias_not_supported": N_(
        "References to other parts of the file (*name) are not supported; "
        "write the value out in full."
    ),
    "min_participants_above_capacity": N_(
        "min_participants ({value}) is more than the class's capacity ({capacity}): a session "
        "could never reach it."
    ),
    "min_check_without_minimum": N_(
        "min_check_hours says when a class's minimum is checked: set min_participants too, "
        "or remove it."
    ),
    "package_with_limits": N_(
        "A session package can't have a per-day or per-week limit (max_per_day, "
        "max_per_week): remove the package or the limits."
    ),
    "package_on_ongoing": N_(
        "An ongoing programme books every session of a class at enrolment, so its classes "
        "can't have a session package; use kind: pay-as-you-go or one-off."
    ),
    "package_too_big_for_one_off": N_(
        "A one-off class has a single session, so its package can't have {sessions} sessions; "
        "use sessions: 1."
    ),
    "package_needs_price": N_(
        "This class has a price: give its package a price too (price: under package)."
    ),
    "package_price_not_positive": N_(
        "A package's price must be more than zero (only a free class's package may be free)."
    ),
    "too_many_problems": N_("Only the first {limit} problems are listed; fix these and retry."),
    "empty_catalog": N_("The catalog has no programmes."),
    "not_a_mapping": N_('Expected "{field}" to be a group of "name: value" lines.'),
    "not_a_list": N_('Expected "{field}" to be a list (lines starting with "- ").'),
    "not_a_scalar": N_('Expected "{field}" to be a single value, not a list or a group.'),
    "empty_list": N_('The list "{field}" must have at least one entry.'),
    "missing_field": N_('The required field "{field}" is missing or empty.'),
    "unknown_field": N_('"{field}" is not a known field here — check the spelling.'),
    "duplicate_field": N_('The field "{field}" appears twice here.'),
    "bad_key": N_(
        'The key "{value}" is not valid: use up to 40 lowercase letters, digits, "-" or "_", '
        "starting with a letter or digit."
    ),
    "duplicate_key": N_('The key "{value}" is already used by another entry.'),
    "session_type_key_too_long": N_(
        'The session type key "{value}" is too long: a session type key may have at most '
        "{max} characters."
    ),
    "bad_text": N_('"{field}" must be between 1 and {max} characters long.'),
    "bad_integer": N_('"{field}" must be a whole number from {min} to {max}, not "{value}".'),
    "bad_price": N_(
        'The price "{value}" is not valid: write a non-negative amount such as 12 or 12.50, '
        "with no more decimals than the currency has."
    ),
    "bad_datetime": N_('"{value}" is not a valid date and time; write it as 2026-12-01 18:00.'),
    "bad_date": N_('"{value}" is not a valid date; write it as 2026-12-01.'),
    "bad_time": N_('"{value}" is not a valid time; write it as 18:00.'),
    "bad_weekday": N_('"{value}" is not a day of the week; use mon, tue, wed, thu, fri, sat, sun.'),
    "bad_range": N_(
        "The dates {start} to {end} are not valid: the end must not be before the start; "
        "a weekly rule may span at most 366 days and a billing period at most 400."
    ),
    "bad_choice": N_('"{field}" must be one of {choices}, not "{value}".'),
    "bad_boolean": N_('"{field}" must be yes or no, not "{value}".'),
    "bad_colour": N_(
        '"{value}" is not a colour the bot understands: write it in quotes as "#rrggbb" or '
        '"#rgb", for example colour: "#ffcc00" (without the quotes, "#" starts a comment).'
    ),
    "unused_except_date": N_(
        "The date {value} under except does not remove any session of this weekly rule."
    ),
    "nonexistent_local_time": N_(
        "{value} does not exist in the local time zone: the clocks skip it when summer time starts."
    ),
    "duplicate_session": N_("The session at {value} is listed more than once."),
    "no_sessions": N_('The class "{class_key}" has no sessions: add "sessions" or "weekly".'),
    "one_off_needs_one_session": N_(
        'The class "{class_key}" belongs to a one-off programme, so it must have exactly one '
        "session, not {count}."
    ),
    "overlapping_periods": N_(
        'The billing periods "{first}" and "{second}" overlap: a day may belong to one period only.'
    ),
    "passes_need_payg": N_(
        "Only a pay-as-you-go programme can offer entry passes: set kind: pay-as-you-go or "
        'remove "passes".'
    ),
    "any_class_moves_not_ongoing": N_(
        "An ongoing programme's sessions already move to any class of the programme within the "
        'billing period: remove "reschedule_to_any_class".'
    ),
    "pass_price_not_positive": N_("An entry pass needs a price above zero."),
    "course_price_not_positive": N_("A course needs a price above zero."),
    "course_needs_units": N_(
        'A course needs its units: under "units", the programme key of each service with a '
        "count, such as massage: 5."
    ),
    "course_unknown_service": N_(
        'No programme with the key "{value}" is in this file: a course\'s units name '
        "programmes of the same file."
    ),
    "course_service_not_payg": N_(
        'The programme "{value}" is not pay-as-you-go: a course can only hold units of '
        "pay-as-you-go programmes, whose sessions are booked one by one."
    ),
    "type_packages_need_single": N_(
        'Only a single session type can offer packages: set kind: single or remove "packages".'
    ),
    "too_many_type_packages": N_("A session type may offer at most {max} packages."),
    "needs_enrolment": N_(
        '"{field}" applies to enrolled clients, so only an ongoing or pay-as-you-go programme '
        'can have it: change kind or remove "{field}".'
    ),
    "fee_due_day_without_fee": N_(
        '"fee_due_day" says when the monthly fee is due, but there is no "monthly_fee": add '
        'one or remove "fee_due_day" (each row under "fees" has its own date).'
    ),
    "fees_and_monthly_fee": N_(
        'Give either "monthly_fee" or a "fees" schedule, not both: a schedule replaces the '
        "monthly fee, so it is unclear which one should be charged."
    ),
    "duplicate_fee_date": N_(
        "The fee schedule lists {value} more than once; give each due date one amount."
    ),
    "fee_amount_not_positive": N_("A fee in the schedule needs an amount above zero."),
    "too_many_fees": N_("The fee schedule has more than {limit} rows."),
    "too_many_sessions": N_('The class "{class_key}" has more than {limit} sessions.'),
    "too_many_sessions_in_catalog": N_(
        "The catalog has more than {limit} sessions in total; split it or shorten the periods."
    ),
    "too_many_sessions_to_import": N_(
        "The file makes {count} sessions; one import may hold at most {limit} "
        "(the IMPORT_MAX_SESSIONS setting). Split the file or shorten the periods."
    ),
}

# Problems found while storing a valid file, or before it could be read at all.
IMPORT_MESSAGES: dict[str, str] = {
    "capacity_below_bookings": N_(
        'The class "{class_key}" cannot get capacity {capacity}: a session already has '
        "{booked} bookings."
    ),
    "not_utf8": N_("The file is not UTF-8 text; save it as UTF-8 and try again."),
}

LINE_WRAPPER = N_("line {line}: {message}")


def describe_problem(problem: CatalogProblem, gettext: Callable[[str], str]) -> str:
    """One problem as a sentence in the reader's language, prefixed with its line."""
    template = PROBLEM_MESSAGES.get(problem.code) or IMPORT_MESSAGES.get(problem.code)
    if template is None:  # a code newer than this table: still say something useful
        message = problem.code
    else:
        message = _format(gettext(template), template, problem.params)
    if problem.line == 0:
        return message
    return _format(gettext(LINE_WRAPPER), LINE_WRAPPER, {"line": problem.line, "message": message})


def _format(translated: str, original: str, params: dict[str, object]) -> str:
    # A translation with a mistyped placeholder must not hide the problem from the owner.
    try:
        return translated.format(**params)
    except (KeyError, IndexError, ValueError):
        return original.format(**params)
