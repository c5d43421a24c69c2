"""What a payment bought, as the client reads it: the pass's line, the course's grid. Shown
after a payment in the chat and in the thanks sent through the outbox (bot/delivery/notify.py)."""

from __future__ import annotations

from datetime import date

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.text.formatting import html
from bot.text.reader import Formatter
from domain.billing import passes
from domain.courses import units as course_units
from domain.courses.rules import GRID, UnitState
from domain.storage.db import UnitOfWork


def course_text(fmt: Formatter, view: course_units.CourseView, today: date) -> str:
    """A course as the client (and staff) see it: title, validity, the grid, then each used
    or booked unit with its service and date, and the free ones counted per service."""
    head = f"<b>{html(view.title)}</b>"
    if view.expires_on is not None:
        until = fmt.day(view.expires_on)
        if view.expires_on < today:
            head += " · " + _("⌛ expired on {day}").format(day=until)
        else:
            head += " · " + _("valid until {day}").format(day=until)
    lines = [head, view.grid]
    free: dict[str, int] = {}
    for unit in view.units:
        if unit.state == UnitState.FREE:
            free[unit.service] = free.get(unit.service, 0) + 1
            continue
        when = fmt.short_when(unit.starts_at) if unit.starts_at else ""
        line = f"{GRID[unit.state]} {html(unit.service)} — {when}"
        if unit.forfeited:
            line += " " + _("(late cancel or no-show)")
        elif unit.state == UnitState.BOOKED:
            line += " " + _("(booked)")
        lines.append(line)
    for service, count in free.items():
        lines.append(
            f"{GRID[UnitState.FREE]} "
            + ngettext("{service}: {n} free", "{service}: {n} free", count).format(
                service=html(service), n=count
            )
        )
    return "\n".join(lines)


async def pass_bought(db: UnitOfWork, fmt: Formatter, item: str) -> str | None:
    """The line after a pass's payment: its entries and last day; None if no pass came of it."""
    view = await passes.pass_of_item(db, item)
    if view is None:
        return None
    return ngettext(
        "🎟 Your pass: {entries} entry, valid until {until}.",
        "🎟 Your pass: {entries} entries, valid until {until}.",
        view.entries,
    ).format(entries=view.entries, until=html(fmt.day(view.expires_on)))


async def course_bought(db: UnitOfWork, fmt: Formatter, item: str, today: date) -> str | None:
    """The lines after a course's payment: its grid; None if no course came of it."""
    view = await course_units.bought_item(db, item)
    if view is None:
        return None
    return _("🟩 Yours now:") + "\n" + course_text(fmt, view, today)


async def bought_text(db: UnitOfWork, fmt: Formatter, item: str, today: date) -> str | None:
    """Whatever the payment for ``item`` bought, or None (a booking)."""
    return await pass_bought(db, fmt, item) or await course_bought(db, fmt, item, today)
