"""Ongoing classes, waiting-list offers and ranks through the real bot process."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import import_text, soon
from tests.e2e.harness import bot_process

pytestmark = pytest.mark.e2e


@pytest.fixture
async def courses(tmp_path, bot_env):
    return await import_text(
        tmp_path / "courses.yaml",
        f"""
programmes:
  - key: ceramics
    title: Ceramics course
    kind: ongoing
    classes:
      - key: tue
        title: Tuesday group
        capacity: 1
        promotion: offer
        offer_hold: 60
        sessions: ["{soon(2)} 18:00", "{soon(9)} 18:00", "{soon(16)} 18:00"]
  - key: club
    title: Members club
    public: no
    classes:
      - key: sunday
        title: Sunday session
        capacity: 8
        sessions: ["{soon(4)} 11:00"]
  - key: workshop
    title: Glaze workshop
    classes:
      - key: glaze
        title: Glazing
        capacity: 1
        promotion: offer
        offer_hold: 30
        sessions: ["{soon(5)} 15:00"]
  - key: advanced
    title: Advanced yoga
    kind: pay-as-you-go
    rank: 2
    classes:
      - key: flow
        title: Power flow
        capacity: 5
        sessions: ["{soon(3)} 07:00"]
""",
        bot_env,
    )


async def open_ceramics(client):
    await client.send("/start")
    await client.wait_message("Hello")
    await client.click("📅 Book a session")
    await client.click("Ceramics course")  # one class: straight to its card
    return client.last_bot_message()


async def test_enrol_wait_and_take_an_offered_place_when_someone_leaves(
    fake, bot_env, courses, database
):
    async with bot_process(fake, env=bot_env):
        alice = fake.user(1001, "Alice")
        bob = fake.user(1002, "Bob")

        card = await open_ceramics(alice)
        assert "enrolling books all its 3 remaining sessions" in card.text
        await alice.click("✅ Enrol in this class")
        await alice.click("Skip")  # no note to the teacher (ENROLMENT_NOTES=optional)
        assert "You're enrolled in Ceramics course — Tuesday group!" in (
            alice.last_bot_message().text
        )
        assert database.query(
            "select count(*) from bookings where client_id = 1001 and status = 'active'"
        ) == [(3,)]

        card = await open_ceramics(bob)
        assert "This class is full" not in card.text  # it has a waiting list instead
        await bob.click("⏳ Join the waiting list")
        await bob.click("Skip")
        assert "you are on its waiting list: number 1" in bob.last_bot_message().text

        # Alice leaves the class; Bob is offered her place
        await alice.send("/start")
        await alice.wait_message("Hello", new=True, since=fake.mark() - 1)
        await alice.click("📅 Book a session")
        await alice.click("Ceramics course")
        await alice.click("🚪 Leave this class")
        await alice.click("Yes, leave the class")
        assert database.query(
            "select count(*) from bookings where client_id = 1001 and status = 'active'"
        ) == [(0,)]

        offer = await bob.wait_message("A place freed up in")
        assert "It is held for you until" in offer.text
        answer = await bob.click("✅ Take it", message_id=offer.message_id)
        assert answer is None
        done = await bob.wait_message("Done: you are enrolled")
        assert done.buttons == []  # the offer can't be answered twice
        assert database.query(
            "select count(*) from bookings where client_id = 1002 and status = 'active'"
        ) == [(3,)]
        assert database.query("select status from waitlist") == [("booked",)]


async def test_a_client_below_the_programmes_rank_is_refused_with_the_reason(
    fake, bot_env, courses, database
):
    async with bot_process(fake, env=bot_env):
        carol = fake.user(1003, "Carol")
        await carol.send("/start")
        await carol.wait_message("Hello")
        await carol.click("📅 Book a session")
        await carol.click("Advanced yoga")
        await carol.click(re.compile(r"5 spots left"))

        await carol.click("✅ Book")

        card = carol.last_bot_message()
        assert "This programme is for rank 2 and up; your rank is 0." in card.text
        assert database.query("select count(*) from bookings") == [(0,)]
        assert database.query("select count(*) from enrolments") == [(0,)]


async def test_a_private_programme_is_reached_only_by_its_share_link(fake, bot_env, courses):
    (payload,) = re.findall(r"private programme Members club: share \S+\?start=(p_\S+)", courses)
    async with bot_process(fake, env=bot_env):
        dora = fake.user(1004, "Dora")
        await dora.send("/start")
        await dora.wait_message("Hello")
        await dora.click("📅 Book a session")
        assert "Members club" not in dora.buttons()

        mark = fake.mark()
        await dora.send(f"/start {payload}")
        sessions = await dora.wait_message("Members club — Sunday session", since=mark, new=True)
        assert any("8 spots left" in text for text in sessions.button_texts)

        mark = fake.mark()
        await dora.send("/start p_NotTheRightToken")
        await dora.wait_message("That link doesn't lead to a session I know.", since=mark)
        await dora.wait_message("Hello", since=mark, new=True)


async def test_a_cancelled_session_place_is_offered_to_the_first_waiting_client(
    fake, bot_env, courses, database
):
    async with bot_process(fake, env=bot_env):
        alice, bob = fake.user(1001, "Alice"), fake.user(1002, "Bob")
        for client in (alice, bob):
            await client.send("/start")
            await client.wait_message("Hello")
            await client.click("📅 Book a session")
            await client.click("Glaze workshop")
            await client.click(re.compile(r"3:00\sPM"))
            await client.click(re.compile(r"✅ Book|Join the waiting list"))
        assert "You're booked!" in alice.last_bot_message().text
        assert "waiting list: number 1" in bob.last_bot_message().text

        await alice.send("/bookings")
        await alice.wait_message("My bookings", new=True, since=fake.mark() - 1)
        await alice.click(re.compile(r"Glaze workshop"))
        await alice.click("❌ Cancel booking")
        await alice.click("Yes, cancel it")

        offer = await bob.wait_message("A place freed up in")
        assert "Glaze workshop — Glazing" in offer.text
        assert database.query("select status from waitlist") == [("offered",)]
        assert database.query(
            "select seats_taken from sessions s join classes c "
            "on c.id = s.class_id where c.key = 'glaze'"
        ) == [(1,)]  # held

        await bob.click("✅ Take it", message_id=offer.message_id)
        await bob.wait_message("Done: you are booked for")
        assert database.query("select client_id from bookings where status = 'active'") == [(1002,)]
