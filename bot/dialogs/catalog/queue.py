"""Answering a waiting-list place from a card: take the offered place, or leave the queue."""

from __future__ import annotations

from aiogram_dialog import DialogManager

from bot.deps import client_of, deps_of
from bot.dialogs.common import attempt, send_notices
from domain.booking.bookings import take_offer
from domain.booking.waitlist import leave_waitlist


async def take_place(manager: DialogManager, entry_id: int | None):
    """Booked (a session) or Enrolled (a class); None when refused (shown on the card)."""
    return await attempt(
        manager,
        take_offer,
        client=client_of(manager),
        entry_id=entry_id or 0,
        policy=deps_of(manager).settings.policy,
    )


async def leave_queue(manager: DialogManager, entry_id: int | None) -> None:
    """Leave the waiting list, or skip an offer: the held place goes to the next client."""
    events = await attempt(
        manager,
        leave_waitlist,
        client_id=client_of(manager).id,
        entry_id=entry_id or 0,
        policy=deps_of(manager).settings.policy,
    )
    if events:
        await send_notices(manager)
