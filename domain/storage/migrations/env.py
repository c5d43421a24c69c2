"""Alembic environment. The app hands over its own connection (see domain.storage.migrate)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from domain.storage.db import create_engine
from domain.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # plain `alembic` command line use
    asyncio.run(_run_with_own_engine(config.get_main_option("sqlalchemy.url")))
