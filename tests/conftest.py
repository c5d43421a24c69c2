from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from domain.storage.db import SessionFactory, session_factory
from tests.support.databases import migrated_engine

# The suite's "today": a Saturday before the example sessions in December 2026.
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def db_factory(tmp_path) -> AsyncIterator[SessionFactory]:
    """A new SQLite database file per test, brought to the newest schema by the migrations."""
    async with migrated_engine("sqlite", tmp_path) as engine:
        yield session_factory(engine)
