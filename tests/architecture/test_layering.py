"""domain/ is the heart and knows nothing of Telegram."""

import ast
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "domain"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_never_imports_aiogram_or_the_bot():
    offenders = {
        f"{path.relative_to(DOMAIN.parent)}: {name}"
        for path in DOMAIN.rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in {"aiogram", "aiogram_dialog", "bot"}
    }
    assert not offenders


def test_the_rules_do_not_import_storage():
    assert not {
        f"{path.relative_to(DOMAIN.parent)}: {name}"
        for path in DOMAIN.rglob("rules.py")
        for name in imported_modules(path)
        if name.startswith("domain.storage") or name.split(".")[0] == "sqlalchemy"
    }
