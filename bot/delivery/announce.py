"""Live announcement cards in groups and channels (domain/timetable/announce.py says what is
announced).

The announcer posts each new card and keeps its "spots left" current by editing it in place.
It runs on the scheduler's tick (ANNOUNCE_CHECK_SECONDS) and at once when staff publish; it
edits a card only when its text changed, and a chat at most once per 60 / SEND_GROUP_PER_MINUTE
seconds, so bookings in a burst become one edit. A chat the bot was removed from is recorded
as gone and left alone; a card whose message was deleted is closed; when every spot has begun
the card says booking is closed and is edited no more. Cards are in DEFAULT_LOCALE.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import timedelta
from itertools import groupby

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.deps import Deps
from bot.text.formatting import html
from bot.text.reader import Formatter
from domain.timetable import announce

log = logging.getLogger(__name__)

CLASS_LINK_PREFIX = "c_"


def class_link_payload(token: str) -> str:
    """The deep-link payload of a multi session: t.me/<bot>?start=c_<token> (≤ 64 chars)."""
    return f"{CLASS_LINK_PREFIX}{token}"


def card_text(card: announce.Card, fmt: Formatter) -> str:
    lines = [f"📣 <b>{html(card.title)}</b>"]
    zone = fmt.zone
    for _day, spots in groupby(card.spots, key=lambda s: s.starts_at.astimezone(zone).date()):
        day_spots = list(spots)
        left = sum(s.left for s in day_spots)
        total = sum(s.seats for s in day_spots if not s.cancelled)
        first = day_spots[0].starts_at
        end = day_spots[-1].starts_at + timedelta(minutes=card.duration_minutes)
        if all(s.cancelled for s in day_spots):
            lines.append(
                _("📅 {first} – {end} · ❌ Cancelled").format(
                    first=fmt.long_when(first), end=fmt.clock(end)
                )
            )
            continue
        lines.append(
            ngettext(
                "📅 {first} – {end} · {left} of {total} spot left",
                "📅 {first} – {end} · {left} of {total} spots left",
                total,
            ).format(
                first=fmt.long_when(first),
                end=fmt.clock(end),
                left=left,
                total=total,
            )
        )
    if card.price_minor:
        lines.append(_("💳 {price} per spot").format(price=fmt.money(card.price_minor)))
    if card.cancelled:
        lines.append(_("❌ Cancelled"))
    elif card.over:
        lines.append(_("Booking for this session has closed."))
    elif card.left == 0:
        lines.append(_("🔴 Full — join the waiting list"))
    else:
        lines.append(
            ngettext("🟢 {n} spot left", "🟢 {n} spots left", card.left).format(n=card.left)
        )
    return "\n".join(lines)


def card_markup(card: announce.Card, username: str) -> InlineKeyboardMarkup | None:
    if card.over:
        return None
    label = _("⏳ Full — join the waiting list") if card.left == 0 else _("📅 Book a spot")
    url = f"https://t.me/{username}?start={class_link_payload(card.link_token)}"
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=label, url=url)]])


class Announcer:
    """Posts and refreshes the cards; one refresh at a time."""

    def __init__(self, bot: Bot, deps: Deps, i18n: I18n) -> None:
        self.bot, self.deps, self.i18n = bot, deps, i18n
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()

    @property
    def gap(self) -> timedelta:
        per_minute = self.deps.settings.send_group_per_minute
        return timedelta(seconds=60 / per_minute) if per_minute > 0 else timedelta(0)

    def wake(self) -> None:
        task = asyncio.get_running_loop().create_task(self.refresh())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def refresh(self) -> int:
        """Post new cards, edit changed ones; returns how many messages went out."""
        async with self._lock:
            async with self.deps.db() as db:
                items = await announce.live(db)
                languages = await announce.chat_languages(db) if items else {}
            sent = 0
            by_chat: dict[int, list[announce.LiveCard]] = defaultdict(list)
            for item in items:
                by_chat[item.chat_id].append(item)
            username = (await self.bot.me()).username if items else ""
            for chat_id, cards in by_chat.items():
                try:
                    language = languages.get(chat_id) or self.deps.settings.default_locale
                    sent += await self._refresh_chat(chat_id, cards, username, language)
                except TelegramForbiddenError as error:
                    async with self.deps.db() as db:
                        await announce.chat_gone(db, chat_id, error.message, self.deps.clock())
                except (TelegramRetryAfter, TelegramNetworkError, TelegramServerError) as error:
                    log.info("announcements in %s wait: %s", chat_id, error)
            return sent

    async def _refresh_chat(
        self, chat_id: int, cards: list[announce.LiveCard], username: str, locale: str
    ) -> int:
        now = self.deps.clock()
        stamps = [c.edited_at for c in cards if c.edited_at is not None]
        last = max(stamps) if stamps else None
        sent = 0
        # the group's language and the business's clock, whoever's booking woke us
        fmt = Formatter(self.deps.settings, locale, None)
        for item in cards:
            async with self.deps.db() as db:
                card = await announce.card(db, item.class_id, now)
            if card is None:
                async with self.deps.db() as db:
                    await announce.close(db, item.id)
                continue
            with self.i18n.context(), self.i18n.use_locale(locale):
                text, markup = card_text(card, fmt), card_markup(card, username)
            if item.message_id is None and card.over:  # never posted, and over now
                async with self.deps.db() as db:
                    await announce.close(db, item.id)
                continue
            if item.message_id is not None and text == item.shown:
                continue
            if last is not None and now - last < self.gap:
                break  # this chat's next edit waits for the next tick
            if item.message_id is None:
                try:
                    message = await self.bot.send_message(chat_id, text, reply_markup=markup)
                except TelegramBadRequest as error:  # not a chat the bot is in (a wrong id)
                    async with self.deps.db() as db:
                        await announce.chat_gone(db, chat_id, error.message, now)
                    return sent
                async with self.deps.db() as db:
                    await announce.shown(db, item.id, text, now, message_id=message.message_id)
            else:
                await self._edit(chat_id, item, text, markup, closed=card.over)
            last = now
            sent += 1
        return sent

    async def _edit(
        self,
        chat_id: int,
        item: announce.LiveCard,
        text: str,
        markup: InlineKeyboardMarkup | None,
        *,
        closed: bool,
    ) -> None:
        now = self.deps.clock()
        try:
            await self.bot.edit_message_text(
                text=text, chat_id=chat_id, message_id=item.message_id, reply_markup=markup
            )
        except TelegramBadRequest as error:
            if "not modified" not in error.message:  # deleted by the group's admins
                log.info("announcement %s closed: %s", item.id, error.message)
                async with self.deps.db() as db:
                    await announce.close(db, item.id)
                return
        async with self.deps.db() as db:
            await announce.shown(db, item.id, text, now, closed=closed)


async def refresh_announcements(announcer: Announcer) -> None:
    """The scheduler's tick."""
    sent = await announcer.refresh()
    if sent:
        log.info("announcements: %d posted or edited", sent)
