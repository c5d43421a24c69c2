"""Staff work the real bot process: upload the catalog in the chat, open a roster, book a client."""

from __future__ import annotations

import re

import pytest

from domain.catalog.file import MAX_CATALOG_BYTES
from tests.e2e.harness import bot_process, run_cli

pytestmark = pytest.mark.e2e

STAFF_ID = 5001


@pytest.fixture
def staff_env(bot_env) -> dict[str, str]:
    return {**bot_env, "ADMIN_IDS": f"{STAFF_ID}, 9999"}  # 9999 never opened the bot


def with_overload(text: str) -> str:
    """The catalog with one extra place for staff in the one-seat wheel class."""
    return text.replace("capacity: 1\n", "capacity: 1\n        max_overload: 1\n", 1)


async def test_staff_upload_the_catalog_and_a_broken_file_changes_nothing(
    fake, staff_env, catalog, database
):
    sam = fake.user(STAFF_ID, "Sam")  # opened the bot before: staff commands can be set
    alice = fake.user(1001, "Alice")
    async with bot_process(fake, env=staff_env):
        assert [c["command"] for c in fake.bot_commands({"type": "chat", "chat_id": STAFF_ID})] == [
            "start",
            "bookings",
            "language",
            "admin",
            "today",
            "import",
            "multi",
            "single",
            "reserve",
            "publish",
            "groups",
        ]
        assert [c["command"] for c in fake.bot_commands({"type": "all_private_chats"})] == [
            "start",
            "bookings",
            "language",
        ]

        await sam.send("/import")
        await sam.wait_message("Send me the catalog file (.yaml or .yml)")
        edited = with_overload(catalog.read_text(encoding="utf-8"))
        mark = fake.mark()
        await sam.send_document("studio.yaml", edited.encode())
        summary = await sam.wait_message("studio.yaml imported:", since=mark)
        assert "updated 0 programmes, 1 classes, 0 billing periods" in summary.text
        assert database.query("select max_overload from classes where key = 'wheel'") == [(1,)]

        sessions = database.query("select count(*) from sessions")
        broken = edited.replace("capacity: 4", "capcity: 4").replace("10:00", "25:00")
        line = next(n for n, text in enumerate(broken.splitlines(), 1) if "capcity" in text)
        mark = fake.mark()
        await sam.send_document("studio.yml", broken.encode())
        problems = await sam.wait_message("studio.yml was not imported", since=mark)
        assert f'line {line}: "capcity" is not a known field here' in problems.text
        assert re.search(r'line \d+: "\d{4}-\d\d-\d\d 25:00" is not a valid date', problems.text)
        assert database.query("select count(*) from sessions") == sessions
        assert database.query("select capacity from classes where key = 'hand'") == [(4,)]

        mark = fake.mark()
        await sam.send_document("latin1.yaml", "programmes: café".encode("latin-1"))
        await sam.wait_message("The file is not UTF-8 text", since=mark)

        mark = fake.mark()
        await sam.send_document("huge.yaml", b"#" * (MAX_CATALOG_BYTES + 1))
        await sam.wait_message(f"The file is {MAX_CATALOG_BYTES + 1} bytes", since=mark)
        assert len(fake.downloads) == 3  # the huge one was never fetched

        # a client's document is none of the staff handlers' business: the usual menu answers
        mark = fake.mark()
        await alice.send_document("studio.yaml", edited.encode())
        await alice.wait_message("Hello, Alice!", since=mark)
        await alice.send("/admin")
        await alice.wait_message("This command is for staff only.", since=mark)
        assert len(fake.downloads) == 3


async def test_staff_open_a_sessions_roster_and_book_a_client_over_capacity(
    fake, staff_env, catalog, database
):
    catalog.write_text(with_overload(catalog.read_text(encoding="utf-8")), encoding="utf-8")
    assert (await run_cli("import-catalog", str(catalog), env=staff_env)).returncode == 0
    sam = fake.user(STAFF_ID, "Sam")
    alice, bob = fake.user(1001, "Alice"), fake.user(1002, "Bob")
    async with bot_process(fake, env=staff_env):
        for client, programme, session in (
            (bob, "Pottery <for beginners>", re.compile(r"^Wheel & clay")),
            (alice, "Yoga", None),
        ):
            await client.send("/start")
            await client.wait_message("Hello")
            await client.click("📅 Book a session")
            await client.click(programme)
            if session is not None:
                await client.click(session)
            await client.click(re.compile(r"spots? left"))
            await client.click("✅ Book")
            await client.wait_message("You're booked!")

        await sam.send("/admin")
        listing = await sam.wait_message("Sessions in the next 14 days")
        wheel = next(t for t in listing.button_texts if "Wheel & clay" in t)
        assert wheel.endswith("Pottery <for beginners> — Wheel & clay · 1/1")

        await sam.click(wheel)
        roster = sam.last_bot_message()
        assert "Booked: 1/1" in roster.text
        assert "1. Bob · id 1002" in roster.text
        await sam.click("➕ Book a client")
        assert "Alice · id 1001" in sam.last_bot_message().button_texts
        mark = fake.mark()
        await sam.send("1001")

        booked = await sam.wait_message("✅ Alice is booked.", since=mark)
        assert "2. Alice · id 1001 (staff, overload)" in booked.text
        assert database.query(
            "select b.client_id, b.by_staff from bookings b join sessions s on s.id = b.session_id"
            " join classes c on c.id = s.class_id where c.key = 'wheel' order by b.id"
        ) == [(1002, 0), (1001, 1)]
