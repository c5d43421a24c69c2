"""Categories, private and out-of-date programmes, waiting lists and make-ups in dialogs."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from domain.storage.models import (
    Booking,
    ClassSession,
    Programme,
    ProgrammeClass,
    WaitlistEntry,
)
from tests.support.catalog import load
from tests.support.dialogs import active_bookings

CATALOG = """
billing_periods:
  - {key: winter, name: Winter, from: 2026-09-01, until: 2027-02-28}
programmes:
  - key: yoga
    title: Yoga
    category: Movement
    classes:
      - key: flow
        title: Flow
        capacity: 1
        sessions: [2026-12-01 18:00]
  - key: pilates
    title: Pilates
    category: Movement
    valid_until: 2026-11-01
    classes:
      - key: mat
        title: Mat
        capacity: 5
        sessions: [2026-12-02 18:00]
  - key: secret
    title: Secret club
    category: Movement
    public: no
    classes:
      - key: s
        title: S
        capacity: 5
        sessions: [2026-12-02 18:00]
  - key: ceramics
    title: Ceramics
    category: Crafts
    kind: ongoing
    classes:
      - key: tue
        title: Tuesday
        capacity: 3
        sessions: [2026-12-01 18:00, 2026-12-08 18:00]
      - key: thu
        title: Thursday
        capacity: 3
        sessions: [2026-12-03 18:00]
"""


async def test_clients_browse_by_category_and_see_only_public_open_programmes(db_factory, chat_for):
    await load(db_factory, CATALOG)
    chat = chat_for()
    await chat.start()

    categories = await chat.click("Book a session")
    assert "What would you like to book?" in categories.text
    assert chat.buttons()[:2] == ["Crafts", "Movement"]

    await chat.click("Movement")
    assert chat.buttons() == ["Yoga", "◀️ Back"]  # not the expired or the private one
    assert "What would you like to book?" in (await chat.click("Back")).text


async def test_a_full_session_offers_the_waiting_list_and_shows_the_place_in_it(
    db_factory, chat_for
):
    await load(db_factory, CATALOG)
    first, second = chat_for(user_id=1), chat_for(user_id=2)
    for chat in (first, second):
        await chat.start()
        await chat.click("Book a session")
        await chat.click("Movement")
        await chat.click("Yoga")
        await chat.click("Tue, Dec 1")
    await first.click("✅ Book")

    card = await second.click("Back")
    card = await second.click("Tue, Dec 1")
    assert "This session is full." in card.text
    queued = await second.click("Join the waiting list")
    assert "you are on the waiting list: number 1" in queued.text

    card = await second.click("Back")
    assert "You are number 1 on the waiting list." in card.text
    left = await second.click("Leave the waiting list")
    assert "Join the waiting list" in str(left.reply_markup)
    async with db_factory() as db:
        assert await db.scalar(select(WaitlistEntry.status)) == "left"


async def test_a_makeup_credit_books_a_session_of_another_class(db_factory, chat_for):
    await load(db_factory, CATALOG)
    chat = chat_for()
    await chat.start()
    await chat.click("Book a session")
    await chat.click("Crafts")
    await chat.click("Ceramics")
    card = await chat.click("Tuesday")
    assert "enrolling books all its 2 remaining sessions" in card.text
    await chat.click("Enrol in this class")
    enrolled = await chat.click("Skip")  # the note to the teacher is optional by default
    assert "You're enrolled in Ceramics — Tuesday!" in enrolled.text
    assert "• Tue, Dec 1" in enrolled.text  # one confirmation lists every session
    assert "• Tue, Dec 8" in enrolled.text

    await chat.click("My bookings")
    await chat.click("Tue, Dec 1")
    await chat.click("Cancel booking")
    cancelled = await chat.click("Yes, cancel it")
    assert "You get a make-up credit" in cancelled.text

    await chat.click("Back")
    await chat.click("Book a session")
    await chat.click("Crafts")
    await chat.click("Ceramics")
    other_class = await chat.click("Thursday")
    assert "You are enrolled in another class of this programme" in other_class.text
    assert "Enrol in this class" not in str(other_class.reply_markup)
    await chat.click("Sessions")
    card = await chat.click("Thu, Dec 3")
    assert "Book with a make-up credit" in str(card.reply_markup), card.text
    booked = await chat.click("Book with a make-up credit")
    assert "You're booked!" in booked.text
    async with db_factory() as db:
        thursday = await db.scalar(
            select(ClassSession.id).join(ProgrammeClass).where(ProgrammeClass.key == "thu")
        )
        assert await db.scalar(select(Booking.id).where(Booking.session_id == thursday))


async def test_an_expired_programme_cannot_be_booked_even_from_an_old_screen(db_factory, chat_for):
    await load(db_factory, CATALOG.replace("valid_until: 2026-11-01", "valid_until: 2026-12-31"))
    chat = chat_for()
    await chat.start()
    await chat.click("Book a session")
    await chat.click("Movement")
    await chat.click("Pilates")
    await chat.click("Wed, Dec 2")
    async with db_factory() as db:  # staff shorten the programme meanwhile
        await db.execute(
            update(Programme)
            .where(Programme.key == "pilates")
            .values(valid_until=date(2026, 11, 1))
        )
        await db.commit()

    card = await chat.click("✅ Book")

    assert "This programme is not open for enrolment at the moment." in card.text
    assert await active_bookings(db_factory) == []
