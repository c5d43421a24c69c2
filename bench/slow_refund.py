"""A staff Stars refund whose refundStarPayment is slow: does another client's booking wait?

    python -m bench.slow_refund [--telegram-seconds 5] [--db sqlite|postgresql|both]

Alice paid 50 ⭐ for a booking; staff refund it whole while Telegram takes
``--telegram-seconds`` to answer; as soon as Telegram has been asked, Bob books another
session. Prints how long Bob's booking took and the refund in all, beside the review's figure
(before the two-phase refund, on SQLite, Bob waited 4.6 s behind a 5 s call). Checks the
outcome: Bob booked, the refund recorded done, Telegram asked once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

from domain.billing import money
from domain.billing.payments import InvoiceFor, apply_payment, booking_item
from domain.billing.refunds import refund_booking
from domain.booking.bookings import book_session
from domain.catalog.file import parse_catalog
from domain.catalog.importer import import_catalog
from domain.clients.record import ClientRef
from domain.policy import Policy
from domain.storage.db import create_engine, session_factory
from domain.storage.migrate import upgrade_to_head
from domain.storage.models import ClassSession, RefundRequest

POSTGRES_URL = os.environ.get(
    "SPOTBOOK_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REFERENCE_WAIT = 4.6  # seconds Bob waited on SQLite behind a 5 s call, before
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ALICE, BOB = ClientRef(1001, "Alice"), ClientRef(1002, "Bob")
STARS = Policy(zone=ZoneInfo("UTC"), currency="XTR", reminders=())
CATALOG = """
programmes:
  - key: clay
    title: Clay
    classes:
      - key: wheel
        title: Wheel
        capacity: 3
        price: "50"
        sessions: [2026-12-01 18:00, 2026-12-02 18:00]
"""


async def run(url: str, telegram_seconds: float, schema: str | None) -> tuple[float, float]:
    engine = create_engine(url, **({"server_settings": {"search_path": schema}} if schema else {}))
    try:
        await upgrade_to_head(engine)
        db_factory = session_factory(engine)
        async with db_factory() as db:
            await import_catalog(db, parse_catalog(CATALOG, tz=ZoneInfo("UTC"), currency_digits=0))
        async with db_factory() as db:
            first, second = await db.scalars(
                select(ClassSession.id).order_by(ClassSession.starts_at)
            )
        async with db_factory() as db:
            booked = await book_session(db, client=ALICE, session_id=first, now=NOW, policy=STARS)
        async with db_factory() as db:
            await apply_payment(
                db,
                client_id=ALICE.id,
                paid=InvoiceFor(booking_item(booked.card.id), 50, "XTR"),
                charge_id="stx-1",
                method=money.Method.STARS,
                now=NOW,
            )
        asked, calls = asyncio.Event(), []

        async def slow_telegram(user_id: int, charge_id: str) -> None:
            calls.append(charge_id)
            asked.set()
            await asyncio.sleep(telegram_seconds)

        async def refund() -> money.Money:
            async with db_factory() as db:
                done = await refund_booking(
                    db,
                    client_id=ALICE.id,
                    booking_id=booked.card.id,
                    amount=money.Money(50, "XTR"),
                    reason="bench",
                    staff_id=1,
                    now=NOW,
                    refund_stars=slow_telegram,
                )
            return done.amount

        started = time.perf_counter()
        refunding = asyncio.create_task(refund())
        waiting = asyncio.create_task(asked.wait())
        await asyncio.wait({refunding, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        bob_started = time.perf_counter()
        async with db_factory() as db:
            await book_session(db, client=BOB, session_id=second, now=NOW, policy=STARS)
        bob_seconds = time.perf_counter() - bob_started
        refunded = await refunding
        refund_seconds = time.perf_counter() - started
        async with db_factory() as db:
            states = list(await db.scalars(select(RefundRequest.state)))
        if refunded != money.Money(50, "XTR") or states != ["done"] or calls != ["stx-1"]:
            raise RuntimeError(f"refunded {refunded}, requests {states}, calls {calls}")
        return bob_seconds, refund_seconds
    finally:
        await engine.dispose()


async def bench_database(kind: str, telegram_seconds: float) -> bool:
    head = f"db={kind} telegram_seconds={telegram_seconds:g}"
    try:
        if kind == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
                bob, total = await run(url, telegram_seconds, None)
        else:
            schema = f"bench_{uuid.uuid4().hex[:12]}"
            admin = create_engine(POSTGRES_URL)
            try:
                try:
                    async with admin.begin() as connection:
                        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
                except Exception as error:  # no PostgreSQL to measure against
                    print(f'{head} skipped reason="{error}"', flush=True)
                    return True
                bob, total = await run(POSTGRES_URL, telegram_seconds, schema)
            finally:
                async with admin.begin() as connection:
                    await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                await admin.dispose()
    except Exception as error:
        print(f'{head} FAILED reason="{error}"', flush=True)
        return False
    reference = f" reference_sqlite_before={REFERENCE_WAIT}" if kind == "sqlite" else ""
    print(f"{head} other_booking_seconds={bob:.3f} refund_seconds={total:.3f}{reference}")
    return True


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.slow_refund", description=__doc__)
    parser.add_argument("--telegram-seconds", type=float, default=5.0)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    return parser.parse_args(argv)


async def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    ok = [await bench_database(kind, args.telegram_seconds) for kind in kinds]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
