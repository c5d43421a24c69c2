"""Who may join a programme, and joining it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain import rules
from domain.policy import Policy
from domain.storage.models import Client, Enrolment, EnrolmentStatus, Programme


async def ensure_eligible(
    db: AsyncSession, client_id: int, programme: Programme, now: datetime, policy: Policy
) -> None:
    """Within the programme's dates, and within the rank allowance."""
    rules.ensure_open_on(
        policy.today(now), valid_from=programme.valid_from, valid_until=programme.valid_until
    )
    client_rank = await db.scalar(select(Client.rank).where(Client.id == client_id))
    rules.ensure_rank_allows(
        programme_rank=programme.rank,
        client_rank=client_rank or 0,
        allowance=policy.rank_allowance,
    )


async def join_programme(
    db: AsyncSession, client_id: int, programme_id: int, now: datetime, class_id: int | None = None
) -> bool:
    """An active enrolment, created unless there is one already; True when created."""
    dialect = postgresql if db.bind.dialect.name == "postgresql" else sqlite
    inserted = await db.execute(
        dialect.insert(Enrolment)
        .values(
            client_id=client_id,
            programme_id=programme_id,
            class_id=class_id,
            status=EnrolmentStatus.ACTIVE,
            created_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=[Enrolment.client_id, Enrolment.programme_id],
            index_where=text("status = 'active'"),
        )
    )
    return inserted.rowcount == 1
