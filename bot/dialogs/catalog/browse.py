"""Categories → programmes → classes → upcoming sessions: getters and handlers; and where the
catalog dialog opens (from the menu, a programme's share link, a session's link)."""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram_dialog import DialogManager, ShowMode, StartMode

from bot.deps import Deps, client_of, deps_of, formatter_of
from bot.dialogs.common import item_id, open_over_menu, show_error, take_error
from bot.dialogs.courses import course_data
from bot.dialogs.packages import picking
from bot.dialogs.payments.passes import pass_data
from bot.states import Catalog
from bot.text.formatting import colour_dot, html
from domain.booking import client_views
from domain.catalog.kinds import ProgrammeKind


async def open_catalog(_c: CallbackQuery, _b: Any, manager: DialogManager) -> None:
    """Book a session: by category when there are several, else straight to programmes."""
    deps = deps_of(manager)
    async with deps.db() as db:
        categories = await client_views.categories(db, deps.settings.policy.today(deps.clock()))
    state = Catalog.categories if len(categories) > 1 else Catalog.programmes
    await manager.start(state, mode=StartMode.NORMAL)


async def open_programme(manager: DialogManager, deps: Deps, programme_id: int) -> None:
    """A programme's share link (private programmes): straight to its class or classes."""
    async with deps.db() as db:
        programme = await client_views.programme(db, programme_id)
        classes = await client_views.classes_of(db, programme_id, deps.clock())
    ongoing = programme is not None and programme.kind == ProgrammeKind.ONGOING
    data = {"programme_id": programme_id, "one_class": len(classes) == 1, "ongoing": ongoing}
    state = Catalog.classes
    if len(classes) == 1:
        data["class_id"] = classes[0].id
        state = Catalog.class_card if ongoing else Catalog.sessions
    await open_over_menu(manager, state, data, ShowMode.SEND)


async def on_start(start_data: Any, manager: DialogManager) -> None:
    """Opened by a deep link: a programme (its ids come along) or one session."""
    if isinstance(start_data, dict) and "programme_id" in start_data:
        manager.dialog_data.update(start_data)
        return
    if not isinstance(start_data, dict) or "session_id" not in start_data:
        return
    deps = deps_of(manager)
    session_id = start_data["session_id"]
    manager.dialog_data["session_id"] = session_id
    async with deps.db() as db:
        card = await client_views.session_card(db, session_id, client_of(manager).id)
        classes = await client_views.classes_of(db, card.programme_id, deps.clock()) if card else []
    if card is not None:
        manager.dialog_data.update(
            programme_id=card.programme_id,
            class_id=card.class_id,
            one_class=len(classes) == 1,
            ongoing=card.kind == ProgrammeKind.ONGOING,
        )


async def categories_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    async with deps.db() as db:
        names = await client_views.categories(db, deps.settings.policy.today(deps.clock()))
    return {
        "categories": [(n, name or _("Other")) for n, name in enumerate(names)],
        "error": take_error(dialog_manager),
    }


async def on_category(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    deps = deps_of(manager)
    async with deps.db() as db:
        names = await client_views.categories(db, deps.settings.policy.today(deps.clock()))
    index = item_id(raw_id)
    if index is None or index >= len(names):
        show_error(manager, "stale_button")
        return
    manager.dialog_data["category"] = names[index]
    await manager.switch_to(Catalog.programmes)


async def programmes_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    category = dialog_manager.dialog_data.get("category")
    async with deps.db() as db:
        rows = await client_views.programmes(db, deps.settings.policy.today(deps.clock()), category)
    return {
        "programmes": [(row.id, f"{colour_dot(row.colour)} {row.title}".strip()) for row in rows],
        "empty": not rows,
        "by_category": category is not None,
        "from_menu": category is None,
        "error": take_error(dialog_manager),
    }


async def on_programme(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    programme_id = item_id(raw_id)
    if programme_id is None:
        show_error(manager, "stale_button")
        return
    await choose_programme(manager, programme_id)


async def choose_programme(manager: DialogManager, programme_id: int) -> None:
    deps = deps_of(manager)
    async with deps.db() as db:
        classes = await client_views.classes_of(db, programme_id, deps.clock())
    if not classes:
        show_error(manager, "programme_not_found")
        return
    async with deps.db() as db:
        programme = await client_views.programme(db, programme_id)
    manager.dialog_data.update(
        programme_id=programme_id,
        one_class=len(classes) == 1,
        ongoing=programme.kind == ProgrammeKind.ONGOING,
    )
    if len(classes) == 1:
        manager.dialog_data["class_id"] = classes[0].id
        await manager.switch_to(_class_state(manager))
    else:
        await manager.switch_to(Catalog.classes)


def _class_state(manager: DialogManager):
    """An ongoing class is enrolled in as a whole; other classes list their sessions."""
    return Catalog.class_card if manager.dialog_data.get("ongoing") else Catalog.sessions


async def classes_getter(
    dialog_manager: DialogManager, deps: Deps, event_from_user: User, **_kwargs
) -> dict:
    programme_id = dialog_manager.dialog_data["programme_id"]
    fmt = formatter_of(dialog_manager)
    async with deps.db() as db:
        programme = await client_views.programme(db, programme_id)
        rows = await client_views.classes_of(db, programme_id, deps.clock())
        passes = await pass_data(db, deps, fmt, event_from_user.id, programme_id)
        courses = await course_data(db, deps, fmt, event_from_user.id, programme_id)
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
        **passes,
        **courses,
    }


async def on_class(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    class_id = item_id(raw_id)
    deps = deps_of(manager)
    async with deps.db() as db:
        row = await client_views.klass(db, class_id or 0, deps.clock())
    if row is None or row.programme_id != manager.dialog_data.get("programme_id"):
        show_error(manager, "stale_button")
        return
    manager.dialog_data["class_id"] = class_id
    await manager.switch_to(_class_state(manager))


async def sessions_getter(
    dialog_manager: DialogManager, deps: Deps, event_from_user: User, **_kwargs
) -> dict:
    fmt = formatter_of(dialog_manager)
    class_id = dialog_manager.dialog_data["class_id"]
    async with deps.db() as db:  # one session for all the window reads
        klass = await client_views.klass(db, class_id, deps.clock())
        rows = await client_views.upcoming_sessions(db, class_id, deps.clock())
        programme_id = klass.programme_id if klass else None
        passes = await pass_data(db, deps, fmt, event_from_user.id, programme_id)
        courses = await course_data(db, deps, fmt, event_from_user.id, programme_id)
        # a package class: the sessions are toggles, a week at a time
        package = await picking.pick_data(db, dialog_manager, deps, fmt, class_id)
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
        "package": False,
        "empty": not items,
        "many_classes": not dialog_manager.dialog_data.get("one_class")
        and not dialog_manager.dialog_data.get("ongoing"),
        "one_class": bool(dialog_manager.dialog_data.get("one_class"))
        and not dialog_manager.dialog_data.get("ongoing"),
        "ongoing": bool(dialog_manager.dialog_data.get("ongoing")),
        "city": fmt.city(),
        "error": take_error(dialog_manager),
        **passes,
        **courses,
        **package,
    }


async def on_session(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    session_id = item_id(raw_id)
    if session_id is None:
        show_error(manager, "stale_button")
        return
    size = manager.dialog_data.get(picking.SHOWN_PACKAGE)
    if size:
        await picking.on_pick(manager, session_id, size)
        return
    manager.dialog_data["session_id"] = session_id
    await manager.switch_to(Catalog.session)
