"""Two bot instances dispatch one outbox at the same time: each row is sent exactly once.

Each dispatcher has its own engine (its own connections, as two processes would) and its own
Bot; both send to one fake Telegram, which counts what arrived. The rows are real reminders of
real bookings, so the whole path runs: claim, render from the database, send, mark sent.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery.courier import Courier
from bot.delivery.notify import ReminderAnswer
from bot.delivery.sender import Reachability, Sender
from bot.deps import Deps
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from domain.booking.status import BookingStatus
from domain.notices import outbox
from domain.notices.events import SessionReminder
from domain.storage.db import SessionFactory, create_engine, session_factory
from domain.storage.models import Booking, ClassSession, Client, OutboxMessage
from tests.conftest import NOW, FakeClock
from tests.e2e.harness import api_session
from tests.fake_telegram import ApiCall, FakeTelegram
from tests.support.catalog import load
from tests.support.databases import POSTGRES_URL, migrated_engine

SESSIONS = 5  # each client booked into every session: several rows per chat
ROWS = {"postgresql": 10_000, "sqlite": 500}  # SQLite has one writer: a smaller race suffices
FIRST_CLIENT = 100_001

CATALOG = """
programmes:
  - key: yoga
    title: Yoga & Breath
    classes:
      - key: morning
        title: Morning flow
        capacity: 1000
        sessions: [2026-12-01 08:00, 2026-12-02 08:00, 2026-12-03 08:00, 2026-12-04 08:00,
                   2026-12-05 08:00]
"""


@asynccontextmanager
async def second_engine(kind: str, first: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """Another engine on the same database (and, on PostgreSQL, the same test schema)."""
    if kind == "sqlite":
        engine = create_engine(first.url)
    else:
        async with first.connect() as connection:
            schema = await connection.scalar(text("select current_schema()"))
        engine = create_engine(POSTGRES_URL, server_settings={"search_path": schema})
    try:
        yield engine
    finally:
        await engine.dispose()


async def seed_reminders(db_factory: SessionFactory, clients: int) -> set[tuple[int, int]]:
    """``clients`` clients each booked into every session, each booking with a due reminder;
    returns the (chat, booking) pairs a reminder should reach."""
    await load(db_factory, CATALOG)
    client_ids = range(FIRST_CLIENT, FIRST_CLIENT + clients)
    async with db_factory() as db:
        sessions = list(await db.scalars(select(ClassSession.id)))
        await db.execute(
            insert(Client),
            [{"id": i, "first_name": f"Client {i}", "created_at": NOW} for i in client_ids],
        )
        await db.execute(
            insert(Booking),
            [
                {"session_id": s, "client_id": i, "status": BookingStatus.ACTIVE, "created_at": NOW}
                for s in sessions
                for i in client_ids
            ],
        )
        booked = (
            await db.execute(
                select(Booking.id, Booking.client_id, ClassSession.starts_at).join(
                    ClassSession, Booking.session_id == ClassSession.id
                )
            )
        ).all()
        reminders = [
            SessionReminder(client, booking, starts, "24h") for booking, client, starts in booked
        ]
        await outbox.put_many(db, [(reminder, NOW) for reminder in reminders], now=NOW)
        await db.commit()
    return {(r.client_id, r.booking_id) for r in reminders}


@asynccontextmanager
async def dispatcher(fake: FakeTelegram, db_factory: SessionFactory) -> AsyncIterator[Courier]:
    """One bot instance's outbox dispatcher, with Telegram's limits off (the race is the point)."""
    settings = Settings(
        TZ="Europe/Prague", bot_token=None, send_rate_per_second=0, send_rate_per_chat_seconds=0
    )
    clock = FakeClock(NOW)
    html = DefaultBotProperties(parse_mode=ParseMode.HTML)
    async with Bot(fake.token, session=api_session(fake), default=html) as bot:
        sender = Sender.from_settings(bot, settings, Reachability(db_factory, now=clock))
        deps = Deps(db=db_factory, settings=settings, clock=clock, sender=sender)
        # four sends at a time stay within the engine's pool of five connections: more would
        # open and close PostgreSQL connections all along, slow and beside the point here
        yield Courier(
            bot, deps, build_i18n("en"), sender, batch=100, lease_seconds=600, concurrency=4
        )


def delivered_reminder(call: ApiCall) -> tuple[int, int]:
    """(chat, booking) of a reminder Telegram accepted, read from its Coming button."""
    coming = call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    return call.params["chat_id"], ReminderAnswer.unpack(coming).booking_id


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
async def test_two_dispatchers_racing_over_one_outbox_send_each_row_exactly_once(kind, tmp_path):
    rows = ROWS[kind]
    async with (
        migrated_engine(kind, tmp_path) as engine,
        second_engine(kind, engine) as other_engine,
        FakeTelegram() as fake,
    ):
        first_db, second_db = session_factory(engine), session_factory(other_engine)
        expected = await seed_reminders(first_db, rows // SESSIONS)
        for chat, _ in expected:
            fake.user(chat, f"Client {chat}")

        async with dispatcher(fake, first_db) as first, dispatcher(fake, second_db) as second:
            handled = await asyncio.gather(first.drain(), second.drain())

        sends = [c for c in fake.calls if c.method == "sendMessage"]
        assert [c.error for c in sends if not c.ok] == []
        delivered = Counter(delivered_reminder(c) for c in sends)
        assert len(expected) == rows
        assert set(delivered) == expected, "some reminders never reached Telegram"
        twice = {key: n for key, n in delivered.items() if n > 1}
        assert twice == {}, f"{len(twice)} reminders were sent more than once"
        async with first_db() as db:
            states = (
                await db.execute(select(OutboxMessage.state, func.count()).group_by("state"))
            ).all()
        assert states == [("sent", rows)]
        # each dispatcher claimed its own share, and together exactly every row once
        assert sum(handled) == rows
        assert all(share > 0 for share in handled), f"one dispatcher did everything: {handled}"
        assert fake.errors == []
