"""A fee's reminders as the dispatcher sends them: in the client's language with a Pay button
naming the fee (or, with venue-only payment, "pay it at the studio"), and none once it is
paid or waived."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.delivery.courier import send_due
from bot.deps import Deps
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from domain.billing import money
from domain.billing.fees import raise_fees
from domain.billing.payments import InvoiceFor, apply_payment
from domain.billing.refunds import waive_fee
from domain.booking.ongoing import enrol_in_class
from domain.clients.record import ClientRef
from domain.storage.models import OutboxMessage, Programme, ProgrammeClass
from tests.dialogs.test_notices import Outbox
from tests.support.catalog import load

ALICE = ClientRef(1, "Alice", "en")

COURSE = """
programmes:
  - key: ballet
    title: Ballet
    kind: ongoing
    classes:
      - key: tue
        title: Tuesdays
        capacity: 10
        weekly:
          days: [tue]
          time: "17:00"
          from: 2026-11-24
          until: 2027-02-23
"""


def settings() -> Settings:
    return Settings(
        TZ="Europe/Prague",
        CURRENCY="XTR",
        PAYMENT_METHODS="stars",
        FEE_NUDGE_DAYS="0,3",
        REMINDERS="",
        bot_token=None,
    )


async def owe_a_fee(db_factory, clock, config: Settings) -> int:
    """Alice enrols on Saturday Nov 21st; November's fee (due on the 1st) is charged at once."""
    await load(db_factory, COURSE)
    async with db_factory() as db:
        await db.execute(update(Programme).values(monthly_fee_minor=40, fee_due_day=1))
        await db.commit()
        class_id = await db.scalar(select(ProgrammeClass.id))
        await enrol_in_class(db, client=ALICE, class_id=class_id, now=clock(), policy=config.policy)
    async with db_factory() as db:
        [fee] = await raise_fees(db, clock(), config.policy)
    return fee.fee_id


async def states(db_factory) -> list[str]:
    async with db_factory() as db:
        rows = await db.scalars(
            select(OutboxMessage.state)
            .where(OutboxMessage.kind == "fee_nudge")
            .order_by(OutboxMessage.due_at)
        )
        return list(rows)


async def test_an_unpaid_fee_is_nudged_with_a_pay_button_naming_it(db_factory, clock):
    config = settings()
    fee_id = await owe_a_fee(db_factory, clock, config)
    outbox = Outbox()

    await send_due(outbox, Deps(db=db_factory, settings=config, clock=clock), build_i18n("en"))

    [sent] = outbox.sent(ALICE.id)
    assert sent.text == "💳 40 ⭐ is due: <b>Ballet: fee for November 2026</b>."
    [[button]] = sent.reply_markup.inline_keyboard
    assert (button.text, button.callback_data) == ("💳 Pay 40 ⭐", f"payfee:{fee_id}")


async def test_with_venue_payment_the_nudge_says_to_pay_at_the_studio(db_factory, clock):
    config = Settings(
        TZ="Europe/Prague", CURRENCY="EUR", FEE_NUDGE_DAYS="0", REMINDERS="", bot_token=None
    )
    await owe_a_fee(db_factory, clock, config)
    async with db_factory() as db:  # in EUR the 40 is 0.40: make it 40.00
        await db.execute(update(Programme).values(monthly_fee_minor=4000))
        await db.commit()
    outbox = Outbox()

    await send_due(outbox, Deps(db=db_factory, settings=config, clock=clock), build_i18n("en"))

    [sent] = outbox.sent(ALICE.id)
    assert sent.text.endswith("Please pay it at the studio.")
    assert sent.reply_markup is None


async def test_the_nudges_stop_once_the_fee_is_paid(db_factory, clock):
    config = settings()
    fee_id = await owe_a_fee(db_factory, clock, config)
    deps = Deps(db=db_factory, settings=config, clock=clock)
    await send_due(Outbox(), deps, build_i18n("en"))  # the first one went out
    async with db_factory() as db:
        item = await db.scalar(
            select(OutboxMessage.payload).where(OutboxMessage.kind == "fee_nudge").limit(1)
        )
        assert f'"fee_id": {fee_id}' in item
        await apply_payment(
            db,
            client_id=ALICE.id,
            paid=InvoiceFor(f"fee:1:{ALICE.id}:2026-11", 40, "XTR"),
            charge_id="tg-1",
            method=money.Method.STARS,
            now=clock(),
        )

    clock.now += timedelta(days=3, hours=1)
    outbox = Outbox()
    await send_due(outbox, deps, build_i18n("en"))

    # only the thanks for the payment (sent through the outbox too), no nudge
    assert [m.text for m in outbox.sent(ALICE.id)] == ["✅ Payment received: 40 ⭐. Thank you!"]
    assert await states(db_factory) == ["sent", "cancelled"]


async def test_a_waived_fee_is_not_nudged_again(db_factory, clock):
    config = settings()
    fee_id = await owe_a_fee(db_factory, clock, config)
    deps = Deps(db=db_factory, settings=config, clock=clock)
    await send_due(Outbox(), deps, build_i18n("en"))
    async with db_factory() as db:
        await waive_fee(db, fee_id=fee_id, reason="kind", staff_id=9, now=clock())

    clock.now += timedelta(days=3, hours=1)
    outbox = Outbox()
    await send_due(outbox, deps, build_i18n("en"))

    assert outbox.sent(ALICE.id) == []
