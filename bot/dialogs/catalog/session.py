"""One session's card: book it, queue for it, answer an offer for it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager

from bot.deps import Deps, client_of, deps_of, formatter_of
from bot.dialogs import courses
from bot.dialogs.catalog.queue import leave_queue, take_place
from bot.dialogs.common import attempt, item_id, open_over_menu, show_error, take_error
from bot.dialogs.payments.checkout import payment_state
from bot.states import Catalog, MyBookings
from bot.text.errors import message_for
from bot.text.formatting import html
from bot.text.reader import Formatter
from domain.booking import client_views
from domain.booking.actor import Actor
from domain.booking.bookings import Booked, book_or_wait, book_session
from domain.booking.makeups import book_with_makeup, usable_credit
from domain.booking.rules import Bookable
from domain.booking.status import WaitStatus
from domain.catalog.kinds import ProgrammeKind
from domain.storage.db import UnitOfWork


async def session_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    client = client_of(dialog_manager)
    async with deps.db() as db:
        card = await client_views.session_card(
            db, dialog_manager.dialog_data["session_id"], client.id
        )
        credit = (
            await usable_credit(
                db, client.id, card.programme_id, deps.settings.policy.local_day(card.starts_at)
            )
            if card is not None and card.kind == ProgrammeKind.ONGOING
            else None
        )
        from_course = await _from_course(db, deps, card, client.id)
    error = take_error(dialog_manager)
    if card is None:
        missing = error or _("This session is no longer available.")
        return {"missing": True, "from_course": [], "error": missing}
    started = card.starts_at <= deps.clock()
    mine = card.my_booking_id is not None
    wait = card.my_wait
    offered = wait is not None and wait.status == WaitStatus.OFFERED
    waiting = wait is not None and wait.status == WaitStatus.WAITING
    open_to_me = _open_to(card, client.id, deps.clock())
    return {
        "missing": False,
        "title": html(f"{card.programme_title} — {card.class_title}"),
        "when": fmt.long_when(card.starts_at),
        "city": fmt.city(),
        "duration": fmt.duration(card.duration_minutes),
        "price": fmt.money(card.price_minor) if card.price_minor is not None else "",
        "spots": card.spots_left,
        "mine": mine,
        "started": started,
        "full": card.spots_left == 0 and not (mine or wait),
        "waiting": waiting,
        "position": wait.position if wait else 0,
        "offered": offered,
        "until": fmt.time(wait.offer_expires_at) if offered else "",
        "ongoing": card.kind == ProgrammeKind.ONGOING and not mine and credit is None,
        "can_makeup": credit is not None and not (mine or started) and card.spots_left > 0,
        "can_book": open_to_me and card.spots_left > 0,
        "can_wait": open_to_me and card.spots_left == 0 and card.waiting_list,
        "from_course": from_course,
        "error": error,
    }


def _open_to(card: client_views.SessionCard, client_id: int, now: datetime) -> bool:
    """The session can be booked or queued for, by the rule the Book tap applies; not when the
    client is queued or offered a place of it already (the card shows that instead)."""
    ongoing = card.kind == ProgrammeKind.ONGOING
    bookable = Bookable(card.class_id, card.starts_at, ongoing, card.my_booking_id is not None)
    return card.my_wait is None and bookable.is_open_to(Actor.client(client_id), now)


async def _from_course(
    db: UnitOfWork, deps: Deps, card: client_views.SessionCard | None, client_id: int
) -> list[tuple[int, str]]:
    """'Book from <course>' buttons: for a pay-as-you-go session open to the client."""
    if card is None or card.kind != ProgrammeKind.PAYG or card.spots_left <= 0:
        return []
    if not _open_to(card, client_id, deps.clock()):
        return []
    day = deps.settings.policy.local_day(card.starts_at)
    return await courses.book_from_choices(db, client_id, card.programme_id, day)


async def on_book(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    """Book when there is room; when the last place just went, queue instead."""
    await _show_result(manager, await _attempt_here(manager, book_or_wait))


async def on_book_from_course(
    _c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str
) -> None:
    """Book this session with a free unit of the client's course: nothing to pay."""
    course_id = item_id(raw_id)
    if course_id is None:
        show_error(manager, "stale_button")
        return
    booked = await _attempt_here(manager, book_session, course_id=course_id)
    await _show_result(manager, booked, from_course=True)


async def on_makeup(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    """Attend this session of an ongoing programme with a make-up credit."""
    await _show_result(manager, await _attempt_here(manager, book_with_makeup))


async def on_take(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    wait = await _my_wait(manager)
    await _show_result(manager, await take_place(manager, wait.id if wait else None))


async def on_leave_queue(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    wait = await _my_wait(manager)
    await leave_queue(manager, wait.id if wait else None)


async def _attempt_here(manager: DialogManager, use_case, **values):
    return await attempt(
        manager,
        use_case,
        client=client_of(manager),
        session_id=manager.dialog_data["session_id"],
        policy=deps_of(manager).settings.policy,
        **values,
    )


async def _my_wait(manager: DialogManager) -> client_views.WaitRow | None:
    deps = deps_of(manager)
    async with deps.db() as db:
        waits = await client_views.open_waits(
            db, client_of(manager).id, session_id=manager.dialog_data["session_id"]
        )
    return waits[0] if waits else None


async def _show_result(manager: DialogManager, result: Any, *, from_course: bool = False) -> None:
    """The result window, from what the use case returned (nothing is read again)."""
    if result is None:  # refused: the card shows why
        return
    named = result.card if isinstance(result, Booked) else result.session
    manager.dialog_data.update(
        session_title=f"{named.programme_title} — {named.class_title}",
        session_starts_at=named.starts_at.isoformat(),  # dialog data stays JSON
    )
    if isinstance(result, Booked):
        manager.dialog_data.update(
            booking_id=result.card.id,
            from_course=from_course,
            enrolled=result.enrolled,
            enrolment_pending=result.enrolment_pending,
            pass_left=result.pass_left,
            pass_problem=_pass_problem(manager, result),
        )
        await manager.switch_to(Catalog.booked)
    else:
        manager.dialog_data["position"] = result.position
        await manager.switch_to(Catalog.waitlisted)


def _pass_problem(manager: DialogManager, booked: Booked) -> str | None:
    """Why the client's pass did not pay for this booking, in their language."""
    problem = booked.pass_problem
    if problem is None:
        return None
    fmt = formatter_of(manager)
    params = {k: fmt.day(v) if isinstance(v, date) else str(v) for k, v in problem.params.items()}
    return message_for(problem.code, _, params)


def _named_session(fmt: Formatter, data: dict) -> dict:
    """The booked or queued session's title and time, as _show_result kept them (blank in a
    dialog left on this window by a version that did not keep them)."""
    starts_at = data.get("session_starts_at")
    return {
        "title": html(data.get("session_title", "")),
        "when": fmt.long_when(datetime.fromisoformat(starts_at)) if starts_at else "",
    }


async def booked_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    data = dialog_manager.dialog_data
    course_line = ""
    if data.get("from_course"):  # only a course's unit puts a line here
        async with deps.db() as db:
            course_line = await courses.course_line(db, data["booking_id"])
    return {
        **_named_session(fmt, data),
        "city": fmt.city(),
        "enrolled": bool(data.get("enrolled")) and not data.get("enrolment_pending"),
        "enrolment_pending": bool(data.get("enrolment_pending")),
        "on_pass": data.get("pass_left") is not None,
        "pass_left": data.get("pass_left") or 0,
        "pass_problem": html(data.get("pass_problem") or ""),
        "course_line": course_line,
        **await payment_state(deps, fmt, client_of(dialog_manager).id, data["booking_id"]),
    }


async def waitlisted_getter(dialog_manager: DialogManager, **_kwargs) -> dict:
    data = dialog_manager.dialog_data
    return {
        **_named_session(formatter_of(dialog_manager), data),
        "position": data.get("position", 0),
    }


async def on_my_bookings(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    await open_over_menu(manager, MyBookings.list)
