"""`python -m bot backup PATH`: prints in DEFAULT_LOCALE like the other staff commands, but
without aiogram (its i18n takes seconds to import), reading the catalog with Babel instead."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from babel.messages.pofile import read_po

from domain.storage.backup import BackupRefused, Refusal, back_up

LOCALES = Path(__file__).resolve().parents[2] / "locales"


def backup(database_url: str, locale: str, target: str) -> int:
    _ = _translator(locale)
    try:
        source = back_up(database_url, Path(target))
    except BackupRefused as refused:
        print(_refusal_text(_, refused), file=sys.stderr)
        return 1
    except (sqlite3.Error, OSError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        print(
            _("Cannot back up to {file}: {reason}").format(file=target, reason=reason),
            file=sys.stderr,
        )
        return 1
    print(_("Backed up {source} to {target}.").format(source=source, target=target))
    return 0


def _refusal_text(_: Callable[[str], str], refused: BackupRefused) -> str:
    if refused.refusal is Refusal.POSTGRESQL:
        return _(
            "This command backs up SQLite only; back up PostgreSQL with pg_dump "
            "(docs/deploy.md, Backups)."
        )
    if refused.refusal is Refusal.IN_MEMORY:
        return _("DATABASE_URL names no database file: an in-memory database has no backup.")
    if refused.refusal is Refusal.NO_SOURCE:
        return _("There is no database at {file}.").format(file=refused.path)
    return _("{file} already exists: give the backup a new name, or remove it first.").format(
        file=refused.path
    )


def _translator(locale: str) -> Callable[[str], str]:
    po_path = LOCALES / locale / "LC_MESSAGES" / "messages.po"
    try:
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=locale)
    except OSError:
        return lambda message: message

    def gettext(message: str) -> str:
        found = catalog.get(message)
        return found.string if found is not None and found.string else message

    return gettext
