"""A client books and cancels through the real bot process, pressing the buttons it sent."""

from __future__ import annotations

import re

import pytest

from tests.e2e.harness import bot_process, run_cli

pytestmark = pytest.mark.e2e


async def test_a_client_books_a_session_sees_it_and_cancels_it(fake, bot_env, catalog, database):
    async with bot_process(fake, env=bot_env):
        alice = fake.user(1001, "Alice", language_code="en")

        await alice.send("/start")
        await alice.wait_message("Hello, Alice!")
        await alice.click("📅 Book a session")
        programmes = alice.last_bot_message()
        assert "Choose a programme" in programmes.text
        assert programmes.button_texts[:2] == ["Pottery <for beginners>", "Yoga"]

        await alice.click("Yoga")  # one class: straight to its sessions
        sessions = alice.last_bot_message()
        assert "Yoga — Evening flow" in sessions.text
        assert "Prague time" in sessions.text
        assert all(
            re.search(r"6:00\sPM · 3 spots left", text) for text in sessions.button_texts[:2]
        )

        await alice.click(re.compile(r"6:00\sPM · 3 spots left"))
        card = alice.last_bot_message()
        assert "€12.50" in card.text
        assert "1 hour 15 minutes" in card.text or "75 minutes" in card.text
        assert "3 spots left" in card.text

        await alice.click("✅ Book")
        confirmation = alice.last_bot_message()
        assert "You're booked!" in confirmation.text
        assert re.search(r"6:00\sPM \(Prague time\)", confirmation.text)
        assert database.query("select client_id, status from bookings") == [(1001, "active")]
        assert database.query("select first_name from clients") == [("Alice",)]

        await alice.click("🗂 My bookings")
        bookings = alice.last_bot_message()
        assert "My bookings" in bookings.text
        (entry,) = [text for text in bookings.button_texts if "Yoga — Evening flow" in text]

        await alice.click(entry)
        await alice.click("❌ Cancel booking")
        assert "Cancel your booking for Yoga — Evening flow" in alice.last_bot_message().text
        await alice.click("Yes, cancel it")
        assert "is cancelled" in alice.last_bot_message().text
        assert database.query("select status from bookings") == [("cancelled",)]
        assert database.query("select seats_taken from sessions where seats_taken > 0") == []

        await alice.click("◀️ Back")
        assert "You have no upcoming bookings." in alice.last_bot_message().text


async def test_the_last_spot_goes_to_whoever_books_first_and_the_other_waits(
    fake, bot_env, catalog, database
):
    async with bot_process(fake, env=bot_env):
        alice = fake.user(1001, "Alice")
        bob = fake.user(1002, "Bob")
        for client in (alice, bob):
            await client.send("/start")
            await client.wait_message("Hello")
            await client.click("📅 Book a session")
            await client.click("Pottery <for beginners>")
            await client.click(re.compile(r"^Wheel & clay"))
            await client.click(re.compile(r"1 spot left"))
            assert "1 spot left" in client.last_bot_message().text

        await bob.click("✅ Book")
        assert "You're booked!" in bob.last_bot_message().text

        await alice.click("✅ Book")  # a moment too late: she is queued instead
        queued = alice.last_bot_message()
        assert "is full, so you are on the waiting list: number 1" in queued.text
        assert database.query("select client_id from bookings where status = 'active'") == [(1002,)]
        assert database.query("select client_id, status from waitlist") == [(1001, "waiting")]

        # Bob's card says he is booked and offers no second booking; then he cancels
        await bob.send("/bookings")
        await bob.wait_message("My bookings", new=True, since=fake.mark() - 1)
        await bob.click(re.compile(r"Wheel & clay"))
        await bob.click("❌ Cancel booking")
        await bob.click("Yes, cancel it")

        # the class promotes automatically: Alice is told she has the place
        promoted = await alice.wait_message("A place freed up and it is yours")
        assert "Pottery &lt;for beginners&gt;" not in promoted.text  # shown as text, not markup
        assert database.query("select client_id from bookings where status = 'active'") == [(1001,)]
        assert database.query("select status from waitlist") == [("booked",)]


async def test_deep_links_and_stale_buttons_get_clear_answers(fake, bot_env, catalog, database):
    ((session_id,),) = database.query(
        "select s.id from sessions s join classes c on c.id = s.class_id where c.key = 'hand'"
    )
    async with bot_process(fake, env=bot_env):
        alice = fake.user(1001, "Alice")

        await alice.send(f"/start s_{session_id}")
        card = await alice.wait_message("Pottery <for beginners> — Hand building")
        assert "4 spots left" in card.text
        old_book_button = card.button("✅ Book").callback_data

        for payload in ("s_999999", "nonsense"):
            mark = fake.mark()
            await alice.send(f"/start {payload}")
            await alice.wait_message("That link doesn't lead to a session I know.", since=mark)
            await alice.wait_message("Hello, Alice!", since=mark, new=True)

        # a button of the dialog that /start replaced (Telegram clients may still show it)
        answer = await alice.click_data(old_book_button, message_id=card.message_id)
        assert answer == "This button has expired. Here is the menu again."
        assert database.query("select count(*) from bookings") == [(0,)]

        # the session disappears while Alice looks at it
        mark = fake.mark()
        await alice.send(f"/start s_{session_id}")
        await alice.wait_message("Hand building", since=mark, new=True)
        database.execute("delete from sessions where id = ?", session_id)
        await alice.click("✅ Book")
        assert "This session is no longer available." in alice.last_bot_message().text
        assert "✅ Book" not in alice.last_bot_message().button_texts
        assert database.query("select count(*) from bookings") == [(0,)]


async def test_a_cancelled_booking_cannot_be_cancelled_twice_from_an_old_screen(
    fake, bot_env, catalog, database
):
    async with bot_process(fake, env=bot_env):
        alice = fake.user(1001, "Alice")
        await alice.send("/start")
        await alice.wait_message("Hello")
        await alice.click("📅 Book a session")
        await alice.click("Yoga")
        await alice.click(re.compile(r"3 spots left"))
        await alice.click("✅ Book")
        await alice.click("🗂 My bookings")
        await alice.click(re.compile(r"Yoga — Evening flow"))
        await alice.click("❌ Cancel booking")
        confirm = alice.last_bot_message()
        ((booking_id,),) = database.query("select id from bookings")

        # cancelled meanwhile from another device (same use case, outside this chat)
        database.execute("update bookings set status = 'cancelled' where id = ?", booking_id)
        database.execute(
            "update sessions set seats_taken = seats_taken - 1 where id = "
            "(select session_id from bookings where id = ?)",
            booking_id,
        )
        await alice.click("Yes, cancel it", message_id=confirm.message_id)

        screen = alice.last_bot_message()
        assert "This booking is already cancelled." in screen.text
        assert "❌ Cancel booking" not in screen.button_texts
        assert database.query("select sum(seats_taken) from sessions") == [(0,)]


async def test_a_wrong_token_stops_the_bot_with_one_clear_line(fake, bot_env):
    env = {**bot_env, "BOT_TOKEN": "111:not-the-token", "TELEGRAM_API_BASE": fake.base_url}

    result = await run_cli(env=env)

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Configuration error: Telegram rejected BOT_TOKEN: ask @BotFather for the right one."
    )
    assert [call.method for call in fake.calls] == ["getMe"]
    fake.errors.clear()  # the fake notes the wrong token; here it is the point of the test
