"""Browsing: categories → programmes → classes → a class's upcoming sessions (for a package
class, the sessions to pick)."""

from __future__ import annotations

from aiogram_dialog import Window
from aiogram_dialog.widgets.kbd import Button, Row, SwitchTo

from bot.dialogs.catalog import browse
from bot.dialogs.common import ERROR_LINE, back_to, back_to_menu, choice_list, present
from bot.dialogs.courses import course_widgets
from bot.dialogs.packages import picking
from bot.dialogs.payments.passes import pass_widgets
from bot.states import Catalog
from bot.text.i18n import T

CATEGORIES, PROGRAMMES, CLASSES, SESSIONS = "g", "p", "c", "s"
EARLIER, LATER, REVIEW = "wk_prev", "wk_next", "pkg_review"


def _not_empty(data: dict, *_: object) -> bool:
    return not data["empty"]


def _plain_class(data: dict, *_: object) -> bool:
    return present(data) and not data["package"]


categories_window = Window(
    ERROR_LINE,
    T("<b>What would you like to book?</b>"),
    choice_list(CATEGORIES, "categories", browse.on_category),
    back_to_menu(),
    state=Catalog.categories,
    getter=browse.categories_getter,
)

programmes_window = Window(
    ERROR_LINE,
    T("<b>Choose a programme</b>", when=_not_empty),
    T("There is nothing to book yet. Please check back later.", when="empty"),
    choice_list(PROGRAMMES, "programmes", browse.on_programme),
    back_to(Catalog.categories, when="by_category"),
    back_to_menu(when="from_menu"),
    state=Catalog.programmes,
    getter=browse.programmes_getter,
)

classes_window = Window(
    ERROR_LINE,
    T("<b>{programme}</b>\n{description}\n\nChoose a class:", when=present),
    T("This programme is no longer available.", when="missing"),
    *pass_widgets(),
    *course_widgets(),
    choice_list(CLASSES, "classes", browse.on_class),
    back_to(Catalog.programmes),
    state=Catalog.classes,
    getter=browse.classes_getter,
)

sessions_window = Window(
    ERROR_LINE,
    T("<b>{title}</b>\nChoose a session (times are {city} time):", when=_plain_class),
    T(
        "<b>{title}</b>\n📦 A package of {size} sessions for {package_price}: pick "
        "{size} times ({city} time). Still to pick: {to_pick}.",
        when="package",
    ),
    T("Week of {week_label}:", when="week_label"),
    T("No upcoming sessions right now.", when="empty"),
    T("This class is no longer available.", when="missing"),
    choice_list(SESSIONS, "sessions", browse.on_session),
    Row(
        Button(T("◀️ Earlier"), id=EARLIER, on_click=picking.on_earlier_week, when="prev_week"),
        Button(T("Later ▶️"), id=LATER, on_click=picking.on_later_week, when="next_week"),
    ),
    SwitchTo(
        T("👀 Review the {size} sessions"), id=REVIEW, state=Catalog.package_review, when="ready"
    ),
    *pass_widgets(),
    *course_widgets(),
    back_to(Catalog.classes, when="many_classes"),
    back_to(Catalog.programmes, when="one_class"),
    back_to(Catalog.class_card, when="ongoing"),
    state=Catalog.sessions,
    getter=browse.sessions_getter,
)

windows = [categories_window, programmes_window, classes_window, sessions_window]
