"""Clients who blocked the bot are marked unreachable, and reachable again, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import select, text

from bot.delivery.sender import Reachability
from domain.clients.record import (
    ClientRef,
    mark_reachable,
    mark_unreachable,
    remember_client,
    unreachable_clients,
)
from domain.storage.migrate import alembic_config
from domain.storage.models import Client

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def add_clients(db_factory, *ids: int) -> None:
    async with db_factory() as db:
        for client_id in ids:
            await remember_client(db, ClientRef(client_id, f"client {client_id}"), NOW)
        await db.commit()


async def marked_since(db_factory, client_id: int) -> datetime | None:
    async with db_factory() as db:
        return await db.scalar(select(Client.unreachable_since).where(Client.id == client_id))


async def test_marking_and_clearing_a_client(db_factory):
    await add_clients(db_factory, 1, 2)

    async with db_factory() as db:
        assert await mark_unreachable(db, 1, NOW) is True
    async with db_factory() as db:
        # marking again keeps the first time
        assert await mark_unreachable(db, 1, NOW + timedelta(hours=1)) is False
        assert await mark_unreachable(db, -100500, NOW) is False  # a group: no client row
        assert await unreachable_clients(db) == {1}
    assert await marked_since(db_factory, 1) == NOW
    assert await marked_since(db_factory, 2) is None

    async with db_factory() as db:
        assert await mark_reachable(db, 1) is True
    async with db_factory() as db:
        assert await mark_reachable(db, 1) is False
        assert await unreachable_clients(db) == set()
    assert await marked_since(db_factory, 1) is None


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_reachability_keeps_the_database_and_its_memory_in_step(db_factory):
    await add_clients(db_factory, 1, 2)
    async with db_factory() as db:
        await mark_unreachable(db, 2, NOW)
    ticks = Ticks()
    reachability = Reachability(db_factory, now=lambda: NOW, monotonic=ticks, refresh_seconds=60)

    assert await reachability.is_unreachable(2)  # loaded lazily from the database
    assert not await reachability.is_unreachable(1)

    await reachability.mark(1)
    assert await reachability.is_unreachable(1)
    assert await marked_since(db_factory, 1) == NOW

    await reachability.clear(2)
    assert not await reachability.is_unreachable(2)
    assert await marked_since(db_factory, 2) is None

    # another instance cleared client 1: seen after the refresh interval
    async with db_factory() as db:
        await mark_reachable(db, 1)
    assert await reachability.is_unreachable(1)
    ticks.now += 60
    assert not await reachability.is_unreachable(1)


@pytest.mark.migrated_from_scratch
async def test_migration_0005_comes_back_down_and_up_with_clients_kept(db_factory):
    def migrate(connection, direction: str, revision: str) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        getattr(command, direction)(config, revision)

    async def run(direction: str, revision: str) -> None:
        async with db_factory() as db:
            await (await db.connection()).run_sync(migrate, direction, revision)
            await db.commit()

    await add_clients(db_factory, 1)
    async with db_factory() as db:
        await mark_unreachable(db, 1, NOW)

    await run("downgrade", "0004")
    async with db_factory() as db:
        assert (await db.execute(text("SELECT id, first_name FROM clients"))).all() == [
            (1, "client 1")
        ]
    await run("upgrade", "head")
    assert await marked_since(db_factory, 1) is None
