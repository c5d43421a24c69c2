"""The Alembic migrations build exactly the schema the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from domain.storage.models import Base


def _differences(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


@pytest.mark.migrated_from_scratch
async def test_the_migrated_schema_matches_the_models(db_factory):
    async with db_factory() as db:
        connection = await db.connection()
        differences = await connection.run_sync(_differences)

    assert differences == []
