"""Small catalogs for tests, written the way staff write them."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from domain.catalog.file import parse_catalog
from domain.catalog.importer import ImportReport, import_catalog
from domain.storage.db import SessionFactory

PRAGUE = ZoneInfo("Europe/Prague")

YOGA = """
programmes:
  - key: yoga
    title: Yoga & Breath
    description: Hatha yoga for every level.
    classes:
      - key: morning
        title: Morning flow
        capacity: 2
        duration: 60
        price: "12.50"
        sessions:
          - 2026-12-01 18:00
          - 2026-12-03 18:00
          - 2026-11-20 18:00
"""

TWO_CLASSES = """
programmes:
  - key: pottery
    title: Pottery
    classes:
      - key: wheel
        title: Wheel throwing
        capacity: 1
        sessions: [2026-12-02 10:00]
      - key: hand
        title: Hand building
        capacity: 5
        sessions: [2026-12-04 10:00]
"""


async def load(db_factory: SessionFactory, text: str = YOGA) -> ImportReport:
    catalog = parse_catalog(text, tz=PRAGUE, currency_digits=2)
    async with db_factory() as db:
        return await import_catalog(db, catalog)
