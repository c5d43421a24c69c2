"""Telegram failing the real bot process: its answer to a client's "✅ Book" tap (5xx, 429,
a dropped connection, a slow answer, a client who blocked the bot), and a bulk send to every
client booked for a session (its reminders, meeting all of those faults at once). Nothing is
lost or doubled: each booking exists once, each client can carry on from whatever their
screen shows, each reachable client gets their notice once and the outbox keeps nothing
pending.

A timeout proper is not injected: the bot's aiohttp session waits 60 s (aiogram's default)
before giving up, and then raises the same ``TelegramNetworkError`` a dropped connection
raises, which is injected. Slow answers within that time are (``delay_next``).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable

import pytest

from tests.e2e.conftest import Database, import_text, soon
from tests.e2e.harness import bot_process
from tests.fake_telegram import ApiCall, FakeMessage, FakeTelegram, FakeUser

pytestmark = pytest.mark.e2e

TITLE = "Yoga — Evening flow"
BLOCKED = "Forbidden: bot was blocked by the user"


@pytest.fixture
async def session_id(tmp_path, bot_env, database) -> int:
    """One session with room for everyone, in three days (so its 24-hour reminder is ahead)."""
    await import_text(
        tmp_path / "studio.yaml",
        f"""
programmes:
  - key: yoga
    title: Yoga
    classes:
      - key: evening
        title: Evening flow
        capacity: 20
        sessions: ["{soon(3)} 18:00"]
""",
        bot_env,
    )
    ((found,),) = database.query("select id from sessions")
    return found


def outcome(call: ApiCall) -> str:
    """How Telegram answered: "ok", an error code, or "dropped" (no answer at all)."""
    if call.dropped:
        return "dropped"
    return "ok" if call.ok else str((call.response or {}).get("error_code"))


def to(chat_id: int) -> Callable[[ApiCall], bool]:
    return lambda call: call.params.get("chat_id") == chat_id


async def open_card(client: FakeUser, fake: FakeTelegram, session_id: int) -> FakeMessage:
    """The session's card, through its share link (as a client coming back would open it)."""
    mark = fake.mark()
    await client.send(f"/start s_{session_id}")
    card = await client.wait_message(TITLE, since=mark, new=True)
    assert "✅ Book" in card.button_texts
    return card


async def bookings_list(client: FakeUser, fake: FakeTelegram) -> list[str]:
    """/bookings: the entries of the list the bot sends."""
    mark = fake.mark()
    await client.send("/bookings")
    listing = await client.wait_message("My bookings", since=mark, new=True)
    return [text for text in listing.button_texts if TITLE in text]


def bookings_of(database: Database, client: FakeUser) -> list[tuple]:
    return database.query("select status from bookings where client_id = ?", client.id)


# ----- the answer to a Book tap -------------------------------------------------------------


def block(_fake: FakeTelegram, client: FakeUser) -> None:
    client.blocked = True  # they tap Book and block the bot before its answer arrives


# what Telegram does to the bot's answer: "edit" is the card becoming "You're booked!" (the
# booking's screen), "answer" the answer to the tap (ending its spinner), which comes after
REPLY_FAULTS: dict[str, tuple[str, str, Callable[[FakeTelegram, FakeUser], None]]] = {
    "edit 502": (
        "editMessageText",
        "502",
        lambda fake, _: fake.fail_next("editMessageText", 502, "Bad Gateway"),
    ),
    "edit 429": (
        "editMessageText",
        "429",
        lambda fake, _: fake.fail_next(
            "editMessageText", 429, "Too Many Requests: retry after 1", retry_after=1
        ),
    ),
    "edit dropped": (
        "editMessageText",
        "dropped",
        lambda fake, _: fake.drop_next("editMessageText"),
    ),
    "answer 502": (
        "answerCallbackQuery",
        "502",
        lambda fake, _: fake.fail_next("answerCallbackQuery", 502, "Bad Gateway"),
    ),
    "answer dropped": (
        "answerCallbackQuery",
        "dropped",
        lambda fake, _: fake.drop_next("answerCallbackQuery"),
    ),
    "edit 403 (blocked)": ("editMessageText", "403", block),
}


async def test_a_booking_whose_answer_telegram_fails_is_made_once_and_the_client_carries_on(
    fake, bot_env, session_id, database
):
    faulted = [fake.user(2001 + n, f"Client {n}") for n in range(len(REPLY_FAULTS))]
    calm, double = fake.user(2100, "Calm"), fake.user(2101, "Double")
    clients = [*faulted, calm, double]
    async with bot_process(fake, env=bot_env):
        await open_card(calm, fake, session_id)
        for client, (fault, (method, expected, inject)) in zip(
            faulted, REPLY_FAULTS.items(), strict=True
        ):
            card = await open_card(client, fake, session_id)
            book = card.button("✅ Book").callback_data
            mark = fake.mark()
            inject(fake, client)
            await client.click("✅ Book")  # returns once the bot answered the tap, or tried to
            client.blocked = False  # (the one who blocked the bot unblocks it and looks)

            (hit, *_) = [call for call in fake.calls[mark:] if call.method == method]
            assert outcome(hit) == expected, fault
            assert bookings_of(database, client) == [("active",)], fault
            screen = client.last_bot_message()
            if method == "editMessageText":
                # Telegram never showed "You're booked!": the card, with its Book button, is
                # what the client still sees, and tapping it again must not book twice
                assert screen.text == card.text, fault
                await client.click("✅ Book", message_id=card.message_id)
                again = client.last_bot_message()
                assert "You are already booked for this session." in again.text, fault
                assert "✅ Book" not in again.button_texts, fault
            else:
                # the screen moved on; the dialog must have moved on with it
                assert "You're booked!" in screen.text, fault
                await client.click_data(book, message_id=card.message_id)  # a tap in flight
                assert "You're booked!" in client.last_bot_message().text, fault
                await client.click("🏠 Main menu")
                assert client.last_bot_message().text.startswith("👋 Hello, Client"), fault
            assert bookings_of(database, client) == [("active",)], fault
            assert len(await bookings_list(client, fake)) == 1, fault

        # the others book on as usual (this one had the card open all along)
        await calm.click("✅ Book")
        assert "You're booked!" in calm.last_bot_message().text

        # two taps at once (a double tap) while Telegram is slow to show the answer
        card = await open_card(double, fake, session_id)
        book = card.button("✅ Book").callback_data
        mark = fake.mark()
        fake.delay_next("editMessageText", 1.5)
        await asyncio.gather(
            double.click_data(book, message_id=card.message_id),
            double.click_data(book, message_id=card.message_id),
        )
        slow = await fake.wait_for_call("editMessageText", to(double.id), since=mark)
        assert slow.ok
        assert "You're booked!" in slow.params["text"]
        assert bookings_of(database, double) == [("active",)]
        # the second tap, handled after the first, found the booking made: either screen says
        # so, and its buttons are the dialog's
        screen = double.last_bot_message()
        assert re.search(r"You're booked!|You are booked for this session", screen.text)
        await double.click("🗂 My bookings")
        listing = double.last_bot_message()
        assert "My bookings" in listing.text
        assert len([text for text in listing.button_texts if TITLE in text]) == 1

    assert database.query("select seats_taken from sessions") == [(len(clients),)]
    per_client = Counter(client for (client,) in database.query("select client_id from bookings"))
    assert per_client == {client.id: 1 for client in clients}


# ----- a bulk send --------------------------------------------------------------------------

# The bot has no staff action that tells every client of a session at once (no "cancel the
# session" use case): the reminders are its message to each of them, sent through the
# outbox and the rate-limited sender like every notice.
BULK = 7  # clients booked for the session, each reminded of it
REMINDERS = "select recipient, state, attempts, error from outbox where kind = 'reminder'"


async def test_a_reminder_to_every_booked_client_through_mixed_faults_reaches_each_once(
    fake, bot_env, session_id, database
):
    clients = [fake.user(4001 + n, f"Client {n}") for n in range(BULK)]
    blocked = clients[2]
    env = {**bot_env, "REMINDERS": "24h", "OUTBOX_CHECK_SECONDS": "1"}
    async with bot_process(fake, env=env):
        for client in clients:
            await open_card(client, fake, session_id)
            await client.click("✅ Book")
            assert "You're booked!" in client.last_bot_message().text
        # the bookings queued their reminders, due a day before the session
        queued = database.query(REMINDERS + " order by recipient")
        assert queued == [(client.id, "pending", 0, None) for client in clients]

        mark = fake.mark()
        blocked.blocked = True
        fake.drop_next("sendMessage")
        fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        fake.fail_next("sendMessage", 502, "Bad Gateway", count=2)
        # as if a day had passed: the reminders are due
        database.execute("update outbox set due_at = created_at where kind = 'reminder'")

        await database.wait_for(
            REMINDERS + " order by recipient",
            [
                (client.id, "sent", 1, None)
                if client is not blocked
                else (client.id, "failed", 1, f"unreachable: {BLOCKED}")
                for client in clients
            ],
            within=15,
        )

    sends = [call for call in fake.calls[mark:] if call.method == "sendMessage"]
    assert sorted(outcome(call) for call in sends if outcome(call) != "ok") == [
        "403",
        "429",
        "502",
        "502",
        "dropped",
    ]
    accepted = Counter(call.params["chat_id"] for call in sends if call.ok)
    assert accepted == {client.id: 1 for client in clients if client is not blocked}
    assert [outcome(call) for call in sends if to(blocked.id)(call)][-1] == "403"
    for client in clients:
        if client is not blocked:
            (reminder,) = [m for m in client.bot_messages() if m.text.startswith("⏰ Reminder")]
            assert TITLE in reminder.text
    assert database.query("select id from clients where unreachable_since is not null") == [
        (blocked.id,)
    ]
    assert database.query("select count(*) from outbox where state = 'pending'") == [(0,)]
