"""The staff's import command as a separate process, as a studio owner runs it: what the
other end-to-end tests load through its code in their own process."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import import_text, soon
from tests.e2e.harness import run_cli

pytestmark = pytest.mark.e2e


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
