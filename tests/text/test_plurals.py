"""Plural forms in every catalog, for 1, 2, 5 and 21: the catalog's Plural-Forms rule picks
the form CLDR names for that number, and the forms a language tells apart are different
text (1 spot / 2 spots / 5 spots; in Czech and Russian 2 and 5 differ too, and Russian says
21 like 1; Hungarian says "1 szabad hely" and "5 szabad hely" alike)."""

from __future__ import annotations

import gettext

import pytest
from babel import Locale
from babel.messages.pofile import read_po

from bot.text.i18n import DOMAIN, LOCALES, build_i18n

I18N = build_i18n("en")
SPOTS = ("🟢 {n} spot left", "🟢 {n} spots left")
COUNTS = (1, 2, 5, 21)


def catalog(language: str):
    with (LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as file:
        return read_po(file)


def spots_left(language: str, n: int) -> str:
    with I18N.context(), I18N.use_locale(language):
        return I18N.gettext(*SPOTS, n=n).format(n=n)


@pytest.mark.parametrize("language", sorted(I18N.available_locales))
def test_the_catalogs_rule_picks_the_form_cldr_names_for_each_number(language):
    po = catalog(language)
    rule = gettext.c2py(po.plural_expr)
    forms = po[SPOTS[0]].string
    categories = {}  # CLDR category -> the form's index the catalog's rule gives
    for n in COUNTS:
        category = Locale.parse(language).plural_form(n)
        index = rule(n)
        # one category, one form: the rule and CLDR group the numbers alike
        assert categories.setdefault(category, index) == index, (language, n)
        assert spots_left(language, n) == forms[index].format(n=n)
        assert str(n) in spots_left(language, n)


# Hungarian keeps the noun singular after a number ("5 szabad hely"): its two forms may match.
@pytest.mark.parametrize("language", sorted(set(I18N.available_locales) - {"hu"}))
def test_numbers_of_different_categories_read_differently(language):
    by_category = {}
    for n in COUNTS:
        category = Locale.parse(language).plural_form(n)
        by_category.setdefault(category, spots_left(language, n).replace(str(n), "N"))
    texts = list(by_category.values())
    assert len(set(texts)) == len(texts), by_category


def test_czech_and_russian_tell_two_from_five_and_russian_says_21_like_1():
    for language in ("cs", "ru"):
        assert spots_left(language, 2).replace("2", "N") != spots_left(language, 5).replace(
            "5", "N"
        )
    assert spots_left("ru", 21).replace("21", "N") == spots_left("ru", 1).replace("1", "N")
    assert spots_left("cs", 21).replace("21", "N") == spots_left("cs", 5).replace("5", "N")
