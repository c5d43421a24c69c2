"""Staff money actions on the client card (/admin → session → client), in-process: paid at the
venue, refunds by route, waivers, who owes what with its CSV; bad input changes nothing."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError
from aiogram.methods import RefundStarPayment, SendDocument, SendMessage, TelegramMethod
from aiogram.types import Message
from sqlalchemy import select

from bot.delivery.refunds import complete_stars_refunds
from bot.deps import Deps
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from domain.billing import money
from domain.billing.payments import InvoiceFor, apply_payment, booking_item
from domain.billing.refunds import refund_booking
from domain.booking.bookings import book_session
from domain.clients.record import ClientRef
from domain.policy import Policy
from domain.storage.models import ClassSession, LedgerEntry
from tests.dialogs.test_staff_dialog import Conversation, ForgedData, staff_chats
from tests.support.catalog import PRAGUE, load
from tests.support.dialogs import RecordingBot

STAFF, OTHER = 500, 777
ALICE, BOB = ClientRef(1001, "Alice"), ClientRef(1002, "Bob")
STUDIO = """
programmes:
  - key: clay
    title: Clay
    classes:
      - key: wheel
        title: Wheel
        capacity: 4
        price: "0.50"
        sessions: [2026-12-01 18:00, 2026-12-03 18:00]
"""


class TelegramBot(RecordingBot):
    """Also carries out Stars refunds (or answers them with ``refund_error``, Telegram's
    description; "timeout": no answer) and takes documents."""

    refund_error: str | None = None

    async def __call__(self, method: TelegramMethod, request_timeout: int | None = None):
        if isinstance(method, RefundStarPayment):
            self.calls.append(method)
            if self.refund_error == "timeout":
                raise TelegramNetworkError(method, "Request timeout error")
            if self.refund_error:
                raise TelegramBadRequest(method, self.refund_error)
            return True
        if isinstance(method, SendDocument):
            self.calls.append(method)
            return Message.model_validate(
                {"message_id": 2, "date": 0, "chat": {"id": STAFF, "type": "private"}}
            )
        return await super().__call__(method, request_timeout)

    def of(self, kind: type) -> list:
        return [call for call in self.calls if isinstance(call, kind)]


@pytest.fixture
def chat_for(db_factory, clock):
    return staff_chats(db_factory, clock, currency="XTR", bot_type=TelegramBot)


@pytest.fixture
async def booking(db_factory, clock) -> int:
    """Alice booked Dec 1 (50 ⭐); Bob booked Dec 3 and paid nothing."""
    await load(db_factory, STUDIO)
    policy = Policy(zone=PRAGUE, currency="XTR", reminders=())
    async with db_factory() as db:
        dec_1, dec_3 = await db.scalars(select(ClassSession.id).order_by(ClassSession.starts_at))
    async with db_factory() as db:
        await book_session(db, client=BOB, session_id=dec_3, now=clock(), policy=policy)
    async with db_factory() as db:
        booked = await book_session(db, client=ALICE, session_id=dec_1, now=clock(), policy=policy)
    return booked.card.id


async def pay_stars(db_factory, clock, booking: int, amount: int = 50) -> None:
    async with db_factory() as db:
        await apply_payment(
            db,
            client_id=ALICE.id,
            paid=InvoiceFor(booking_item(booking), amount, "XTR"),
            charge_id="stx-1",
            method=money.Method.STARS,
            now=clock(),
        )


async def ledger(db_factory) -> list[tuple]:
    async with db_factory() as db:
        rows = await db.execute(
            select(
                LedgerEntry.client_id,
                LedgerEntry.kind,
                LedgerEntry.amount_minor,
                LedgerEntry.method,
                LedgerEntry.staff_id,
                LedgerEntry.reason,
            ).order_by(LedgerEntry.id)
        )
        return [tuple(row) for row in rows]


async def alices_card(staff: Conversation) -> str:
    await staff.send("/admin")
    await staff.click("Tue, Dec 1")
    return await staff.click("👤 Alice")


async def test_the_client_card_shows_the_booking_in_money_and_marks_it_paid_at_the_venue(
    chat_for, booking, db_factory
):
    staff = chat_for()
    card = await alices_card(staff)
    assert "💳 Charged 50 ⭐ · paid 0 ⭐ Due: 50 ⭐" in card
    assert "💵 Paid at the venue: 50 ⭐" in staff.buttons()
    assert "↩️ Refund" not in staff.buttons()  # nothing paid yet

    card = await staff.click("Paid at the venue")

    assert "✅ 50 ⭐ marked paid at the venue." in card
    assert "✅ Nothing due" in card
    assert "↩️ Refund" in staff.buttons()
    assert (await ledger(db_factory))[-1] == (ALICE.id, "payment", 50, "venue", STAFF, None)


async def test_a_partial_refund_of_stars_is_credit_and_the_client_is_told(
    chat_for, booking, db_factory, clock
):
    await pay_stars(db_factory, clock, booking)
    staff = chat_for()
    await alices_card(staff)
    screen = await staff.click("↩️ Refund")
    assert "Refund</b> Alice: at most 50 ⭐" in screen

    card = await staff.send("20 wheel broke")

    assert "✅ 20 ⭐ added to the client's balance as credit" in card
    assert "Credit on their balance: 20 ⭐" in card
    assert staff.bot.of(RefundStarPayment) == []
    assert (await ledger(db_factory))[-1] == (ALICE.id, "credit", 20, None, STAFF, "wheel broke")
    told = [m for m in staff.bot.of(SendMessage) if m.chat_id == ALICE.id]
    assert "↩️ The studio refunded 20 ⭐ for <b>Clay — Wheel</b>." in told[-1].text
    assert "20 ⭐ of it is credit on your balance" in told[-1].text


async def test_a_full_refund_of_a_stars_payment_calls_telegram(
    chat_for, booking, db_factory, clock
):
    await pay_stars(db_factory, clock, booking)
    staff = chat_for()
    await alices_card(staff)
    await staff.click("↩️ Refund")

    card = await staff.send("50 class cancelled")

    assert "✅ 50 ⭐ refunded through Telegram Stars." in card
    [call] = staff.bot.of(RefundStarPayment)
    assert (call.user_id, call.telegram_payment_charge_id) == (ALICE.id, "stx-1")
    assert (await ledger(db_factory))[-1][1:4] == ("refund", 50, "stars")


@pytest.mark.parametrize(
    ("answer", "shown", "recorded"),
    [
        (
            "Bad Request: CHARGE_ALREADY_REFUNDED",  # an earlier attempt's answer was lost
            "✅ 50 ⭐ refunded through Telegram Stars.",
            True,
        ),
        (
            "Bad Request: CHARGE_NOT_FOUND",
            "⚠️ Telegram refused to refund 50 ⭐: Bad Request: CHARGE_NOT_FOUND. The studio "
            "still holds it.",
            False,
        ),
        (
            "timeout",
            "⏳ 50 ⭐ asked back from Telegram Stars: Telegram did not answer; it will be "
            "checked again, and the client told once it is refunded.",
            False,
        ),
    ],
    ids=["already refunded", "refused", "no answer"],
)
async def test_staff_see_what_telegram_answered_a_stars_refund(
    chat_for, booking, db_factory, clock, answer, shown, recorded
):
    await pay_stars(db_factory, clock, booking)
    staff = chat_for()
    staff.bot.refund_error = answer
    await alices_card(staff)
    await staff.click("↩️ Refund")

    card = await staff.send("50 class cancelled")

    assert shown in card
    assert ((await ledger(db_factory))[-1][1:4] == ("refund", 50, "stars")) is recorded
    told = [m for m in staff.bot.of(SendMessage) if m.chat_id == ALICE.id and "↩️" in m.text]
    assert bool(told) is recorded


async def test_bad_amounts_and_reasons_are_refused_and_nothing_changes(
    chat_for, booking, db_factory, clock
):
    await pay_stars(db_factory, clock, booking)
    before = await ledger(db_factory)
    staff = chat_for()
    await alices_card(staff)
    await staff.click("↩️ Refund")

    for text in ("twenty wheel broke", "-5 wheel", "−5 wheel", "2.5 wheel", "1e3 x", "20⭐ x"):
        assert "Please start with the amount" in await staff.send(text), text
    assert "Please add a short reason" in await staff.send("20")
    assert "The amount must be more than zero." in await staff.send("0 oops")
    over = await staff.send("51 too much")
    assert "At most 50 ⭐ can still be refunded" in over
    assert "51 ⭐ is too much" in over

    assert await ledger(db_factory) == before
    assert staff.bot.of(RefundStarPayment) == []


async def test_waiving_is_capped_by_what_is_due(chat_for, booking, db_factory, clock):
    await pay_stars(db_factory, clock, booking, 30)
    staff = chat_for()
    await alices_card(staff)
    assert "Due: 20 ⭐" in staff.text()
    await staff.click("🙅 Waive")

    assert "Only 20 ⭐ is still due for this, so 21 ⭐ can't be waived." in await staff.send(
        "21 regular"
    )
    card = await staff.send("20 regular")

    assert "✅ 20 ⭐ waived." in card
    assert "✅ Nothing due" in card
    assert (await ledger(db_factory))[-1] == (ALICE.id, "waiver", 20, None, STAFF, "regular")


async def test_a_stale_money_button_after_the_booking_went_changes_nothing(
    chat_for, booking, db_factory
):
    staff = chat_for()
    await alices_card(staff)
    before = await ledger(db_factory)
    async with db_factory() as db:  # cancelled meanwhile, elsewhere
        from domain.storage.models import Booking

        (await db.get(Booking, booking)).status = "cancelled"
        await db.commit()

    screen = await staff.press(ForgedData("Paid at the venue", "adm_venue"))

    assert "This client has no booking for this session any more." in screen
    assert await ledger(db_factory) == before


async def test_money_buttons_from_someone_who_is_not_staff_do_nothing(
    chat_for, booking, db_factory
):
    other = chat_for(user_id=OTHER)
    await other.client.send("/start")
    menu = other.screen()
    other.messages.reset_history()

    await other.client.click(menu, ForgedData("Book a session", "adm_venue"))

    assert other.bot.texts() == ["This command is for staff only."]
    assert [row[1] for row in await ledger(db_factory)] == ["charge", "charge"]


async def test_who_owes_what_lists_the_clients_due_and_exports_csv(
    chat_for, booking, db_factory, clock
):
    await pay_stars(db_factory, clock, booking, 30)
    staff = chat_for()
    await staff.send("/admin")

    screen = await staff.click("💰 Who owes what")

    assert "Bob · id 1002 · 50 ⭐ Alice · id 1001 · 20 ⭐" in screen
    await staff.click("📄 CSV")
    [document] = staff.bot.of(SendDocument)
    assert document.chat_id == STAFF
    assert document.document.filename == "who-owes-what.csv"
    assert document.document.data.decode().splitlines() == [
        "client_id,name,amount_due,currency,amount_minor",
        "1002,Bob,50 ⭐,XTR,50",
        "1001,Alice,20 ⭐,XTR,20",
    ]


async def test_a_refund_cut_short_is_completed_at_start_up_once_and_the_client_told(
    booking, db_factory, clock
):
    """The process died after Telegram refunded, before the answer was recorded: at start-up
    Telegram answers CHARGE_ALREADY_REFUNDED, which is recorded as done; the periodic run
    leaves a refund asked moments ago to the staff member waiting for it."""
    await pay_stars(db_factory, clock, booking)

    async def dies_after_telegram_refunded(user_id: int, charge_id: str) -> None:
        raise SystemExit()

    with pytest.raises(SystemExit):
        async with db_factory() as db:
            await refund_booking(
                db,
                client_id=ALICE.id,
                booking_id=booking,
                amount=money.Money(50, "XTR"),
                reason="class cancelled",
                staff_id=STAFF,
                now=clock(),
                refund_stars=dies_after_telegram_refunded,
            )
    bot = TelegramBot()
    bot.refund_error = "Bad Request: CHARGE_ALREADY_REFUNDED"
    settings = Settings(TZ="Europe/Prague", currency="XTR", bot_token=None)
    deps = Deps(db=db_factory, settings=settings, clock=clock)

    await complete_stars_refunds(bot, deps, build_i18n("en"))
    assert bot.of(RefundStarPayment) == []  # asked moments ago: left alone
    await complete_stars_refunds(bot, deps, build_i18n("en"), at_start=True)
    await complete_stars_refunds(bot, deps, build_i18n("en"), at_start=True)

    assert len(bot.of(RefundStarPayment)) == 1
    assert [line for line in await ledger(db_factory) if line[1] == "refund"] == [
        (ALICE.id, "refund", 50, "stars", STAFF, "class cancelled")
    ]
    [told] = [m for m in bot.of(SendMessage) if m.chat_id == ALICE.id and "↩️" in m.text]
    assert "↩️ The studio refunded 50 ⭐ for <b>Clay — Wheel</b>." in told.text
