"""The client record: created the first time someone books, kept current afterwards."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import UnknownLanguage, UnknownTimeZone
from domain.storage.models import Client


@dataclass(frozen=True)
class ClientRef:
    """Who is acting, as Telegram tells us."""

    id: int
    first_name: str = ""
    language_code: str | None = None


async def remember_client(db: AsyncSession, client: ClientRef, now: datetime) -> int:
    """Insert or update the client; returns their rank, as the row now holds it (ours to the
    end of the transaction, so the same as reading it afterwards)."""
    dialect = postgresql if db.bind.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Client).values(
        id=client.id,
        first_name=client.first_name,
        language_code=client.language_code,
        created_at=now,
    )
    # A double tap from two devices may race here: both inserts must succeed.
    rank = await db.scalar(
        statement.on_conflict_do_update(
            index_elements=[Client.id],
            set_={"first_name": client.first_name},
        ).returning(Client.rank)
    )
    return rank or 0


async def known_client(db: AsyncSession, client_id: int) -> ClientRef | None:
    """Someone who opened the bot once (the bot can't write to anyone first); None if not."""
    client = await db.get(Client, client_id)
    return ClientRef(client.id, client.first_name, client.language_code) if client else None


async def register_client(db: AsyncSession, client: ClientRef, now: datetime) -> None:
    """They opened the bot: known from now on (staff can reserve a spot for them)."""
    await remember_client(db, client, now)
    await db.commit()


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


@dataclass(frozen=True)
class Preferences:
    """How a client reads the bot: their language and time zone (None: not set)."""

    language: str | None
    time_zone: str | None


async def preferences(db: AsyncSession, client_id: int) -> Preferences | None:
    row = (
        await db.execute(
            select(Client.language_code, Client.time_zone).where(Client.id == client_id)
        )
    ).first()
    return None if row is None else Preferences(row[0], row[1])


async def set_language(
    db: AsyncSession, client: ClientRef, language: str, available: Iterable[str], now: datetime
) -> None:
    """The client chose the bot's language (one it has a catalog for)."""
    if language not in set(available):
        raise UnknownLanguage(language=language[:16])
    await remember_client(db, client, now)
    await db.execute(update(Client).where(Client.id == client.id).values(language_code=language))
    await db.commit()


async def set_time_zone(
    db: AsyncSession, client: ClientRef, name: str | None, now: datetime
) -> ZoneInfo | None:
    """The client's own time zone (an IANA name such as Europe/Budapest), or None for the
    business's again. An unknown name is refused and nothing changes."""
    zone = None if name is None else time_zone(name)
    await remember_client(db, client, now)
    await db.execute(
        update(Client).where(Client.id == client.id).values(time_zone=zone and zone.key)
    )
    await db.commit()
    return zone


def time_zone(name: str) -> ZoneInfo:
    """An IANA zone by name, in any case ("europe/budapest"), or UnknownTimeZone."""
    wanted = name.strip()
    match = _zones_by_lower().get(wanted.lower())
    if match is None:
        raise UnknownTimeZone(name=wanted[:64])
    return ZoneInfo(match)


@cache
def _zones_by_lower() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()}
