"""The client's dialogs, driven in-process with aiogram-dialog's test tools."""

from __future__ import annotations

from sqlalchemy import select

from domain.booking.bookings import book_session
from domain.clients.record import ClientRef
from domain.storage.models import ClassSession
from tests.support.catalog import YOGA, load
from tests.support.dialogs import ForgedButton, active_bookings


async def test_a_client_books_a_session_in_four_taps(chat, db_factory):
    menu = await chat.start()
    assert "Hello, <b>User_42</b>" in menu.text

    programmes = await chat.click("Book a session")
    assert "Choose a programme" in programmes.text
    sessions = await chat.click("Yoga & Breath")
    assert "Yoga &amp; Breath — Morning flow" in sessions.text  # the studio's text is escaped
    assert "Nov 20" not in str(sessions.reply_markup)  # past sessions are not offered
    card = await chat.click("Tue, Dec 1")
    assert "€12.50" in card.text
    assert "2 spots left" in card.text

    done = await chat.click("✅ Book")

    assert "You're booked!" in done.text
    assert "Tuesday, December 1, 2026" in done.text
    assert [client for client, _ in await active_bookings(db_factory)] == [42]


async def test_back_leads_from_a_session_all_the_way_to_the_menu(chat):
    await chat.start()
    await chat.click("Book a session")
    await chat.click("Pottery")
    await chat.click("Wheel throwing")
    await chat.click("Wed, Dec 2")

    assert "Choose a session" in (await chat.click("Back")).text
    assert "Choose a class" in (await chat.click("Back")).text
    assert "Choose a programme" in (await chat.click("Back")).text
    assert "Hello" in (await chat.click("Back")).text


async def test_a_full_session_shows_why_and_offers_no_book_button(chat, db_factory, clock):
    async with db_factory() as db:
        wheel = await db.scalar(
            select(ClassSession.id).order_by(ClassSession.starts_at).offset(2).limit(1)
        )
        await book_session(db, client=ClientRef(id=7), session_id=wheel, now=clock())
    await chat.start()
    await chat.click("Book a session")
    await chat.click("Pottery")
    sessions = await chat.click("Wheel throwing")
    assert "full" in str(sessions.reply_markup)

    card = await chat.click("Wed, Dec 2")

    assert "This session is full." in card.text
    assert "✅ Book" not in chat.buttons()


async def test_a_forged_session_id_books_nothing(chat, db_factory):
    await chat.start()
    await chat.click("Book a session")
    await chat.click("Yoga & Breath")

    card = await chat.press(ForgedButton("Tue, Dec 1", "999999"))

    assert "This session is no longer available." in card.text
    assert "✅ Book" not in chat.buttons()
    assert await active_bookings(db_factory) == []


async def test_a_non_numeric_item_id_is_refused_plainly(chat):
    await chat.start()
    await chat.click("Book a session")

    screen = await chat.press(ForgedButton("Yoga & Breath", "1;drop"))

    assert "That button is no longer valid." in screen.text
    assert "Choose a programme" in screen.text


async def test_nobody_can_open_or_cancel_someone_elses_booking(chat_for, db_factory, clock):
    await load(db_factory, YOGA)
    async with db_factory() as db:
        session_id = await db.scalar(
            select(ClassSession.id).order_by(ClassSession.starts_at).offset(1).limit(1)
        )
        bobs = await book_session(db, client=ClientRef(id=2), session_id=session_id, now=clock())
        alices = await book_session(db, client=ClientRef(id=1), session_id=session_id, now=clock())
    alice = chat_for(user_id=1)
    await alice.start()
    await alice.click("My bookings")

    screen = await alice.press(ForgedButton("Yoga & Breath", str(bobs.card.id)))

    assert "That booking doesn't exist or isn't yours." in screen.text
    assert "Cancel booking" not in alice.buttons()
    assert sorted(await active_bookings(db_factory)) == [(1, session_id), (2, session_id)]
    assert alices.card.id != bobs.card.id


async def test_my_bookings_lists_upcoming_bookings_and_cancels_one(chat, db_factory):
    await chat.start()
    await chat.click("Book a session")
    await chat.click("Yoga & Breath")
    await chat.click("Thu, Dec 3")
    await chat.click("✅ Book")

    listing = await chat.click("My bookings")
    assert "My bookings" in listing.text
    await chat.click("Yoga & Breath — Morning flow")
    question = await chat.click("Cancel booking")
    assert "Cancel your booking for <b>Yoga &amp; Breath — Morning flow</b>" in question.text
    done = await chat.click("Yes, cancel it")

    assert "is cancelled" in done.text
    assert await active_bookings(db_factory) == []
    assert "You have no upcoming bookings." in (await chat.click("Back")).text


async def test_text_outside_any_dialog_is_answered_with_the_menu(chat):
    await chat.client.send("hello?")

    assert "Hello, <b>User_42</b>" in chat.messages.one_message().text


async def test_text_inside_a_dialog_shows_the_current_screen_again(chat):
    await chat.start()
    await chat.click("Book a session")
    chat.messages.reset_history()

    await chat.client.send("yoga please")

    assert "Choose a programme" in chat.messages.one_message().text
