"""The client record: created the first time someone books, kept current afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.storage.models import Client


@dataclass(frozen=True)
class ClientRef:
    """Who is acting, as Telegram tells us."""

    id: int
    first_name: str = ""
    language_code: str | None = None


async def remember_client(db: AsyncSession, client: ClientRef, now: datetime) -> None:
    dialect = postgresql if db.bind.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Client).values(
        id=client.id,
        first_name=client.first_name,
        language_code=client.language_code,
        created_at=now,
    )
    # A double tap from two devices may race here: both inserts must succeed.
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=[Client.id],
            set_={"first_name": client.first_name},
        )
    )


async def mark_unreachable(db: AsyncSession, client_id: int, now: datetime) -> bool:
    """Telegram refused to deliver to them (they blocked the bot): stop sending until they
    write again. True if the mark is new; an unknown id (e.g. a group chat) changes nothing."""
    result = await db.execute(
        update(Client)
        .where(Client.id == client_id, Client.unreachable_since.is_(None))
        .values(unreachable_since=now)
    )
    await db.commit()
    return result.rowcount > 0


async def mark_reachable(db: AsyncSession, client_id: int) -> bool:
    """They wrote to the bot again. True if they had been marked unreachable."""
    result = await db.execute(
        update(Client)
        .where(Client.id == client_id, Client.unreachable_since.is_not(None))
        .values(unreachable_since=None)
    )
    await db.commit()
    return result.rowcount > 0


async def unreachable_clients(db: AsyncSession) -> set[int]:
    """Everyone currently marked unreachable (few: only those who blocked the bot)."""
    rows = await db.scalars(select(Client.id).where(Client.unreachable_since.is_not(None)))
    return set(rows)
