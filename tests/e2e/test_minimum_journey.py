"""Minimum participants through the real bot process: a session below its class's minimum
at its check is cancelled by the periodic job; each client gets one notice with
🔁 Book another time, and staff one summary of the run."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from tests.e2e.conftest import ZONE, import_text
from tests.e2e.harness import bot_process

pytestmark = pytest.mark.e2e

STAFF_ID = 5001
# the check is 12 hours before: not yet due while the clients book
STARTS = (datetime.now(ZONE) + timedelta(hours=20)).replace(second=0, microsecond=0)


@pytest.fixture
def env(bot_env) -> dict[str, str]:
    return {
        **bot_env,
        "ADMIN_IDS": str(STAFF_ID),
        "OUTBOX_CHECK_SECONDS": "0.5",
        "OFFER_CHECK_SECONDS": "1",  # the minimum check runs this often too
    }


@pytest.fixture
async def clay(tmp_path, env):
    return await import_text(
        tmp_path / "clay.yaml",
        f"""
programmes:
  - key: clay
    title: Clay morning
    classes:
      - key: wheel
        title: Wheel
        capacity: 4
        min_participants: 3
        min_check_hours: 12
        sessions: ["{STARTS:%Y-%m-%d %H:%M}"]
""",
        env,
    )


async def book(client) -> None:
    await client.send("/start")
    await client.wait_message("Hello")
    await client.click("📅 Book a session")
    await client.click("Clay morning")
    await client.click(re.compile(re.escape(f"{STARTS:%-I:%M}")))
    await client.click(re.compile(r"✅ Book"))
    await client.wait_message("booked")


def with_button(text: str):
    return lambda message: any(text in label for label in message.button_texts)


async def test_a_session_below_its_minimum_is_cancelled_at_its_check(fake, env, clay, database):
    sam, alice, bob = fake.user(STAFF_ID, "Sam"), fake.user(1001, "Alice"), fake.user(1002, "Bob")
    async with bot_process(fake, env=env):
        await book(alice)
        await book(bob)
        assert database.query("select cancelled_at, min_checked_at from sessions") == [(None, None)]
        mark = fake.mark()

        # stand-in for waiting 8 hours: the check time has come
        database.execute("update classes set min_check_hours = 24")

        summary = await sam.wait_message("Cancelled for too few participants", since=mark)
        assert "Clay morning — Wheel" in summary.text
        assert "2 booked, minimum 3" in summary.text
        for client in (alice, bob):
            notice = await client.wait_message(
                predicate=with_button("Book another time"), since=mark, new=True
            )
            assert "too few people signed up" in notice.text
        await database.wait_for(
            "select kind, recipient, state from outbox where kind != 'reminder'"
            " order by kind, recipient",
            [
                ("staff_cancelled", 1001, "sent"),
                ("staff_cancelled", 1002, "sent"),
                ("undersubscribed", STAFF_ID, "sent"),
            ],
        )
        assert database.query("select status from bookings") == [("cancelled",), ("cancelled",)]
        assert database.query("select count(*) from sessions where cancelled_at is not null") == [
            (1,)
        ]

    for client in (alice, bob):  # one notice each, and nothing else after the check
        sent = [m for m in client.bot_messages() if m.created >= mark]
        assert len(sent) == 1, [m.text for m in sent]
    assert len([m for m in sam.bot_messages() if m.created >= mark]) == 1
