"""The real bot process sends due reminders from the outbox through whatever goes wrong:
Telegram failing for a moment, a lost connection, flood control, a blocked client, the bot
itself killed mid-dispatch. Nothing is lost, and only a message in flight may come twice.

The reminders are seeded through the domain before the bot starts (bookings made long ago,
reminders due now), one client each so that each chat shows what became of its row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from domain.notices import outbox
from domain.notices.events import SessionReminder
from domain.storage.db import create_engine, session_factory
from domain.storage.models import Booking, ClassSession, Client
from tests.e2e.conftest import async_url, import_text, soon
from tests.e2e.harness import bot_process
from tests.fake_telegram import ApiCall, FakeTelegram

pytestmark = pytest.mark.e2e

STATES = "select state, attempts, count(*) from outbox group by state, attempts"
SENT = "select state, count(*) from outbox group by state"


@pytest.fixture
async def studio(tmp_path, bot_env):
    await import_text(
        tmp_path / "studio.yaml",
        f"""
programmes:
  - key: yoga
    title: Yoga
    classes:
      - key: evening
        title: Evening flow
        capacity: 100
        sessions: ["{soon(3)} 18:00", "{soon(4)} 18:00", "{soon(5)} 18:00"]
""",
        bot_env,
    )


async def seed_due_reminders(bot_env: dict[str, str], fake: FakeTelegram, clients: range) -> None:
    """Each client (a Telegram user of the fake) booked into one of the sessions, with a
    reminder of it due now."""
    url = async_url(bot_env)
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        async with session_factory(engine)() as db:
            sessions = list(await db.scalars(select(ClassSession).order_by(ClassSession.id)))
            db.add_all(Client(id=i, first_name=f"Client {i}", created_at=now) for i in clients)
            bookings = [
                Booking(session_id=sessions[n % len(sessions)].id, client_id=i, created_at=now)
                for n, i in enumerate(clients)
            ]
            db.add_all(bookings)
            for session in sessions:
                session.seats_taken = sum(b.session_id == session.id for b in bookings)
            await db.flush()
            starts = {session.id: session.starts_at for session in sessions}
            reminders = [
                SessionReminder(b.client_id, b.id, starts[b.session_id], "24h") for b in bookings
            ]
            await outbox.put_many(db, [(reminder, now) for reminder in reminders], now=now)
            await db.commit()
    finally:
        await engine.dispose()
    for i in clients:
        fake.user(i, f"Client {i}")


def sends(fake: FakeTelegram) -> list[ApiCall]:
    return [call for call in fake.calls if call.method == "sendMessage"]


def accepted(fake: FakeTelegram) -> Counter[int]:
    """How many messages Telegram accepted for each chat."""
    return Counter(call.params["chat_id"] for call in sends(fake) if call.ok)


async def sends_arrived(fake: FakeTelegram, count: int) -> None:
    """Until the bot has called sendMessage ``count`` times."""
    since = 0
    for _ in range(count):
        since = (await fake.wait_for_call("sendMessage", since=since)).index + 1


# ----- a crash ------------------------------------------------------------------------------

ROWS = 240
KILL_AFTER = 90  # messages: in the middle of the third batch of 40
# 40 messages a second to distinct chats: dispatching takes seconds, so the kill lands in it;
# short leases, so the restarted bot takes the dead one's rows back within seconds
THROTTLED = {
    "SEND_RATE_PER_SECOND": "40",
    "OUTBOX_BATCH": "40",
    "OUTBOX_LEASE_SECONDS": "5",
    "OUTBOX_CHECK_SECONDS": "1",
}


async def test_a_bot_killed_mid_dispatch_loses_nothing_and_repeats_only_what_was_in_flight(
    fake, bot_env, studio, database
):
    clients = range(300_001, 300_001 + ROWS)
    await seed_due_reminders(bot_env, fake, clients)
    env = {**bot_env, **THROTTLED}

    async with bot_process(fake, env=env) as bot:
        await sends_arrived(fake, KILL_AFTER)
        await bot.crash()
    # claimed and not yet marked sent when it died: these may have reached Telegram already
    in_flight = {
        chat
        for (chat,) in database.query(
            "select recipient from outbox where state = 'pending' and lease_until is not null"
        )
    }
    before_restart = accepted(fake).total()
    assert 0 < before_restart < ROWS

    async with bot_process(fake, env=env):
        await database.wait_for(SENT, [("sent", ROWS)], within=60)

    delivered = accepted(fake)
    assert set(delivered) == set(clients), "some reminders never reached their client"
    repeated = {chat: n for chat, n in delivered.items() if n > 1}
    assert set(repeated) <= in_flight, "a reminder marked sent before the crash was sent again"
    assert sum(n - 1 for n in repeated.values()) <= len(in_flight)
    assert all(call.ok for call in sends(fake))


# ----- Telegram failing ---------------------------------------------------------------------


def outcome(call: ApiCall) -> str:
    """How Telegram answered: "ok", an error code, or "dropped" (no answer at all)."""
    if call.dropped:
        return "dropped"
    return "ok" if call.ok else str((call.response or {}).get("error_code"))


PASSING_FAULTS: dict[str, Callable[[FakeTelegram], None]] = {
    "500": lambda fake: fake.fail_next("sendMessage", 500, "Internal Server Error"),
    "dropped": lambda fake: fake.drop_next("sendMessage"),
    "429": lambda fake: fake.fail_next(
        "sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1
    ),
}


@pytest.mark.parametrize("fault", PASSING_FAULTS)
async def test_a_reminder_meeting_a_passing_fault_is_sent_again_at_once_and_delivered(
    fault, fake, bot_env, studio, database
):
    clients = range(400_001, 400_005)
    await seed_due_reminders(bot_env, fake, clients)
    PASSING_FAULTS[fault](fake)

    async with bot_process(fake, env=bot_env):
        # one attempt each: the sender itself tried again, the outbox did not need to
        await database.wait_for(STATES, [("sent", 1, len(clients))])

    first, *rest = sends(fake)
    assert outcome(first) == fault
    again = [call for call in rest if call.params["chat_id"] == first.params["chat_id"]]
    assert [call.ok for call in again] == [True]
    assert again[0].params["text"] == first.params["text"]
    assert accepted(fake) == dict.fromkeys(clients, 1)
    for client in clients:
        (reminder,) = fake.users[client].bot_messages()
        assert reminder.text.startswith("⏰ Reminder: Yoga — Evening flow on")


async def test_a_reminder_telegram_keeps_refusing_is_tried_again_later_and_delivered(
    fake, bot_env, studio, database
):
    (client,) = clients = range(410_001, 410_002)
    await seed_due_reminders(bot_env, fake, clients)
    fake.fail_next("sendMessage", 500, "Internal Server Error", count=3)  # all the sender tries

    async with bot_process(fake, env=bot_env | {"OUTBOX_CHECK_SECONDS": "1"}):
        await database.wait_for(
            "select state, attempts, error from outbox",
            [("pending", 1, "Telegram server says - Internal Server Error")],
        )
        # its retry is due in 30 s: let that time pass
        database.execute("update outbox set due_at = created_at")
        await database.wait_for("select state, attempts from outbox", [("sent", 2)])

    assert [outcome(call) for call in sends(fake)] == ["500", "500", "500", "ok"]
    assert accepted(fake) == {client: 1}


async def test_a_reminder_refused_at_every_attempt_fails_with_the_reason(
    fake, bot_env, studio, database
):
    clients = range(420_001, 420_002)
    await seed_due_reminders(bot_env, fake, clients)
    fake.fail_next("sendMessage", 500, "Internal Server Error", count=6)  # 3 tries, 2 attempts
    env = bot_env | {"OUTBOX_CHECK_SECONDS": "1", "OUTBOX_MAX_ATTEMPTS": "2"}

    async with bot_process(fake, env=env):
        await database.wait_for(
            "select state, attempts, error from outbox",
            [("pending", 1, "Telegram server says - Internal Server Error")],
        )
        database.execute("update outbox set due_at = created_at")
        await database.wait_for(
            "select state, attempts, error from outbox",
            [("failed", 2, "Telegram server says - Internal Server Error")],
        )

    assert [outcome(call) for call in sends(fake)] == ["500"] * 6
    assert database.query("select unreachable_since from clients") == [(None,)]


async def test_a_client_who_blocked_the_bot_fails_alone_and_the_others_get_theirs(
    fake, bot_env, studio, database
):
    clients = range(430_001, 430_006)
    blocked = 430_003
    await seed_due_reminders(bot_env, fake, clients)
    fake.users[blocked].blocked = True

    async with bot_process(fake, env=bot_env):
        await database.wait_for(
            "select recipient, state, error from outbox order by recipient",
            [
                (client, "sent", None)
                if client != blocked
                else (client, "failed", "unreachable: Forbidden: bot was blocked by the user")
                for client in clients
            ],
        )

    to_blocked = [call for call in sends(fake) if call.params["chat_id"] == blocked]
    assert [outcome(call) for call in to_blocked] == ["403"]  # not tried again
    assert accepted(fake) == {client: 1 for client in clients if client != blocked}
    unreachable = database.query("select id from clients where unreachable_since is not null")
    assert unreachable == [(blocked,)]


async def test_a_bot_stopped_mid_dispatch_gives_its_rows_back_and_sends_none_twice(
    fake, bot_env, studio, database
):
    clients = range(310_001, 310_001 + ROWS)
    env = {**bot_env, **THROTTLED}

    async with bot_process(fake, env=env) as bot:
        # due while it runs (as reminders come due): the scheduler's tick sends them
        await seed_due_reminders(bot_env, fake, clients)
        await sends_arrived(fake, KILL_AFTER)
        await bot.stop()  # SIGTERM, as a deploy does
        bot.assert_clean()
    held = database.query(
        "select count(*) from outbox where state = 'pending' and lease_until is not null"
    )
    assert held == [(0,)], "a stopped bot still holds rows: they wait for the lease to end"

    async with bot_process(fake, env=env):
        await database.wait_for(SENT, [("sent", ROWS)], within=60)
    assert accepted(fake) == dict.fromkeys(clients, 1)
