"""The fake Telegram Bot API of bench/outbox_dispatch.py, in a process of its own so that its
CPU does not count against the dispatcher's event loop.

    python -m bench._fake_api [--token T] [--per-second 30] [--per-chat-seconds 1]

Prints its base URL as the first line on stdout and serves until stdin closes; then prints
what it saw as one JSON line and exits. Every ``chat_id`` is a private chat opened on first
use. With limits set, ``sendMessage`` is refused as Telegram refuses it (429 with
``retry_after``) when ``--per-second`` messages were accepted within the last second, or one
to the same chat within the last ``--per-chat-seconds``. Refusals do not count towards those
windows. Time is taken on arrival, as Telegram can only take it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import sys
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.fake_telegram import ApiError, FakeTelegram


@dataclass
class TelegramLimits:
    """Telegram's flood control for ``sendMessage``, as seen from its side: on arrival."""

    per_second: int  # 0: no overall limit
    per_chat_seconds: float  # 0: no per-chat limit
    accepted: deque[float] = field(default_factory=deque)  # within the last second
    last_to_chat: dict[int, float] = field(default_factory=dict)

    def refusal(self, chat_id: int, now: float) -> ApiError | None:
        """The 429 for one more message to ``chat_id`` now, or None (and it is counted)."""
        while self.accepted and self.accepted[0] <= now - 1.0:
            self.accepted.popleft()
        waits = []
        if self.per_second and len(self.accepted) >= self.per_second:
            waits.append(self.accepted[0] + 1.0 - now)
        last = self.last_to_chat.get(chat_id)
        if self.per_chat_seconds and last is not None and now - last < self.per_chat_seconds:
            waits.append(last + self.per_chat_seconds - now)
        if waits:
            retry_after = max(1, math.ceil(max(waits)))
            return ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                parameters={"retry_after": retry_after},
            )
        self.accepted.append(now)
        self.last_to_chat[chat_id] = now
        return None


@dataclass
class Tally:
    sent_at: list[float] = field(default_factory=list)  # time.monotonic() of each accepted
    chats: dict[int, list[float]] = field(default_factory=dict)
    refused: int = 0  # 429s
    cpu_at_start: float = field(default_factory=time.process_time)  # serving only counts

    def report(self, errors: Sequence[str]) -> dict[str, Any]:
        gaps = [b - a for times in self.chats.values() for a, b in itertools.pairwise(times)]
        return {
            "sent": len(self.sent_at),
            "refused_429": self.refused,
            "chats": len(self.chats),
            "first": min(self.sent_at, default=None),
            "last": max(self.sent_at, default=None),
            "busiest_second": busiest_second(sorted(self.sent_at)),
            "shortest_chat_gap": min(gaps, default=None),
            "errors": list(errors[:5]),
            "error_count": len(errors),
            "cpu_seconds": time.process_time() - self.cpu_at_start,
        }


def busiest_second(times: Sequence[float]) -> int:
    """The most messages accepted within any window of one second (half-open, as above)."""
    most, start = 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def send_message(fake: FakeTelegram, limits: TelegramLimits | None, tally: Tally):
    def handle(params: Mapping[str, Any]) -> dict[str, Any]:
        now = time.monotonic()
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int) and chat_id > 0:
            fake.user(chat_id, first_name=f"Client {chat_id}")
        refusal = limits.refusal(chat_id, now) if limits and isinstance(chat_id, int) else None
        if refusal is not None:
            tally.refused += 1
            raise refusal
        message = fake.store_bot_message(params)
        tally.sent_at.append(now)
        tally.chats.setdefault(chat_id, []).append(now)
        return message

    return handle


async def serve(token: str, per_second: int, per_chat_seconds: float) -> None:
    tally = Tally()
    limited = per_second or per_chat_seconds
    limits = TelegramLimits(per_second, per_chat_seconds) if limited else None
    async with FakeTelegram(token=token) as fake:
        fake.register("sendMessage", send_message(fake, limits, tally))
        print(fake.base_url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until EOF
        print(json.dumps(tally.report(fake.errors)), flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench._fake_api", description=__doc__)
    parser.add_argument("--token", default="123456789:BENCH-token")
    parser.add_argument("--per-second", type=int, default=0, help="0: no overall limit")
    parser.add_argument("--per-chat-seconds", type=float, default=0, help="0: no chat limit")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.token, args.per_second, args.per_chat_seconds))


if __name__ == "__main__":
    main()
