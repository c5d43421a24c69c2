"""What handlers and getters need, injected through the dispatcher's workflow data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from aiogram.types import User
from aiogram.utils.i18n import I18n
from aiogram_dialog import DialogManager

from bot.runtime.config import Settings
from bot.text.reader import Formatter
from domain.clients.record import ClientRef
from domain.storage.db import SessionFactory

if TYPE_CHECKING:
    from bot.delivery.sender import Sender

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class OutboxCourier(Protocol):
    """Sends the notification outbox (bot/delivery/courier.py's Courier): now when woken, else
    on the scheduler's tick."""

    def wake(self) -> None: ...

    async def drain(self) -> int: ...

    async def stop(self) -> None: ...


class CardAnnouncer(Protocol):
    """Posts and refreshes announcement cards in groups (bot/delivery/announce.py's
    Announcer)."""

    def wake(self) -> None: ...

    async def refresh(self) -> int: ...


@dataclass(frozen=True)
class Deps:
    db: SessionFactory
    settings: Settings
    clock: Clock = utc_now
    # the one rate-limited path for messages sent unasked (see bot/delivery/sender.py); one per bot
    sender: Sender | None = None
    # sends the notification outbox; None: each send_due drains it inline
    courier: OutboxCourier | None = None
    # posts and refreshes announcement cards in groups; None: not running
    announcer: CardAnnouncer | None = None


def deps_of(manager: DialogManager) -> Deps:
    return manager.middleware_data["deps"]


def i18n_of(manager: DialogManager) -> I18n:
    return manager.middleware_data["i18n"]


def formatter_of(manager: DialogManager) -> Formatter:
    return Formatter(deps_of(manager).settings, i18n_of(manager).current_locale)


def client_of(manager: DialogManager) -> ClientRef:
    return client_ref(manager.middleware_data["event_from_user"])


def client_ref(user: User) -> ClientRef:
    return ClientRef(id=user.id, first_name=user.first_name, language_code=user.language_code)
