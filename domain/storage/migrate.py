"""Alembic migrations, run by the app on start and by `python -m bot migrate`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str = "") -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade_to_head(engine: AsyncEngine) -> None:
    def _upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


# any constant both instances agree on: the key of PostgreSQL's advisory lock for migrations
_MIGRATION_LOCK = 0x5B07B00C


async def upgrade_one_at_a_time(engine: AsyncEngine) -> None:
    """Instances started together on one PostgreSQL database would each create the same
    tables (and all but one fail): the first to take the lock upgrades, the others then find
    the schema at head. SQLite is one file for one process."""
    if engine.dialect.name != "postgresql":
        await upgrade_to_head(engine)
        return
    async with engine.connect() as lock:
        await lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
        try:
            await upgrade_to_head(engine)
        finally:
            await lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
