"""The front desk in the staff dialog: today's sessions; on a client's card check-in (with
"Redeem from course?" when their course could pay), check-out, no-show and moving a plain
booking onto their course; their courses, and selling one at the venue. A client's check-in
code (t.me/<bot>?start=ci_<token>) opens their card for that booking.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, ShowMode

from bot.deps import Deps, deps_of, formatter_of
from bot.dialogs import courses
from bot.dialogs.common import item_id, open_over_menu, show_error, take_error
from bot.dialogs.staff.getters import client_getter, session_label
from bot.dialogs.staff.handlers import on_session
from bot.states import Staff
from bot.text.formatting import html
from bot.text.purchases import course_text
from bot.text.reader import Formatter
from domain.catalog.kinds import ProgrammeKind
from domain.courses import units as course_units
from domain.desk import attendance, staff_views
from domain.errors import DomainError
from domain.timetable import packages


async def today_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    """Every session of the business's local today, begun ones too."""
    fmt = formatter_of(dialog_manager)
    policy = deps.settings.policy
    today = policy.today(deps.clock())
    start = datetime.combine(today, time(), tzinfo=policy.zone)
    end = start + timedelta(days=1)
    async with deps.db() as db:
        rows = await staff_views.upcoming_sessions(
            db, after=start - timedelta(microseconds=1), until=end - timedelta(microseconds=1)
        )
    return {
        "sessions": [(row.id, session_label(row, fmt)) for row in rows],
        "any": bool(rows),
        "empty": not rows,
        "day": fmt.day(today),
        "city": fmt.city(),
        "error": take_error(dialog_manager),
    }


async def on_today_session(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    manager.dialog_data["from_today"] = True
    await on_session(_c, _w, manager, raw_id)


async def on_roster_back(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    back = Staff.today if manager.dialog_data.get("from_today") else Staff.sessions
    await manager.switch_to(back)


async def on_sessions(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    manager.dialog_data.pop("from_today", None)
    await manager.switch_to(Staff.sessions)


# --- the client's card at the desk -------------------------------------------------------------


async def client_desk_getter(dialog_manager: DialogManager, deps: Deps, **kwargs) -> dict:
    """The client's card (getters.client_getter) with this booking at the desk."""
    data = await client_getter(dialog_manager, deps, **kwargs)
    if not data.get("present"):
        return {**data, "desk": False, "convert_to": [], "any_courses": False}
    fmt = formatter_of(dialog_manager)
    values = dialog_manager.dialog_data
    return {**data, **await desk_data(deps, fmt, values["client_id"], values["session_id"])}


async def start_with_data(_start_data: Any, manager: DialogManager) -> None:
    """A check-in code opens the dialog on a client's card: its ids become dialog data."""
    if isinstance(manager.start_data, dict):
        manager.dialog_data.update(manager.start_data)


async def _booking_id(deps: Deps, data: dict) -> int | None:
    async with deps.db() as db:
        return await staff_views.active_booking_id(db, data["client_id"], data["session_id"])


async def desk_data(deps: Deps, fmt: Formatter, client_id: int, session_id: int) -> dict:
    """What the client's card shows and offers of this booking at the desk."""
    async with deps.db() as db:
        booking_id = await staff_views.active_booking_id(db, client_id, session_id)
        state = await attendance.desk_state(db, booking_id) if booking_id else None
        held = await course_units.course_of_booking(db, booking_id) if booking_id else None
        in_package = bool(booking_id) and await packages.in_package(db, booking_id)
        mine = await course_units.courses_of(db, client_id)
        any_courses = await course_units.any_courses(db, client_id)
    none = {"desk": False, "convert_to": [], "any_courses": any_courses}
    if state is None:
        return {**none, "course_summary": _course_summary(mine)}
    started = state.starts_at <= deps.clock()
    usable = []
    if state.programme_kind == ProgrammeKind.PAYG and not in_package:
        day = deps.settings.policy.local_day(state.starts_at)
        usable = [v for v in mine if v.course.valid_on(day) and v.free(state.programme_id)]
    label = _("🟩 Use course {title} ({left} left)")
    return {
        "desk": True,
        "attendance": _attendance_line(fmt, state),
        "held_line": (
            _("🟩 From course {title}: {grid}").format(title=html(held.title), grid=held.grid)
            if held
            else ""
        ),
        "can_check_in": state.open and state.checked_in_at is None,
        "can_check_out": state.open and state.checked_in_at is not None,
        "can_no_show": state.open and state.checked_in_at is None and started,
        "convert_to": (
            [courses.course_choice(v, state.programme_id, label) for v in usable]
            if state.open and held is None
            else []
        ),
        "course_summary": _course_summary(mine),
        "any_courses": any_courses,
    }


def _attendance_line(fmt: Formatter, state: attendance.DeskState) -> str:
    if state.checked_out_at is not None:
        return _("🏁 Checked out at {time}.").format(time=fmt.time(state.checked_out_at))
    if state.no_show_at is not None:
        return _("🚫 Marked as a no-show.")
    if state.checked_in_at is not None:
        return _("✅ Checked in at {time}.").format(time=fmt.time(state.checked_in_at))
    return _("🛎 Not checked in yet.")


def _course_summary(mine: list[course_units.CourseView]) -> str:
    return "\n".join(f"{html(view.title)}: {view.grid}" for view in mine[:5])


async def on_check_in(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    """Check in at once, or ask "Redeem from course?" first when a course could pay."""
    deps = deps_of(manager)
    data = manager.dialog_data
    desk = await desk_data(deps, formatter_of(manager), data["client_id"], data["session_id"])
    if desk["desk"] and (desk["held_line"] or desk["convert_to"]):
        await manager.switch_to(Staff.redeem)
        return
    await _check_in(manager, redeem=None)


async def on_redeem_with(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    """Yes: check in with this course paying (a plain booking moves onto it)."""
    course_id = item_id(raw_id)
    if course_id is None:
        show_error(manager, "stale_button")
        return
    await _check_in(manager, redeem=True, course_id=course_id)


async def on_redeem_yes(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    """Yes for a course booking: it stays on its course, redeemed at check-out."""
    await _check_in(manager, redeem=True)


async def on_redeem_no(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    """No: a single visit at its price (a course booking's unit is free again)."""
    await _check_in(manager, redeem=False)


async def _check_in(manager: DialogManager, *, redeem: bool | None, course_id=None) -> None:
    deps = deps_of(manager)
    booking_id = await _booking_id(deps, manager.dialog_data)
    try:
        async with deps.db() as db:
            await attendance.check_in(
                db,
                booking_id=booking_id or 0,
                now=deps.clock(),
                policy=deps.settings.policy,
                redeem=redeem,
                course_id=course_id,
            )
    except DomainError as error:
        show_error(manager, error)
    else:
        manager.dialog_data["money_done"] = _("✅ Checked in.")
    await manager.switch_to(Staff.client)


async def on_check_out(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    deps = deps_of(manager)
    fmt = formatter_of(manager)
    booking_id = await _booking_id(deps, manager.dialog_data)
    try:
        async with deps.db() as db:
            done = await attendance.check_out(
                db, booking_id=booking_id or 0, now=deps.clock(), policy=deps.settings.policy
            )
            held = await course_units.course_of_booking(db, booking_id or 0)
    except DomainError as error:
        show_error(manager, error)
        return
    if done.from_course and held is not None:
        note = _("🏁 Checked out: redeemed from {title} {grid}").format(
            title=html(held.title), grid=held.grid
        )
    elif done.due.minor > 0:
        note = _("🏁 Checked out. Still due for this visit: {due}").format(
            due=fmt.money(done.due.minor)
        )
    else:
        note = _("🏁 Checked out. Nothing is due for this visit.")
    manager.dialog_data["money_done"] = note


async def on_no_show(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    deps = deps_of(manager)
    booking_id = await _booking_id(deps, manager.dialog_data)
    try:
        async with deps.db() as db:
            await attendance.mark_no_show(
                db, booking_id=booking_id or 0, now=deps.clock(), policy=deps.settings.policy
            )
    except DomainError as error:
        show_error(manager, error)
        return
    manager.dialog_data["money_done"] = _("🚫 Marked as a no-show.")


async def on_convert(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    """Staff move the plain booking onto the client's course (before check-out)."""
    course_id = item_id(raw_id)
    if course_id is None:
        show_error(manager, "stale_button")
        return
    deps = deps_of(manager)
    booking_id = await _booking_id(deps, manager.dialog_data)
    try:
        async with deps.db() as db:
            await attendance.convert_to_course(
                db,
                booking_id=booking_id or 0,
                course_id=course_id,
                now=deps.clock(),
                policy=deps.settings.policy,
            )
    except DomainError as error:
        show_error(manager, error)
        return
    manager.dialog_data["money_done"] = _(
        "🟩 Now booked from the course: its single price is no longer due."
    )


async def redeem_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    data = dialog_manager.dialog_data
    fmt = formatter_of(dialog_manager)
    desk = await desk_data(deps, fmt, data["client_id"], data["session_id"])
    async with deps.db() as db:
        client = await staff_views.client(db, data["client_id"])
    return {
        **desk,
        "name": html(client.first_name or str(client.id)) if client else "?",
        "error": take_error(dialog_manager),
        "held": bool(desk.get("held_line")),
    }


# --- the client's courses; selling one at the venue --------------------------------------------


async def courses_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    data = dialog_manager.dialog_data
    fmt = formatter_of(dialog_manager)
    today = deps.settings.policy.today(deps.clock())
    async with deps.db() as db:
        client = await staff_views.client(db, data["client_id"])
        mine = await course_units.courses_of(db, data["client_id"])
        on_sale = await course_units.offers(db)
    label = _("💵 Sold at the venue: {title} — {price}")
    return {
        "name": html(client.first_name or str(client.id)) if client else "?",
        "courses": "\n\n".join(course_text(fmt, view, today) for view in mine),
        "no_courses": not mine,
        "sell": [
            (o.id, label.format(title=o.title, price=fmt.money(o.price_minor))) for o in on_sale
        ],
        "sold": data.pop("sold", ""),
        "error": take_error(dialog_manager),
    }


async def on_sell(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    offer_id = item_id(raw_id)
    if offer_id is None:
        show_error(manager, "stale_button")
        return
    deps = deps_of(manager)
    staff = manager.event.from_user
    try:
        async with deps.db() as db:
            await course_units.sell_at_venue(
                db,
                client_id=manager.dialog_data["client_id"],
                offer_id=offer_id,
                staff_id=staff.id,
                policy=deps.settings.policy,
                now=deps.clock(),
            )
    except DomainError as error:
        show_error(manager, error)
        return
    manager.dialog_data["sold"] = _("✅ Sold and paid at the venue.")


# --- a check-in code ---------------------------------------------------------------------------


async def open_check_in(manager: DialogManager, deps: Deps, token: str) -> bool:
    """Staff opened a client's ci_<token> link: that booking's card, or False if unknown."""
    try:
        async with deps.db() as db:
            booking = await attendance.booking_of_code(db, token)
    except DomainError:
        return False
    data = {"client_id": booking.client_id, "session_id": booking.session_id}
    await open_over_menu(manager, Staff.client, data, ShowMode.SEND)
    return True
