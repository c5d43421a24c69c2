"""The window after a Book tap shows what the tap returned: the session's title and time."""

from __future__ import annotations

from sqlalchemy import event

from tests.support.catalog import load

SWIM = """
programmes:
  - key: swim
    title: Swim & Sauna
    classes:
      - key: lanes
        title: Open lanes
        capacity: 1
        sessions: [2026-12-05 09:00]
"""


async def open_the_card(chat):
    await chat.start()
    await chat.click("Book a session")
    await chat.click("Swim & Sauna")
    return await chat.click("Sat, Dec 5")


async def test_the_booked_and_the_queued_window_name_the_session_and_its_time(db_factory, chat_for):
    await load(db_factory, SWIM)
    alice, bob = chat_for(user_id=1), chat_for(user_id=2)
    await open_the_card(alice)
    await open_the_card(bob)

    booked = await alice.click("✅ Book")
    queued = await bob.click("✅ Book")  # the last place went while Bob looked at the card

    assert "<b>Swim &amp; Sauna — Open lanes</b>\n🗓 Saturday, December 5, 2026" in booked.text
    assert "⏳ <b>Swim &amp; Sauna — Open lanes</b> on Saturday, December 5, 2026" in queued.text
    assert "number 1" in queued.text


async def test_the_queued_window_reads_nothing_more_than_the_tap_did(db_factory, chat_for):
    await load(db_factory, SWIM)
    alice, bob = chat_for(user_id=1), chat_for(user_id=2)
    await open_the_card(alice)
    await open_the_card(bob)
    await alice.click("✅ Book")
    engine = db_factory.kw["bind"].sync_engine
    statements: list[str] = []

    def record(_conn, _cursor, sql, *_args) -> None:
        statements.append(sql)

    event.listen(engine, "before_cursor_execute", record)
    try:
        await bob.click("✅ Book")
    finally:
        event.remove(engine, "before_cursor_execute", record)

    # the tap itself: the session, Bob's offer, his booking, the client row, the session row
    # locked not cancelled (a whole-session cancel comes first or sees his entry), the queue
    # entry and his place in it; the window then shows these without a query of its own
    assert len(statements) <= 7, statements
