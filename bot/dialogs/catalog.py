"""Browse programmes → a class → its upcoming sessions → book one."""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram_dialog import Dialog, DialogManager, Window
from aiogram_dialog.widgets.kbd import Button

from bot.deps import Deps, client_of, deps_of, formatter_of, html
from bot.dialogs.common import (
    ERROR_LINE,
    back_to,
    back_to_menu,
    choice_list,
    item_id,
    on_main_menu,
    open_over_menu,
    show_error,
    take_error,
)
from bot.i18n import TP, T
from bot.states import Catalog, MyBookings
from domain.booking import book_session
from domain.errors import DomainError
from domain.storage import queries

PROGRAMMES, CLASSES, SESSIONS = "p", "c", "s"


# --- programmes --------------------------------------------------------------------------


async def programmes_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    async with deps.db() as db:
        rows = await queries.programmes(db)
    return {
        "programmes": [(row.id, row.title) for row in rows],
        "empty": not rows,
        "error": take_error(dialog_manager),
    }


async def on_programme(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    programme_id = item_id(raw_id)
    deps = deps_of(manager)
    async with deps.db() as db:
        classes = await queries.classes_of(db, programme_id or 0, deps.clock())
    if not classes:
        show_error(manager, "stale_button")
        return
    manager.dialog_data.update(programme_id=programme_id, one_class=len(classes) == 1)
    if len(classes) == 1:
        manager.dialog_data["class_id"] = classes[0].id
        await manager.switch_to(Catalog.sessions)
    else:
        await manager.switch_to(Catalog.classes)


# --- classes -----------------------------------------------------------------------------


async def classes_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    async with deps.db() as db:
        programme = await queries.programme(db, dialog_manager.dialog_data["programme_id"])
        rows = await queries.classes_of(
            db, dialog_manager.dialog_data["programme_id"], deps.clock()
        )
    items = [
        (
            row.id,
            ngettext(
                "{title} · {count} upcoming session",
                "{title} · {count} upcoming sessions",
                row.upcoming,
            ).format(title=row.title, count=row.upcoming),
        )
        for row in rows
    ]
    return {
        "missing": programme is None,
        "programme": html(programme.title) if programme else "",
        "description": html(programme.description) if programme else "",
        "classes": items,
        "error": take_error(dialog_manager),
    }


async def on_class(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    class_id = item_id(raw_id)
    deps = deps_of(manager)
    async with deps.db() as db:
        row = await queries.klass(db, class_id or 0, deps.clock())
    if row is None or row.programme_id != manager.dialog_data.get("programme_id"):
        show_error(manager, "stale_button")
        return
    manager.dialog_data["class_id"] = class_id
    await manager.switch_to(Catalog.sessions)


# --- sessions of a class -----------------------------------------------------------------


async def sessions_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    class_id = dialog_manager.dialog_data["class_id"]
    async with deps.db() as db:
        klass = await queries.klass(db, class_id, deps.clock())
        rows = await queries.upcoming_sessions(db, class_id, deps.clock())
    items = []
    for row in rows:
        spots = (
            ngettext("{n} spot left", "{n} spots left", row.spots_left).format(n=row.spots_left)
            if row.spots_left
            else _("full")
        )
        items.append((row.id, f"{fmt.short_when(row.starts_at)} · {spots}"))
    return {
        "missing": klass is None,
        "title": html(f"{klass.programme_title} — {klass.title}") if klass else "",
        "sessions": items,
        "empty": not items,
        "many_classes": not dialog_manager.dialog_data.get("one_class"),
        "one_class": bool(dialog_manager.dialog_data.get("one_class")),
        "city": fmt.city(),
        "error": take_error(dialog_manager),
    }


async def on_session(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    session_id = item_id(raw_id)
    if session_id is None:
        show_error(manager, "stale_button")
        return
    manager.dialog_data["session_id"] = session_id
    await manager.switch_to(Catalog.session)


# --- one session: the booking card ------------------------------------------------------


async def session_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    client = client_of(dialog_manager)
    async with deps.db() as db:
        card = await queries.session_card(db, dialog_manager.dialog_data["session_id"], client.id)
    error = take_error(dialog_manager)
    if card is None:
        return {"missing": True, "error": error or _("This session is no longer available.")}
    started = card.starts_at <= deps.clock()
    mine = card.my_booking_id is not None
    return {
        "missing": False,
        "title": html(f"{card.programme_title} — {card.class_title}"),
        "when": fmt.long_when(card.starts_at),
        "city": fmt.city(),
        "duration": fmt.duration(card.duration_minutes),
        "price": fmt.money(card.price_minor) if card.price_minor is not None else "",
        "spots": card.spots_left,
        "mine": mine,
        "full": card.spots_left == 0 and not mine,
        "started": started,
        "can_book": not mine and not started and card.spots_left > 0,
        "error": error,
    }


async def on_book(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    deps = deps_of(manager)
    try:
        async with deps.db() as db:
            booking = await book_session(
                db,
                client=client_of(manager),
                session_id=manager.dialog_data["session_id"],
                now=deps.clock(),
            )
    except DomainError as error:
        show_error(manager, error)
        return
    manager.dialog_data["booking_id"] = booking.id
    await manager.switch_to(Catalog.booked)


async def booked_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    async with deps.db() as db:
        card = await queries.booking_card(
            db, dialog_manager.dialog_data["booking_id"], client_of(dialog_manager).id
        )
    if card is None:  # cancelled and gone meanwhile: show the session instead
        return {"title": "", "when": "", "city": fmt.city()}
    return {
        "title": html(f"{card.programme_title} — {card.class_title}"),
        "when": fmt.long_when(card.starts_at),
        "city": fmt.city(),
    }


async def on_my_bookings(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await open_over_menu(manager, MyBookings.list)


async def on_start(start_data: Any, manager: DialogManager) -> None:
    """Opened by a deep link to one session: fill in where Back leads."""
    if not isinstance(start_data, dict) or "session_id" not in start_data:
        return
    deps = deps_of(manager)
    session_id = start_data["session_id"]
    manager.dialog_data["session_id"] = session_id
    async with deps.db() as db:
        card = await queries.session_card(db, session_id, client_of(manager).id)
        classes = await queries.classes_of(db, card.programme_id, deps.clock()) if card else []
    if card is not None:
        manager.dialog_data.update(
            programme_id=card.programme_id, class_id=card.class_id, one_class=len(classes) == 1
        )


def catalog_dialog() -> Dialog:
    return Dialog(
        Window(
            ERROR_LINE,
            T("<b>Choose a programme</b>", when=lambda d, *_: not d["empty"]),
            T("There is nothing to book yet. Please check back later.", when="empty"),
            choice_list(PROGRAMMES, "programmes", on_programme),
            back_to_menu(),
            state=Catalog.programmes,
            getter=programmes_getter,
        ),
        Window(
            ERROR_LINE,
            T("<b>{programme}</b>\n{description}\n\nChoose a class:", when=_present),
            T("This programme is no longer available.", when="missing"),
            choice_list(CLASSES, "classes", on_class),
            back_to(Catalog.programmes),
            state=Catalog.classes,
            getter=classes_getter,
        ),
        Window(
            ERROR_LINE,
            T("<b>{title}</b>\nChoose a session (times are {city} time):", when=_present),
            T("No upcoming sessions right now.", when="empty"),
            T("This class is no longer available.", when="missing"),
            choice_list(SESSIONS, "sessions", on_session),
            back_to(Catalog.classes, when="many_classes"),
            back_to(Catalog.programmes, when="one_class"),
            state=Catalog.sessions,
            getter=sessions_getter,
        ),
        Window(
            ERROR_LINE,
            T("<b>{title}</b>\n🗓 {when} ({city} time)\n⏱ {duration}", when=_present),
            T("💶 {price}", when="price"),
            TP("🪑 {spots} spot left", "🪑 {spots} spots left", count="spots", when="can_book"),
            T("🚫 This session is full.", when="full"),
            T("⏳ This session has already started.", when="started"),
            T("✅ You are booked for this session.", when="mine"),
            Button(T("✅ Book"), id="book", on_click=on_book, when="can_book"),
            Button(T("🗂 My bookings"), id="mine", on_click=on_my_bookings, when="mine"),
            back_to(Catalog.sessions),
            state=Catalog.session,
            getter=session_getter,
        ),
        Window(
            T(
                "🎉 <b>You're booked!</b>\n\n<b>{title}</b>\n🗓 {when} ({city} time)\n\n"
                "You can cancel it under My bookings."
            ),
            Button(T("🗂 My bookings"), id="mine", on_click=on_my_bookings),
            Button(T("🏠 Main menu"), id="home", on_click=on_main_menu),
            state=Catalog.booked,
            getter=booked_getter,
        ),
        on_start=on_start,
    )


def _present(data: dict, *_: Any) -> bool:
    return not data.get("missing")
