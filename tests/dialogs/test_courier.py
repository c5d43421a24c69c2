"""The outbox dispatcher in-process: an outage is retried later and then fails with the
reason, a row it cannot render does not stop the others, a lease running short gives the
untried rows back."""

from __future__ import annotations

from datetime import timedelta

from aiogram.exceptions import TelegramServerError
from aiogram.methods import SendMessage
from sqlalchemy import select

from bot.delivery import courier as courier_module
from bot.delivery.courier import Courier
from bot.delivery.sender import Sender
from bot.deps import Deps
from bot.runtime.config import Settings
from bot.text.i18n import build_i18n
from domain.booking.bookings import book_session
from domain.clients.record import ClientRef
from domain.notices import outbox
from domain.notices.events import Promoted
from domain.policy import Policy
from domain.storage.models import Booking, ClassSession, OutboxMessage
from tests.dialogs.test_notices import Outbox
from tests.support.catalog import load

CLIENTS = [ClientRef(n, f"Client {n}", "en") for n in (1, 2)]
NO_REMINDERS = Policy(reminders=())


class Down(Outbox):
    """Telegram answering 502 to every sendMessage."""

    async def __call__(self, method, request_timeout=None):
        if isinstance(method, SendMessage):
            self.calls.append(method)
            raise TelegramServerError(method=method, message="Bad Gateway")
        return await super().__call__(method, request_timeout)


def courier(db_factory, clock, bot, **options) -> Courier:
    deps = Deps(db=db_factory, settings=Settings(bot_token=None), clock=clock)
    sender = Sender(bot, None, per_second=0, per_chat_seconds=0, max_tries=1)
    return Courier(bot, deps, build_i18n("en"), sender, **options)


async def notices(db_factory, clock) -> None:
    """Each client booked a session; a "you are booked" notice for each is due."""
    await load(db_factory)
    async with db_factory() as db:
        session = await db.scalar(select(ClassSession.id).order_by(ClassSession.starts_at.desc()))
    for client in CLIENTS:
        async with db_factory() as db:
            await book_session(
                db, client=client, session_id=session, now=clock(), policy=NO_REMINDERS
            )
    async with db_factory() as db:
        bookings = (await db.execute(select(Booking.client_id, Booking.id))).all()
        await outbox.record(db, [Promoted(c, b) for c, b in bookings], clock())
        await db.commit()


async def states(db_factory) -> list[tuple]:
    async with db_factory() as db:
        rows = await db.execute(
            select(
                OutboxMessage.recipient,
                OutboxMessage.state,
                OutboxMessage.attempts,
                OutboxMessage.error,
            ).order_by(OutboxMessage.recipient)
        )
        return [tuple(row) for row in rows]


async def test_an_outage_is_retried_later_and_then_fails_with_the_reason(db_factory, clock):
    await notices(db_factory, clock)
    bot = Down()
    dispatcher = courier(db_factory, clock, bot, max_attempts=2)

    await dispatcher.drain()
    after_first = await states(db_factory)
    await dispatcher.drain()  # not due again yet
    assert len(bot.calls) == 2
    clock.now += timedelta(seconds=31)
    await dispatcher.drain()

    reason = "Telegram server says - Bad Gateway"
    assert after_first == [(1, "pending", 1, reason), (2, "pending", 1, reason)]
    assert len(bot.calls) == 4
    assert await states(db_factory) == [(1, "failed", 2, reason), (2, "failed", 2, reason)]


async def test_telegram_back_before_the_last_attempt_delivers(db_factory, clock):
    await notices(db_factory, clock)
    await courier(db_factory, clock, Down(), max_attempts=2).drain()
    clock.now += timedelta(seconds=31)
    bot = Outbox()

    await courier(db_factory, clock, bot, max_attempts=2).drain()

    assert [c.chat_id for c in bot.sent(1) + bot.sent(2)] == [1, 2]
    assert [s[:3] for s in await states(db_factory)] == [(1, "sent", 2), (2, "sent", 2)]


async def test_a_row_that_cannot_be_rendered_fails_and_the_others_go_out(
    db_factory, clock, monkeypatch
):
    await notices(db_factory, clock)
    render = courier_module.render

    async def broken_for_client_1(db, deps, i18n, event):
        if event.recipient == 1:
            raise KeyError("title")
        return await render(db, deps, i18n, event)

    monkeypatch.setattr(courier_module, "render", broken_for_client_1)
    bot = Outbox()

    await courier(db_factory, clock, bot).drain()

    assert bot.sent(1) == []
    assert len(bot.sent(2)) == 1
    assert await states(db_factory) == [
        (1, "failed", 1, "could not render: KeyError('title')"),
        (2, "sent", 1, None),
    ]


async def test_a_lease_running_short_gives_the_untried_rows_back(db_factory, clock):
    await notices(db_factory, clock)
    bot = Outbox()

    def monotonic() -> float:  # the first message takes 100 s (a long flood wait, say)
        return 100.0 if bot.calls else 0.0

    dispatcher = courier(
        db_factory, clock, bot, lease_seconds=120, concurrency=1, monotonic=monotonic
    )
    assert await dispatcher.run_once() == 2

    assert len(bot.sent(1)) == 1
    assert bot.sent(2) == []
    # given back, not counted as an attempt: claimable at once by anyone
    assert await states(db_factory) == [(1, "sent", 1, None), (2, "pending", 0, None)]
    async with db_factory() as db:
        (again,) = await outbox.claim_due(db, clock(), limit=10, lease=timedelta(seconds=60))
    assert again.recipient == 2


async def test_a_notice_about_a_booking_gone_meanwhile_is_cancelled_not_sent(db_factory, clock):
    await notices(db_factory, clock)
    async with db_factory() as db:
        await db.execute(Booking.__table__.update().values(status="cancelled"))
        await db.commit()
    bot = Outbox()

    await courier(db_factory, clock, bot).drain()

    assert bot.calls == []
    assert [s[1] for s in await states(db_factory)] == ["cancelled", "cancelled"]
