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


@pytest.mark.migrated_from_scratch
async def test_issue_19s_migrations_come_back_down_and_up_keeping_every_row(db_factory):
    """0018-0021 add columns to programmes, classes, sessions and bookings. Their downgrade
    on SQLite once copied each table (a batch), dropping the old one: ON DELETE CASCADE then
    emptied the tables referring to it (classes, sessions, bookings, enrolments)."""
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import func, select

    from domain.booking.bookings import book_session
    from domain.clients.record import ClientRef
    from domain.policy import Policy
    from domain.storage.migrate import alembic_config
    from domain.storage.models import Booking, ClassSession, Enrolment, Programme, ProgrammeClass
    from tests.support.catalog import PRAGUE, YOGA, load

    await load(db_factory, YOGA)
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    async with db_factory() as db:
        session_id = await db.scalar(select(ClassSession.id).order_by(ClassSession.starts_at))
        await book_session(
            db,
            client=ClientRef(1, "Alice"),
            session_id=session_id,
            now=now,
            policy=Policy(zone=PRAGUE),
        )

    async def counts() -> list[int]:
        async with db_factory() as db:
            return [
                await db.scalar(select(func.count()).select_from(model))
                for model in (Programme, ProgrammeClass, ClassSession, Booking, Enrolment)
            ]

    before = await counts()

    def migrate(connection, direction: str, revision: str) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        getattr(command, direction)(config, revision)

    for direction, revision in (("downgrade", "0017"), ("upgrade", "head")):
        async with db_factory() as db:
            await (await db.connection()).run_sync(migrate, direction, revision)
            await db.commit()

    assert before[3] == 1  # the booking, and its enrolment, were written
    assert await counts() == before
