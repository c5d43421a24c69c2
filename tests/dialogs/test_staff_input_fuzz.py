"""Reliability: every staff command from someone who isn't staff is refused and changes nothing;
staff commands and the client card's typed input fed generated garbage (hypothesis) always get
a clear answer — never an unhandled error — and leave the database as it was."""

from __future__ import annotations

import pytest
from aiogram.methods import SendMessage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.desk.attendance import check_in_code
from tests.dialogs.test_staff_dialog import staff_chats
from tests.support.world import ALICE, BOB, STAFF, snapshot

STAFF_ONLY = "This command is for staff only."
STAFF_COMMANDS = [
    "/admin",
    "/today",
    "/import",
    "/multi minis 2026-12-05 10:00 6",
    "/addspots 1 2026-12-06 14:00 4",
    "/single portrait 2026-12-07 15:00 1002",
    "/move 1 2026-12-07 16:00",
    "/reserve 1 2026-11-24 10:00 1002",
    "/publish 1",
    "/groups",
    "/pkgcancel 1",
    "/pkgmove 1 2",
    "/pkgrefund 1 10.00 because",
]


@pytest.fixture
def chat_for(db_factory, clock):
    return staff_chats(db_factory, clock)


@pytest.mark.parametrize("command", STAFF_COMMANDS)
async def test_a_staff_command_from_a_client_is_refused_and_changes_nothing(
    chat_for, world, db_factory, command
):
    before = await snapshot(db_factory)
    alice = chat_for(ALICE.id)

    await alice.client.send(command)

    assert alice.bot.texts() == [STAFF_ONLY]
    assert alice.messages.sent_messages == []  # no staff screen opened
    assert await snapshot(db_factory) == before


async def test_a_check_in_code_opened_by_the_client_opens_no_desk(chat_for, world, db_factory):
    async with db_factory() as db:
        code = await check_in_code(db, booking_id=world["bobs"][1], client_id=BOB.id)
    before = await snapshot(db_factory)
    bob = chat_for(BOB.id)

    await bob.client.send(f"/start ci_{code}")

    assert any("show it at the front desk" in text for text in bob.bot.texts())
    assert bob.messages.sent_messages == []
    assert await snapshot(db_factory) == before


@pytest.fixture
async def fuzz_state(world, db_factory, chat_for) -> dict:
    """Shared by a test's examples: one staff chat, the database as it was before."""
    return {"before": await snapshot(db_factory), "runs": 0, "staff": chat_for(STAFF)}


GARBAGE = st.one_of(
    st.text(max_size=40),
    st.lists(
        st.one_of(
            st.sampled_from(["2026-13-40", "25:61", "-1", "0", "999999999999", "1002", "x", "€"]),
            st.integers(min_value=-(10**12), max_value=10**12).map(str),
            st.text(min_size=1, max_size=10),
        ),
        max_size=6,
    ).map(" ".join),
)


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    command=st.sampled_from(
        [
            "multi",
            "addspots",
            "single",
            "move",
            "reserve",
            "publish",
            "pkgcancel",
            "pkgmove",
            "pkgrefund",
        ]
    ),
    args=GARBAGE,
)
async def test_staff_commands_with_garbage_get_an_answer_and_change_nothing(
    fuzz_state, db_factory, command, args
):
    staff = fuzz_state["staff"]
    staff.bot.calls.clear()
    line = f"/{command} {args}".replace("\n", " ").strip()

    await staff.client.send(line[:300])

    sent = [c for c in staff.bot.calls if isinstance(c, SendMessage)]
    assert sent, f"no answer to {line!r}"
    fuzz_state["runs"] += 1
    if fuzz_state["runs"] % 10 == 0 or fuzz_state["runs"] == 1:
        assert await snapshot(db_factory) == fuzz_state["before"]


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=GARBAGE)
async def test_garbage_typed_on_the_client_card_gets_an_answer_and_changes_nothing(
    fuzz_state, db_factory, text
):
    """The card takes a rank (a whole number -100..100): anything else is refused."""
    staff = fuzz_state["staff"]
    if not fuzz_state.get("card"):
        await staff.send("/admin")
        await staff.click("Tue, Nov 24")
        await staff.click("👤 Bob")
        fuzz_state["card"] = True
    if text.strip().lstrip("+-\u2212").isdigit():
        text = f"{text} !"  # a number is a valid rank: that change is not what this test is about
    staff.messages.reset_history()

    await staff.client.send(text or " ")

    assert staff.messages.sent_messages, f"no answer to {text!r}"
    fuzz_state["runs"] += 1
    if fuzz_state["runs"] % 10 == 0 or fuzz_state["runs"] == 1:
        assert await snapshot(db_factory) == fuzz_state["before"]
