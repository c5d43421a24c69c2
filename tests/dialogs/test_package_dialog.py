"""A package in the dialogs: what goes wrong is said on the window where it happened (a note
too long on the review, a time taken meanwhile on the move), not one window later."""

from __future__ import annotations

from aiogram.types import Message
from sqlalchemy import select

from domain.clients.record import ClientRef
from domain.policy import Policy
from domain.storage.models import ClassSession, ProgrammeClass
from domain.timetable.packages import book_package
from tests.support.catalog import PRAGUE, load
from tests.support.dialogs import Chat

COACHING = """
programmes:
  - key: coaching
    title: Coaching
    classes:
      - key: one
        title: One to one
        capacity: 1
        duration: 60
        package:
          sessions: 2
          price: "100.00"
          cancel_until: 24
          reschedule_until: 12
        sessions: [2026-12-01 09:00, 2026-12-01 11:00, 2026-12-01 13:00, 2026-12-01 15:00]
"""
ALICE, BOB = ClientRef(42, "Alice", "en"), ClientRef(43, "Bob", "en")
POLICY = Policy(zone=PRAGUE, currency="EUR", reminders=())


async def send(chat: Chat, text: str) -> Message:
    chat.messages.reset_history()
    await chat.client.send(text)
    return chat.messages.one_message()


async def sessions(db_factory) -> list[int]:
    async with db_factory() as db:
        return list(await db.scalars(select(ClassSession.id).order_by(ClassSession.starts_at)))


async def test_a_note_too_long_is_refused_on_the_review_not_later(db_factory, chat_for):
    await load(db_factory, COACHING)
    chat = chat_for(ENROLMENT_NOTES="optional")
    await chat.start()
    await chat.click("Book a session")
    await chat.click("Coaching")  # one class: straight to its sessions to pick
    await chat.click("9:00")
    await chat.click("11:00")
    await chat.click("Review the 2 sessions")

    review = await send(chat, "x" * 501)

    assert "⚠️ That note is 501 characters long" in review.text
    assert "Your package" in review.text
    back = await chat.click("Back")
    assert "⚠️" not in back.text


async def test_a_time_taken_meanwhile_is_refused_on_the_move_window(db_factory, chat_for, clock):
    await load(db_factory, COACHING)
    nine, eleven, one, three = await sessions(db_factory)
    async with db_factory() as db:
        coaching = await db.scalar(select(ProgrammeClass.id))
        await book_package(
            db,
            client=ALICE,
            class_id=coaching,
            session_ids=[nine, eleven],
            now=clock(),
            policy=POLICY,
        )
    chat = chat_for(user_id=ALICE.id)
    await chat.start()
    await chat.click("My bookings")
    await chat.click("1/2")
    await chat.click("Reschedule")
    async with db_factory() as db:  # Bob takes 1 PM while Alice looks at the times
        await book_package(
            db, client=BOB, class_id=coaching, session_ids=[one, three], now=clock(), policy=POLICY
        )

    refused = await chat.click("1:00")

    assert refused.text.startswith("⚠️ ")
    assert "Move this session to" in refused.text
    back = await chat.click("Back")
    assert "⚠️" not in back.text
