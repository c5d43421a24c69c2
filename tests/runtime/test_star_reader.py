"""Reading Telegram's list of Stars transactions for reconciliation, against the fake Bot API
over HTTP: page after page (100 at most each), from the checkpoint on, in the order Telegram
documents (oldest first) and, should Telegram list them newest first, down to the checkpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiogram import Bot

from bot.runtime.reconcile import GRACE, PAGE, read_star_transactions
from domain.billing.reconcile import StarCheckpoint
from tests.e2e.harness import api_session
from tests.fake_telegram import FakeTelegram

NOW = datetime(2026, 12, 10, tzinfo=UTC)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server
        assert server.errors == []


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, session=api_session(fake)) as client:
        yield client


def take(fake: FakeTelegram, count: int, *, at: datetime) -> list[str]:
    """``count`` Stars payments the bot never heard of, a second apart from ``at`` on."""
    alice = fake.user()
    ids = [fake.take_stars_unseen(alice, f"v1|booking:{n}|5|XTR", 5) for n in range(count)]
    for n, transaction in enumerate(fake.star_transactions[-count:]):
        transaction["date"] = int(at.timestamp()) + n
    return ids


def pages_asked(fake: FakeTelegram, since: int) -> list[tuple[int, int]]:
    calls = [c for c in fake.calls[since:] if c.method == "getStarTransactions"]
    return [(c.params.get("offset", 0), c.params.get("limit", 100)) for c in calls]


async def test_the_first_reading_pages_through_the_whole_list(fake, bot):
    lost = take(fake, 250, at=datetime(2026, 12, 1, tzinfo=UTC))

    listing = await read_star_transactions(bot, StarCheckpoint(), now=NOW)

    assert [t.id for t in listing.transactions] == lost
    assert listing.listed == 250
    assert all(t.client.id == 1001 and t.amount == 5 for t in listing.transactions)
    assert listing.transactions[3].invoice_payload == "v1|booking:3|5|XTR"


async def test_a_later_reading_starts_where_the_checkpoint_left_off(fake, bot):
    day = datetime(2026, 12, 1, tzinfo=UTC)
    take(fake, 230, at=day)
    new = take(fake, 40, at=day + timedelta(days=1))
    since = fake.mark()

    listing = await read_star_transactions(bot, StarCheckpoint(day, 230), now=NOW)

    assert pages_asked(fake, since) == [(0, PAGE), (230, PAGE)]  # the top, then on from the count
    assert set(new) <= {t.id for t in listing.transactions}
    assert listing.listed == 270


async def test_newest_first_is_read_down_to_the_checkpoint(fake, bot):
    day = datetime(2026, 12, 1, tzinfo=UTC)
    take(fake, 230, at=day)
    new = take(fake, 120, at=day + timedelta(days=1))
    fake.star_transactions_newest_first = True
    since = fake.mark()

    listing = await read_star_transactions(
        bot, StarCheckpoint(day + timedelta(hours=2), 230), now=NOW
    )

    assert set(new) <= {t.id for t in listing.transactions}
    assert pages_asked(fake, since) == [(0, PAGE), (100, PAGE)]  # stopped below the checkpoint
    assert listing.listed is None


async def test_a_page_all_of_one_second_is_read_to_the_end_either_way(fake, bot):
    day = datetime(2026, 12, 1, tzinfo=UTC)
    take(fake, 230, at=day)
    new = take(fake, 120, at=day + timedelta(days=1))
    for transaction in fake.star_transactions[-120:]:  # a burst: no order to tell from dates
        transaction["date"] = int((day + timedelta(days=1)).timestamp())
    fake.star_transactions_newest_first = True

    listing = await read_star_transactions(
        bot, StarCheckpoint(day + timedelta(hours=2), 230), now=NOW
    )

    assert set(new) <= {t.id for t in listing.transactions}
    assert listing.listed == 350


async def test_refunds_are_read_and_other_transactions_left_out(fake, bot):
    [charge_id] = take(fake, 1, at=datetime(2026, 12, 1, tzinfo=UTC))
    await bot.refund_star_payment(1001, charge_id)
    fake.star_transactions.append(  # a withdrawal to Fragment: none of the ledger's business
        {"id": "wd-1", "amount": 100, "date": 1_796_000_000, "receiver": {"type": "fragment"}}
    )

    listing = await read_star_transactions(bot, StarCheckpoint(), now=NOW)

    assert [(t.id, t.refund) for t in listing.transactions] == [
        (charge_id, False),
        (charge_id, True),
    ]
    assert listing.listed == 3


async def test_a_payment_made_just_now_is_left_to_the_live_handler_and_the_next_run(fake, bot):
    day = datetime(2026, 12, 1, tzinfo=UTC)
    old = take(fake, 150, at=day)
    [young] = take(fake, 1, at=NOW - timedelta(seconds=10))
    since = fake.mark()

    listing = await read_star_transactions(bot, StarCheckpoint(), now=NOW)

    assert [t.id for t in listing.transactions] == old
    assert listing.listed == 150  # the next run reads on from the young one
    later = await read_star_transactions(bot, StarCheckpoint(day, 150), now=NOW + GRACE)
    assert young in {t.id for t in later.transactions}
    assert pages_asked(fake, since)[-1] == (150, PAGE)
