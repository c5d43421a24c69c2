"""The catalog dialog: browse, an ongoing class, a session's card, a package."""

from __future__ import annotations

from aiogram_dialog import Dialog

from bot.dialogs.catalog.browse import on_start
from bot.dialogs.catalog.windows import browse, classes, packages, session


def catalog_dialog() -> Dialog:
    return Dialog(
        *browse.windows,
        *classes.windows,
        *session.windows,
        *packages.windows,
        on_start=on_start,
    )
