"""Every message the bot can show is in every catalog, translated, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.text.i18n import DOMAIN, LOCALES
from bot.text.i18n_tools import extract

PLACEHOLDER = re.compile(r"{(\w*)[^{}]*}")
CATALOGS = sorted(LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def source_ids() -> set[str]:
    return {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in extract()
        if message.id
    }


def test_english_is_there():
    assert LOCALES / "en" / "LC_MESSAGES" / f"{DOMAIN}.po" in CATALOGS


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.parts[-3])
def test_a_catalog_has_every_message_translated(path: Path, source_ids):
    with path.open("rb") as file:
        catalog = read_po(file)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        if not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
        expected = placeholders(ids[-1]) | placeholders(ids[0])
        for string in strings:
            if string and placeholders(string) != expected:
                problems.append(f"placeholders differ: {ids[0]!r} -> {string!r}")
    in_catalog = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    problems += [f"missing: {msgid!r}" for msgid in sorted(source_ids - in_catalog)]
    assert not problems, "\n".join(problems)


def english_words(text: str) -> list[str]:
    """Words of an English sentence, leaving out placeholders, tags and acronyms (CSV)."""
    bare = re.sub(r"<[^>]+>", "", re.sub(r"{[^{}]*}", "", text))
    return [word for word in re.findall(r"[A-Za-z]{3,}", bare) if not word.isupper()]


@pytest.mark.parametrize(
    "path", [p for p in CATALOGS if p.parts[-3] != "en"], ids=lambda p: p.parts[-3]
)
def test_no_english_sentence_stands_as_its_own_translation(path: Path):
    with path.open("rb") as file:
        catalog = read_po(file)
    copied = []
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if ids[0] and english_words(ids[0]) and set(strings) & set(ids):
            copied.append(ids[0])
    assert copied == [], "\n".join(map(repr, copied))
