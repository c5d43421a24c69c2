"""The staff summary of a minimum-participants check (domain/timetable/minimum.py): which
sessions it cancelled for too few participants."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.text.formatting import html
from bot.text.reader import Formatter
from domain.notices.events import UndersubscribedCancelled
from domain.storage.db import UnitOfWork
from domain.timetable.minimum import checked_sessions


async def summary_text(db: UnitOfWork, fmt: Formatter, event: UndersubscribedCancelled) -> str:
    booked = dict(event.sessions)
    found = await checked_sessions(db, list(booked))
    lines = [
        _("• <b>{title}</b> on {when}: {booked} booked, minimum {minimum}").format(
            title=html(f"{s.programme_title} — {s.class_title}"),
            when=fmt.long_when(s.starts_at),
            booked=booked[s.session_id],
            minimum=s.minimum,
        )
        for s in found
    ]
    head = _(
        "🚫 <b>Cancelled for too few participants</b> at their minimum check. The clients "
        "were told, and what they had paid went back to them (Stars refunded, anything else "
        "as credit)."
    )
    return "\n".join([head, *lines])
