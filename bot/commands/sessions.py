"""Staff commands for multi and single sessions, reservations and announcement chats; the
client's answer to a reservation; the bot joining or leaving a group.

Staff (ADMIN_IDS), in the private chat:
  /multi TYPE YYYY-MM-DD HH:MM SPOTS [together] [title]   a multi session
  /addspots SESSION YYYY-MM-DD HH:MM SPOTS                  more spots for it
  /single TYPE YYYY-MM-DD HH:MM [CLIENT] [PACKAGE]          a single session (for a client)
  /move SPOT YYYY-MM-DD HH:MM                               a single session's new time
  /reserve SPOT CLIENT [PACKAGE]  or  /reserve SESSION YYYY-MM-DD HH:MM CLIENT
                                                            reserve a spot for a client
  /publish SESSION                                          announce it in the groups
  /groups                                                   the announcement chats
and in a group or channel: /announcehere [LANGUAGE] registers it (its cards in that language).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.enums import ChatMemberStatus
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n

from bot.access import IsStaff, is_staff, refuse
from bot.delivery.courier import send_due
from bot.delivery.notify import (
    ReservationAnswer,
    ReservationPick,
    package_label,
    pay_button,
    still_due,
)
from bot.deps import Deps
from bot.text.errors import message_for
from bot.text.formatting import html
from bot.text.reader import Formatter
from domain.booking import client_views
from domain.clients.record import ClientRef, known_client
from domain.errors import ClientNotFound, DomainError
from domain.timetable import announce, sessions

log = logging.getLogger(__name__)

_WHEN = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{1,2}:\d{2})")


def _local(day: str, clock: str) -> datetime | None:
    try:
        return datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M")
    except ValueError:
        return None


def usage_hint(text: str) -> str:
    return _("Please write it like this: {usage}").format(usage=html(text))


async def _fail(message: Message, error: DomainError) -> None:
    await message.answer("⚠️ " + message_for(error.code, _, error.params))


def _fmt(deps: Deps) -> Formatter:
    """Dates and money for the staff member writing (the locale the i18n middleware chose)."""
    return Formatter(deps.settings, get_i18n().current_locale)


async def _client(deps: Deps, raw: str) -> ClientRef:
    if not raw.isdigit() or len(raw) > 18:
        raise ClientNotFound()
    async with deps.db() as db:
        client = await known_client(db, int(raw))
    if client is None:  # they must have opened the bot once: it can't write to them first
        raise ClientNotFound()
    return client


async def make_multi(message: Message, command: CommandObject, deps: Deps) -> None:
    usage = "/multi minis 2026-12-05 10:00 6 [together] [title]"
    parts = (command.args or "").split()
    when = _local(*parts[1:3]) if len(parts) >= 4 else None
    if when is None or not parts[3].isdigit():
        await message.answer(usage_hint(usage))
        return
    rest = parts[4:]
    together = bool(rest) and rest[0].lower() == "together"
    title = " ".join(rest[1:] if together else rest) or None
    try:
        async with deps.db() as db:
            made = await sessions.make_multi(
                db,
                type_key=parts[0],
                first_local=when,
                count=int(parts[3]),
                together=together,
                now=deps.clock(),
                policy=deps.settings.policy,
                title=title,
            )
    except DomainError as error:
        await _fail(message, error)
        return
    fmt = _fmt(deps)
    if together:
        text = ngettext(
            "✅ Session {id} made: {seats} seat at {when}.",
            "✅ Session {id} made: {seats} seats at {when}.",
            made.seats_each,
        ).format(id=made.class_id, seats=made.seats_each, when=fmt.long_when(made.starts[0]))
    else:
        text = ngettext(
            "✅ Session {id} made: {count} spot from {first} to {last}.",
            "✅ Session {id} made: {count} spots from {first} to {last}.",
            len(made.starts),
        ).format(
            id=made.class_id,
            count=len(made.starts),
            first=fmt.long_when(made.starts[0]),
            last=fmt.time(made.starts[-1]),
        )
    hint = _("Announce it in your groups with /publish {id}.").format(id=made.class_id)
    await message.answer(f"{text}\n{hint}")


async def add_spots(message: Message, command: CommandObject, deps: Deps) -> None:
    usage = "/addspots 12 2026-12-06 14:00 4"
    parts = (command.args or "").split()
    when = _local(*parts[1:3]) if len(parts) == 4 else None
    if when is None or not parts[0].isdigit() or not parts[3].isdigit():
        await message.answer(usage_hint(usage))
        return
    try:
        async with deps.db() as db:
            starts = await sessions.add_spots(
                db,
                class_id=int(parts[0]),
                first_local=when,
                count=int(parts[3]),
                now=deps.clock(),
                policy=deps.settings.policy,
            )
    except DomainError as error:
        await _fail(message, error)
        return
    fmt = _fmt(deps)
    await message.answer(
        ngettext(
            "✅ {count} spot added from {first}.",
            "✅ {count} spots added from {first}.",
            len(starts),
        ).format(count=len(starts), first=fmt.long_when(starts[0]))
    )


async def make_single(
    message: Message, command: CommandObject, bot: Bot, deps: Deps, i18n: I18n
) -> None:
    usage = "/single portrait 2026-12-07 15:00 [client id] [package]"
    parts = (command.args or "").split()
    when = _local(*parts[1:3]) if 3 <= len(parts) <= 5 else None
    extra = parts[3:]
    client_raw = extra.pop(0) if extra and extra[0].isdigit() else None
    if when is None or len(extra) > 1:
        await message.answer(usage_hint(usage))
        return
    try:
        client = await _client(deps, client_raw) if client_raw is not None else None
        async with deps.db() as db:
            made = await sessions.make_single(
                db,
                type_key=parts[0],
                at_local=when,
                client=client,
                now=deps.clock(),
                policy=deps.settings.policy,
                package_key=extra[0] if extra else None,
            )
    except DomainError as error:
        await _fail(message, error)
        return
    fmt = _fmt(deps)
    text = _("✅ Single session made for {when} (spot {spot}).").format(
        when=fmt.long_when(made.starts_at), spot=made.session_id
    )
    if client is None:
        text += "\n" + _("Reserve it for a client with /reserve {spot} CLIENT_ID.").format(
            spot=made.session_id
        )
    else:
        text += "\n" + _("{name} is asked to confirm it.").format(
            name=html(client.first_name or str(client.id))
        )
        await send_due(bot, deps, i18n)
    await message.answer(text)


async def move_single(
    message: Message, command: CommandObject, bot: Bot, deps: Deps, i18n: I18n
) -> None:
    usage = "/move 31 2026-12-07 16:00"
    parts = (command.args or "").split()
    when = _local(*parts[1:3]) if len(parts) == 3 else None
    if when is None or not parts[0].isdigit():
        await message.answer(usage_hint(usage))
        return
    try:
        async with deps.db() as db:
            starts_at = await sessions.move_single(
                db,
                session_id=int(parts[0]),
                at_local=when,
                now=deps.clock(),
                policy=deps.settings.policy,
            )
    except DomainError as error:
        await _fail(message, error)
        return
    await send_due(bot, deps, i18n)
    await message.answer(_("✅ Moved to {when}.").format(when=_fmt(deps).long_when(starts_at)))


async def reserve_spot(
    message: Message, command: CommandObject, bot: Bot, deps: Deps, i18n: I18n
) -> None:
    """/reserve SPOT CLIENT [PACKAGE] (a single session's package agreed with the client), or
    /reserve SESSION YYYY-MM-DD HH:MM CLIENT (a multi session's spot by its time)."""
    usage = "/reserve 12 2026-12-05 10:30 123456789"
    parts = (command.args or "").split()
    when = _local(*parts[1:3]) if len(parts) == 4 else None
    package = parts.pop() if len(parts) == 3 and not parts[2].isdigit() else None
    if len(parts) not in (2, 4) or not parts[0].isdigit() or (len(parts) == 4 and when is None):
        await message.answer(usage_hint(usage))
        return
    try:
        client = await _client(deps, parts[-1])
        async with deps.db() as db:
            spot = int(parts[0])
            if when is not None:
                spot = await sessions.spot_at(db, spot, when, deps.settings.policy)
            await sessions.reserve(
                db,
                session_id=spot,
                client=client,
                now=deps.clock(),
                policy=deps.settings.policy,
                package_key=package,
            )
    except DomainError as error:
        await _fail(message, error)
        return
    await send_due(bot, deps, i18n)
    await message.answer(
        _("✅ Reserved for {name}: they are asked to confirm it.").format(
            name=html(client.first_name or str(client.id))
        )
    )


async def publish(message: Message, command: CommandObject, deps: Deps) -> None:
    raw = (command.args or "").strip()
    if not raw.isdigit():
        await message.answer(usage_hint("/publish 12"))
        return
    try:
        async with deps.db() as db:
            posted = await announce.publish(db, int(raw), deps.clock())
    except DomainError as error:
        await _fail(message, error)
        return
    if deps.announcer is not None:
        deps.announcer.wake()
    if posted == 0:
        await message.answer(
            _("No new group to announce it in. Add me to a group and send /announcehere there.")
        )
        return
    await message.answer(
        ngettext("📣 Announcing it in {n} chat.", "📣 Announcing it in {n} chats.", posted).format(
            n=posted
        )
    )


async def list_groups(message: Message, deps: Deps) -> None:
    async with deps.db() as db:
        active = await announce.chats(db)
        gone = await announce.chats(db, gone=True)
    if not active and not gone:
        await message.answer(
            _(
                "No announcement chats yet. Add me to a group or channel and send "
                "/announcehere there."
            )
        )
        return
    lines = [_("📣 <b>Announcement chats</b>")]
    lines += [f"• {html(c.title or str(c.chat_id))} ({c.chat_id})" for c in active]
    lines += [
        _("• {title} ({id}): I was removed, nothing is posted there").format(
            title=html(c.title or str(c.chat_id)), id=c.chat_id
        )
        for c in gone
    ]
    await message.answer("\n".join(lines))


async def announce_here(message: Message, command: CommandObject, deps: Deps, i18n: I18n) -> None:
    """/announcehere [LANGUAGE] in a group: staff register it (its cards in that language, or
    the business's default). Anyone else is refused."""
    if not is_staff(message.from_user, deps):
        await message.answer(_("Only the studio's staff can set this up."))
        return
    language = (command.args or "").strip().lower() or None
    if language is not None and language not in i18n.available_locales:
        await message.answer(
            message_for("unknown_language", _)
            + " "
            + _("Languages: {languages}.").format(
                languages=", ".join(sorted(i18n.available_locales))
            )
        )
        return
    async with deps.db() as db:
        await announce.register_chat(db, message.chat.id, message.chat.title or "", deps.clock())
        if language is not None:
            await announce.set_chat_language(db, message.chat.id, language, i18n.available_locales)
    with i18n.use_locale(language or deps.settings.default_locale):
        await message.answer(_("✅ New multi sessions will be announced here."))


async def on_membership(update: ChatMemberUpdated, deps: Deps) -> None:
    """The bot was removed from a group or channel: nothing is posted there any more."""
    status = update.new_chat_member.status
    if status in (ChatMemberStatus.KICKED, ChatMemberStatus.LEFT):
        async with deps.db() as db:
            gone = await announce.chat_gone(db, update.chat.id, f"bot {status}", deps.clock())
        if gone:
            log.info("removed from announce chat %s", update.chat.id)


# --- the client's answer -----------------------------------------------------------------------


async def _answer(
    callback: CallbackQuery, deps: Deps, booking_id: int, confirm: bool, package: str | None
) -> bool:
    """The client's answer to a reservation; a refusal is shown as an alert (False)."""
    try:
        async with deps.db() as db:
            await sessions.answer_reservation(
                db,
                client_id=callback.from_user.id,
                booking_id=booking_id,
                confirm=confirm,
                now=deps.clock(),
                policy=deps.settings.policy,
                package_key=package,
            )
    except DomainError as error:
        await callback.answer(message_for(error.code, _, error.params), show_alert=True)
        return False
    return True


async def on_answer(
    callback: CallbackQuery, callback_data: ReservationAnswer, bot: Bot, deps: Deps, i18n: I18n
) -> None:
    confirm = callback_data.action == "yes"
    if not await _answer(callback, deps, callback_data.booking_id, confirm, None):
        return
    if not confirm:
        await send_due(bot, deps, i18n)  # the freed spot's next owner, staff
    text = _("✅ Confirmed. See you then!") if confirm else _("Declined: the spot is free again.")
    if isinstance(callback.message, Message):
        # confirmed: only its Pay button (if any) stays under the message
        markup = callback.message.reply_markup
        rows = markup.inline_keyboard[1:] if confirm and markup is not None else []
        await callback.message.edit_reply_markup(
            reply_markup=InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
        )
        await callback.message.answer(text)
    await callback.answer()


async def on_pick(callback: CallbackQuery, callback_data: ReservationPick, deps: Deps) -> None:
    """The client confirms a reservation by picking a package: its price is charged now."""
    booking_id = callback_data.booking_id
    if not await _answer(callback, deps, booking_id, True, callback_data.package):
        return
    fmt = _fmt(deps)
    async with deps.db() as db:
        booking = await client_views.booking_ref(db, booking_id)
        assert booking is not None  # confirmed just now
        terms = await sessions.package_terms(db, booking.session_id)
        due_text, pay = await still_due(db, deps, fmt, booking.client_id, booking_id)
    assert terms.agreed is not None
    text = _("✅ Confirmed: {package}. See you then!").format(
        package=html(package_label(fmt, terms.agreed))
    )
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
        markup = pay_button(booking_id, pay) if pay else None
        await callback.message.answer(text + due_text, reply_markup=markup)
    await callback.answer()


def sessions_router() -> Router:
    router = Router(name="sessions")
    private = F.chat.type == "private"
    commands = {
        "multi": make_multi,
        "addspots": add_spots,
        "single": make_single,
        "move": move_single,
        "reserve": reserve_spot,
        "publish": publish,
        "groups": list_groups,
    }
    for name, handler in commands.items():
        router.message.register(handler, Command(name), private, IsStaff())
    router.message.register(refuse, Command(*commands), private)
    router.message.register(
        announce_here, Command("announcehere"), F.chat.type.in_({"group", "supergroup"})
    )
    router.my_chat_member.register(on_membership)
    router.callback_query.register(on_answer, ReservationAnswer.filter())
    router.callback_query.register(on_pick, ReservationPick.filter())
    return router
