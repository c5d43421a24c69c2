"""The catalog schema declared once: the models in domain/catalog/schema.py refuse a file with
the parser's codes and lines, and publish the same constraints as a JSON Schema for editors
(docs/catalog.schema.json, printed by `python -m bot catalog-schema`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import jsonschema
import pytest
import yaml
from pydantic import BaseModel

from domain.catalog import schema
from domain.catalog.file import CatalogInvalid, parse_catalog

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "studio.yaml"
PUBLISHED = ROOT / "docs" / "catalog.schema.json"
JSON_SCHEMA = schema.json_schema()


def problems_of(text: str) -> list[tuple[int, str, dict]]:
    with pytest.raises(CatalogInvalid) as raised:
        parse(text)
    return [(p.line, p.code, p.params) for p in raised.value.problems]


def parse(text: str) -> object:
    return parse_catalog(text, tz=ZoneInfo("Europe/Prague"), currency_digits=2)


CLASS = ["key: morning", "title: Morning", "capacity: 12", "sessions: [2026-12-01 18:00]"]


def a_class(*fields: str) -> str:
    """A one-class catalog: the class's fields at lines 5 onwards, each given field in place
    of the one of its name or after them."""
    lines = list(CLASS)
    for field in fields:
        name = field.split(":")[0]
        at = next((n for n, line in enumerate(lines) if line.startswith(name + ":")), None)
        if at is None:
            lines.append(field)
        else:
            lines[at] = field
    head = "programmes:\n  - key: yoga\n    title: Yoga\n    classes:\n"
    return head + "      - " + "\n        ".join(lines) + "\n"


def definition(model: type[BaseModel]) -> dict:
    return JSON_SCHEMA["$defs"][model.__name__]


def yaml_1_2(text: str) -> object:
    """The document as an editor's YAML 1.2 support reads it: `18:00` and `yes` are text,
    `12` is a number (PyYAML alone reads YAML 1.1)."""
    core = [
        (re.compile(r"~|null|Null|NULL|"), lambda _: None),
        (re.compile(r"true|True|TRUE"), lambda _: True),
        (re.compile(r"false|False|FALSE"), lambda _: False),
        (re.compile(r"[-+]?[0-9]+"), int),
        (re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"), float),
    ]

    def plain(node: yaml.Node) -> object:
        if isinstance(node, yaml.MappingNode):
            return {plain(key): plain(value) for key, value in node.value}
        if isinstance(node, yaml.SequenceNode):
            return [plain(item) for item in node.value]
        if node.style is None:  # unquoted: typed by the core schema
            for pattern, read in core:
                if pattern.fullmatch(node.value):
                    return read(node.value)
        return node.value

    return plain(yaml.compose(text, Loader=yaml.SafeLoader))


def leaf_messages(errors: Iterable[jsonschema.ValidationError]) -> Iterator[str]:
    """The innermost messages: those an editor shows on the value itself."""
    for error in errors:
        if error.context:
            yield from leaf_messages(error.context)
        else:
            yield error.message


# --- one declaration, two uses --------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "line", "code", "keyword", "bound"),
    [
        ("capacity: 1001", 7, "bad_integer", "maximum", 1000),
        ("capacity: 0", 7, "bad_integer", "minimum", 1),
        ("offer_hold: 4", 9, "bad_integer", "minimum", 5),
        ("title: " + "x" * 101, 6, "bad_text", "maxLength", 100),
    ],
)
def test_a_constraint_declared_once_refuses_a_file_and_shows_in_the_json_schema(
    field, line, code, keyword, bound
):
    name = field.split(":")[0]

    [(found_line, found_code, params)] = problems_of(a_class(field))

    assert (found_line, found_code, params["field"]) == (line, code, name)
    assert bound in (params.get("min"), params.get("max"))
    assert definition(schema.Class)["properties"][name][keyword] == bound


def test_the_capacity_range_in_the_json_schema_is_the_one_the_parser_applies():
    published = definition(schema.Class)["properties"]["capacity"]
    low, high = published["minimum"], published["maximum"]

    for capacity in (low, high):
        parse(a_class(f"capacity: {capacity}"))
    for capacity in (low - 1, high + 1):
        assert problems_of(a_class(f"capacity: {capacity}")) == [
            (7, "bad_integer", {"field": "capacity", "value": str(capacity), "min": 1, "max": 1000})
        ]


def test_too_many_fee_rows_are_refused_and_published_as_the_list_limit():
    rows = [f"      - {{due: 2027-01-{n + 1:02}, amount: 5}}" for n in range(31)]
    rows += [f"      - {{due: 2027-02-{n + 1:02}, amount: 5}}" for n in range(28)]
    rows += ["      - {due: 2027-03-01, amount: 5}", "      - {due: 2027-03-02, amount: 5}"]
    text = a_class().replace("    classes:\n", "    fees:\n" + "\n".join(rows) + "\n    classes:\n")

    assert [(line, code) for line, code, _ in problems_of(text)] == [(5, "too_many_fees")]
    fees = definition(schema.Programme)["properties"]["fees"]["anyOf"][0]
    assert fees["maxItems"] == len(rows) - 1


def test_an_unknown_field_is_refused_at_its_line_and_forbidden_in_the_json_schema():
    text = a_class("capcity: 2")

    assert problems_of(text) == [(9, "unknown_field", {"field": "capcity"})]
    assert definition(schema.Class)["additionalProperties"] is False
    assert "capcity" not in definition(schema.Class)["properties"]


def test_an_unknown_field_of_a_nested_entry_is_refused_at_its_own_line():
    text = a_class(
        "weekly:", "  days: [mon]", "  time: '18:00'", "  from: 2026-12-07", "  every: 2"
    )

    assert problems_of(text) == [
        (10, "missing_field", {"field": "until"}),
        (13, "unknown_field", {"field": "every"}),
    ]
    assert definition(schema.WeeklyRule)["additionalProperties"] is False


# --- the published file --------------------------------------------------------------------


def test_the_committed_json_schema_is_what_the_command_prints_without_loading_aiogram():
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", "catalog-schema"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    assert run.stdout == PUBLISHED.read_text(encoding="utf-8")
    assert "aiogram" not in run.stderr  # importtime lists every module imported


def test_the_json_schema_is_a_valid_draft_7_schema():
    jsonschema.Draft7Validator.check_schema(JSON_SCHEMA)


def test_the_example_points_editors_at_the_published_schema_and_validates_against_it():
    text = EXAMPLE.read_text(encoding="utf-8")
    first_line = text.splitlines()[0]

    assert first_line == "# yaml-language-server: $schema=../docs/catalog.schema.json"
    assert (EXAMPLE.parent / first_line.split("$schema=")[1]).resolve() == PUBLISHED.resolve()
    jsonschema.validate(yaml_1_2(text), JSON_SCHEMA, cls=jsonschema.Draft7Validator)


def test_the_json_schema_refuses_what_an_editor_should_underline():
    validator = jsonschema.Draft7Validator(JSON_SCHEMA)
    text = a_class("key: Morning Flow", "capacity: 0", "colour: red")

    messages = list(leaf_messages(validator.iter_errors(yaml_1_2(text))))

    assert any("Morning Flow" in message for message in messages)
    assert any("0 is less than the minimum of 1" in message for message in messages)
    assert any("'colour' was unexpected" in message for message in messages)


def test_every_field_is_documented_for_the_owner():
    undocumented = [
        f"{name}.{field}"
        for name, definition in JSON_SCHEMA["$defs"].items()
        for field, spec in definition["properties"].items()
        if not spec.get("description")
    ]

    assert undocumented == []
    assert all(definition.get("description") for definition in JSON_SCHEMA["$defs"].values())


def test_the_published_schema_is_readable_json_with_a_title():
    published = json.loads(PUBLISHED.read_text(encoding="utf-8"))

    assert published["title"] == "Spotbook catalog"
    assert published["$schema"] == "http://json-schema.org/draft-07/schema#"
