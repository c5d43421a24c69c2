import pytest

from domain.storage.db import session_factory
from tests.support.databases import migrated_engine


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_factory(request, tmp_path):
    """Storage tests run on both databases Spotbook supports, migrations applied: a copy of
    what they built once per test process, or, for a test marked `migrated_from_scratch`,
    the migrations run for it."""
    from_scratch = request.node.get_closest_marker("migrated_from_scratch") is not None
    async with migrated_engine(request.param, tmp_path, from_scratch=from_scratch) as engine:
        yield session_factory(engine)
