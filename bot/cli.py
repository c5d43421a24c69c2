"""Staff commands run from a shell: they print in DEFAULT_LOCALE and exit non-zero on failure."""

from __future__ import annotations

import sys
from pathlib import Path

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.app import open_database
from bot.catalog_messages import describe_problem
from bot.config import Settings
from bot.i18n import build_i18n
from domain.catalog import ImportReport, import_catalog
from domain.catalog_file import MAX_CATALOG_BYTES, CatalogInvalid, CatalogProblem, parse_catalog
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
            text = _read(Path(file))
            catalog = parse_catalog(
                text, tz=settings.zone, currency_digits=settings.currency_digits
            )
            report = await _store(settings, catalog)
        except CatalogInvalid as invalid:
            print(
                _("{file} was not imported; nothing was changed:").format(file=file),
                file=sys.stderr,
            )
            for problem in invalid.problems:
                print(f"  {describe_problem(problem, _)}", file=sys.stderr)
            return 1
        except OSError as error:
            reason = error.strerror or str(error)
            print(
                _("Cannot read {file}: {reason}").format(file=file, reason=reason), file=sys.stderr
            )
            return 1
        print(_summary(report, file))
    return 0


async def _store(settings: Settings, catalog) -> ImportReport:
    engine = await open_database(settings)
    try:
        async with session_factory(engine)() as db:
            return await import_catalog(db, catalog)
    finally:
        await engine.dispose()


def _read(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_CATALOG_BYTES:
        params = {"size": size, "limit": MAX_CATALOG_BYTES}
        raise CatalogInvalid(problems=[CatalogProblem(0, "too_large", params)])
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CatalogInvalid(problems=[CatalogProblem(0, "not_utf8", {})]) from None


def _summary(report: ImportReport, file: str) -> str:
    if not report.changed:
        lines = [_("{file} imported: nothing changed.").format(file=file)]
    else:
        lines = [
            _("{file} imported:").format(file=file),
            "  "
            + _(
                "added {programmes} programmes, {classes} classes, {sessions} sessions, "
                "{periods} billing periods"
            ).format(**report.added),
            "  "
            + _(
                "updated {programmes} programmes, {classes} classes, {periods} billing periods"
            ).format(**report.updated),
        ]
    if report.sessions_not_in_file:
        n = report.sessions_not_in_file
        kept = ngettext(
            "{n} session in the database is not in the file; it was left as it is.",
            "{n} sessions in the database are not in the file; they were left as they are.",
            n,
        )
        lines.append("  " + kept.format(n=n))
    return "\n".join(lines)
