"""Run the bot as a real subprocess against :class:`~tests.fake_telegram.FakeTelegram`.

::

    async with FakeTelegram() as fake, bot_process(fake) as bot:
        ...  # drive it with fake.user(...)
    # on exit: SIGTERM, wait, and fail if the bot crashed or logged a traceback
    # (``await bot.crash()`` SIGKILLs it on purpose, to test what a crash loses)

The bot gets ``BOT_TOKEN`` and ``TELEGRAM_API_BASE`` in its environment and must build its
session with ``AiohttpSession(api=TelegramAPIServer.from_base(TELEGRAM_API_BASE))``.
"""

# ruff: noqa: ASYNC109  (``timeout`` arguments are the clearest API here)

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from tests.fake_telegram import CallPredicate, FakeTelegram

__all__ = ["REPO_ROOT", "BotProcess", "api_session", "bot_process", "polling", "run_cli"]

REPO_ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT = 10.0
_OUTPUT_TAIL = 12_000  # characters of bot output shown in failures


class BotProcess:
    """A running bot subprocess; its stdout and stderr go to :attr:`log_path`."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        log_path: Path,
        *,
        expect_traceback: bool = False,
    ) -> None:
        self.process = process
        self.log_path = log_path
        self.expect_traceback = expect_traceback
        self.killed = False  # had to SIGKILL: it ignored SIGTERM
        self.crashed = False  # the test SIGKILLed it on purpose (see crash())
        self.keep_log = False

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def output(self) -> str:
        """Everything the process wrote so far (stdout and stderr interleaved)."""
        return self.log_path.read_text(errors="replace")

    async def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; returns the exit code."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self.killed = True
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
        assert self.process.returncode is not None
        return self.process.returncode

    async def crash(self) -> int:
        """SIGKILL it now, as a power cut or the OOM killer would: no shutdown code runs.
        Its exit code is then expected; a Traceback it wrote before still fails the test."""
        self.crashed = True
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        return await self.process.wait()

    def assert_clean(self) -> None:
        """Fail unless the process exited with code 0 (on SIGTERM) and logged no traceback."""
        problems = []
        if self.killed:
            problems.append("did not exit in time after SIGTERM and was killed")
        elif self.returncode not in (0, None) and not self.crashed:
            hint = " (died of SIGTERM: signals not handled?)" if self.returncode == -15 else ""
            problems.append(f"exited with code {self.returncode}{hint}")
        if not self.expect_traceback and "Traceback" in self.output():
            problems.append("wrote a Traceback")
        if problems:
            raise AssertionError(self.report("bot process " + " and ".join(problems)))

    def report(self, headline: str) -> str:
        """``headline`` and the bot's output (its tail, if long), for failure messages."""
        text = self.output()
        if len(text) <= _OUTPUT_TAIL:
            return f"{headline}\n----- bot output -----\n{text}"
        self.keep_log = True  # the message only shows the tail: keep the whole log
        return (
            f"{headline}\n----- bot output: last {_OUTPUT_TAIL} characters "
            f"(all of it in {self.log_path}) -----\n…{text[-_OUTPUT_TAIL:]}"
        )


@asynccontextmanager
async def bot_process(
    fake: FakeTelegram,
    *,
    module: str = "bot",
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    ready_timeout: float = 30,
    expect_traceback: bool = False,
    ready_method: str = "getUpdates",
    ready_when: CallPredicate | None = None,
) -> AsyncIterator[BotProcess]:
    """Start ``python -m <module> *args``; yield once it polls the fake for updates (or, with
    ``ready_method="setWebhook"``, once it set its webhook: a bot in webhook mode; with two
    starting at once, ``ready_when`` tells which call is this one's, e.g. by its URL).

    Fails with the bot's output if it exits or does not call ``ready_method`` within
    ``ready_timeout``. On exit it is stopped with SIGTERM and :meth:`BotProcess.assert_clean`
    runs (unless the body raised: then the bot's output is attached to that error as a note).
    """
    full_env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE": fake.base_url,
        **(env or {}),
    }
    fd, log_name = tempfile.mkstemp(prefix=f"{module.replace('.', '_')}-", suffix=".log")
    log_path = Path(log_name)
    since = fake.mark()
    with os.fdopen(fd, "wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            *args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=cwd or REPO_ROOT,
        )
    bot = BotProcess(process, log_path, expect_traceback=expect_traceback)
    try:
        try:
            await _wait_ready(fake, bot, since, ready_timeout, ready_method, ready_when)
        except BaseException:
            await bot.stop()
            raise

        try:
            yield bot
        except BaseException as e:
            await bot.stop()
            e.add_note(bot.report("(bot process output, for the error above)"))
            raise
        await bot.stop()
        bot.assert_clean()
    finally:
        if not bot.keep_log:
            await asyncio.to_thread(log_path.unlink, missing_ok=True)


class _QuickCloseSession(AiohttpSession):
    async def close(self) -> None:
        # aiogram sleeps 0.25 s here to let TLS connections close; plain HTTP needs no wait.
        if self._session is not None and not self._session.closed:
            await self._session.close()


def api_session(fake: FakeTelegram) -> AiohttpSession:
    """An aiogram session for an in-process ``Bot(fake.token, session=api_session(fake))``."""
    return _QuickCloseSession(api=TelegramAPIServer.from_base(fake.base_url))


@asynccontextmanager
async def polling(
    fake: FakeTelegram, dp: Dispatcher, bot: Bot, *, ready_timeout: float = 10
) -> AsyncIterator[None]:
    """Run ``dp.start_polling(bot)`` in the test's own event loop until the block ends.

    Faster than :func:`bot_process` (no interpreter start) for dispatcher-level tests. The
    caller owns ``bot`` (its session is not closed). Handler errors are only logged by
    aiogram here; check ``fake.errors`` and the messages instead.
    """
    since = fake.mark()
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, polling_timeout=1, close_bot_session=False)
    )
    polled = asyncio.create_task(
        fake.wait_for_call("getUpdates", since=since, timeout=ready_timeout)
    )
    await asyncio.wait({task, polled}, return_when=asyncio.FIRST_COMPLETED)
    polled.cancel()
    if task.done():
        await task  # re-raises a startup error
        raise AssertionError("start_polling returned before polling")
    try:
        if polled.cancelled() or polled.exception() is not None:
            raise AssertionError(f"the dispatcher did not call getUpdates within {ready_timeout}s")
        yield
    finally:
        await dp.stop_polling()
        await task


async def _wait_ready(
    fake: FakeTelegram,
    bot: BotProcess,
    since: int,
    timeout: float,
    method: str = "getUpdates",
    predicate: CallPredicate | None = None,
) -> None:
    doing = "polling" if method == "getUpdates" else f"calling {method}"
    polled = asyncio.create_task(
        fake.wait_for_call(method, predicate, since=since, timeout=timeout)
    )
    exited = asyncio.create_task(bot.process.wait())
    try:
        done, _ = await asyncio.wait({polled, exited}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (polled, exited):
            task.cancel()
    if exited in done:
        raise AssertionError(
            bot.report(f"bot process exited with code {bot.returncode} before {doing}")
        )
    if polled.exception() is not None:
        raise AssertionError(bot.report(f"bot process did not call {method} within {timeout}s"))


async def run_cli(
    *args: str,
    module: str = "bot",
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m <module> *args`` to completion (e.g. ``run_cli("import-catalog", path)``)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        cwd=cwd or REPO_ROOT,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"`python -m {module} {' '.join(args)}` ran over {timeout}s") from None
    assert process.returncode is not None
    return subprocess.CompletedProcess(
        [sys.executable, "-m", module, *args],
        process.returncode,
        stdout.decode(errors="replace"),
        stderr.decode(errors="replace"),
    )
