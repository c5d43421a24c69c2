"""The staff's import command as a separate process, as a studio owner runs it: what the
other end-to-end tests load through its code in their own process; and the same import
through the chat, under IMPORT_MAX_SESSIONS."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import import_text, soon
from tests.e2e.harness import bot_process, run_cli

pytestmark = pytest.mark.e2e

STAFF_ID = 5001


def one_class(days: range, title: str = "Morning") -> str:
    starts = ", ".join(f"'{soon(day)} 09:00'" for day in days)
    return (
        "programmes:\n  - key: yoga\n    title: Yoga\n    classes:\n      - key: morning\n"
        f"        title: {title}\n        capacity: 2\n        sessions: [{starts}]\n"
    )


async def test_the_import_command_runs_as_a_process(tmp_path, bot_env):
    path = tmp_path / "one.yaml"
    path.write_text(
        "programmes:\n  - key: yoga\n    title: Yoga\n    classes:\n      - key: morning\n"
        f"        title: Morning\n        capacity: 2\n        sessions: ['{soon(2)} 09:00']\n",
        encoding="utf-8",
    )
    result = await run_cli("import-catalog", str(path), env=bot_env)

    assert result.returncode == 0, result.stderr
    assert "added 1 programmes, 1 classes, 1 sessions" in result.stdout
    assert await import_text(path, path.read_text(encoding="utf-8"), bot_env) == (
        f"{path} imported: nothing changed.\n"
    )


async def test_a_chat_upload_over_import_max_sessions_is_refused_with_the_count(
    fake, tmp_path, bot_env, database
):
    await import_text(tmp_path / "first.yaml", one_class(range(2, 4)), bot_env)
    env = {**bot_env, "ADMIN_IDS": str(STAFF_ID), "IMPORT_MAX_SESSIONS": "4"}
    sam = fake.user(STAFF_ID, "Sam")
    async with bot_process(fake, env=env):
        mark = fake.mark()
        await sam.send_document("big.yaml", one_class(range(2, 7), "Renamed").encode())
        refused = await sam.wait_message("big.yaml was not imported", since=mark)
        assert "The file makes 5 sessions; one import may hold at most 4" in refused.text
        assert database.query("select count(*) from sessions") == [(2,)]
        assert database.query("select title from classes") == [("Morning",)]

        mark = fake.mark()
        await sam.send_document("four.yaml", one_class(range(2, 6), "Renamed").encode())
        imported = await sam.wait_message("four.yaml imported:", since=mark)
        assert "added 0 programmes, 0 classes, 2 sessions" in imported.text
        assert database.query("select count(*) from sessions") == [(4,)]
        assert database.query("select title from classes") == [("Renamed",)]
