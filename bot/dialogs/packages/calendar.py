"""The calendar file of a package: one event per session, sent as an .ics document."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import gettext as _

from bot.deps import Deps
from bot.text.reader import Formatter
from domain.timetable import ics, packages


async def send_calendar(
    bot: Bot,
    deps: Deps,
    fmt: Formatter,
    view: packages.PackageView,
    chat_id: int,
    *,
    slots: list[int] | None = None,
) -> None:
    """An .ics with one event per session of the package (or just ``slots``)."""
    events = [
        ics.CalendarEvent(
            uid=ics.slot_uid(view.id, s.slot),
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            summary=view.title,
            description=_("Session {slot} of {size}").format(slot=s.slot, size=view.size),
            sequence=s.sequence,
            cancelled=not s.active,
        )
        for s in view.slots
        if slots is None or s.slot in slots
    ]
    data = ics.calendar_file(events, now=deps.clock())
    await bot.send_document(
        chat_id,
        BufferedInputFile(data, filename=f"package-{view.id}.ics"),
        caption=_("📅 Add these to your calendar."),
    )
