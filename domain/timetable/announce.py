"""Group announcements of multi sessions (seed 001's "share", done the Telegram way).

Staff register groups or channels; publishing a multi session writes one announcement per
registered chat. The bot posts each card and keeps its "spots left" up to date by editing it
in place (bot/delivery/announce.py): an edit only when what it says changed, and not more often per
chat than the group rate allows, so a burst of bookings becomes one edit. A chat the bot was
removed from is recorded as gone and never tried again; the card of a session whose spots have
all begun is closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import NotAnnounceable, NotATypedSession, UnknownChat, UnknownLanguage
from domain.storage.models import (
    AnnounceChat,
    Announcement,
    AnnouncementState,
    ClassSession,
    Programme,
    ProgrammeClass,
    SessionKind,
    SessionType,
    TypedSession,
)


async def register_chat(db: AsyncSession, chat_id: int, title: str, now: datetime) -> bool:
    """Announce in this chat from now on; True when it is new (or was gone and is back)."""
    chat = await db.get(AnnounceChat, chat_id)
    if chat is not None and chat.gone_at is None:
        chat.title = title[:200]
        await db.commit()
        return False
    if chat is None:
        db.add(AnnounceChat(chat_id=chat_id, title=title[:200], added_at=now))
    else:
        chat.title, chat.added_at, chat.gone_at, chat.gone_reason = title[:200], now, None, None
    await db.commit()
    return True


async def configured_chat(db: AsyncSession, chat_id: int, now: datetime) -> None:
    """A chat named in the settings (ANNOUNCE_CHATS): registered unless known already (one
    the bot was removed from stays gone: it is not tried again at every start)."""
    dialect = postgresql if db.bind.dialect.name == "postgresql" else sqlite
    await db.execute(
        dialect.insert(AnnounceChat)
        .values(chat_id=chat_id, title="", added_at=now)
        .on_conflict_do_nothing(index_elements=[AnnounceChat.chat_id])
    )
    await db.commit()


async def chat_gone(db: AsyncSession, chat_id: int, reason: str, now: datetime) -> bool:
    """The bot was removed from the chat (or it was deleted): recorded, its cards closed.
    True when it was a registered chat."""
    gone = await db.execute(
        update(AnnounceChat)
        .where(AnnounceChat.chat_id == chat_id, AnnounceChat.gone_at.is_(None))
        .values(gone_at=now, gone_reason=reason[:500])
    )
    await db.execute(
        update(Announcement)
        .where(Announcement.chat_id == chat_id)
        .values(state=AnnouncementState.CLOSED)
    )
    await db.commit()
    return gone.rowcount == 1


@dataclass(frozen=True)
class ChatView:
    chat_id: int
    title: str
    language: str | None  # its cards' language; None: the business's default


async def chats(db: AsyncSession, *, gone: bool = False) -> list[ChatView]:
    """The registered chats, oldest first: those the bot is in, or (``gone``) was removed from."""
    query = select(AnnounceChat.chat_id, AnnounceChat.title, AnnounceChat.language).order_by(
        AnnounceChat.added_at, AnnounceChat.chat_id
    )
    query = query.where(
        AnnounceChat.gone_at.is_not(None) if gone else AnnounceChat.gone_at.is_(None)
    )
    return [ChatView(*row) for row in await db.execute(query)]


async def set_chat_language(
    db: AsyncSession, chat_id: int, language: str, available: Iterable[str]
) -> None:
    """The cards in this chat are written in ``language`` from now on (edits included)."""
    if language not in set(available):
        raise UnknownLanguage(language=language[:16])
    changed = await db.execute(
        update(AnnounceChat)
        .where(AnnounceChat.chat_id == chat_id, AnnounceChat.gone_at.is_(None))
        .values(language=language)
    )
    if changed.rowcount != 1:
        raise UnknownChat()
    await db.commit()


async def chat_languages(db: AsyncSession) -> dict[int, str | None]:
    rows = await db.execute(select(AnnounceChat.chat_id, AnnounceChat.language))
    return dict(rows.all())


async def publish(db: AsyncSession, class_id: int, now: datetime) -> int:
    """Announce a multi session in every registered chat (not twice in one chat). Private
    types, single sessions and sessions with no spot ahead are never announced. Returns how
    many chats get a new card."""
    row = (
        await db.execute(
            select(SessionType.kind, Programme.public)
            .select_from(TypedSession)
            .join(SessionType, SessionType.id == TypedSession.type_id)
            .join(Programme, Programme.id == SessionType.programme_id)
            .where(TypedSession.class_id == class_id)
        )
    ).first()
    if row is None:
        raise NotATypedSession()
    kind, public = row
    ahead = await db.scalar(
        select(func.count(ClassSession.id)).where(
            ClassSession.class_id == class_id,
            ClassSession.starts_at > now,
            ClassSession.cancelled_at.is_(None),
        )
    )
    if kind != SessionKind.MULTI or not public or not ahead:
        raise NotAnnounceable()
    targets = [chat.chat_id for chat in await chats(db)]
    if not targets:
        return 0
    dialect = postgresql if db.bind.dialect.name == "postgresql" else sqlite
    inserted = await db.execute(
        dialect.insert(Announcement)
        .values(
            [
                {"chat_id": chat_id, "class_id": class_id, "state": AnnouncementState.LIVE}
                for chat_id in targets
            ]
        )
        .on_conflict_do_nothing(index_elements=[Announcement.chat_id, Announcement.class_id])
    )
    await db.commit()
    return inserted.rowcount


@dataclass(frozen=True)
class Spot:
    starts_at: datetime
    seats: int
    taken: int
    cancelled: bool = False  # staff cancelled it: shown as cancelled, no spot left

    @property
    def left(self) -> int:
        return 0 if self.cancelled else max(self.seats - self.taken, 0)


@dataclass(frozen=True)
class Card:
    """What an announcement card says about its session: its spots still ahead."""

    class_id: int
    title: str
    duration_minutes: int
    price_minor: int | None
    link_token: str
    spots: list[Spot]

    @property
    def left(self) -> int:
        return sum(spot.left for spot in self.spots)

    @property
    def total(self) -> int:
        return sum(spot.seats for spot in self.spots if not spot.cancelled)

    @property
    def over(self) -> bool:
        """Nothing ahead to book: no spot, or every one cancelled."""
        return all(spot.cancelled for spot in self.spots)

    @property
    def cancelled(self) -> bool:
        return bool(self.spots) and self.over


async def card(db: AsyncSession, class_id: int, now: datetime) -> Card | None:
    row = (
        await db.execute(
            select(ProgrammeClass, TypedSession.link_token)
            .join(TypedSession, TypedSession.class_id == ProgrammeClass.id)
            .where(ProgrammeClass.id == class_id)
        )
    ).first()
    if row is None:
        return None
    klass, token = row
    sessions = await db.scalars(
        select(ClassSession)
        .where(ClassSession.class_id == class_id, ClassSession.starts_at > now)
        .order_by(ClassSession.starts_at)
    )
    return Card(
        class_id=class_id,
        title=klass.title,
        duration_minutes=klass.duration_minutes,
        price_minor=klass.price_minor,
        link_token=token,
        spots=[
            Spot(s.starts_at, klass.capacity, s.seats_taken, s.cancelled_at is not None)
            for s in sessions
        ],
    )


@dataclass(frozen=True)
class LiveCard:
    """An announcement to post (no ``message_id`` yet) or keep up to date."""

    id: int
    chat_id: int
    class_id: int
    message_id: int | None
    shown: str  # what the card says now: it is edited only when that changes
    edited_at: datetime | None


async def live(db: AsyncSession) -> list[LiveCard]:
    """Cards to post or keep up to date, in registered chats the bot is still in."""
    rows = await db.execute(
        select(
            Announcement.id,
            Announcement.chat_id,
            Announcement.class_id,
            Announcement.message_id,
            Announcement.shown,
            Announcement.edited_at,
        )
        .join(AnnounceChat, AnnounceChat.chat_id == Announcement.chat_id)
        .where(Announcement.state == AnnouncementState.LIVE, AnnounceChat.gone_at.is_(None))
        .order_by(Announcement.chat_id, Announcement.id)
    )
    return [LiveCard(*row) for row in rows]


async def shown(
    db: AsyncSession,
    announcement_id: int,
    text: str,
    now: datetime,
    *,
    message_id: int | None = None,
    closed: bool = False,
) -> None:
    """The card now says ``text`` (posted as ``message_id``, or edited)."""
    values: dict[str, object] = {"shown": text, "edited_at": now}
    if message_id is not None:
        values.update(message_id=message_id, posted_at=now)
    if closed:
        values["state"] = AnnouncementState.CLOSED
    await db.execute(update(Announcement).where(Announcement.id == announcement_id).values(values))
    await db.commit()


async def close(db: AsyncSession, announcement_id: int) -> None:
    await db.execute(
        update(Announcement)
        .where(Announcement.id == announcement_id)
        .values(state=AnnouncementState.CLOSED)
    )
    await db.commit()


async def link_target(db: AsyncSession, token: str) -> tuple[int, int] | None:
    """A c_<token> link: the class and its programme."""
    row = (
        await db.execute(
            select(ProgrammeClass.id, ProgrammeClass.programme_id)
            .join(TypedSession, TypedSession.class_id == ProgrammeClass.id)
            .where(TypedSession.link_token == token)
        )
    ).first()
    return (row[0], row[1]) if row else None
