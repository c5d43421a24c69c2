"""Reliability: broken import files (hypothesis). The example studio file with lines dropped,
duplicated or garbled, and arbitrary YAML-ish text, either parse or are refused with
CatalogInvalid — never another exception — and every problem reads as a sentence with a line
number (what staff see in the import report)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.text.catalog_messages import IMPORT_MESSAGES, PROBLEM_MESSAGES, describe_problem
from domain.catalog.file import Catalog, CatalogInvalid, parse_catalog

EXAMPLE = (Path(__file__).parents[2] / "examples" / "studio.yaml").read_text(encoding="utf-8")
LINES = EXAMPLE.splitlines()
PRAGUE = ZoneInfo("Europe/Prague")
FUZZ = settings(max_examples=150, deadline=None, database=None, derandomize=True)

GARBLE = st.sampled_from(
    [
        "",
        "  ",
        "\t",
        ":",
        "- ",
        "{",
        "[",
        "]",
        "'",
        '"',
        "&a",
        "*a",
        "!!python/object",
        "~",
        "0",
        "-1",
        "99999999999",
        "2026-02-30",
        "25:00",
        "yes",
        "€",
        "é",
        "\x00",
        "%",
        "@",
        "key: x",
    ]
)


@st.composite
def broken_example(draw) -> str:
    lines = list(LINES)
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        index = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        action = draw(st.sampled_from(["drop", "repeat", "garble", "indent", "cut"]))
        line = lines[index]
        if action == "drop":
            del lines[index]
        elif action == "repeat":
            lines.insert(index, line)
        elif action == "garble":
            at = draw(st.integers(min_value=0, max_value=len(line)))
            lines[index] = line[:at] + draw(GARBLE) + line[at:]
        elif action == "indent":
            lines[index] = " " * draw(st.integers(min_value=1, max_value=3)) + line
        else:
            lines[index] = line[: draw(st.integers(min_value=0, max_value=len(line)))]
        if not lines:
            break
    return "\n".join(lines) + "\n"


def parse_or_problems(text: str) -> Catalog | CatalogInvalid:
    try:
        return parse_catalog(text, tz=PRAGUE, currency_digits=2)
    except CatalogInvalid as invalid:
        return invalid


def assert_readable(outcome: Catalog | CatalogInvalid) -> None:
    if isinstance(outcome, Catalog):
        return
    assert outcome.problems, "refused without saying why"
    for problem in outcome.problems:
        assert problem.code in PROBLEM_MESSAGES or problem.code in IMPORT_MESSAGES, problem
        sentence = describe_problem(problem, lambda text: text)  # fills every placeholder
        assert sentence.startswith("line ") or problem.line == 0, sentence


@FUZZ
@given(text=broken_example())
def test_a_garbled_example_file_parses_or_is_refused_with_reasons(text):
    assert_readable(parse_or_problems(text))


@FUZZ
@given(
    text=st.one_of(
        st.text(max_size=300),
        st.lists(st.one_of(GARBLE, st.text(max_size=12)), max_size=40).map("\n".join),
        st.recursive(
            st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
            lambda inner: st.one_of(
                st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
            ),
            max_leaves=20,
        ).map(repr),
    )
)
def test_arbitrary_text_parses_or_is_refused_with_reasons(text):
    assert_readable(parse_or_problems(text))
