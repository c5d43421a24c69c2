"""Telegram's send limits as the :class:`~bot.delivery.sender.Sender` keeps them: about 30
messages a second overall, one a second per private chat, 20 a minute per group.

:class:`LocalLimits` counts in this process's memory: right for one instance. Several instances
of one bot each counting their own would together send N times as much, and Telegram answers
the excess with 429. :class:`RedisLimits` keeps the same sliding windows in Redis (with
``REDIS_URL``), so that all instances together keep the limits: each send asks one Lua script,
which checks and counts the message in every window it belongs to at once, in one round trip.
Time there is Redis's own clock (``TIME``), the one clock every instance shares.

A message is counted when it is let through and counted again from Telegram's answer
(``settle``): Telegram counts it on arrival, somewhere in between, so counting from the
let-through alone would let a 31st message in when the first was slow on the wire. With Redis
the answers are handed over with the next ask, or, when no ask comes within a quarter of a
second, in one batch of their own (off the sending path: one round trip per send on it).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError

log = logging.getLogger(__name__)

Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[Any]]
_EPSILON = 1e-6  # float slack: a wait computed to the instant must not leave a 1e-16 remainder
GROUP_PERIOD = 60.0


@dataclass(frozen=True)
class Rates:
    """The limits; 0 turns one off."""

    per_second: int = 30
    per_chat_seconds: float = 1.0
    group_per_minute: int = 20

    def for_chat(self, chat_id: int) -> tuple[int, float]:
        """(limit, period) of the window of ``chat_id``; limit 0: none."""
        if chat_id < 0:  # groups and channels
            return self.group_per_minute, GROUP_PERIOD
        return (1, self.per_chat_seconds) if self.per_chat_seconds else (0, 0.0)


@dataclass
class Grant:
    """A message let through at ``at`` (the limiter's clock); ``windows``: where it counted."""

    at: float
    windows: list[Any] = field(default_factory=list)


class Limits(Protocol):
    async def acquire(self, chat_id: int) -> Grant:
        """Wait until one more message to ``chat_id`` fits every limit, and count it."""
        ...

    def settle(self, grant: Grant) -> None:
        """Telegram answered the message of ``grant`` now: count it from now."""
        ...

    async def pause(self, seconds: float) -> None:
        """Telegram answered 429: let nothing through for ``seconds``."""
        ...


class _Window:
    """At most ``limit`` events in any ``period`` seconds (a sliding window)."""

    __slots__ = ("limit", "period", "times")

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more event fits (0 if it fits now)."""
        times = self.times
        while times and times[0] <= now - self.period + _EPSILON:
            times.popleft()
        if len(times) < self.limit:
            return 0.0
        return times[0] + self.period - now

    def record(self, now: float) -> None:
        self.times.append(now)

    def settle(self, sent_at: float, answered_at: float) -> None:
        """The event counted at ``sent_at`` is counted from ``answered_at`` instead."""
        try:
            self.times.remove(sent_at)
        except ValueError:  # already out of the window
            return
        self.times.append(answered_at)  # the latest time so far: the deque stays in order

    def idle(self, now: float) -> bool:
        return not self.times or self.times[-1] <= now - self.period


class LocalLimits:
    """The limits of this process alone."""

    def __init__(self, rates: Rates, *, clock: Monotonic, sleep: Sleep) -> None:
        self.rates = rates
        self._global = _Window(rates.per_second, 1.0) if rates.per_second else None
        self._chats: dict[int, _Window] = {}
        self._prune_at = 4096
        self._clock = clock
        self._sleep = sleep
        self.paused_until = float("-inf")

    async def acquire(self, chat_id: int) -> Grant:
        while True:
            now = self._clock()
            window = self._chat_window(chat_id, now)
            wait = max(
                self.paused_until - now,
                self._global.wait(now) if self._global else 0.0,
                window.wait(now) if window else 0.0,
            )
            if wait <= _EPSILON:
                windows = [w for w in (self._global, window) if w is not None]
                for counted in windows:
                    counted.record(now)
                return Grant(now, windows)
            await self._sleep(wait)

    def settle(self, grant: Grant) -> None:
        answered_at = self._clock()
        for window in grant.windows:
            window.settle(grant.at, answered_at)

    async def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self._clock() + seconds)

    def _chat_window(self, chat_id: int, now: float) -> _Window | None:
        window = self._chats.get(chat_id)
        if window is not None:
            return window
        limit, period = self.rates.for_chat(chat_id)
        if not limit:
            return None
        window = _Window(limit, period)
        if len(self._chats) >= self._prune_at:  # forget chats with nothing in their window
            self._chats = {cid: w for cid, w in self._chats.items() if not w.idle(now)}
            self._prune_at = max(4096, 2 * len(self._chats))
        self._chats[chat_id] = window
        return window


# KEYS: the pause key, the overall window, the chat's window, then one key per answer to settle
# ARGV: now ('' = Redis's TIME), this message's member, overall limit and period, the chat's
#       limit and period (limit 0: that window is off), then score and member per answer
# A window is a sorted set of members scored by when each message counts. Answer: {1, now,
# seconds until the overall window has room again} when let through (and counted), else
# {0, seconds to wait, which limit: pause|all|chat}.
ACQUIRE = """
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[1])
end
for i = 4, #KEYS do
  local j = 7 + (i - 4) * 2
  redis.call('ZADD', KEYS[i], 'XX', 'GT', ARGV[j], ARGV[j + 1])
end
local wait, reason = 0, ''
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if paused - now > wait then wait, reason = paused - now, 'pause' end
local function until_room(key, limit, period)
  local count = redis.call('ZCARD', key)
  if count < limit then return 0 end
  local nth = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
  return tonumber(nth[2]) + period - now
end
local windows = {
  {KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]), 'all'},
  {KEYS[3], tonumber(ARGV[5]), tonumber(ARGV[6]), 'chat'},
}
for _, w in ipairs(windows) do
  local key, limit, period = w[1], w[2], w[3]
  if limit > 0 then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.7f', now - period + 0.000001))
    local left = until_room(key, limit, period)
    if left > wait then wait, reason = left, w[4] end
  end
end
if wait > 0.000001 then
  return {0, string.format('%.7f', wait), reason}
end
for _, w in ipairs(windows) do
  if w[2] > 0 then
    redis.call('ZADD', w[1], string.format('%.7f', now), ARGV[2])
    redis.call('PEXPIRE', w[1], math.ceil(w[3] * 1000) + 60000)
  end
end
local full = 0
if windows[1][2] > 0 then full = until_room(KEYS[2], windows[1][2], windows[1][3]) end
return {1, string.format('%.7f', now), string.format('%.7f', full)}
"""

# KEYS: the pause key; ARGV: now ('' = Redis's TIME), seconds. Pauses until now + seconds
# unless a longer pause is on.
PAUSE = """
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[1])
end
local seconds = tonumber(ARGV[2])
local until_ = now + seconds
if until_ > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], string.format('%.7f', until_), 'PX', math.ceil(seconds * 1000) + 1000)
end
return 1
"""


@dataclass(frozen=True)
class _Counted:
    """Where a message let through by Redis counts: its member, keys, Redis time and ours."""

    member: str
    keys: tuple[str, ...]
    redis_at: float
    asked_at: float


class RedisLimits:
    """The limits of every instance of one bot together, kept in Redis under ``prefix``.

    Asks are taken one at a time per instance while the overall limit (or a pause) holds them
    up: otherwise all waiting sends of an instance would ask again at the same instant and all
    but one be told to wait once more. A send held up by its own chat waits apart.

    ``now``: a clock to use instead of Redis's (tests on fake time). If Redis fails, this
    instance falls back to :class:`LocalLimits` (logged) until it answers again.
    """

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        rates: Rates,
        *,
        clock: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        now: Monotonic | None = None,
        settle_after: float = 0.25,
    ) -> None:
        self.redis = redis
        self.rates = rates
        self._prefix = prefix
        self._pause_key = f"{prefix}:pause"
        self._global_key = f"{prefix}:all"
        self._clock = clock
        self._sleep = sleep
        self._now = now
        self._settle_after = settle_after
        self._local = LocalLimits(rates, clock=clock, sleep=sleep)
        self._instance = uuid.uuid4().hex[:10]
        self._sequence = 0
        self._lock = asyncio.Lock()
        self._full_until = float("-inf")  # our clock: the overall window is full until then
        self._answers: list[tuple[str, str, str]] = []  # (key, score, member) to settle
        self._flush: asyncio.Task | None = None
        self._acquire_sha: str | None = None
        self._failing_since: float | None = None

    async def acquire(self, chat_id: int) -> Grant:
        limit, period = self.rates.for_chat(chat_id)
        chat_key = f"{self._prefix}:chat:{chat_id}"
        keys = tuple(
            key for key, on in ((self._global_key, self.rates.per_second), (chat_key, limit)) if on
        )
        while True:
            async with self._lock:
                # the last ask filled the window (asking now would only be told so), or a 429
                # paused this instance (also if Redis missed it)
                held = max(self._full_until, self._local.paused_until) - self._clock()
                if held > _EPSILON:
                    await self._sleep(held)
                self._sequence += 1
                member = f"{self._instance}:{self._sequence}"
                asked_at = self._clock()
                answer = await self._ask(chat_key, member, limit, period)
                if answer is None:  # Redis is away: this instance counts alone meanwhile
                    return await self._local.acquire(chat_id)
                if answer[0] == 1:
                    self._full_until = asked_at + float(answer[2])
                    counted = _Counted(member, keys, float(answer[1]), asked_at)
                    return Grant(asked_at, [counted])
                wait, reason = float(answer[1]), _text(answer[2])
                if reason != "chat":  # nothing of this instance could go meanwhile
                    await self._sleep(wait)
                    continue
            await self._sleep(wait)

    def settle(self, grant: Grant) -> None:
        if not grant.windows or not isinstance(grant.windows[0], _Counted):
            self._local.settle(grant)
            return
        counted: _Counted = grant.windows[0]
        took = self._clock() - counted.asked_at  # from before Redis counted it: on the safe side
        if took <= 0:
            return
        score = f"{counted.redis_at + took:.7f}"
        self._answers.extend((key, score, counted.member) for key in counted.keys)
        if self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._settle_soon())

    async def pause(self, seconds: float) -> None:
        await self._local.pause(seconds)  # this instance at once, whatever Redis does
        now = "" if self._now is None else f"{self._now():.7f}"
        try:
            await self.redis.eval(PAUSE, 1, self._pause_key, now, f"{seconds:.7f}")
        except (OSError, RedisError) as error:
            self._failed(error)

    async def _ask(self, chat_key: str, member: str, limit: int, period: float) -> list | None:
        answers, self._answers = self._answers, []
        now = "" if self._now is None else f"{self._now():.7f}"
        keys = [self._pause_key, self._global_key, chat_key, *(key for key, _, _ in answers)]
        args = [
            now,
            member,
            self.rates.per_second,
            1,
            limit,
            f"{period:.7f}",
            *(value for _, score, answered in answers for value in (score, answered)),
        ]
        try:
            if self._acquire_sha is None:
                self._acquire_sha = await self.redis.script_load(ACQUIRE)
            try:
                answer = await self.redis.evalsha(self._acquire_sha, len(keys), *keys, *args)
            except NoScriptError:  # Redis restarted and forgot it
                self._acquire_sha = await self.redis.script_load(ACQUIRE)
                answer = await self.redis.evalsha(self._acquire_sha, len(keys), *keys, *args)
        except (OSError, RedisError) as error:
            self._failed(error)
            return None
        if self._failing_since is not None:
            log.warning("Redis answers again: send limits are shared again")
            self._failing_since = None
        return answer

    async def _settle_soon(self) -> None:
        """Sending stopped for a moment: hand over the answers without waiting for an ask."""
        await self._sleep(self._settle_after)
        await self._settle_now()

    async def _settle_now(self) -> None:
        answers, self._answers = self._answers, []
        if not answers:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, score, member in answers:
                    pipe.zadd(key, {member: float(score)}, xx=True, gt=True)
                await pipe.execute()
        except (OSError, RedisError) as error:
            self._failed(error)

    def _failed(self, error: Exception) -> None:
        now = self._clock()
        if self._failing_since is None or now - self._failing_since >= 60:
            log.warning(
                "Redis failed (%s): this instance keeps the send limits on its own meanwhile",
                error,
            )
            self._failing_since = now


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def redis_prefix(key_prefix: str, bot_id: int) -> str:
    """The keys of one bot's send limits: the settings' prefix and the bot, as its FSM keys."""
    return f"{key_prefix}:{bot_id}:send"
