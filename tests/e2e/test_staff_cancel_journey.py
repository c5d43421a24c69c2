"""Staff cancellations through the real bot process and the fake Bot API: a session of five
clients paid in different ways (Stars, credit, a pass, a course unit, unpaid) cancelled from
its roster leaves each client's balance, pass and course grid right, with exactly one notice
each and 🔁 Book another time leading to the class's other sessions; one booking cancelled
from the roster's client card, with no id typed; and one booking moved from the roster's
client card into a full session (within the class's overload), with no id typed, the client
told once in their language."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.dialogs.settings import language_name
from bot.text.i18n import build_i18n
from domain.billing import money
from tests.e2e.conftest import import_text, soon
from tests.e2e.harness import bot_process

pytestmark = pytest.mark.e2e

SAM = 5001
ALICE, BOB, CAROL, DAN, EVE = 1001, 1002, 1003, 1004, 1005
NOTICE = "The studio cancelled"
I18N = build_i18n("en")


@pytest.fixture
def env(bot_env) -> dict[str, str]:
    return {
        **bot_env,
        "CURRENCY": "XTR",
        "PAYMENT_METHODS": "stars",
        "ADMIN_IDS": str(SAM),
        "REMINDERS": "",
    }


@pytest.fixture
async def clinic(tmp_path, env):
    day = soon(3)
    return await import_text(
        tmp_path / "clinic.yaml",
        f"""
programmes:
  - key: massage
    title: Massage
    kind: pay-as-you-go
    passes:
      - key: three
        title: Massage 3-pass
        entries: 3
        price: 100
        valid_days: 60
    classes:
      - key: room
        title: Room 1
        capacity: 6
        price: 40
        sessions: ["{day} 09:00", "{day} 11:00"]
courses:
  - key: massage-five
    title: Massage ×5
    price: 150
    valid_days: 60
    units: {{massage: 5}}
""",
        env,
    )


async def home(fake, client) -> None:
    mark = fake.mark()
    await client.send("/start")
    await client.wait_message("Hello", new=True, since=mark)


async def open_nine(fake, client) -> str:
    await home(fake, client)
    await client.click("📅 Book a session")
    await client.click("Massage")
    await client.click(re.compile(r"9:00\sAM"))
    return client.last_bot_message().text


async def pay_invoice(client, button: str):
    await client.click(button)
    invoice = await client.wait_message(predicate=lambda m: m.invoice is not None)
    payment = await client.pay(invoice)
    assert payment.ok
    return payment


async def five_clients(fake, database) -> dict[int, object]:
    """Alice pays in Stars, Bob from credit, Carol with a pass, Dan from a course; Eve owes."""
    ids = (ALICE, BOB, CAROL, DAN, EVE)
    users = {i: fake.user(i, n) for i, n in zip(ids, "ABCDE", strict=True)}
    alice, bob, carol, dan, eve = users.values()

    await open_nine(fake, alice)
    await alice.click("✅ Book")
    payment = await pay_invoice(alice, "💳 Pay 40 ⭐")
    await alice.wait_message("Payment received")
    users["charge"] = payment.charge_id

    await home(fake, bob)  # credit from an earlier refund, as staff would have given it
    database.execute(
        "insert into ledger (client_id, kind, amount_minor, currency, item, reason, created_at)"
        " values (?, 'credit', 40, 'XTR', 'booking:999', 'earlier refund', ?)",
        BOB,
        database.moment(datetime.now(UTC)),
    )
    await open_nine(fake, bob)
    await bob.click("✅ Book")
    assert "To pay" not in bob.last_bot_message().text

    await home(fake, carol)
    await carol.click("📅 Book a session")
    await carol.click("Massage")
    await pay_invoice(carol, "🎟 Buy a 3-entry pass — 100 ⭐")
    await carol.wait_message("🎟 Your pass: 3 entries")
    await open_nine(fake, carol)
    await carol.click("✅ Book")
    assert "Booked with your pass: 2 entries left." in carol.last_bot_message().text

    await home(fake, dan)
    await dan.click("🟩 My courses")
    await pay_invoice(dan, "🛒 Buy Massage ×5 — 150 ⭐")
    await dan.wait_message("🟩 Yours now:")
    await open_nine(fake, dan)
    await dan.click(re.compile(r"🟩 Book from Massage ×5 \(5 left\)"))
    assert "🟧🟩🟩🟩🟩" in dan.last_bot_message().text

    await open_nine(fake, eve)
    await eve.click("✅ Book")
    assert "💳 To pay: 40 ⭐" in eve.last_bot_message().text
    return users


def notices(client) -> list:
    return [m for m in client.bot_messages() if NOTICE in m.text]


def balance(database, client_id: int) -> int:
    """What the client owes (> 0) or holds as credit (< 0): domain.billing.money's balance
    over their ledger lines."""
    rows = database.query(
        "select kind, amount_minor, item, method from ledger where client_id = ?", client_id
    )
    entries = [
        money.Entry(
            money.EntryKind(kind),
            item,
            money.Money(amount, "XTR"),
            method=money.Method(method) if method else None,
        )
        for kind, amount, item, method in rows
    ]
    return money.balance(entries, "XTR").minor


async def open_roster(fake, sam) -> str:
    mark = fake.mark()
    await sam.send("/admin")
    await sam.wait_message("Sessions in the next", since=mark)
    await sam.click(re.compile(r"9:00\sAM"))
    return sam.last_bot_message().text


async def test_staff_cancel_a_session_of_five_clients_paid_in_every_way(
    fake, env, clinic, database
):
    sam = fake.user(SAM, "Sam")
    async with bot_process(fake, env=env):
        users = await five_clients(fake, database)
        roster = await open_roster(fake, sam)
        assert "Booked: 5/6" in roster

        await sam.click("🚫 Cancel session")
        preview = sam.last_bot_message().text
        assert "Clients booked: 5" in preview
        assert "1. A · ⭐ paid in Stars: 40 ⭐" in preview
        assert "2. B · 💰 paid from credit: 40 ⭐" in preview
        assert "3. C · 🎟 a pass entry" in preview
        assert "4. D · 🟩 a course unit" in preview
        assert "5. E · ⏳ not paid" in preview
        assert "Paid for it: 80 ⭐, of it in Stars: 40 ⭐" in preview
        await sam.click("➡️ Next")
        mark = fake.mark()
        await sam.send("The teacher is ill")
        await sam.wait_message("Cancel now?", since=mark)
        mark = fake.mark()
        await sam.click("✅ Yes, cancel")
        done = await sam.wait_message("Session cancelled", since=mark)

        assert "✅ Session cancelled: 5 clients told." in done.text
        assert "↩️ 40 ⭐ back through Telegram Stars." in done.text
        assert "💰 40 ⭐ as credit on the clients' balances." in done.text
        assert "This session was cancelled." in done.text
        assert [(r.user_id, r.charge_id) for r in fake.star_refunds] == [(ALICE, users["charge"])]
        for client_id in (ALICE, BOB, CAROL, DAN, EVE):
            client = users[client_id]
            await client.wait_message(NOTICE)
            [notice] = notices(client)
            assert "Reason: The teacher is ill" in notice.text
            assert "🔁 Book another time" in [b.text for row in notice.buttons for b in row]

        assert "40 ⭐ goes back to you through Telegram." in notices(users[ALICE])[0].text
        assert "40 ⭐ is credit on your balance" in notices(users[BOB])[0].text
        assert "Your pass entry is back." in notices(users[CAROL])[0].text
        assert "Your course unit is free again." in notices(users[DAN])[0].text
        assert balance(database, ALICE) == 0
        assert balance(database, BOB) == -40
        assert balance(database, EVE) == 0
        assert database.query("select used from client_passes") == [(0,)]
        assert database.query("select state from course_units") == [("free",)] * 5
        assert database.query("select count(*) from bookings where status = 'active'") == [(0,)]
        # the Stars refund is told once: in the cancellation's notice
        assert [m for m in users[ALICE].bot_messages() if "refunded" in m.text] == []

        await home(fake, users[DAN])
        await users[DAN].click("🟩 My courses")
        assert "🟩🟩🟩🟩🟩" in users[DAN].last_bot_message().text

        alice = users[ALICE]
        mark = fake.mark()
        await alice.click("🔁 Book another time")
        shown = await alice.wait_message(
            since=mark,
            new=True,
            predicate=lambda m: any("11:00" in b.text for row in m.buttons for b in row),
        )
        buttons = " ".join(b.text for row in shown.buttons for b in row)
        assert "9:00" not in buttons  # the cancelled session is not offered


async def test_staff_cancel_one_booking_from_the_roster_without_typing_ids(
    fake, env, clinic, database
):
    alice, sam = fake.user(ALICE, "Alice"), fake.user(SAM, "Sam")
    async with bot_process(fake, env=env):
        await open_nine(fake, alice)
        await alice.click("✅ Book")
        await pay_invoice(alice, "💳 Pay 40 ⭐")
        await alice.wait_message("Payment received")

        await open_roster(fake, sam)
        await sam.click("👤 Alice")
        await sam.click("❌ Cancel booking")
        assert "Paid with: ⭐ paid in Stars: 40 ⭐" in sam.last_bot_message().text
        await sam.click("💰 All as credit")
        await sam.click("➡️ Next")
        await sam.click("⏭ No reason")
        mark = fake.mark()
        await sam.click("✅ Yes, cancel")
        done = await sam.wait_message("Booking cancelled", since=mark)

        assert "💰 40 ⭐ as credit on the clients' balances." in done.text
        assert "👤 Alice" not in sam.buttons()
        assert fake.star_refunds == []
        await alice.wait_message(NOTICE)
        [notice] = notices(alice)
        assert "The studio cancelled your booking of" in notice.text
        assert "40 ⭐ is credit on your balance" in notice.text
        assert balance(database, ALICE) == -40
        assert database.query(
            "select cancelled_by, cancel_waived from bookings where client_id = ?", ALICE
        ) == [(SAM, "")]


@pytest.fixture
async def small_room(tmp_path, env):
    """One place per session, and one more only staff may fill."""
    day = soon(3)
    return await import_text(
        tmp_path / "small.yaml",
        f"""
programmes:
  - key: massage
    title: Massage
    kind: pay-as-you-go
    classes:
      - key: room
        title: Room 1
        capacity: 1
        max_overload: 1
        price: 40
        sessions: ["{day} 09:00", "{day} 11:00"]
""",
        env,
    )


def translated_parts(msgid: str, locale: str) -> list[str]:
    """The fixed parts of ``msgid`` in ``locale``, without markup and placeholders."""
    with I18N.context(), I18N.use_locale(locale):
        text = I18N.gettext(msgid)
    assert text != msgid, f"no {locale} translation of {msgid!r}"
    plain = re.sub(r"</?b>", "", text)
    return [part for part in re.split(r"\{\w+\}", plain) if part.strip()]


MOVED = (
    "🔁 The studio moved your booking <b>{title}</b> to {when}. What paid for it still "
    "does; open it in My bookings for its calendar file."
)


def seats(database) -> list[tuple]:
    """Each session's seats_taken beside its active bookings, by start."""
    return database.query(
        "select s.id, s.seats_taken, (select count(*) from bookings b where b.session_id = s.id"
        " and b.status = 'active') from sessions s order by s.starts_at"
    )


async def test_staff_move_one_booking_into_a_full_session_without_typing_ids(
    fake, env, small_room, database
):
    alice, bob, sam = fake.user(ALICE, "Alice"), fake.user(BOB, "Bob"), fake.user(SAM, "Sam")
    async with bot_process(fake, env=env):
        await open_nine(fake, alice)
        await alice.click("✅ Book")
        await pay_invoice(alice, "💳 Pay 40 ⭐")
        await alice.wait_message("Payment received")
        await home(fake, alice)  # Alice speaks Czech with the bot from now on
        await alice.click("🌐 Language and time zone")
        await alice.click(language_name("cs"))
        await home(fake, bob)  # Bob takes the one place at 11:00
        await bob.click("📅 Book a session")
        await bob.click("Massage")
        await bob.click(re.compile(r"11:00\sAM"))
        await bob.click("✅ Book")
        (nine, _, _), (eleven, _, _) = seats(database)
        ((booking_id,),) = database.query("select id from bookings where client_id = ?", ALICE)
        ledger = "select kind, amount_minor from ledger where client_id = ? order by id"
        assert database.query(ledger, ALICE) == [("charge", 40), ("payment", 40)]

        await open_roster(fake, sam)
        await sam.click("👤 Alice")
        await sam.click("🔁 Move booking")
        listed = sam.last_bot_message()
        assert "Move the booking to (Prague time):" in listed.text
        assert len(listed.button_texts) == 2  # the full 11:00 within the overload, and Back
        await sam.click(re.compile(r"11:00\sAM · Room 1 · 1 left · overload"))
        confirm = sam.last_bot_message()
        assert "Move Alice's booking to Room 1," in confirm.text
        assert "No fee is charged." in confirm.text
        yes = confirm.button("✅ Yes, move it")
        assert yes is not None
        mark = fake.mark()
        await sam.click("✅ Yes, move it")
        done = await sam.wait_message("🔁 Moved to", since=mark)

        assert re.search(r"🔁 Moved to .*11:00\sAM; the client is told\.", done.text)
        assert database.query(
            "select id, session_id, status from bookings where client_id = ?", ALICE
        ) == [(booking_id, eleven, "active")]
        assert seats(database) == [(nine, 0, 0), (eleven, 2, 2)]
        assert database.query(ledger, ALICE) == [("charge", 40), ("payment", 40)]  # no fee

        # the client is told once, through the outbox, in Czech
        czech = translated_parts(MOVED, "cs")
        await alice.wait_message(czech[0])
        told = [m for m in alice.bot_messages() if czech[0] in m.text]
        assert len(told) == 1
        assert all(part in told[0].text for part in czech)
        assert "Massage — Room 1" in told[0].text
        assert [m for m in alice.bot_messages() if "The studio moved" in m.text] == []
        moved_rows = "select state from outbox where recipient = ? and kind = 'booking_moved'"
        await database.wait_for(moved_rows, [("sent",)], ALICE)

        # a second tap on the confirmation (a lagging screen) moves nothing again
        assert yes.callback_data is not None
        await sam.click_data(yes.callback_data, confirm.message_id)
        assert database.query(
            "select id, session_id, status, moves from bookings where client_id = ?", ALICE
        ) == [(booking_id, eleven, "active", 1)]
        assert seats(database) == [(nine, 0, 0), (eleven, 2, 2)]
        assert database.query(moved_rows, ALICE) == [("sent",)]
        assert len([m for m in alice.bot_messages() if czech[0] in m.text]) == 1
