"""Reading a catalog file and reporting on its import, shared by the CLI and the chat upload.

Both say the same thing in the same words: what was added and updated, or every problem with
its line number. Texts are translated in the current gettext context (the CLI's default
locale, or the staff member's language in the bot).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.runtime.config import Settings
from bot.text.catalog_messages import describe_problem
from domain.catalog.file import (
    MAX_CATALOG_BYTES,
    Catalog,
    CatalogInvalid,
    CatalogProblem,
    parse_catalog,
)
from domain.catalog.importer import BoundStarts, ImportReport
from domain.catalog.reading import read_off_loop


@dataclass(frozen=True)
class CatalogReport:
    ok: bool
    lines: list[str]


def ensure_small_enough(size: int | None) -> None:
    """Checked before reading or downloading: the parser would refuse the file anyway."""
    if size is not None and size > MAX_CATALOG_BYTES:
        params = {"size": size, "limit": MAX_CATALOG_BYTES}
        raise CatalogInvalid(problems=[CatalogProblem(0, "too_large", params)])


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CatalogInvalid(problems=[CatalogProblem(0, "not_utf8", {})]) from None


async def read_catalog(
    data: bytes, settings: Settings, dialect: str | None = None
) -> tuple[Catalog, BoundStarts | None]:
    """The file's bytes as a valid catalog, or CatalogInvalid with every problem; with the
    database's `dialect` (importer.dialect_id), its sessions' starts bound for its driver.

    Thousands of sessions to expand and check: done in a process of its own, which leaves
    the event loop (and the GIL) to everyone else meanwhile."""
    ensure_small_enough(len(data))
    read = await read_off_loop(
        decode(data),
        tz=settings.zone,
        currency_digits=settings.currency_digits,
        max_sessions=settings.import_max_sessions,
        dialect=dialect,
    )
    if read.catalog is None:
        raise CatalogInvalid(problems=read.problems)
    return read.catalog, read.bound


def read_catalog_here(data: bytes, settings: Settings) -> Catalog:
    """The same, in this process and thread: for the command line, where nobody waits."""
    ensure_small_enough(len(data))
    return parse_catalog(
        decode(data),
        tz=settings.zone,
        currency_digits=settings.currency_digits,
        max_sessions=settings.import_max_sessions,
    )


def report_lines(
    file: str, outcome: ImportReport | CatalogInvalid, bot_username: str | None = None
) -> CatalogReport:
    if isinstance(outcome, CatalogInvalid):
        header = _("{file} was not imported; nothing was changed:").format(file=file)
        problems = [f"  {describe_problem(problem, _)}" for problem in outcome.problems]
        return CatalogReport(ok=False, lines=[header, *problems])
    lines = _summary(outcome, file)
    for title, token in outcome.private_links:
        link = private_link(token, bot_username)
        lines.append(
            "  " + _("private programme {title}: share {link}").format(title=title, link=link)
        )
    return CatalogReport(ok=True, lines=lines)


def private_link(token: str, bot_username: str | None) -> str:
    payload = f"p_{token}"
    if bot_username:
        return f"https://t.me/{bot_username}?start={payload}"
    return f"https://t.me/<your_bot>?start={payload}"


def _summary(report: ImportReport, file: str) -> list[str]:
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
        if report.added["passes"] or report.updated["passes"]:
            lines.append(
                "  "
                + _("entry passes: {added} added, {updated} updated").format(
                    added=report.added["passes"], updated=report.updated["passes"]
                )
            )
        if report.added["courses"] or report.updated["courses"]:
            lines.append(
                "  "
                + _("courses and packages: {added} added, {updated} updated").format(
                    added=report.added["courses"], updated=report.updated["courses"]
                )
            )
        if report.added["session_types"] or report.updated["session_types"]:
            lines.append(
                "  "
                + _("session types: {added} added, {updated} updated").format(
                    added=report.added["session_types"], updated=report.updated["session_types"]
                )
            )
        if report.added["fees"] or report.updated["fees"] or report.removed["fees"]:
            lines.append(
                "  "
                + _(
                    "fee schedule dates: {added} added, {updated} updated, {removed} removed"
                ).format(
                    added=report.added["fees"],
                    updated=report.updated["fees"],
                    removed=report.removed["fees"],
                )
            )
    if report.sessions_not_in_file:
        n = report.sessions_not_in_file
        kept = ngettext(
            "{n} session in the database is not in the file; it was left as it is.",
            "{n} sessions in the database are not in the file; they were left as they are.",
            n,
        )
        lines.append("  " + kept.format(n=n))
    return lines
