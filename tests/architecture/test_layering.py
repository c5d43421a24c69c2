"""What may import what, read from the code: domain/ knows nothing of Telegram, the rules
know nothing of the database, the bot's face calls use cases and read models only, no
module of bot/ or domain/ imports itself in a circle, and the top folders stay small."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.architecture.imports import (
    BOT,
    DOMAIN,
    ROOT,
    all_imports,
    import_graph,
    module_name,
    python_files,
    shortest_cycle,
    strongly_connected,
)

# The pure modules of domain/ besides every rules.py: plain values in, plain values or a
# domain error out; no database, no Telegram. They may import each other, nothing else of
# domain/.
PURE_MODULES = (
    "domain/errors.py",
    "domain/policy.py",
    "domain/billing/items.py",
    "domain/billing/money.py",
    "domain/booking/actor.py",
    "domain/booking/status.py",
    "domain/catalog/file.py",
    "domain/catalog/kinds.py",
    "domain/catalog/loader.py",
    "domain/catalog/schema.py",
    "domain/notices/events.py",
    "domain/timetable/ics.py",
    "domain/timetable/minimum_rules.py",
    "domain/timetable/spots.py",
)


def listing(title: str, lines: Iterable[object]) -> str:
    return title + "\n" + "\n".join(f"  {line}" for line in lines)


def test_domain_never_imports_aiogram_or_the_bot():
    leaks = [
        found
        for path in python_files(DOMAIN)
        for found in all_imports(path)
        if any(found.reaches(p) for p in ("aiogram", "aiogram_dialog", "bot"))
    ]
    assert not leaks, listing("domain/ imports Telegram or the bot:", leaks)


def pure_modules() -> list[Path]:
    return sorted({*DOMAIN.rglob("rules.py"), *(ROOT / m for m in PURE_MODULES)})


def test_the_pure_modules_listed_here_exist():
    missing = [m for m in PURE_MODULES if not (ROOT / m).is_file()]
    assert not missing, listing("PURE_MODULES names files that are gone:", missing)


def test_rule_modules_import_neither_sqlalchemy_nor_storage_nor_use_cases():
    pure = {module_name(p) for p in pure_modules()}
    impure = {
        module_name(p)
        for p in python_files(DOMAIN)
        if p.name != "__init__.py" and module_name(p) not in pure
    }
    leaks: list[object] = []
    for path in pure_modules():
        for found in all_imports(path):
            if found.reaches("sqlalchemy") or found.reaches("domain.storage"):
                leaks.append(found)
            elif used := sorted(impure.intersection(found.targets)):
                leaks.append(f"{found}  ({', '.join(used)}: not a pure module)")
    assert not leaks, listing(
        "rule modules must stay plain Python: no SQLAlchemy, no domain.storage, and of "
        "domain/ only other pure modules (every rules.py, and PURE_MODULES):",
        leaks,
    )


def test_the_bot_outside_its_runtime_imports_neither_sqlalchemy_nor_the_storage_models():
    leaks = [
        found
        for path in python_files(BOT)
        if path.relative_to(BOT).parts[0] != "runtime"
        for found in all_imports(path)
        if found.reaches("sqlalchemy") or found.reaches("domain.storage.models")
    ]
    assert not leaks, listing(
        "bot/ (outside bot/runtime/) must call use cases and read models, not SQLAlchemy "
        "or domain.storage.models:",
        leaks,
    )


def test_bot_and_domain_have_no_import_cycles():
    graph = import_graph()
    cycles = [
        f"{', '.join(group)}\n" + "\n".join(f"    {i}" for i in shortest_cycle(graph, group))
        for group in strongly_connected(graph)
    ]
    assert not cycles, listing(
        "modules of bot/ and domain/ that import each other in a circle (imports that run "
        "at import time; each group, then one circle's imports):",
        cycles,
    )


@pytest.mark.parametrize(("folder", "most"), [("domain", 6), ("bot", 10)])
def test_the_top_folders_keep_few_modules_of_their_own(folder, most):
    loose = sorted(
        p.name for p in (ROOT / folder).glob("*.py") if p.name not in ("__init__.py", "__main__.py")
    )
    assert len(loose) <= most, (
        f"{len(loose)} modules directly in {folder}/ (at most {most}): {', '.join(loose)}; "
        "give them a package of their own"
    )
