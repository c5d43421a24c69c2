"""Staff commands run from a shell: they print in DEFAULT_LOCALE and exit non-zero on failure."""

from __future__ import annotations

import sys
from pathlib import Path

from aiogram.utils.i18n import gettext as _

from bot.commands.catalog_report import ensure_small_enough, read_catalog_here, report_lines
from bot.runtime.app import open_database
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from domain.catalog.file import Catalog, CatalogInvalid
from domain.catalog.importer import ImportReport, import_catalog
from domain.storage.db import session_factory


async def migrate(settings: Settings) -> int:
    engine = await open_database(settings)
    await engine.dispose()
    i18n = build_i18n(settings.default_locale)
    with i18n.context():
        print(_("The database is up to date."))
    return 0


async def import_catalog_file(settings: Settings, file: str) -> int:
    with build_i18n(settings.default_locale).context():
        try:
            catalog = read_catalog_here(_read(Path(file)), settings)
            outcome: ImportReport | CatalogInvalid = await _store(settings, catalog)
        except CatalogInvalid as invalid:
            outcome = invalid
        except OSError as error:
            reason = error.strerror or str(error)
            print(
                _("Cannot read {file}: {reason}").format(file=file, reason=reason), file=sys.stderr
            )
            return 1
        report = report_lines(file, outcome)
        print("\n".join(report.lines), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


async def _store(settings: Settings, catalog: Catalog) -> ImportReport:
    engine = await open_database(settings)
    try:
        async with session_factory(engine)() as db:
            return await import_catalog(db, catalog)
    finally:
        await engine.dispose()


def _read(path: Path) -> bytes:
    ensure_small_enough(path.stat().st_size)
    return path.read_bytes()
