"""Multi-spot sessions through the real bot process and the fake Bot API: staff register a
group, make a multi session and publish it; the group gets a live card; clients open its Book
button (a deep link) and book spots, and the card's count is edited in place, batched; staff
reserve the last spot and the client confirms it; an unconfirmed reservation is released and
its spot frees; a group the bot was removed from is left alone."""

from __future__ import annotations

import asyncio
import re

import pytest

from bot.text.i18n import build_i18n
from tests.e2e.conftest import import_text, soon
from tests.e2e.harness import bot_process

pytestmark = pytest.mark.e2e

SAM = 9001  # staff
GROUP = -1001234567890
I18N = build_i18n("en")


@pytest.fixture
def env(bot_env) -> dict[str, str]:
    return {
        **bot_env,
        "ADMIN_IDS": str(SAM),
        "ANNOUNCE_CHECK_SECONDS": "0.3",
        "SEND_GROUP_PER_MINUTE": "20",  # one edit per 3 s per group
        "OFFER_CHECK_SECONDS": "1",  # releases unconfirmed reservations
        "REMINDERS": "",
    }


@pytest.fixture
async def types(tmp_path, env):
    return await import_text(
        tmp_path / "types.yaml",
        """
session_types:
  - key: minis
    name: Christmas minis
    kind: multi
    duration: 20
    break: 10
    price: "30.00"
    hold: 60
  - key: portrait
    name: Portrait
    kind: single
    duration: 60
""",
        env,
    )


async def test_a_published_multi_session_fills_its_live_card_and_reservations_resolve(
    fake, env, types, database
):
    assert "session types: 2 added" in types
    sam, alice, bob, carol, dan = (
        fake.user(SAM, "Sam"),
        fake.user(1001, "Alice"),
        fake.user(1002, "Bob"),
        fake.user(1003, "Carol"),
        fake.user(1004, "Dan"),
    )
    group = fake.group(GROUP, "Studio fans")
    day = soon(3).isoformat()
    async with bot_process(fake, env=env):
        await group.send(sam, f"/announcehere@{fake.bot_username}")
        await group.wait_message("New multi sessions will be announced here")
        stranger = await group.send(alice, f"/announcehere@{fake.bot_username}")
        assert stranger.update_id is not None
        await group.wait_message("Only the studio's staff can set this up")

        # bad input: a clear answer, nothing written
        await sam.send(f"/multi minis {day} 25:00 3")
        await sam.wait_message("Please write it like this")
        await sam.send(f"/multi nope {day} 10:00 3")
        await sam.wait_message("No session type has that key")
        await sam.send(f"/multi minis {day} 10:00 0")
        await sam.wait_message("The number of spots must be between 1 and 100")
        assert database.query("select count(*) from typed_sessions") == [(0,)]

        await sam.send(f"/multi minis {day} 10:00 3")
        made = await sam.wait_message("spots from")
        session = re.search(r"Session (\d+) made", made.text).group(1)
        await sam.send(f"/publish {session}")
        await sam.wait_message("Announcing it in 1 chat")

        card = await group.wait_message("Christmas minis")
        assert "🟢 3 spots left" in card.text
        assert "€30.00 per spot" in card.text
        [(label, url)] = card.url_buttons.items()
        assert label == "📅 Book a spot"
        assert re.fullmatch(rf"https://t\.me/{fake.bot_username}\?start=c_[\w-]{{8,24}}", url)

        # Alice opens the card's button: the spots as times, she books the first
        await alice.open_url(url)
        spots = await alice.wait_message("Christmas minis")
        assert len([b for b in spots.button_texts if "1 spot left" in b]) == 3
        mark = fake.mark()
        await alice.click(re.compile(r"10:00\sAM · 1 spot left"))
        await alice.click("✅ Book")
        assert "You're booked!" in alice.last_bot_message().text
        card = await group.wait_message("🟢 2 spots left", since=mark, timeout=10)

        # Bob books right after: the card catches up with one edit, not faster than the rate
        mark = fake.mark()
        await bob.open_url(url)
        await bob.wait_message("Christmas minis", since=mark)
        # the spot Alice took shows as taken
        assert any(re.search(r"10:00\sAM · full", b) for b in bob.buttons())
        await bob.click(re.compile(r"10:30\sAM · 1 spot left"))
        await bob.click("✅ Book")
        assert "You're booked!" in bob.last_bot_message().text
        await group.wait_message("🟢 1 spot left", since=mark, timeout=10)
        edits = [c for c in fake.edit_calls(GROUP) if c.ok]
        assert len(edits) == 2
        assert edits[1].at - edits[0].at >= 2.9  # 20 edits a minute at most

        # staff reserve the last spot for Carol; she confirms; the card says full
        await carol.start()
        await carol.wait_message("Hello")
        await sam.send(f"/reserve {session} {day} 11:00 {carol.id}")
        await sam.wait_message("Reserved for Carol")
        ask = await carol.wait_message("reserved")
        assert {"✅ Confirm", "✖️ Decline"} <= set(ask.button_texts)
        await carol.click("✅ Confirm", message_id=ask.message_id)
        await carol.wait_message("Confirmed. See you then!")
        assert database.query(
            "select count(*) from bookings where client_id = 1003 and confirmed_at is not null"
        ) == [(1,)]
        full = await group.wait_message("🔴 Full — join the waiting list", timeout=10)
        assert list(full.url_buttons) == ["⏳ Full — join the waiting list"]

        # a single session for Dan, not confirmed in time: released, the client told
        await dan.start()
        await dan.wait_message("Hello")
        await sam.send(f"/single portrait {day} 15:00 {dan.id}")
        await sam.wait_message("Dan is asked to confirm it")
        await dan.wait_message("reserved")
        database.execute(  # its hold runs out (the job checks the time, not a timer)
            "update bookings set hold_until = '2000-01-01 00:00:00' where client_id = 1004"
        )
        await dan.wait_message("was not confirmed in time", timeout=10)
        assert database.query(
            "select b.status, s.seats_taken from bookings b join sessions s "
            "on s.id = b.session_id where b.client_id = 1004"
        ) == [("cancelled", 0)]

        # the bot is removed from the group: recorded, and nothing more goes there
        group.remove_bot()
        await database.wait_for(
            "select count(*) from announce_chats where gone_at is not null", [(1,)]
        )
        calls = len(fake.edit_calls(GROUP))
        database.execute("update sessions set seats_taken = 0")  # the card would change now
        await asyncio.sleep(1.5)  # five announcer ticks
        await sam.send("/groups")
        listing = await sam.wait_message("Announcement chats")
        assert "I was removed" in listing.text
        assert len(fake.edit_calls(GROUP)) == calls


async def test_chats_configured_by_id_are_announced_in_and_a_wrong_id_is_recorded_once(
    fake, env, types, database
):
    sam = fake.user(SAM, "Sam")
    group = fake.group(GROUP, "Studio fans")
    env = {**env, "ANNOUNCE_CHATS": f"{GROUP},-100999"}  # the second: not a chat the bot is in
    async with bot_process(fake, env=env):
        await sam.send(f"/multi minis {soon(3).isoformat()} 10:00 2 together Workshop")
        made = await sam.wait_message("2 seats at")
        session = re.search(r"Session (\d+) made", made.text).group(1)
        await sam.send(f"/publish {session}")
        await sam.wait_message("Announcing it in 2 chats")

        card = await group.wait_message("Workshop")
        assert "🟢 2 spots left" in card.text
        await database.wait_for(
            "select chat_id from announce_chats where gone_at is not null", [(-100999,)]
        )
        await sam.send("/groups")
        listing = await sam.wait_message("Announcement chats")
        assert "-100999): I was removed" in listing.text
        await asyncio.sleep(1.0)  # more announcer ticks: the wrong chat is not tried again
    # the fake counts a send to an unknown chat as a bot error: here it is the one expected
    [wrong] = [e for e in fake.errors if "chat not found" in e]
    assert "'chat_id': -100999" in wrong
    fake.errors.remove(wrong)


async def test_a_single_sessions_client_picks_its_package_and_pays_that_price(
    fake, env, tmp_path, database
):
    report = await import_text(
        tmp_path / "weddings.yaml",
        """
session_types:
  - key: wedding
    name: Wedding
    kind: single
    duration: 480
    packages:
      - {key: basic, name: Basic, price: "800.00", description: "6 hours, 300 photos"}
      - {key: full, name: Full day, price: "1500.00"}
""",
        env,
    )
    assert "session types: 1 added" in report
    sam, alice = fake.user(SAM, "Sam"), fake.user(1001, "Alice")
    day = soon(4).isoformat()
    async with bot_process(fake, env=env):
        await alice.start()
        await alice.wait_message("Hello")
        await sam.send(f"/single wedding {day} 11:00 {alice.id} gold")
        await sam.wait_message(
            "That session type offers no such package. Its packages: basic, full."
        )
        assert database.query("select count(*) from typed_sessions") == [(0,)]

        await sam.send(f"/single wedding {day} 11:00 {alice.id}")
        await sam.wait_message("Alice is asked to confirm it")
        ask = await alice.wait_message("reserved")
        assert "Pick your package to confirm:" in ask.text
        assert "Basic — €800.00: 6 hours, 300 photos" in ask.text
        assert ask.button_texts == ["📦 Basic — €800.00", "📦 Full day — €1,500.00", "✖️ Decline"]
        assert database.query("select count(*) from ledger") == [(0,)]  # nothing agreed yet

        # a forged pick naming a package the type doesn't offer: refused, nothing charged
        [(booking,)] = database.query("select id from bookings")
        answer = await alice.click_data(f"resvp:{booking}:gold", message_id=ask.message_id)
        assert answer == "That session type offers no such package. Its packages: basic, full."
        assert database.query("select count(*) from ledger") == [(0,)]

        mark = fake.mark()
        await alice.click("📦 Full day — €1,500.00", message_id=ask.message_id)
        done = await alice.wait_message("Confirmed: 📦 Full day — €1,500.00", since=mark)
        assert "💳 To pay: €1,500.00" in done.text
        assert database.query("select kind, amount_minor from ledger where client_id = 1001") == [
            ("charge", 150000)
        ]
        assert database.query("select package_key, package_name from typed_sessions") == [
            ("full", "Full day")
        ]
        assert database.query("select confirmed_at is not null from bookings") == [(1,)]
        # the old buttons are gone; pressing a stale one again changes nothing
        again = await alice.click_data(f"resvp:{booking}:basic", message_id=ask.message_id)
        assert "no longer waiting for an answer" in again
        assert database.query("select count(*) from ledger") == [(1,)]


async def test_a_groups_cards_are_in_the_groups_language_whoever_books(fake, env, types, database):
    sam, alice = fake.user(SAM, "Sam"), fake.user(1001, "Alice")
    group = fake.group(GROUP, "Rajongók")
    with I18N.context(), I18N.use_locale("hu"):
        two_left = I18N.gettext("🟢 {n} spot left", "🟢 {n} spots left", n=2).format(n=2)
        one_left = I18N.gettext("🟢 {n} spot left", "🟢 {n} spots left", n=1).format(n=1)
        book = I18N.gettext("📅 Book a spot")
        registered = I18N.gettext("✅ New multi sessions will be announced here.")
    async with bot_process(fake, env=env):
        await group.send(sam, f"/announcehere@{fake.bot_username} xx")
        await group.wait_message("I don't speak that language yet. Languages: cs, en, hu, ru.")
        assert database.query("select count(*) from announce_chats") == [(0,)]

        await group.send(sam, f"/announcehere@{fake.bot_username} hu")
        await group.wait_message(registered)
        assert database.query("select language from announce_chats") == [("hu",)]
        await sam.send(f"/multi minis {soon(3).isoformat()} 10:00 2")
        made = await sam.wait_message("spots from")
        session = re.search(r"Session (\d+) made", made.text).group(1)
        await sam.send(f"/publish {session}")
        card = await group.wait_message(two_left)
        [(label, url)] = card.url_buttons.items()
        assert label == book

        # an English-speaking client books: the edit stays Hungarian
        mark = fake.mark()
        await alice.open_url(url)
        await alice.wait_message("Christmas minis", since=mark)
        await alice.click(re.compile(r"10:00\sAM · 1 spot left"))
        await alice.click("✅ Book")
        await group.wait_message(one_left, since=mark, timeout=10)
