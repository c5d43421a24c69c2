"""Scale-out services for tests: a PostgreSQL database of their own, a Redis key prefix."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from tests.support.databases import POSTGRES_URL, postgres_unreachable

REDIS_URL = os.environ.get("SPOTBOOK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_unreachable(reason: str) -> None:
    """Under CI a missing Redis is a failure; on a laptop without one, a visible skip."""
    message = f"Redis at {REDIS_URL} is unreachable: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@asynccontextmanager
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix no other test uses (the bot's REDIS_KEY_PREFIX); its keys are deleted
    afterwards."""
    prefix = f"spotbook-test-{uuid.uuid4().hex[:12]}"
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as error:  # refused, unknown host, auth
        await client.aclose()
        redis_unreachable(f"{type(error).__name__}: {error}")
    try:
        yield prefix
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards: for bot processes,
    which get one DATABASE_URL (a schema through search_path can't be put in it for asyncpg)."""
    url = make_url(POSTGRES_URL)
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"spotbook_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(admin_dsn)
    except Exception as error:  # refused, unknown host, auth: asyncpg and OSError alike
        postgres_unreachable(f"{type(error).__name__}: {error}")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()
