"""The client record: created the first time someone books, kept current afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
