"""Send limits shared through Redis: several Sender instances of one bot together keep
Telegram's limits (30 a second, 1 a second per private chat, 20 a minute per group).

On fake time: the clock moves only when every send is asleep on it and no Redis call is under
way, so the time a message is recorded at is the time the limiter let it through.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import pytest
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage
from aiogram.types import Chat, Message
from redis.asyncio import Redis

from bot.delivery.limits import Rates, RedisLimits
from bot.delivery.sender import Sender
from bot.runtime.config import Settings
from tests.support.services import REDIS_URL, redis_prefix


class VirtualTime:
    """A clock that jumps to the next wake-up once nothing else can happen: every task is
    asleep on it (or waits for one that is) and no Redis call is under way."""

    def __init__(self) -> None:
        self.now = 0.0
        self.busy = 0  # Redis calls under way
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._order), future))
        await future

    async def run(self, *work: Awaitable[Any]) -> list[Any]:
        tasks = [asyncio.ensure_future(w) for w in work]
        async with asyncio.timeout(120):
            while not all(task.done() for task in tasks):
                await self._settled()
                if self.busy or all(task.done() for task in tasks):
                    continue
                assert self._sleepers, "every task waits, and not on the clock"
                self.now, _, future = heapq.heappop(self._sleepers)
                future.set_result(None)
                while self._sleepers and self._sleepers[0][0] <= self.now:
                    heapq.heappop(self._sleepers)[2].set_result(None)
            while self._sleepers:  # what is left to do in the background (answers to settle)
                self.now, _, future = heapq.heappop(self._sleepers)
                future.set_result(None)
                await self._settled()
        return [task.result() for task in tasks]

    async def _settled(self) -> None:
        """Let every task run until it waits: for Redis's answers, and until the event loop
        has nothing ready to run but this (CPython's ready queue)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0)
            if self.busy:
                await asyncio.sleep(0.001)
            elif not loop._ready:  # type: ignore[attr-defined]
                return


class CountedRedis:
    """A Redis client whose calls the clock waits for."""

    def __init__(self, redis: Redis, time: VirtualTime) -> None:
        self._redis = redis
        self._time = time

    def __getattr__(self, name: str) -> Any:
        return getattr(self._redis, name)

    async def _counted(self, call: Awaitable[Any]) -> Any:
        self._time.busy += 1
        try:
            return await call
        finally:
            self._time.busy -= 1

    async def evalsha(self, *args: Any) -> Any:
        return await self._counted(self._redis.evalsha(*args))

    async def eval(self, *args: Any) -> Any:
        return await self._counted(self._redis.eval(*args))

    async def script_load(self, script: str) -> Any:
        return await self._counted(self._redis.script_load(script))

    @asynccontextmanager
    async def pipeline(self, **kwargs: Any) -> AsyncIterator[Any]:
        async with self._redis.pipeline(**kwargs) as pipe:
            execute = pipe.execute
            pipe.execute = lambda: self._counted(execute())
            yield pipe


class FakeBot:
    """Records when each message was sent (one list shared by every instance)."""

    def __init__(self, time: VirtualTime, sent: list[tuple[float, int]], answer_after=0.0):
        self.time = time
        self.sent = sent
        self.answer_after = answer_after
        self.errors: list[Exception] = []

    async def send_message(self, chat_id: int, text: str, **kwargs) -> Message:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((self.time(), chat_id))
        if self.answer_after:
            await self.time.sleep(self.answer_after)
        return Message(message_id=1, date=datetime.now(), chat=Chat(id=chat_id, type="private"))


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    async with redis_prefix() as prefix:
        yield prefix


@pytest.fixture
def time() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def sent() -> list[tuple[float, int]]:
    return []


@pytest.fixture
async def instances(time, sent, prefix) -> AsyncIterator[Callable[..., Sender]]:
    """``instance()``: one more Sender of the bot, as another process would build it: its
    own Redis connection, its own limiter, the key prefix of the bot."""
    clients: list[Redis] = []

    def instance(answer_after: float = 0.0) -> Sender:
        client = Redis.from_url(REDIS_URL)
        clients.append(client)
        limits = RedisLimits(
            CountedRedis(client, time),  # type: ignore[arg-type]
            f"{prefix}:123:send",
            Rates(),
            clock=time,
            sleep=time.sleep,
            now=time,
        )
        bot = FakeBot(time, sent, answer_after)
        return Sender(bot, None, clock=time, sleep=time.sleep, limits=limits)  # type: ignore[arg-type]

    yield instance
    for client in clients:
        await client.aclose()


async def send_all(sender: Sender, chats: list[int], side_by_side: int = 8) -> None:
    """As the courier sends: several recipients at once."""
    queue = list(chats)

    async def worker() -> None:
        while queue:
            chat_id = queue.pop(0)
            assert await sender.send_message(chat_id, "hello") is not None

    await asyncio.gather(*(worker() for _ in range(side_by_side)))


def at_most_in_any(times: list[float], limit: int, period: float) -> bool:
    """No ``limit + 1`` of ``times`` within ``period`` (half-open, as Telegram counts)."""
    times = sorted(times)
    return all(times[i + limit] - times[i] >= period - 1e-9 for i in range(len(times) - limit))


async def test_two_instances_together_send_at_most_thirty_a_second(time, sent, instances):
    first, second = instances(), instances()

    await time.run(
        send_all(first, list(range(1, 46))),
        send_all(second, list(range(101, 146))),
    )

    times = [at for at, _ in sent]
    assert len(times) == 90
    assert at_most_in_any(times, 30, 1.0)
    assert sorted(times)[:30] == [0.0] * 30  # an empty window lets 30 through at once
    assert max(times) >= 2.0  # 60 more at 30 a second


async def test_two_instances_keep_a_second_between_messages_to_one_chat(time, sent, instances):
    first, second = instances(), instances()

    await time.run(
        send_all(first, [7, 8, 7, 9, 7], side_by_side=1),
        send_all(second, [7, 10, 7, 11, 7], side_by_side=1),
    )

    to_seven = sorted(at for at, chat in sent if chat == 7)
    assert len(to_seven) == 6
    assert at_most_in_any(to_seven, 1, 1.0)
    assert to_seven[-1] >= 5.0


async def test_two_instances_together_send_at_most_twenty_a_minute_to_one_group(
    time, sent, instances
):
    first, second = instances(), instances()

    await time.run(
        send_all(first, [-100123] * 15, side_by_side=3),
        send_all(second, [-100123] * 15, side_by_side=3),
    )

    times = [at for at, _ in sent]
    assert len(times) == 30
    assert at_most_in_any(times, 20, 60.0)
    assert max(times) >= 60.0


async def test_many_instances_asking_at_the_same_instant_get_thirty_messages_through(
    time, sent, instances
):
    """The check and the count are one step: eight instances, each with its own connection,
    asking side by side at one instant, get exactly 30 through, not 30 each."""
    senders = [instances() for _ in range(8)]

    await time.run(
        *(send_all(s, [1000 * n + c for c in range(10)]) for n, s in enumerate(senders, 1))
    )

    times = [at for at, _ in sent]
    assert len(times) == 80
    assert times.count(0.0) == 30
    assert at_most_in_any(times, 30, 1.0)


async def test_a_429_on_one_instance_pauses_the_other_too(time, sent, instances):
    first, second = instances(), instances()
    first.bot.errors.append(  # type: ignore[attr-defined]
        TelegramRetryAfter(method=SendMessage(chat_id=7, text="hi"), message="flood", retry_after=5)
    )

    async def after_the_429() -> None:
        await time.sleep(1.0)
        await second.send_message(8, "next")

    await time.run(first.send_message(7, "hi"), after_the_429())

    assert sorted(sent) == [(5.0, 7), (5.0, 8)]


async def test_a_slow_answer_counts_for_the_other_instance_from_when_it_came(time, sent, instances):
    """Telegram counts a message on arrival, somewhere before its answer: another instance's
    next message to the chat leaves a second after the answer, not after the first left."""
    first, second = instances(answer_after=0.4), instances()

    async def one_after_the_other() -> None:
        await first.send_message(7, "one")
        await second.send_message(7, "two")

    await time.run(one_after_the_other())

    assert sent == [(0.0, 7), (1.4, 7)]


async def test_without_redis_an_instance_keeps_the_limits_on_its_own(caplog):
    """Redis away: the sends are not stopped, nor let through unlimited."""
    time = VirtualTime()
    sent: list[tuple[float, int]] = []
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    limits = RedisLimits(
        CountedRedis(client, time),  # type: ignore[arg-type]
        "gone:1:send",
        Rates(),
        clock=time,
        sleep=time.sleep,
        now=time,
    )
    sender = Sender(FakeBot(time, sent), None, clock=time, sleep=time.sleep, limits=limits)  # type: ignore[arg-type]

    await time.run(send_all(sender, list(range(1, 32))))
    await client.aclose()

    times = [at for at, _ in sent]
    assert times[:30] == [0.0] * 30
    assert times[30] >= 1.0
    assert "this instance keeps the send limits on its own" in caplog.text


async def test_from_settings_keeps_the_limits_in_redis_under_the_prefix_and_the_bot(prefix):
    """What the app wires with REDIS_URL: the instances of one bot share the keys."""
    time = VirtualTime()
    sent: list[tuple[float, int]] = []
    client = Redis.from_url(REDIS_URL)
    bot = FakeBot(time, sent)
    bot.id = 123456  # type: ignore[attr-defined]  # aiogram's Bot.id: from the token
    settings = Settings(bot_token="123456:test", redis_key_prefix=prefix)
    sender = Sender.from_settings(bot, settings, redis=client)  # type: ignore[arg-type]
    try:
        assert await sender.send_message(7, "hi") is not None
        assert await client.zcard(f"{prefix}:123456:send:all") == 1
        assert await client.zcard(f"{prefix}:123456:send:chat:7") == 1
    finally:
        await client.aclose()
