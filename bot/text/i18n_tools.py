"""Keep catalogs in step with the code: `python -m bot.text.i18n_tools`.

Extracts every message from bot/ (the same keywords tests check with), writes
locales/messages.pot, adds new ids to every locales/<lang>/LC_MESSAGES/messages.po, drops ids the
code no longer has, and fills English (the source language) with its own text.
"""

from __future__ import annotations

import copy
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.text.i18n import DOMAIN, LOCALES

ROOT = LOCALES.parent
KEYWORDS = {**DEFAULT_KEYWORDS, "T": None, "TP": (1, 2)}
SOURCE_LOCALE = "en"


def extract() -> Catalog:
    template = Catalog(project="Spotbook", fuzzy=False)
    method_map = [("bot/**.py", "python")]
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT, method_map=method_map, keywords=KEYWORDS
    ):
        if filename.startswith("bot/"):
            template.add(
                message, None, [(filename, lineno)], auto_comments=comments, context=context
            )
    return template


def update(template: Catalog) -> list[Path]:
    written = []
    for po_path in sorted(LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=po_path.parts[-3])
        # a copy each: Catalog.update adds the template's own Message objects, and filling the
        # source language's would fill the next catalog's new entries with English too
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
        catalog.obsolete.clear()
        if po_path.parts[-3] == SOURCE_LOCALE:
            _fill_with_source(catalog)
        with po_path.open("wb") as target:
            write_po(target, catalog, width=100, include_lineno=False)
        written.append(po_path)
    return written


def _fill_with_source(catalog: Catalog) -> None:
    for message in catalog:
        if not message.id:
            continue
        if message.pluralizable and not any(message.string):
            message.string = tuple(message.id)
        elif not message.pluralizable and not message.string:
            message.string = message.id


def main() -> None:
    template = extract()
    with (LOCALES / f"{DOMAIN}.pot").open("wb") as target:
        write_po(target, template, width=100, include_lineno=False)
    for path in update(template):
        print(f"updated {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
