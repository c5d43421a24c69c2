"""Seed 003's enrolment settings through the real bot process: a note, and staff confirming."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import import_text, soon
from tests.e2e.harness import bot_process

pytestmark = pytest.mark.e2e

STAFF_ID = 5001


@pytest.fixture
def env(bot_env) -> dict[str, str]:
    return {
        **bot_env,
        "ADMIN_IDS": str(STAFF_ID),
        "ENROLMENT_ACTIVE_BY_DEFAULT": "false",
        "ENROLMENT_NOTES": "required",
    }


@pytest.fixture
async def course(tmp_path, env):
    return await import_text(
        tmp_path / "course.yaml",
        f"""
programmes:
  - key: ceramics
    title: Ceramics course
    kind: ongoing
    classes:
      - key: tue
        title: Tuesday group
        capacity: 4
        sessions: ["{soon(2)} 18:00", "{soon(9)} 18:00"]
""",
        env,
    )


async def test_a_client_enrols_with_a_note_staff_confirm_and_the_client_is_told(
    fake, env, course, database
):
    sam = fake.user(STAFF_ID, "Sam")
    alice = fake.user(1001, "Alice")
    async with bot_process(fake, env=env):
        await alice.send("/start")
        await alice.wait_message("Hello")
        await alice.click("📅 Book a session")
        await alice.click("Ceramics course")  # one class: straight to its card
        await alice.click("✅ Enrol in this class")
        question = alice.last_bot_message()
        assert "Anything the teacher should know?" in question.text
        assert "Skip" not in question.button_texts  # ENROLMENT_NOTES=required

        mark = fake.mark()
        await alice.send("Bad left knee & a bit nervous")
        held = await alice.wait_message("The studio will confirm your enrolment", since=mark)
        assert "Your places in its 2 remaining sessions are held" in held.text
        assert database.query("select status, notes from enrolments") == [
            ("pending", "Bad left knee & a bit nervous")
        ]
        assert database.query("select count(*) from bookings where status = 'active'") == [(2,)]

        await sam.send("/admin")
        listing = await sam.wait_message("Sessions in the next 14 days")
        await sam.click(next(t for t in listing.button_texts if "Tuesday group" in t))
        assert "1. Alice · id 1001 ⏳ enrolment to confirm" in sam.last_bot_message().text
        await sam.click("👤 Alice")
        card = sam.last_bot_message()
        assert "📝 Note: Bad left knee & a bit nervous" in card.text
        mark = fake.mark()
        await sam.click("✅ Confirm enrolment")

        told = await alice.wait_message("The studio confirmed your enrolment", since=mark)
        assert told.text == (
            "✅ The studio confirmed your enrolment in Ceramics course — Tuesday group. "
            "See you there!"
        )
        assert "Enrolment confirmed" in sam.last_bot_message().text
        assert database.query("select status from enrolments") == [("active",)]
