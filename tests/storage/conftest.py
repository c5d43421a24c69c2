import pytest

from domain.storage.db import session_factory
from tests.support.databases import migrated_engine


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_factory(request, tmp_path):
    """Storage tests run on both databases Spotbook supports, migrations applied."""
    async with migrated_engine(request.param, tmp_path) as engine:
        yield session_factory(engine)
