"""Who may join a programme, and joining it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.booking import rules
from domain.policy import Policy
from domain.storage.models import (
    OPEN_ENROLMENT,
    Client,
    Enrolment,
    EnrolmentStatus,
    Programme,
)


async def ensure_eligible(
    db: AsyncSession,
    client_id: int,
    programme: Programme,
    now: datetime,
    policy: Policy,
    *,
    client_rank: int | None = None,
) -> None:
    """Within the programme's dates, and within the rank allowance. The client's rank is read
    unless the caller has it from this transaction (remember_client returns it)."""
    rules.ensure_open_on(
        policy.today(now), valid_from=programme.valid_from, valid_until=programme.valid_until
    )
    if client_rank is None:
        client_rank = await db.scalar(select(Client.rank).where(Client.id == client_id))
    rules.ensure_rank_allows(
        programme_rank=programme.rank,
        client_rank=client_rank or 0,
        allowance=policy.rank_allowance,
    )


def new_enrolment_status(policy: Policy, *, by_staff: bool = False) -> str:
    """Active at once, or pending until staff confirm it; staff's own bookings need none."""
    return (
        EnrolmentStatus.ACTIVE
        if policy.enrolment_active_by_default or by_staff
        else EnrolmentStatus.PENDING
    )


async def join_programme(
    db: AsyncSession,
    client_id: int,
    programme_id: int,
    now: datetime,
    *,
    status: str = EnrolmentStatus.ACTIVE,
    class_id: int | None = None,
    notes: str | None = None,
) -> bool:
    """An enrolment, created unless there is an open (pending or active) one; True when created."""
    dialect = postgresql if db.bind.dialect.name == "postgresql" else sqlite
    inserted = await db.execute(
        dialect.insert(Enrolment)
        .values(
            client_id=client_id,
            programme_id=programme_id,
            class_id=class_id,
            status=status,
            created_at=now,
            notes=notes,
        )
        .on_conflict_do_nothing(
            index_elements=[Enrolment.client_id, Enrolment.programme_id],
            index_where=text(OPEN_ENROLMENT),
        )
    )
    return inserted.rowcount == 1
