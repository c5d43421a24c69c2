"""What the staff dialog's windows show: the coming sessions, a roster, the clients."""

from __future__ import annotations

from datetime import timedelta

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram_dialog import DialogManager

from bot.deps import Deps, formatter_of
from bot.dialogs.common import take_error
from bot.dialogs.staff import money
from bot.text.errors import message_for
from bot.text.formatting import html
from bot.text.reader import Formatter
from domain.booking.status import WaitStatus
from domain.catalog.file import RANK_RANGE
from domain.desk import staff_views
from domain.desk.staff_views import Roster
from domain.timetable import packages as domain_packages

DAYS_AHEAD = 14


def name_of(first_name: str, client_id: int) -> str:
    return first_name or str(client_id)


async def sessions_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    now = deps.clock()
    async with deps.db() as db:
        rows = await staff_views.upcoming_sessions(
            db, after=now, until=now + timedelta(days=DAYS_AHEAD)
        )
    return {
        "sessions": [(row.id, session_label(row, fmt)) for row in rows],
        "any": bool(rows),
        "empty": not rows,
        "days": DAYS_AHEAD,
        "city": fmt.city(),
        "error": take_error(dialog_manager),
    }


def session_label(row: staff_views.SessionLine, fmt: Formatter) -> str:
    """'Tue, Dec 1, 6:00 PM · Yoga — Morning flow · 7/12 · +2 waiting' (a button: plain text)."""
    label = (
        f"{fmt.short_when(row.starts_at)} · {row.programme_title} — {row.class_title}"
        f" · {row.booked}/{row.capacity}"
    )
    if row.waiting:
        waiting = ngettext("+{n} waiting", "+{n} waiting", row.waiting).format(n=row.waiting)
        label += f" · {waiting}"
    if row.cancelled:
        label += " · " + _("❌ Cancelled")
    return label


async def roster_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    data = dialog_manager.dialog_data
    async with deps.db() as db:
        roster = await staff_views.roster(db, data["session_id"])
    error = take_error(dialog_manager)
    booked_id = data.pop("booked_id", None)
    if roster is None:
        return _missing_session(error)
    is_open = roster.starts_at > deps.clock()
    return {
        "present": True,
        **_session_head(roster, fmt),
        "booked": len(roster.booked),
        "capacity": roster.capacity,
        "overload": roster.max_overload,
        "booked_lines": html("\n".join(_booked_lines(roster))),
        "nobody": not roster.booked,
        "waiting_lines": html("\n".join(_waiting_lines(roster))),
        "booked_name": _booked_name(roster, booked_id),
        "open": is_open,
        "started": not is_open,
        "waits": [
            (w.entry_id, _("⬆️ Book {name}").format(name=name_of(w.first_name, w.client_id)))
            for w in roster.waiting
            if is_open
        ],
        "clients": [(client_id, f"👤 {name}") for client_id, name in _people(roster).items()],
        "error": error,
    }


def _missing_session(error: str | None) -> dict:
    return {
        "present": False,
        "waits": [],
        "clients": [],
        "known": [],
        "error": error or message_for("session_not_found", _),
    }


def _session_head(roster: Roster, fmt: Formatter) -> dict:
    return {
        "title": html(f"{roster.programme_title} — {roster.class_title}"),
        "when": fmt.long_when(roster.starts_at),
        "city": fmt.city(),
    }


def _booked_lines(roster: Roster) -> list[str]:
    lines = []
    for position, booked in enumerate(roster.booked, 1):
        line = _("{position}. {name} · id {client_id}").format(
            position=position,
            name=name_of(booked.first_name, booked.client_id),
            client_id=booked.client_id,
        )
        if booked.by_staff:
            line += " " + _("(staff, overload)")
        if booked.pending:
            line += " " + _("⏳ enrolment to confirm")
        if booked.from_course:
            line += " · " + _("🟩 course")
        if booked.checked_out:
            line += " · " + _("🏁 checked out")
        elif booked.checked_in:
            line += " · " + _("✅ checked in")
        elif booked.no_show:
            line += " · " + _("🚫 no-show")
        lines.append(line)
    return lines


def _waiting_lines(roster: Roster) -> list[str]:
    statuses = {WaitStatus.WAITING: _("waiting"), WaitStatus.OFFERED: _("offered")}
    lines = []
    for position, waiting in enumerate(roster.waiting, 1):
        line = _("{position}. {name} · id {client_id} · {status}").format(
            position=position,
            name=name_of(waiting.first_name, waiting.client_id),
            client_id=waiting.client_id,
            status=statuses.get(waiting.status, waiting.status),
        )
        if waiting.whole_class:
            line += " " + _("(for the whole class)")
        lines.append(line)
    return lines


def _people(roster: Roster) -> dict[int, str]:
    """Everyone on the roster, booked first, to open their card."""
    people = {b.client_id: name_of(b.first_name, b.client_id) for b in roster.booked}
    for waiting in roster.waiting:
        people.setdefault(waiting.client_id, name_of(waiting.first_name, waiting.client_id))
    return people


def _booked_name(roster: Roster, client_id: int | None) -> str:
    booked = next((b for b in roster.booked if b.client_id == client_id), None)
    return html(name_of(booked.first_name, booked.client_id)) if booked else ""


async def book_client_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    async with deps.db() as db:
        roster = await staff_views.roster(db, dialog_manager.dialog_data["session_id"])
        clients = await staff_views.recent_clients(db)
    error = take_error(dialog_manager)
    if roster is None:
        return _missing_session(error)
    booked = {b.client_id for b in roster.booked}
    known = [
        (
            c.id,
            _("{name} · id {client_id}").format(name=name_of(c.first_name, c.id), client_id=c.id),
        )
        for c in clients
        if c.id not in booked
    ]
    return {
        "present": True,
        **_session_head(roster, fmt),
        "known": known,
        "any_known": bool(known),
        "no_known": not known,
        "error": error,
    }


async def client_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    data = dialog_manager.dialog_data
    async with deps.db() as db:
        client = await staff_views.client(db, data["client_id"])
        enrolment = await staff_views.enrolment_for_session(
            db, data["client_id"], data["session_id"]
        )
    error = take_error(dialog_manager)
    rank_changed = data.pop("rank_changed", False)
    confirmed = data.pop("enrolment_confirmed", False)
    money_done = data.pop("money_done", "")
    if client is None:
        error = error or message_for("client_not_found", _)
        return {"present": False, "rank_changed": False, "confirmed": False, "error": error}
    low, high = RANK_RANGE
    account = await money.account_getter(
        deps, formatter_of(dialog_manager), client.id, data["session_id"]
    )
    package_line = ""
    async with deps.db() as db:
        booking_id = await staff_views.active_booking_id(db, client.id, data["session_id"])
        slot = (await domain_packages.packages_of(db, client.id)).get(booking_id or 0)
        package_note = await domain_packages.package_notes(db, slot[0]) if slot else None
    if slot is not None:
        package_id, number, size = slot
        package_line = _(
            "📦 Package {package}: session {slot} of {size} (booking {booking}). ❌ Cancel "
            "booking and 🔁 Move booking below act on this session; /pkgrefund {package} "
            "AMOUNT REASON refunds the package."
        ).format(package=package_id, slot=number, size=size, booking=booking_id)
    return {
        **account,
        "package_line": package_line,
        "money_done": money_done,
        "present": True,
        "name": html(name_of(client.first_name, client.id)),
        "client_id": client.id,
        "rank": client.rank,
        "rank_changed": rank_changed,
        "confirmed": confirmed,
        "pending": enrolment is not None and enrolment.pending,
        "note": html((enrolment.notes if enrolment else None) or package_note or ""),
        "min": low,
        "max": high,
        "error": error,
    }
