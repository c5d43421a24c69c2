"""Messages sent without being asked: offers passed on by the scheduler, and answering them."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import Chat, Message
from aiogram_dialog.test_tools import BotClient, MockMessageManager
from aiogram_dialog.test_tools.bot_client import FakeBot
from aiogram_dialog.test_tools.keyboard import InlineButtonTextLocator
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage
from sqlalchemy import select, update

from bot.delivery.courier import send_due
from bot.deps import Deps
from bot.runtime.app import build_dispatcher
from bot.runtime.config import Settings
from bot.runtime.scheduler import pass_on_expired_offers
from bot.text.i18n import build_i18n
from domain.booking.bookings import book_or_wait, cancel_booking
from domain.booking.status import BookingStatus
from domain.clients.record import ClientRef
from domain.storage.models import Booking, ClassSession, ProgrammeClass
from tests.support.catalog import YOGA, load

ALICE, BOB, CAROL, DAN = (
    ClientRef(n, name, "en") for n, name in [(1, "Alice"), (2, "Bob"), (3, "Carol"), (4, "Dan")]
)


class Outbox(FakeBot):
    """A bot that records what it sends and answers like Telegram would."""

    def __init__(self) -> None:
        self.calls: list[TelegramMethod] = []

    async def __call__(self, method: TelegramMethod, request_timeout: int | None = None):
        self.calls.append(method)
        if isinstance(method, SendMessage | EditMessageText):
            chat = Chat(id=int(method.chat_id or 0), type="private")
            return Message(
                message_id=len(self.calls),
                date=datetime.now(),
                chat=chat,
                text=method.text,
                reply_markup=method.reply_markup,
            )
        if isinstance(method, AnswerCallbackQuery | EditMessageReplyMarkup):
            return True
        raise RuntimeError(f"unexpected call {type(method).__name__}")

    def sent(self, chat_id: int) -> list[SendMessage]:
        return [c for c in self.calls if isinstance(c, SendMessage) and c.chat_id == chat_id]


async def setup(db_factory, clock):
    """Dec 1 is full (Alice, Bob); Carol then Dan wait; Alice cancels: Carol is offered it."""
    await load(db_factory, YOGA)
    async with db_factory() as db:
        await db.execute(update(ProgrammeClass).values(promotion="offer", offer_hold_minutes=30))
        await db.commit()
        session = await db.scalar(
            select(ClassSession.id).order_by(ClassSession.starts_at).offset(1).limit(1)
        )
    for n, client in enumerate((ALICE, BOB, CAROL, DAN)):
        async with db_factory() as db:
            await book_or_wait(
                db, client=client, session_id=session, now=clock() + timedelta(seconds=n)
            )
    async with db_factory() as db:
        alices = await db.scalar(select(Booking.id).where(Booking.client_id == ALICE.id))
        await cancel_booking(db, client_id=ALICE.id, booking_id=alices, now=clock())
    # what the bot sent then (Carol's offer) is out of the outbox before the tests look
    await send_due(Outbox(), make_deps(db_factory, clock), build_i18n("en"))
    return session


def make_deps(db_factory, clock) -> Deps:
    return Deps(db=db_factory, settings=Settings(TZ="Europe/Prague", bot_token=None), clock=clock)


async def test_an_expired_offer_is_passed_on_and_both_clients_are_told(db_factory, clock):
    await setup(db_factory, clock)
    outbox = Outbox()
    clock.now += timedelta(minutes=31)

    await pass_on_expired_offers(outbox, make_deps(db_factory, clock), build_i18n("en"))

    (lapsed,) = outbox.sent(CAROL.id)
    (offer,) = outbox.sent(DAN.id)
    assert "has passed to the next person" in lapsed.text
    assert "It is held for you until" in offer.text
    assert [b.text for b in offer.reply_markup.inline_keyboard[0]] == ["✅ Take it", "Skip"]


async def test_nothing_is_sent_while_offers_are_still_open(db_factory, clock):
    await setup(db_factory, clock)
    outbox = Outbox()
    clock.now += timedelta(minutes=29)

    await pass_on_expired_offers(outbox, make_deps(db_factory, clock), build_i18n("en"))

    assert outbox.calls == []


async def answer(db_factory, clock, offer: SendMessage, user: ClientRef, button: str, outbox):
    dp = build_dispatcher(
        make_deps(db_factory, clock),
        build_i18n("en"),
        storage=JsonMemoryStorage(),
        message_manager=MockMessageManager(),
    )
    client = BotClient(dp, user_id=user.id, chat_id=user.id, bot=outbox)
    message = Message(
        message_id=99,
        date=datetime.now(),
        chat=Chat(id=user.id, type="private"),
        text=offer.text,
        reply_markup=offer.reply_markup,
    )
    await client.click(message, InlineButtonTextLocator(button))
    return [c for c in outbox.calls if isinstance(c, AnswerCallbackQuery)][-1]


async def active(db_factory) -> list[int]:
    async with db_factory() as db:
        return sorted(
            await db.scalars(
                select(Booking.client_id).where(Booking.status == BookingStatus.ACTIVE)
            )
        )


async def test_taking_the_offer_from_the_message_books_the_place(db_factory, clock):
    await setup(db_factory, clock)
    outbox = Outbox()
    clock.now += timedelta(minutes=31)
    await pass_on_expired_offers(outbox, make_deps(db_factory, clock), build_i18n("en"))
    (offer,) = outbox.sent(DAN.id)

    await answer(db_factory, clock, offer, DAN, "✅ Take it", outbox)

    assert await active(db_factory) == [BOB.id, DAN.id]
    edited = [c for c in outbox.calls if isinstance(c, EditMessageText)][-1]
    assert "Done: you are booked for" in edited.text


async def test_someone_else_pressing_the_offer_changes_nothing(db_factory, clock):
    await setup(db_factory, clock)
    outbox = Outbox()
    clock.now += timedelta(minutes=31)
    await pass_on_expired_offers(outbox, make_deps(db_factory, clock), build_i18n("en"))
    (offer,) = outbox.sent(DAN.id)

    reply = await answer(db_factory, clock, offer, CAROL, "✅ Take it", outbox)

    assert reply.text == "This offer is no longer open."
    assert reply.show_alert
    assert any(isinstance(c, EditMessageReplyMarkup) for c in outbox.calls)  # buttons gone
    assert await active(db_factory) == [BOB.id]
