"""A group card of a multi session whose spots staff cancelled: a cancelled day reads
"❌ Cancelled", and a card all of whose spots were cancelled says so and loses its button."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.delivery.announce import card_markup, card_text
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from bot.text.reader import Formatter
from domain.timetable.announce import Card, Spot

I18N = build_i18n("en")
DAY_1 = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def card(*spots: Spot) -> Card:
    return Card(1, "Clay", 60, 500, "tok12345", list(spots))


def render(shown: Card) -> tuple[str, object]:
    settings = Settings(TZ="Europe/Prague", CURRENCY="EUR", bot_token=None)
    with I18N.context(), I18N.use_locale("en"):
        fmt = Formatter(settings, "en", None)
        return " ".join(card_text(shown, fmt).split()), card_markup(shown, "spotbook_bot")


def test_a_cancelled_day_says_so_and_the_others_keep_their_spots():
    text, markup = render(
        card(Spot(DAY_1, 4, 1, cancelled=True), Spot(DAY_1 + timedelta(days=1), 4, 1))
    )
    assert "· ❌ Cancelled" in text
    assert "🟢 3 spots left" in text
    assert markup is not None


def test_a_card_whose_every_spot_was_cancelled_says_cancelled_without_a_button():
    shown = card(Spot(DAY_1, 4, 0, cancelled=True))
    text, markup = render(shown)
    assert text.endswith("❌ Cancelled")
    assert "Booking for this session has closed." not in text
    assert markup is None
    assert shown.over
