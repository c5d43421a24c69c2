"""An ongoing class's card: enrol for all its remaining sessions (with a note to the teacher
first, if ENROLMENT_NOTES asks for one), queue, answer, or leave."""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager

from bot.deps import Deps, client_of, deps_of, formatter_of
from bot.dialogs.catalog.queue import leave_queue, take_place
from bot.dialogs.common import attempt, send_notices, show_error, shown_error, take_error
from bot.states import Catalog
from bot.text.formatting import html
from domain.booking import client_views
from domain.booking.ongoing import Enrolled, enrol_or_wait, leave_class
from domain.booking.rules import MAX_NOTE_LENGTH, EnrolmentNotes
from domain.booking.status import WaitStatus
from domain.errors import NoteRequired, NoteTooLong


async def class_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    async with deps.db() as db:
        card = await client_views.class_card(
            db, dialog_manager.dialog_data["class_id"], client_of(dialog_manager).id, deps.clock()
        )
    error = take_error(dialog_manager)
    if card is None:
        return {"missing": True, "error": error}
    wait = card.my_wait
    offered = wait is not None and wait.status == WaitStatus.OFFERED
    free = not (card.enrolled or card.enrolled_elsewhere or wait) and card.remaining > 0
    return {
        "missing": False,
        "title": html(f"{card.programme_title} — {card.title}"),
        "remaining": card.remaining,
        "first": fmt.long_when(card.first_start) if card.first_start else "",
        "city": fmt.city(),
        "duration": fmt.duration(card.duration_minutes),
        "price": fmt.money(card.price_minor) if card.price_minor is not None else "",
        "spots": card.spots_left,
        "enrolled": card.enrolled,  # pending too: it may be left, and not made twice
        "confirmed": card.enrolled and not card.pending,
        "pending": card.enrolled and card.pending,
        "enrolled_elsewhere": card.enrolled_elsewhere,
        "waiting": wait is not None and not offered,
        "position": wait.position if wait else 0,
        "offered": offered,
        "until": fmt.time(wait.offer_expires_at) if offered else "",
        "finished": card.remaining == 0,
        "can_enrol": free and card.spots_left > 0,
        "can_enrol_or_wait": free,
        "can_wait": free and card.spots_left == 0 and card.waiting_list,
        "full": free and card.spots_left == 0 and not card.waiting_list,
        "many_classes": not dialog_manager.dialog_data.get("one_class"),
        "one_class": bool(dialog_manager.dialog_data.get("one_class")),
        "error": error,
    }


async def on_enrol(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    """Enrol (or queue) now, or first ask for the note to the teacher."""
    if deps_of(manager).settings.policy.enrolment_notes == EnrolmentNotes.OFF:
        await _enrol(manager, note=None)
    else:
        await manager.switch_to(Catalog.enrol_note)


async def on_note_text(message: Message, _w: Any, manager: DialogManager) -> None:
    await _enrol(manager, note=message.text)


async def on_note_not_text(_m: Message, _w: Any, manager: DialogManager) -> None:
    show_error(manager, "note_not_text")


async def on_skip_note(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    await _enrol(manager, note=None)


_NOTE_REFUSALS = {NoteTooLong.code, NoteRequired.code}


async def _enrol(manager: DialogManager, note: str | None) -> None:
    result = await attempt(
        manager,
        enrol_or_wait,
        client=client_of(manager),
        class_id=manager.dialog_data["class_id"],
        policy=deps_of(manager).settings.policy,
        note=note,
    )
    if result is None and shown_error(manager) not in _NOTE_REFUSALS:
        await manager.switch_to(Catalog.class_card)  # refused for the class: the card says why
        return
    await _show_result(manager, result)  # a refused note stays on its window: send another


async def on_take(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    wait = await _my_wait(manager)
    await _show_result(manager, await take_place(manager, wait.id if wait else None))


async def on_leave_queue(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    wait = await _my_wait(manager)
    await leave_queue(manager, wait.id if wait else None)


async def on_leave_class(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    events = await attempt(
        manager,
        leave_class,
        client_id=client_of(manager).id,
        class_id=manager.dialog_data["class_id"],
        policy=deps_of(manager).settings.policy,
    )
    await manager.switch_to(Catalog.class_card)
    if events is not None:
        await send_notices(manager)


async def _my_wait(manager: DialogManager) -> client_views.ClassWait | None:
    deps = deps_of(manager)
    async with deps.db() as db:
        card = await client_views.class_card(
            db, manager.dialog_data["class_id"], client_of(manager).id, deps.clock()
        )
    return card.my_wait if card else None


async def _show_result(manager: DialogManager, result: Any) -> None:
    if result is None:  # refused: the card shows why
        return
    if isinstance(result, Enrolled):
        manager.dialog_data["enrolled_count"] = len(result.sessions)
        manager.dialog_data["enrolment_pending"] = result.pending
        await manager.switch_to(Catalog.enrolled)
    else:
        manager.dialog_data["position"] = result.position
        await manager.switch_to(Catalog.class_waitlisted)


async def enrolled_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    data = await class_getter(dialog_manager, deps)
    data["count"] = dialog_manager.dialog_data.get("enrolled_count", 0)
    data["position"] = dialog_manager.dialog_data.get("position", 0)
    pending = bool(dialog_manager.dialog_data.get("enrolment_pending"))
    data["now_pending"], data["now_enrolled"] = pending, not pending
    # the one confirmation lists every session it booked
    fmt = formatter_of(dialog_manager)
    async with deps.db() as db:
        sessions = await client_views.upcoming_sessions(
            db, dialog_manager.dialog_data["class_id"], deps.clock()
        )
    data["dates"] = "\n".join(f"• {fmt.short_when(s.starts_at)}" for s in sessions)
    return data


async def note_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    data = await class_getter(dialog_manager, deps)
    mode = deps.settings.policy.enrolment_notes
    data.update(
        max=MAX_NOTE_LENGTH,
        optional=mode == EnrolmentNotes.OPTIONAL,
        required=mode == EnrolmentNotes.REQUIRED,
    )
    return data
