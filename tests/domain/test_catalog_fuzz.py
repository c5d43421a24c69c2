"""Reliability: broken import files (hypothesis). The example studio file with lines dropped,
duplicated or garbled, and arbitrary YAML-ish text, either parse or are refused with
CatalogInvalid — never another exception — and every problem reads as a sentence with a line
number (what staff see in the import report). Valid titles, capacities and prices, written
as staff write them (12, 12.5, 12.50, quoted or not), are read as exactly those values (prices
in minor units); a price with more decimals than the currency has is refused."""

from __future__ import annotations

import json
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


# Valid values written in the forms staff write them: the parsed catalog holds exactly them.
TITLE = st.text(
    st.characters(categories=["L", "N", "P", "S", "Zs"], exclude_characters="\ufeff"),
    max_size=100,
).filter(lambda title: title.split())


def written_price(minor: int, digits: int, draw) -> str:
    """12, 12.5, 12.50: the amount in main units, as many decimals as it needs or all."""
    if digits == 0:
        return str(minor)
    main, fraction = divmod(minor, 10**digits)
    full = f"{fraction:0{digits}d}"
    needed = full.rstrip("0")
    return draw(st.sampled_from([f"{main}.{needed}" if needed else str(main), f"{main}.{full}"]))


@st.composite
def valid_classes(draw) -> tuple[int, list[tuple[str, int, int]], str]:
    """(currency digits, [(title, capacity, price in minor units)], the file)."""
    digits = draw(st.sampled_from([0, 2, 3]))
    classes = draw(
        st.lists(
            st.tuples(
                TITLE,
                st.integers(min_value=1, max_value=1000),
                st.integers(min_value=1, max_value=2**31 - 1),
            ),
            min_size=1,
            max_size=4,
        )
    )
    lines = ["programmes:", "  - key: p", "    title: P", "    classes:"]
    for n, (title, capacity, price) in enumerate(classes):
        quote = draw(st.sampled_from(["{}", "'{}'", '"{}"']))
        lines += [
            f"      - key: c{n}",
            f"        title: {json.dumps(title, ensure_ascii=False)}",
            f"        capacity: {quote.format(capacity)}",
            f"        price: {quote.format(written_price(price, digits, draw))}",
            f"        sessions: [2026-11-2{n} 10:00]",
        ]
    return digits, classes, "\n".join(lines) + "\n"


@FUZZ
@given(example=valid_classes())
def test_valid_titles_capacities_and_prices_are_read_exactly(example):
    digits, classes, text = example
    catalog = parse_catalog(text, tz=PRAGUE, currency_digits=digits)
    (programme,) = catalog.programmes
    read = [(c.title, c.capacity, c.price_minor) for c in programme.classes]
    assert read == [(" ".join(title.split()), cap, price) for title, cap, price in classes], text


@FUZZ
@given(
    digits=st.sampled_from([0, 2, 3]),
    main=st.integers(min_value=0, max_value=10**6),
    extra=st.integers(min_value=1, max_value=9),
)
def test_a_price_with_more_decimals_than_the_currency_has_is_refused(digits, main, extra):
    price = f"{main}.{'0' * digits}{extra}"
    lines = ["programmes:", "  - key: p", "    title: P", "    classes:", "      - key: c"]
    lines += ["        title: C", "        capacity: 1", f"        price: '{price}'"]
    text = "\n".join([*lines, "        sessions: [2026-11-20 10:00]", ""])
    try:
        outcome = parse_catalog(text, tz=PRAGUE, currency_digits=digits)
    except CatalogInvalid as invalid:
        outcome = invalid
    assert isinstance(outcome, CatalogInvalid), f"{price} read as {outcome}"
    assert [p.code for p in outcome.problems] == ["bad_price"]
