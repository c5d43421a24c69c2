"""The manuals stay true to the code: a short README, links that lead somewhere, every setting
documented with its default, no path to a module that isn't there, every command the bot
answers in the user guide (and none it doesn't), and each button the guide names as the bot
writes it."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

import pytest
from aiogram import Router
from aiogram.filters import Command
from babel.messages.pofile import read_po
from pydantic import SecretStr

from bot.deps import Deps, utc_now
from bot.runtime.app import build_dispatcher
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
CONFIGURATION = ROOT / "docs" / "configuration.md"
USER_GUIDE = ROOT / "docs" / "user-guide.md"
ENGLISH = ROOT / "locales" / "en" / "LC_MESSAGES" / "messages.po"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
README_MAX_LINES = 200

# [text](target) and ![alt](target); a target with a scheme leaves the repository
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
# a row of the settings table: | `NAME` | default | meaning |
_SETTING_ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|([^|]*)\|")
# a path into the code as the docs name it; one with a placeholder (<flow>, …) is a pattern
_CODE_PATH = re.compile(r"(?<![\w./-])((?:bot|domain|tests|bench|examples|deploy)/[\w./<>…-]*)")
# an environment variable in backticks: NAME or NAME=value
_BACKTICKED = re.compile(r"`([^`\n]+)`")
_ENV_NAME = re.compile(r"^([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?:=|$)")
# a command in backticks: `/start`, `/announcehere@<your_bot>`, `/multi TYPE …`
_COMMAND = re.compile(r"`/([a-z]+)(?=[`@ ])")
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
# upper-case words with underscores that are not settings: command placeholders, test variables
NOT_SETTINGS = {
    "CLIENT_ID",
    "BOOKING_ID",
    "SPOT_ID",
    "PACKAGE_ID",
    "SPOTBOOK_TEST_POSTGRES_URL",
    "SPOTBOOK_TEST_REDIS_URL",
    "SPOTBOOK_BENCH_POSTGRES_URL",
    "SPOTBOOK_BENCH_REDIS_URL",
    "POSTGRES_PASSWORD",
    "PUBLIC_HOST",
    "LC_MESSAGES",
}


def setting_names() -> set[str]:
    return {
        (field.validation_alias or name).upper() for name, field in Settings.model_fields.items()
    }


def documented_settings(text: str) -> dict[str, str]:
    """NAME → its default cell, from the settings table."""
    rows: dict[str, str] = {}
    for line in text.splitlines():
        match = _SETTING_ROW.match(line)
        if match is not None:
            assert match[1] not in rows, f"{match[1]} is documented twice"
            rows[match[1]] = match[2].strip()
    return rows


def rendered_default(name: str) -> str | None:
    """How the default reads in the docs, as one would set it; None when it is unset/empty."""
    field = next(
        f for n, f in Settings.model_fields.items() if (f.validation_alias or n).upper() == name
    )
    value = field.get_default(call_default_factory=True)
    if value is None or isinstance(value, SecretStr) or value in ("", (), frozenset()):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, frozenset):
        return ",".join(sorted(str(item) for item in value))
    if isinstance(value, tuple):
        return ",".join(getattr(item, "label", str(item)) for item in value)
    return str(value)


def relative_links(doc: Path) -> list[str]:
    return [
        target
        for target in _LINK.findall(doc.read_text(encoding="utf-8"))
        if not _EXTERNAL.match(target) and not target.startswith("#")
    ]


def anchors(doc: Path) -> set[str]:
    """GitHub's ids for the headings of a Markdown file."""
    ids = set()
    in_code = False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            heading = line.lstrip("#").strip().lower()
            ids.add(re.sub(r"[^\w\- ]", "", heading).replace(" ", "-"))
    return ids


def leads_nowhere(doc: Path, target: str) -> bool:
    path, _, anchor = target.partition("#")
    linked = (doc.parent / path).resolve()
    if not linked.exists():
        return True
    return bool(anchor) and linked.suffix == ".md" and anchor not in anchors(linked)


def reads_as_default(cell: str, default: str | None) -> bool:
    """An unset default reads "—" or "empty …"; a value is written first, in backticks."""
    return cell.startswith(("—", "empty")) if default is None else cell.startswith(f"`{default}`")


def test_the_readme_is_short_enough_to_read_in_ten_minutes():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: str(doc.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(doc: Path):
    assert [target for target in relative_links(doc) if leads_nowhere(doc, target)] == []


def test_every_setting_is_documented_and_nothing_else_is():
    documented = documented_settings(CONFIGURATION.read_text(encoding="utf-8"))
    assert set(documented) == setting_names()


def test_each_documented_default_is_the_settings_default():
    documented = documented_settings(CONFIGURATION.read_text(encoding="utf-8"))
    wrong = {
        name: (cell, rendered_default(name))
        for name, cell in documented.items()
        if not reads_as_default(cell, rendered_default(name))
    }
    assert wrong == {}


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: str(doc.relative_to(ROOT)))
def test_every_setting_the_docs_name_exists(doc: Path):
    known = setting_names() | NOT_SETTINGS
    named = {
        match[1]
        for quoted in _BACKTICKED.findall(doc.read_text(encoding="utf-8"))
        if (match := _ENV_NAME.match(quoted.strip())) is not None
    }
    assert named - known == set()


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: str(doc.relative_to(ROOT)))
def test_every_path_into_the_code_the_docs_name_exists(doc: Path):
    missing = []
    for raw in _CODE_PATH.findall(doc.read_text(encoding="utf-8")):
        path = raw.rstrip(".,;:")
        if "<" in path or "…" in path:  # a pattern: its folder must exist
            path = path[: min(i for i in (path.find("<"), path.find("…")) if i >= 0)]
        if not (ROOT / path).exists():
            missing.append(raw)
    assert missing == []


def handled_commands() -> set[str]:
    """Every /command some router of the bot's dispatcher answers in a message."""
    deps = Deps(db=None, settings=Settings(bot_token=None), clock=utc_now)
    dispatcher = build_dispatcher(deps, build_i18n("en"))

    def routers(router: Router):
        yield router
        for sub in router.sub_routers:
            yield from routers(sub)

    return {
        name
        for router in routers(dispatcher)
        for handler in router.message.handlers
        for found in handler.filters or ()
        if isinstance(found.callback, Command)
        for name in found.callback.commands
    }


def test_every_command_the_bot_handles_is_in_the_user_guide():
    documented = set(_COMMAND.findall(USER_GUIDE.read_text(encoding="utf-8")))
    assert handled_commands() - documented == set()


@pytest.mark.parametrize("doc", [README, USER_GUIDE], ids=lambda doc: doc.name)
def test_every_command_the_docs_name_is_one_the_bot_handles(doc: Path):
    documented = set(_COMMAND.findall(doc.read_text(encoding="utf-8")))
    assert documented - handled_commands() == set()


def english_messages() -> list[str]:
    """Each English message as one line of text, markup left out."""
    with ENGLISH.open("rb") as source:
        catalog = read_po(source)
    return [
        " ".join(re.sub(r"<[^>]+>", "", text).split())
        for message in catalog
        for text in (message.id if isinstance(message.id, tuple) else (message.id,))
        if text
    ]


def is_labelled(label: str, messages: list[str]) -> bool:
    """A message reads as ``label``: its placeholders stand for the values the label shows, and
    a "…" in the label for whatever the message has there. A message that is all placeholder
    (such as a title) labels nothing."""
    if "…" in label:
        gaps = re.compile(".+".join(re.escape(part) for part in label.split("…")))
        return any(gaps.fullmatch(re.sub(r"\{[^}]*\}", "x", text)) for text in messages)
    for text in messages:
        parts = re.split(r"\{[^}]*\}", text)
        if "".join(parts).strip() and re.fullmatch(".+".join(map(re.escape, parts)), label):
            return True
    return False


def test_every_button_the_user_guide_names_reads_as_a_text_of_the_bot():
    messages = english_messages()
    labels = {" ".join(bold.split()) for bold in _BOLD.findall(USER_GUIDE.read_text("utf-8"))}
    assert {label for label in labels if not is_labelled(label, messages)} == set()
