"""Notices go through the rate-limited sender: a 429 is waited out, a blocked client is marked."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import import_text, soon
from tests.e2e.harness import bot_process

pytestmark = pytest.mark.e2e


@pytest.fixture
async def workshop(tmp_path, bot_env):
    return await import_text(
        tmp_path / "workshop.yaml",
        f"""
programmes:
  - key: workshop
    title: Glaze workshop
    classes:
      - key: glaze
        title: Glazing
        capacity: 1
        promotion: offer
        offer_hold: 30
        sessions: ["{soon(5)} 15:00"]
""",
        bot_env,
    )


async def book_or_wait(client):
    await client.send("/start")
    await client.wait_message("Hello")
    await client.click("📅 Book a session")
    await client.click("Glaze workshop")
    await client.click(re.compile(r"3:00\sPM"))
    await client.click(re.compile(r"✅ Book|Join the waiting list"))


async def alice_cancels(alice, fake, before=lambda: None):
    await alice.send("/bookings")
    await alice.wait_message("My bookings", new=True, since=fake.mark() - 1)
    await alice.click(re.compile(r"Glaze workshop"))
    await alice.click("❌ Cancel booking")
    before()  # the confirming click edits Alice's message: the next sendMessage is Bob's offer
    await alice.click("Yes, cancel it")


def to(chat_id: int):
    return lambda call: str(call.params.get("chat_id")) == str(chat_id)


async def test_an_offer_refused_with_429_is_sent_again_after_retry_after(
    fake, bot_env, workshop, database
):
    async with bot_process(fake, env=bot_env):
        alice, bob = fake.user(1001, "Alice"), fake.user(1002, "Bob")
        for client in (alice, bob):
            await book_or_wait(client)
        assert "waiting list: number 1" in bob.last_bot_message().text

        mark = fake.mark()
        await alice_cancels(
            alice,
            fake,
            before=lambda: fake.fail_next(
                "sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1
            ),
        )

        refused = await fake.wait_for_call("sendMessage", to(bob.id), since=mark)
        assert refused.response["error_code"] == 429
        retried = await fake.wait_for_call("sendMessage", to(bob.id), since=refused.index + 1)
        assert retried.ok
        assert retried.params["text"] == refused.params["text"]
        offer = await bob.wait_message("A place freed up in")
        assert "Glaze workshop — Glazing" in offer.text
        assert database.query("select status from waitlist") == [("offered",)]


async def test_a_client_who_blocked_the_bot_is_marked_until_they_write_again(
    fake, bot_env, workshop, database
):
    async with bot_process(fake, env=bot_env):
        alice, bob = fake.user(1001, "Alice"), fake.user(1002, "Bob")
        for client in (alice, bob):
            await book_or_wait(client)

        mark = fake.mark()
        bob.blocked = True
        await alice_cancels(alice, fake)

        refused = await fake.wait_for_call("sendMessage", to(bob.id), since=mark)
        assert refused.response["error_code"] == 403
        # the offer's outbox row ends failed with the reason, not retried forever
        await database.wait_for(
            "select kind, state, error from outbox where recipient = 1002",
            [("offered", "failed", "unreachable: Forbidden: bot was blocked by the user")],
        )
        assert database.query("select unreachable_since from clients where id = 1002") != [
            (None,)
        ], "Bob was not marked unreachable"

        bob.blocked = False
        await bob.send("/start")
        await bob.wait_message("Hello", new=True, since=fake.mark() - 1)
        assert database.query("select unreachable_since from clients where id = 1002") == [(None,)]
