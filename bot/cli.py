"""Staff commands run from a shell: they print in DEFAULT_LOCALE and exit non-zero on failure."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.catalog_messages import describe_problem
from bot.config import Settings
from bot.i18n import build_i18n
from domain.catalog import ImportReport, import_catalog
from domain.catalog_file import MAX_CATALOG_BYTES, CatalogInvalid, CatalogProblem, parse_catalog
from domain.storage.db import create_engine, session_factory
from domain.storage.migrate import upgrade_to_head


async def migrate(settings: Settings) -> int:
    engine = create_engine(settings.database_url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()
    i18n = build_i18n(settings.default_locale)
    with i18n.use_locale(settings.default_locale):
        print(i18n.gettext("The database is up to date."))
    return 0


async def import_catalog_file(settings: Settings, file: str) -> int:
    i18n = build_i18n(settings.default_locale)
    with i18n.use_locale(settings.default_locale):
        gettext = i18n.gettext
        try:
            text = _read(Path(file))
            catalog = parse_catalog(
                text, tz=settings.zone, currency_digits=settings.currency_digits
            )
            engine = create_engine(settings.database_url)
            try:
                await upgrade_to_head(engine)
                async with session_factory(engine)() as db:
                    report = await import_catalog(db, catalog)
            finally:
                await engine.dispose()
        except CatalogInvalid as invalid:
            print(
                gettext("{file} was not imported; nothing was changed:").format(file=file),
                file=sys.stderr,
            )
            for problem in invalid.problems:
                print(f"  {describe_problem(problem, gettext)}", file=sys.stderr)
            return 1
        except OSError as error:
            print(
                gettext("Cannot read {file}: {reason}").format(file=file, reason=error.strerror),
                file=sys.stderr,
            )
            return 1
        print(_summary(report, file, gettext, i18n.ngettext))
    return 0


def _read(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_CATALOG_BYTES:
        raise CatalogInvalid(
            problems=[CatalogProblem(0, "too_large", {"size": size, "limit": MAX_CATALOG_BYTES})]
        )
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CatalogInvalid(problems=[CatalogProblem(0, "not_utf8", {})]) from None


def _summary(report: ImportReport, file: str, gettext, ngettext) -> str:
    if not report.changed:
        lines = [gettext("{file} imported: nothing changed.").format(file=file)]
    else:
        added, updated = report.added, report.updated
        lines = [
            gettext("{file} imported:").format(file=file),
            "  "
            + gettext(
                "added {programmes} programmes, {classes} classes, {sessions} sessions"
            ).format(**added),
            "  " + gettext("updated {programmes} programmes, {classes} classes").format(**updated),
        ]
    if report.sessions_not_in_file:
        n = report.sessions_not_in_file
        lines.append(
            "  "
            + ngettext(
                "{n} session in the database is not in the file; it was left as it is.",
                "{n} sessions in the database are not in the file; they were left as they are.",
                n,
            ).format(n=n)
        )
    return "\n".join(lines)
