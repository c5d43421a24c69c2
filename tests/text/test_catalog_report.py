"""The catalog import's report: the same lines for the CLI and the chat, cut to fit Telegram."""

from __future__ import annotations

import pytest

from bot.commands.catalog_report import decode, ensure_small_enough, report_lines
from bot.commands.staff import MESSAGE_LIMIT, split_message
from bot.text.i18n import build_i18n
from domain.catalog.file import MAX_CATALOG_BYTES, CatalogInvalid, CatalogProblem
from domain.catalog.importer import ImportReport


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@pytest.fixture(autouse=True)
def english():
    with build_i18n("en").context():
        yield


def test_a_successful_import_is_summed_up():
    report = ImportReport(sessions_not_in_file=1)
    report.added["sessions"] = 3

    summary = report_lines("studio.yaml", report)

    assert summary.ok
    assert summary.lines == [
        "studio.yaml imported:",
        "  added 0 programmes, 0 classes, 3 sessions, 0 billing periods",
        "  updated 0 programmes, 0 classes, 0 billing periods",
        "  1 session in the database is not in the file; it was left as it is.",
    ]


def test_session_types_get_a_line_of_their_own_when_any_changed():
    report = ImportReport()
    report.added["session_types"] = 2
    report.updated["session_types"] = 1

    summary = report_lines("studio.yaml", report)

    assert summary.lines == [
        "studio.yaml imported:",
        "  added 0 programmes, 0 classes, 0 sessions, 0 billing periods",
        "  updated 0 programmes, 0 classes, 0 billing periods",
        "  session types: 2 added, 1 updated",
    ]


def test_an_import_that_changed_no_session_type_does_not_mention_them():
    report = ImportReport()
    report.added["classes"] = 1

    assert not any("session types" in line for line in report_lines("s.yaml", report).lines)


def test_a_rejected_file_lists_every_problem_with_its_line():
    invalid = CatalogInvalid(
        [
            CatalogProblem(7, "unknown_field", {"field": "capcity"}),
            CatalogProblem(0, "not_utf8", {}),
        ]
    )

    report = report_lines("studio.yaml", invalid)

    assert not report.ok
    assert report.lines == [
        "studio.yaml was not imported; nothing was changed:",
        '  line 7: "capcity" is not a known field here — check the spelling.',
        "  The file is not UTF-8 text; save it as UTF-8 and try again.",
    ]


def test_size_and_encoding_are_checked_before_parsing():
    ensure_small_enough(None)  # Telegram did not say: the parser checks the text itself
    ensure_small_enough(MAX_CATALOG_BYTES)
    with pytest.raises(CatalogInvalid) as too_large:
        ensure_small_enough(MAX_CATALOG_BYTES + 1)
    with pytest.raises(CatalogInvalid) as not_text:
        decode(b"\xff\xd8\xff")

    assert [p.code for p in too_large.value.problems] == ["too_large"]
    assert [p.code for p in not_text.value.problems] == ["not_utf8"]


def test_a_hundred_problems_are_sent_as_several_messages_telegram_accepts():
    lines = ["studio.yaml was not imported; nothing was changed:"] + [
        f'  line {n}: "{"x" * 60}" is not a valid date and time; write it as 2026-12-01 18:00.'
        for n in range(1, 101)
    ]

    messages = split_message(lines)

    assert len(messages) > 1
    assert all(utf16_len(message) <= MESSAGE_LIMIT for message in messages)
    assert "\n".join(messages).splitlines() == lines


def test_a_line_longer_than_a_message_is_cut():
    [message] = split_message(["😀" * 3000])

    assert utf16_len(message) <= MESSAGE_LIMIT
    assert message.endswith("😀…")
