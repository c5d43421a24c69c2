"""What My bookings shows: the client's upcoming bookings and waits, and one booking's card
(its payment, its package, the front desk)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager

from bot.deps import Deps, client_of, formatter_of
from bot.dialogs import courses
from bot.dialogs.bookings import moving
from bot.dialogs.common import take_error
from bot.dialogs.packages import slots
from bot.dialogs.payments.checkout import payment_state
from bot.text.formatting import html
from domain.booking import client_views
from domain.booking.status import WaitStatus
from domain.catalog.kinds import ProgrammeKind
from domain.desk.attendance import desk_state
from domain.timetable import packages as domain_packages


async def list_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    client_id = client_of(dialog_manager).id
    async with deps.db() as db:
        rows = await client_views.upcoming_bookings(db, client_id, deps.clock())
        waits = await client_views.open_waits(db, client_id, now=deps.clock())
        in_packages = await domain_packages.packages_of(db, client_id)
    # a package's sessions together (by package, then slot), then the rest by time
    rows = sorted(
        rows,
        key=lambda r: (
            (in_packages[r.id][0], in_packages[r.id][1], r.starts_at)
            if r.id in in_packages
            else (10**18, 0, r.starts_at)
        ),
    )
    return {
        "bookings": [
            (
                row.id,
                slots.list_label(fmt, in_packages, row.id)
                + f"{fmt.short_when(row.starts_at)} · {row.programme_title} — {row.class_title}",
            )
            for row in rows
        ],
        "waits": [(wait.id, _wait_label(wait, fmt)) for wait in waits],
        "empty": not rows and not waits,
        "city": fmt.city(),
        "error": take_error(dialog_manager),
    }


def _wait_label(wait: client_views.WaitRow, fmt) -> str:
    when = fmt.short_when(wait.starts_at)
    title = f"{wait.programme_title} — {wait.class_title}"
    if wait.status == WaitStatus.OFFERED:
        return _("🎟 Place held for you · {when} · {title}").format(when=when, title=title)
    return _("⏳ Waiting list #{position} · {when} · {title}").format(
        position=wait.position, when=when, title=title
    )


async def booking_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    async with deps.db() as db:
        card = await client_views.booking_card(
            db, dialog_manager.dialog_data["booking_id"], client_of(dialog_manager).id
        )
    error = take_error(dialog_manager)
    if card is None:
        missing = error or _("That booking doesn't exist or isn't yours.")
        return {"error": missing, "convert_to": []}
    payment = await payment_state(deps, fmt, client_of(dialog_manager).id, card.id)
    if not card.is_active:  # nothing to pay for a cancelled booking
        payment.update(to_pay="", can_pay=False, hold="")
    package = await slots.booking_data(deps, fmt, client_of(dialog_manager).id, card.id)
    if package["in_package"]:  # paid, cancelled and moved as part of its package
        payment.update(to_pay="", can_pay=False, hold="")
    cancellable = card.is_active and card.starts_at > deps.clock()
    desk = await _desk_data(deps, fmt, card, in_package=package["in_package"])
    move = await moving.card_data(deps, fmt, client_of(dialog_manager).id, card.id)
    if desk["course_line"]:  # a course unit pays for it
        payment.update(to_pay="", can_pay=False, hold="")
    return {
        "title": html(f"{card.programme_title} — {card.class_title}"),
        "when": fmt.long_when(card.starts_at),
        "city": fmt.city(),
        "duration": fmt.duration(card.duration_minutes),
        "active": card.is_active,
        "cancelled": not card.is_active,
        "cancellable": (package["can_cancel_pkg"] if package["in_package"] else cancellable)
        and not desk["checked_out"],
        "too_late": package["in_package"] and card.is_active and not package["can_cancel_pkg"],
        "error": error,
        **payment,
        **package,
        **desk,
        **move,
    }


async def _desk_data(deps: Deps, fmt, card: client_views.BookingCard, *, in_package: bool) -> dict:
    """The booking at the front desk: its course, its attendance, moving it onto a course,
    its check-in code."""
    async with deps.db() as db:
        state = await desk_state(db, card.id)
        course_line = await courses.course_line(db, card.id)
        convert = []
        payg = state is not None and state.programme_kind == ProgrammeKind.PAYG
        if payg and state.open and not in_package and not course_line:
            day = deps.settings.policy.local_day(card.starts_at)
            convert = await courses.convert_choices(db, state.client_id, state.programme_id, day)
    return {
        "course_line": course_line,
        "convert_to": convert,
        "checked_in": fmt.time(state.checked_in_at) if state and state.checked_in_at else "",
        "checked_out": bool(state and state.checked_out_at),
        "no_show": bool(state and state.no_show_at),
        "can_show_code": bool(state and state.open),
    }
