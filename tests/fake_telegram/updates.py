"""The queue of updates for the bot: tests put updates in (validated as aiogram will), and
the bot takes them with ``getUpdates`` long polling, or the webhook delivery does."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiogram.types import Update
from pydantic import ValidationError

from tests.fake_telegram.model import ApiCall, ApiError, InvalidUpdateError

if TYPE_CHECKING:
    from tests.fake_telegram.server import FakeTelegram

# Update types Telegram sends when allowed_updates is empty or was never set: all but these
# (my_chat_member, the bot added to or removed from a chat, is a default one).
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def inject_update(fake: FakeTelegram, update: Mapping[str, Any]) -> int:
    """See :meth:`FakeTelegram.inject_update`."""
    update = dict(update)
    if "update_id" in update:
        raise InvalidUpdateError("update_id is assigned by the fake; leave it out")
    kinds = [k for k in update if k in Update.model_fields]
    unknown = [k for k in update if k not in Update.model_fields]
    if len(kinds) != 1 or unknown:
        raise InvalidUpdateError(
            f"an update needs exactly one known field, got known={kinds} unknown={unknown}"
        )
    update_id = next(fake._update_ids)
    update = {"update_id": update_id, **update}
    try:
        Update.model_validate(update)
    except ValidationError as e:
        raise InvalidUpdateError(f"aiogram would reject this update: {e}\n{update}") from e
    fake._updates.append(update)
    fake._changes.notify()
    return update_id


async def get_updates(fake: FakeTelegram, call: ApiCall) -> list[dict[str, Any]]:
    check_poll_conflict(fake)
    p = call.params
    offset = p.get("offset")
    if isinstance(offset, int):
        if offset < 0:
            fake._updates = fake._updates[offset:]
        else:
            fake._updates = [u for u in fake._updates if u["update_id"] >= offset]
    if "allowed_updates" in p:
        allowed = p["allowed_updates"]
        fake._allowed_updates = set(allowed) if allowed else None
    limit = p.get("limit", 100)
    limit = min(max(limit if isinstance(limit, int) else 100, 1), 100)
    timeout = p.get("timeout", 0)
    timeout = timeout if isinstance(timeout, int) else 0

    # A newer getUpdates terminates an older one, as on Telegram (two bot instances).
    fake._poll_generation += 1
    generation = fake._poll_generation
    fake._changes.notify()

    def ready() -> bool:
        drop_disallowed_updates(fake)
        return (
            bool(fake._updates)
            or fake._closing
            or generation != fake._poll_generation
            or bool(fake.webhook_url)
        )

    await fake._changes.wait_until(ready, timeout)
    check_poll_conflict(fake)
    if generation != fake._poll_generation:
        # A bot that stops closes its long poll's socket and may then send a last getUpdates
        # (the confirmation) at once: if that one is read first, this request's end comes a
        # moment later and cancels this handler (handler_cancellation). Only a poller still
        # listening gets, and is recorded with, the conflict.
        await asyncio.sleep(0.1)
        raise ApiError(
            409,
            "Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running",
            record=True,
        )
    if fake._closing:
        return []
    return fake._updates[:limit]


def check_poll_conflict(fake: FakeTelegram) -> None:
    if fake.webhook_url:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
            record=True,
        )


def drop_disallowed_updates(fake: FakeTelegram) -> None:
    """Drop the pending updates the bot's ``allowed_updates`` exclude, as Telegram would:
    each is an error (aiogram asks only for the update types that have handlers)."""
    kept = []
    for update in fake._updates:
        kind = next(k for k in update if k != "update_id")
        allowed = (
            kind in fake._allowed_updates
            if fake._allowed_updates is not None
            else kind not in _NOT_DEFAULT_UPDATES
        )
        if allowed:
            kept.append(update)
        else:
            fake.errors.append(
                f"update {update['update_id']} ({kind}) was dropped: the bot's "
                f"allowed_updates {sorted(fake._allowed_updates or [])} exclude it "
                "(aiogram asks only for update types that have handlers)"
            )
    fake._updates = kept


METHODS = {"getUpdates": get_updates}
