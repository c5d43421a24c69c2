"""Self-tests of the fake Telegram Bot API server and the bot-process harness."""

from __future__ import annotations

import asyncio
import html
import itertools
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
    Update,
)
from aiogram_dialog import Dialog, DialogManager, StartMode, Window, setup_dialogs
from aiogram_dialog.widgets.kbd import Back, Button, Next
from aiogram_dialog.widgets.text import Const, Format
from aiohttp import web

from tests.e2e.harness import BotProcess, api_session, bot_process, polling, run_cli
from tests.fake_telegram import (
    SECRET_HEADER,
    ApiCall,
    FakeGroup,
    FakeTelegram,
    FakeUser,
    InvalidUpdateError,
    StarRefund,
    UploadedFile,
    WebhookDelivery,
    parse_html,
)

ECHO_BOT = "tests.e2e.echo_bot"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server
        assert server.errors == [], "the fake saw protocol errors"


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    """An in-process aiogram Bot talking to the fake (no dispatcher)."""
    async with Bot(fake.token, session=api_session(fake)) as client:
        yield client


def keyboard(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=list(rows))


def take_errors(fake: FakeTelegram) -> list[str]:
    errors = list(fake.errors)
    fake.errors.clear()
    return errors


# ----- the harness with a real bot process ------------------------------------------


@pytest.mark.e2e
async def test_echo_bot_round_trip(fake: FakeTelegram) -> None:
    async with bot_process(fake, module=ECHO_BOT):
        alice = fake.user(first_name="Al <ice> & co")
        await alice.send("/start")
        hello = await alice.wait_message("Hello")
        assert hello.text == "Hello, Al <ice> & co"
        assert hello.entities == [{"type": "bold", "offset": 7, "length": 13}]
        assert alice.buttons() == ["Ping"]

        assert await alice.click("Ping") == "pong!"
        pong = await alice.wait_message("Pong")
        assert (pong.message_id, pong.edited, pong.buttons) == (hello.message_id, True, [])

    methods = [c.method for c in fake.calls]
    assert methods[:2] == ["setMyCommands", "getMe"]
    assert "getUpdates" in methods
    assert fake.bot_commands() == [{"command": "start", "description": "Start"}]
    assert fake.bot_commands(language_code="ru") == []
    assert fake.unknown_calls == []


@pytest.mark.e2e
async def test_invalid_button_data_is_a_protocol_error(fake: FakeTelegram) -> None:
    class Sentinel(Exception):
        pass

    alice = fake.user()
    sent: list[ApiCall] = []

    async def send_long_then_fail() -> None:
        async with bot_process(fake, module=ECHO_BOT, expect_traceback=True):
            since = fake.mark()
            await alice.send("/long")
            sent.append(await fake.wait_for_call("sendMessage", since=since))
            raise Sentinel  # a failing test gets the bot's output attached as a note

    with pytest.raises(Sentinel) as raised:
        await send_long_then_fail()
    assert "bot process output" in "\n".join(raised.value.__notes__)

    [call] = sent
    assert call.error is not None
    assert call.error.startswith("Bad Request: BUTTON_DATA_INVALID")
    [error] = take_errors(fake)
    assert "BUTTON_DATA_INVALID" in error
    assert alice.bot_messages() == []


@pytest.mark.e2e
async def test_bot_process_that_dies_early_fails_readably(fake: FakeTelegram) -> None:
    pattern = r"exited with code 1 before polling[\s\S]*No module named tests.e2e.missing"
    with pytest.raises(AssertionError, match=pattern):
        async with bot_process(fake, module="tests.e2e.missing"):
            pytest.fail("not reached")


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("print('Traceback (most recent call last):')", "wrote a Traceback"),
        ("raise SystemExit(3)", "exited with code 3"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", "signals not handled"),
    ],
)
async def test_assert_clean(tmp_path: Path, code: str, problem: str) -> None:
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, stdout=log, stderr=subprocess.STDOUT
        )
    proc = BotProcess(process, log_path)
    await proc.process.wait()
    await proc.stop()
    with pytest.raises(AssertionError, match=problem):
        proc.assert_clean()


@pytest.mark.e2e
async def test_a_bot_crashed_on_purpose_is_not_a_failure(fake: FakeTelegram) -> None:
    async with bot_process(fake, module=ECHO_BOT) as bot:
        assert await bot.crash() == -signal.SIGKILL
    assert (bot.crashed, bot.killed) == (True, False)


async def test_run_cli_captures_output() -> None:
    ok = await run_cli(module="platform")
    assert (ok.returncode, ok.stderr) == (0, "")
    assert ok.stdout.strip()
    missing = await run_cli("--help", module="tests.e2e.missing")
    assert missing.returncode == 1
    assert "No module named" in missing.stderr


# ----- protocol checks (in-process aiogram Bot against the fake) ---------------------


async def test_unknown_method_fails_loudly(fake: FakeTelegram) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{fake.base_url}/bot{fake.token}/sendSticker", data={"chat_id": "1"}) as resp,
    ):
        assert resp.status == 404
        body = await resp.json()
    assert body["ok"] is False
    assert body["error_code"] == 404
    assert body["description"].startswith("Not Found: unknown method sendSticker")
    assert fake.unknown_calls == ["sendSticker"]
    [error] = take_errors(fake)
    assert "sendSticker" in error


async def test_wrong_token_is_unauthorized(fake: FakeTelegram) -> None:
    async with Bot("42:wrong", session=api_session(fake)) as stranger:
        with pytest.raises(TelegramUnauthorizedError):
            await stranger.get_me()
    assert len(take_errors(fake)) == 1


async def test_get_me_and_commands(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456789, "spotbook_test_bot", True)
    await bot.set_my_commands([BotCommand(command="book", description="Book a slot")])
    assert [c.command for c in await bot.get_my_commands()] == ["book"]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Book-Now", description="x")])
    assert len(take_errors(fake)) == 1


async def test_bad_html_is_rejected_and_recorded(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(alice.chat_id, "1 < 2 <b>bold", parse_mode="HTML")
    [error] = take_errors(fake)
    assert "can't parse entities" in error
    assert alice.messages() == []

    sent = await bot.send_message(
        alice.chat_id, "<b>Yoga</b> &amp; <i>Pilates</i> 1 &lt; 2", parse_mode="HTML"
    )
    assert sent.text == "Yoga & Pilates 1 < 2"
    assert sent.html_text == "<b>Yoga</b> &amp; <i>Pilates</i> 1 &lt; 2"
    assert alice.last_bot_message() is not None
    assert alice.last_bot_message().text == "Yoga & Pilates 1 < 2"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        ("plain", "plain", []),
        ("<b>a</b><i></i>", "a", [{"type": "bold", "offset": 0, "length": 1}]),
        ("😀<u>x</u>", "😀x", [{"type": "underline", "offset": 2, "length": 1}]),
        ('<a href="https://e.x/?a=1&amp;b=2">l</a>', "l",
         [{"type": "text_link", "url": "https://e.x/?a=1&b=2", "offset": 0, "length": 1}]),
        ('<pre><code class="language-py">x</code></pre>', "x",
         [{"type": "pre", "language": "py", "offset": 0, "length": 1}]),
        ('<span class="tg-spoiler">s</span>&#39;&quot;', "s'\"",
         [{"type": "spoiler", "offset": 0, "length": 1}]),
        ("<blockquote expandable>q</blockquote>", "q",
         [{"type": "expandable_blockquote", "offset": 0, "length": 1}]),
    ],
)  # fmt: skip
def test_parse_html_valid(source: str, text: str, entities: list[dict[str, object]]) -> None:
    assert parse_html(source) == (text, entities)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("a < b", "unescaped '<'"),
        ("a > b", "Unescaped '>'"),
        ("Tom & Jerry", "Unescaped '&'"),
        ("&nbsp;", "unsupported HTML entity"),
        ("<b>x", 'end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("x</b>", 'Unexpected end tag "b"'),
        ("<div>x</div>", 'Unsupported start tag "div"'),
        ("<br/>", 'Unsupported start tag "br"'),
        ("<span>x</span>", "tg-spoiler"),
        ("<a>x</a>", "href"),
    ],
)
def test_parse_html_invalid(source: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        parse_html(source)


async def test_message_length_and_emptiness(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    await bot.send_message(alice.chat_id, "x" * 4096)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(alice.chat_id, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(alice.chat_id, "<b> </b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(999, "who?")
    assert len(take_errors(fake)) == 3


async def test_edit_rules(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    markup = keyboard([InlineKeyboardButton(text="A", callback_data="a")])
    sent = await bot.send_message(
        alice.chat_id, "<b>One</b>", parse_mode="HTML", reply_markup=markup
    )

    # Same text and keyboard: Telegram's legitimate "not modified" answer, not a protocol error.
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "<b>One</b>", chat_id=alice.chat_id, message_id=sent.message_id,
            parse_mode="HTML", reply_markup=markup,
        )  # fmt: skip
    assert fake.errors == []

    # Same visible text without bold is a change; no reply_markup removes the keyboard.
    await bot.edit_message_text("One", chat_id=alice.chat_id, message_id=sent.message_id)
    [message] = alice.messages()
    assert (message.text, message.entities, message.buttons, message.edited) == (
        "One",
        [],
        [],
        True,
    )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=alice.chat_id, message_id=sent.message_id)

    user_message = await alice.send("hi")
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=alice.chat_id, message_id=user_message.message_id)
    await bot.delete_message(alice.chat_id, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=alice.chat_id, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(alice.chat_id, sent.message_id)
    assert [m.text for m in alice.messages()] == ["hi"]
    assert len(take_errors(fake)) == 3


async def test_send_document_multipart(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    sent = await bot.send_document(
        alice.chat_id,
        BufferedInputFile(b"date,slot\n2025-01-01,10:00\n", filename="bookings.csv"),
        caption="<b>Export</b>",
        parse_mode="HTML",
    )
    assert sent.document is not None
    assert sent.document.file_name == "bookings.csv"
    assert sent.caption == "Export"
    call = await fake.wait_for_call("sendDocument")
    upload = call.params["document"]
    assert isinstance(upload, UploadedFile)
    assert upload.content == b"date,slot\n2025-01-01,10:00\n"
    [message] = alice.messages()
    assert message.document is not None
    assert message.document["file_name"] == "bookings.csv"
    assert message.file == upload
    assert message.text == "Export"


async def test_a_user_sends_a_document_and_the_bot_downloads_it(
    fake: FakeTelegram, bot: Bot
) -> None:
    alice = fake.user()
    sent = await alice.send_document("studio.yaml", b"programmes: []\n", caption="new timetable")
    [update] = fake.pending_updates
    message = Update.model_validate(update).message
    assert message is not None
    assert message.document is not None
    assert (message.document.file_name, message.document.file_size) == ("studio.yaml", 15)
    assert message.caption == "new timetable"
    assert sent.text == "new timetable"
    assert sent.file == UploadedFile("studio.yaml", b"programmes: []\n")

    file = await bot.get_file(message.document.file_id)
    downloaded = await bot.download(message.document)

    assert file.file_path is not None
    assert re.fullmatch(r"documents/file_\d+\.yaml", file.file_path)
    assert downloaded is not None
    assert downloaded.read() == b"programmes: []\n"
    assert fake.downloads == [file.file_path]


async def test_the_bot_can_fetch_its_own_uploads_but_not_unknown_files(
    fake: FakeTelegram, bot: Bot
) -> None:
    alice = fake.user()
    sent = await bot.send_document(alice.chat_id, BufferedInputFile(b"a,b\n", filename="x.csv"))
    assert sent.document is not None
    assert (await bot.download(sent.document)).read() == b"a,b\n"

    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("no-such-file")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{fake.base_url}/file/bot{fake.token}/documents/nope.yaml") as got:
            assert got.status == 404
        async with http.get(f"{fake.base_url}/file/bot1:wrong/documents/nope.yaml") as got:
            assert got.status == 401
    errors = take_errors(fake)
    assert len(errors) == 3
    assert "unknown file path 'documents/nope.yaml'" in errors[1]


async def test_commands_for_one_chat_need_a_chat_the_bot_knows(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.user(1001)
    staff = [BotCommand(command="admin", description="Staff")]

    await bot.set_my_commands(staff, scope=BotCommandScopeChat(chat_id=1001))
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.set_my_commands(staff, scope=BotCommandScopeChat(chat_id=4242))

    assert fake.bot_commands({"type": "chat", "chat_id": 1001}) == [
        {"command": "admin", "description": "Staff"}
    ]
    assert fake.bot_commands() == []
    assert fake.errors == []  # a user who never opened the bot is not the bot's fault


async def test_params_are_decoded(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    markup = keyboard([InlineKeyboardButton(text="Go", callback_data="go")])
    await bot.send_message(alice.chat_id, "x", reply_markup=markup, disable_notification=True)
    call = await fake.wait_for_call("sendMessage")
    assert call.params["chat_id"] == alice.chat_id
    assert call.params["disable_notification"] is True
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]
    }


# ----- updates -----------------------------------------------------------------------


async def test_invalid_update_raises_in_the_test(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidUpdateError, match="aiogram would reject"):
        fake.inject_update({"message": {"message_id": 1, "date": 0, "chat": {"id": 1}}})
    with pytest.raises(InvalidUpdateError, match="exactly one known field"):
        fake.inject_update({"mesage": {}})
    assert fake.pending_updates == []


async def test_get_updates_offset_semantics(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    for text in ("one", "two", "three"):
        await alice.send(text)
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["one", "two", "three"]
    first, second, third = (u.update_id for u in updates)
    assert first < second < third
    assert len(fake.pending_updates) == 3  # nothing is confirmed without an offset

    assert [u.update_id for u in await bot.get_updates(offset=second)] == [second, third]
    assert [u.update_id for u in await bot.get_updates(offset=second, limit=1)] == [second]
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == [third]
    assert await bot.get_updates(offset=third + 1, timeout=0) == []
    assert fake.pending_updates == []

    # A long poll returns as soon as an update arrives.
    poll = asyncio.create_task(bot.get_updates(offset=third + 1, timeout=30))
    await fake.wait_for_call("getUpdates", lambda c: c.params.get("timeout") == 30)
    await alice.send("four")
    [update] = await asyncio.wait_for(poll, 5)
    assert update.message is not None
    assert update.message.text == "four"
    assert update.update_id > third


async def test_allowed_updates_filter_and_conflict(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    await bot.get_updates(allowed_updates=["message"], timeout=0)
    fake.inject_update(
        {
            "callback_query": {
                "id": "1",
                "from": alice.user_json(),
                "chat_instance": "1",
                "data": "x",
            }
        }
    )
    assert await bot.get_updates(timeout=0) == []
    [error] = take_errors(fake)
    assert "callback_query" in error
    assert "allowed_updates" in error

    # Two pollers: the older one is terminated, as on Telegram.
    older = asyncio.create_task(bot.get_updates(timeout=30))
    await fake.wait_for_call("getUpdates", lambda c: c.params.get("timeout") == 30)
    newer = asyncio.create_task(bot.get_updates(timeout=30))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await older
    await alice.send("hello")
    assert len(await newer) == 1
    assert len(take_errors(fake)) == 1


async def test_fail_next_injects_errors(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(alice.chat_id, "hi")
    assert info.value.retry_after == 3
    await bot.send_message(alice.chat_id, "hi")  # only the next call fails

    fake.fail_next("sendMessage", 500, "Internal Server Error", count=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Internal Server Error"):
            await bot.send_message(alice.chat_id, "hi")

    alice.blocked = True
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(alice.chat_id, "hi")
    assert [c.ok for c in fake.calls] == [False, True, False, False, False]
    assert fake.errors == []


async def test_drop_next_and_delay_next_are_network_failures(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    fake.drop_next("sendMessage")
    with pytest.raises(TelegramNetworkError, match="ServerDisconnectedError"):
        await bot.send_message(alice.chat_id, "lost")
    await bot.send_message(alice.chat_id, "kept")  # only the next call is dropped

    fake.delay_next("sendMessage", 30)
    with pytest.raises(TelegramNetworkError, match="Request timeout error"):
        await bot.send_message(alice.chat_id, "too slow", request_timeout=1)
    fake.delay_next("sendMessage", 0.1)
    await bot.send_message(alice.chat_id, "slow")  # within the timeout: answered

    assert [m.text for m in alice.messages()] == ["kept", "slow"]
    lost, kept, too_slow, slow = fake.calls
    assert (lost.dropped, lost.response, str(lost).endswith("-> dropped")) == (True, None, True)
    assert (kept.ok, slow.ok) == (True, True)
    assert (too_slow.dropped, too_slow.response) == (False, None)  # the client gave up
    assert fake.errors == []


async def test_register_adds_a_method(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    fake.register("sendDice", lambda params: fake.store_bot_message(
        params, text_key="caption", dice={"emoji": "🎲", "value": 6}))  # fmt: skip
    message = await bot.send_dice(alice.chat_id)
    assert message.dice is not None
    assert message.dice.value == 6
    with pytest.raises(TelegramNotFound):
        await bot.send_sticker(alice.chat_id, "sticker-id")
    assert fake.unknown_calls == ["sendSticker"]
    take_errors(fake)


# ----- the user-side driver ----------------------------------------------------------


async def test_click_failures_are_readable(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    await bot.send_message(
        alice.chat_id,
        "Pick a class",
        reply_markup=keyboard(
            [InlineKeyboardButton(text="Yoga", callback_data="c:1")],
            [InlineKeyboardButton(text="Site", url="https://example.com")],
        ),
    )
    with pytest.raises(AssertionError, match=r"no button 'Pilates'[\s\S]*'Pick a class'.*Yoga"):
        await alice.click("Pilates")
    with pytest.raises(
        AssertionError, match=re.escape("button 'Site' is a URL button: https://example.com")
    ):
        await alice.click("Site")
    assert alice.buttons() == ["Yoga", "Site"]


async def test_click_waits_for_the_answer(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    sent = await bot.send_message(
        alice.chat_id,
        "Menu",
        reply_markup=keyboard([InlineKeyboardButton(text=" Yoga ", callback_data="c:1")]),
    )

    async def answer_one_click() -> None:
        [update] = await bot.get_updates(timeout=10)
        query = update.callback_query
        assert query is not None
        assert (query.data, query.message.message_id) == ("c:1", sent.message_id)  # type: ignore[union-attr]
        await bot.answer_callback_query(query.id, text="Booked")
        # A second answer is refused by Telegram (aiogram-dialog does this after handlers
        # that answered); the fake returns the error without recording it.
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await bot.answer_callback_query(query.id)
        await bot.get_updates(offset=update.update_id + 1, timeout=0)

    responder = asyncio.create_task(answer_one_click())
    assert await alice.click(re.compile("Yog")) == "Booked"
    await responder

    responder = asyncio.create_task(bot.get_updates(timeout=10))
    with pytest.raises(AssertionError, match="did not answer the callback query 'forged'"):
        await alice.click_data("forged", sent.message_id, timeout=0.2)
    [update] = await responder
    assert update.callback_query is not None
    assert update.callback_query.data == "forged"


async def test_wait_message_timeout_shows_the_chat(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    since = fake.mark()
    await bot.send_message(alice.chat_id, "Welcome")
    assert (await alice.wait_message("Welcome", since=since)).text == "Welcome"
    with pytest.raises(AssertionError, match=r"no bot message matching 'Bye'[\s\S]*'Welcome'"):
        await alice.wait_message("Bye", timeout=0.05)
    with pytest.raises(AssertionError, match="since"):
        await alice.wait_message("Welcome", since=fake.mark(), timeout=0.05)


# ----- aiogram-dialog against the fake (in-process polling) --------------------------


class Menu(StatesGroup):
    main = State()
    details = State()


async def ignore_click(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    pass


async def alert_click(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await callback.answer("Careful!", show_alert=True)


def menu_router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message, dialog_manager: DialogManager) -> None:
        await dialog_manager.start(Menu.main, mode=StartMode.RESET_STACK)

    router.include_router(
        Dialog(
            Window(
                Format("<b>Menu</b> for {event.from_user.first_name}"),
                Next(Const("Details")),
                Button(Const("Stay"), id="stay", on_click=ignore_click),
                Button(Const("Alert"), id="alert", on_click=alert_click),
                state=Menu.main,
            ),
            Window(Const("Details &amp; more"), Back(Const("Back")), state=Menu.details),
        )
    )
    return router


async def test_aiogram_dialog_works_against_the_fake(fake: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()
    dp.include_router(menu_router())
    setup_dialogs(dp)
    html_bot = Bot(fake.token, session=bot.session, default=DefaultBotProperties(parse_mode="HTML"))
    alice = fake.user()
    async with polling(fake, dp, html_bot):
        await alice.send("/start")
        menu = await alice.wait_message("Menu for Alice")
        assert menu.button_texts == ["Details", "Stay", "Alert"]

        # Re-rendering an unchanged window: Telegram says "not modified", the dialog copes.
        since = fake.mark()
        assert await alice.click("Stay") is None
        edit = await fake.wait_for_call("editMessageText", since=since)
        assert edit.error is not None
        assert "message is not modified" in edit.error

        # The handler's answer wins; the dialog's second answer is refused, not an error.
        assert await alice.click("Alert") == "Careful!"

        await alice.click("Details")
        details = await alice.wait_message("Details & more")
        assert details.message_id == menu.message_id
        await alice.click("Back")
        await alice.wait_message("Menu")

        since = fake.mark()
        await alice.send("/start")
        fresh = await alice.wait_message("Menu", since=since, new=True)
        assert fresh.message_id > menu.message_id
        old = next(m for m in alice.messages() if m.message_id == menu.message_id)
        assert old.buttons == []  # the dialog removed the stale keyboard


# ----- Telegram Payments -------------------------------------------------------------

PAY_KEYBOARD = keyboard([InlineKeyboardButton(text="Pay ⭐ 50", pay=True)])


async def send_stars_invoice(bot: Bot, chat_id: int, payload: str = "booking:7") -> Message:
    return await bot.send_invoice(
        chat_id,
        title="Yoga, Mon 18:00",
        description="One spot",
        payload=payload,
        currency="XTR",
        prices=[LabeledPrice(label="Spot", amount=50)],
        reply_markup=PAY_KEYBOARD,
    )


async def answer_next_pre_checkout(bot: Bot, *, ok: bool, error_message: str | None = None) -> int:
    [update] = await bot.get_updates(timeout=10)
    query = update.pre_checkout_query
    assert query is not None
    await bot.answer_pre_checkout_query(query.id, ok=ok, error_message=error_message)
    return update.update_id


async def test_send_invoice_stores_an_invoice_message(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    sent = await send_stars_invoice(bot, alice.chat_id)
    assert sent.invoice is not None  # aiogram parsed the Message's invoice object
    assert (sent.invoice.title, sent.invoice.currency, sent.invoice.total_amount) == (
        "Yoga, Mon 18:00",
        "XTR",
        50,
    )
    [message] = alice.bot_messages()
    assert message.invoice is not None
    assert (message.invoice.payload, message.invoice.prices) == (
        "booking:7",
        [{"label": "Spot", "amount": 50}],
    )
    assert message.button_texts == ["Pay ⭐ 50"]
    assert "[invoice 'Yoga, Mon 18:00' 50 XTR]" in message.describe()


def invoice_params(**changes: object) -> dict[str, object]:
    params: dict[str, object] = {
        "title": "Yoga",
        "description": "One spot",
        "payload": "booking:7",
        "currency": "XTR",
        "prices": [LabeledPrice(label="Spot", amount=50)],
    }
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


CARD = {"currency": "EUR", "provider_token": "284685063:TEST:abc"}


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"title": "x" * 33}, "INVOICE_TITLE_INVALID"),
        ({"description": "x" * 256}, "INVOICE_DESCRIPTION_INVALID"),
        ({"payload": "é" * 65}, "INVOICE_PAYLOAD_INVALID"),  # 130 bytes
        ({"currency": "eur"}, "CURRENCY_INVALID"),
        (
            {"prices": [LabeledPrice(label="a", amount=1), LabeledPrice(label="b", amount=1)]},
            "STARS_INVOICE_INVALID",
        ),
        ({"provider_token": "284685063:TEST:abc"}, "STARS_INVOICE_INVALID"),
        ({"max_tip_amount": 10}, "STARS_INVOICE_INVALID"),
        ({"currency": "EUR"}, "PAYMENT_PROVIDER_INVALID"),
        ({"prices": [LabeledPrice(label="Spot", amount=0)]}, "non-zero integer"),
        ({"prices": [LabeledPrice(label="Spot", amount=-5)]}, "CURRENCY_TOTAL_AMOUNT_INVALID"),
        (
            {
                **CARD,
                "prices": [
                    LabeledPrice(label="Spot", amount=500),
                    LabeledPrice(label="Discount", amount=-500),
                ],
            },
            "CURRENCY_TOTAL_AMOUNT_INVALID",
        ),
        ({**CARD, "max_tip_amount": 100, "suggested_tip_amounts": [200]}, "suggested_tip"),
        (
            {"reply_markup": keyboard([InlineKeyboardButton(text="Pay", callback_data="p")])},
            "REPLY_MARKUP_BUY_EMPTY",
        ),
    ],
)
async def test_send_invoice_is_validated_like_telegram(
    fake: FakeTelegram, bot: Bot, changes: dict[str, object], problem: str
) -> None:
    alice = fake.user()
    with pytest.raises(TelegramBadRequest, match=problem):
        await bot.send_invoice(alice.chat_id, **invoice_params(**changes))  # type: ignore[arg-type]
    [error] = take_errors(fake)
    assert problem in error
    assert alice.bot_messages() == []


async def test_card_invoice_with_discount_and_tip_is_accepted(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    prices = [LabeledPrice(label="Spot", amount=1500), LabeledPrice(label="Promo", amount=-300)]
    await bot.send_invoice(
        alice.chat_id,
        **invoice_params(**CARD, prices=prices, max_tip_amount=500),  # type: ignore[arg-type]
    )
    responder = asyncio.create_task(answer_next_pre_checkout(bot, ok=True))
    payment = await alice.pay(tip_amount=200)
    await responder
    assert (payment.ok, payment.currency, payment.total_amount) == (True, "EUR", 1400)
    assert payment.provider_charge_id
    updates = await bot.get_updates(timeout=0)
    paid = updates[-1].message
    assert paid is not None
    assert paid.successful_payment is not None
    assert paid.successful_payment.provider_payment_charge_id == payment.provider_charge_id
    with pytest.raises(AssertionError, match="already paid"):
        await alice.pay(paid.message_id - 1)  # the invoice message


async def test_rejected_pre_checkout_sends_no_payment(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    await send_stars_invoice(bot, alice.chat_id)
    responder = asyncio.create_task(
        answer_next_pre_checkout(bot, ok=False, error_message="The spot is gone")
    )
    payment = await alice.pay()
    last_update = await responder
    assert (payment.ok, payment.error_message, payment.charge_id) == (
        False,
        "The spot is gone",
        None,
    )
    assert await bot.get_updates(offset=last_update + 1, timeout=0) == []
    assert fake.payments == []
    assert [m.media for m in alice.messages() if not m.from_bot] == []
    with pytest.raises(AssertionError, match="was not made"):
        alice.repeat_payment(payment)


async def test_pay_fails_readably_when_the_bot_does_not_answer(
    fake: FakeTelegram, bot: Bot
) -> None:
    alice = fake.user()
    with pytest.raises(AssertionError, match="no unpaid invoice"):
        await alice.pay()
    await send_stars_invoice(bot, alice.chat_id)
    fake.pre_checkout_timeout = 0.2
    with pytest.raises(AssertionError, match=r"did not answer the pre-checkout query.*0\.2s"):
        await alice.pay()
    # A late answer is refused, as Telegram has cancelled the payment by then.
    [update] = await bot.get_updates(timeout=0)
    assert update.pre_checkout_query is not None
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
    [error] = take_errors(fake)
    assert "within 0.2s" in error


async def test_answer_pre_checkout_query_is_validated(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    with pytest.raises(TelegramBadRequest, match="QUERY_ID_INVALID"):
        await bot.answer_pre_checkout_query("123", ok=True)
    await send_stars_invoice(bot, alice.chat_id)

    async def answer_badly_then_well() -> None:
        [update] = await bot.get_updates(timeout=10)
        query = update.pre_checkout_query
        assert query is not None
        with pytest.raises(TelegramBadRequest, match="error_message is required"):
            await bot.answer_pre_checkout_query(query.id, ok=False)
        await bot.answer_pre_checkout_query(query.id, ok=True)
        with pytest.raises(TelegramBadRequest, match="already answered"):
            await bot.answer_pre_checkout_query(query.id, ok=True)

    responder = asyncio.create_task(answer_badly_then_well())
    payment = await alice.pay()
    await responder
    assert payment.ok
    assert len(take_errors(fake)) == 3


async def test_refund_star_payment(fake: FakeTelegram, bot: Bot) -> None:
    alice, bob = fake.user(), fake.user(1002, "Bob")
    await send_stars_invoice(bot, alice.chat_id)
    responder = asyncio.create_task(answer_next_pre_checkout(bot, ok=True))
    payment = await alice.pay()
    last_update = await responder
    assert payment.charge_id is not None

    for user_id, charge_id in ((bob.id, payment.charge_id), (alice.id, "stxUnknown")):
        with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
            await bot.refund_star_payment(user_id, charge_id)
    assert len(take_errors(fake)) == 2

    assert await bot.refund_star_payment(alice.id, payment.charge_id) is True
    assert fake.star_refunds == [StarRefund(alice.id, payment.charge_id, 50, "booking:7")]
    with pytest.raises(TelegramBadRequest, match="CHARGE_ALREADY_REFUNDED"):
        await bot.refund_star_payment(alice.id, payment.charge_id)
    assert fake.errors == []  # a retried refund is not a protocol error
    assert len(fake.star_refunds) == 1

    paid, refunded = await bot.get_updates(offset=last_update + 1, timeout=0)
    assert paid.message is not None
    assert refunded.message is not None
    assert refunded.message.refunded_payment is not None
    assert refunded.message.refunded_payment.telegram_payment_charge_id == payment.charge_id
    assert refunded.message.refunded_payment.total_amount == 50
    assert "[refunded_payment" in alice.describe_chat()


async def test_star_transactions_list_payments_and_refunds_in_pages(
    fake: FakeTelegram, bot: Bot
) -> None:
    alice = fake.user()
    await send_stars_invoice(bot, alice.chat_id)
    responder = asyncio.create_task(answer_next_pre_checkout(bot, ok=True))
    paid = await alice.pay()
    await responder
    unseen = [fake.take_stars_unseen(alice, f"v1|booking:{n}|50|XTR", 50) for n in range(249)]
    await bot.refund_star_payment(alice.id, unseen[0])

    first = (await bot.get_star_transactions()).transactions  # limit defaults to 100
    second = (await bot.get_star_transactions(offset=100, limit=100)).transactions
    rest = (await bot.get_star_transactions(offset=200, limit=100)).transactions
    assert (len(first), len(second), len(rest)) == (100, 100, 51)
    listed = first + second + rest
    assert [t.id for t in listed] == [paid.charge_id, *unseen, unseen[0]]  # oldest first
    assert listed[0].source.invoice_payload == "booking:7"
    assert listed[0].source.user.id == alice.id
    assert (listed[1].amount, listed[1].source.invoice_payload) == (50, "v1|booking:0|50|XTR")
    refund = listed[-1]
    assert refund.source is None
    assert refund.receiver.user.id == alice.id
    assert (await bot.get_star_transactions(offset=251)).transactions == []

    fake.star_transactions_newest_first = True
    newest = (await bot.get_star_transactions(offset=0, limit=2)).transactions
    assert [t.id for t in newest] == [unseen[0], unseen[-1]]

    for limit in (0, 101):
        with pytest.raises(TelegramBadRequest, match="limit must be 1-100"):
            await bot.get_star_transactions(limit=limit)
    assert len(take_errors(fake)) == 2


async def test_card_payments_cannot_be_refunded_with_star_refunds(
    fake: FakeTelegram, bot: Bot
) -> None:
    alice = fake.user()
    await bot.send_invoice(alice.chat_id, **invoice_params(**CARD))  # type: ignore[arg-type]
    responder = asyncio.create_task(answer_next_pre_checkout(bot, ok=True))
    payment = await alice.pay()
    await responder
    assert payment.charge_id is not None
    with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(alice.id, payment.charge_id)
    take_errors(fake)
    assert fake.star_refunds == []


def payments_router(seen: list[str]) -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message, bot: Bot) -> None:
        await send_stars_invoice(bot, message.chat.id)

    @router.pre_checkout_query()
    async def pre_checkout(query: PreCheckoutQuery) -> None:
        if query.invoice_payload == "booking:gone":
            await query.answer(ok=False, error_message="Sorry, the spot was taken")
        else:
            await query.answer(ok=True)

    @router.message(F.successful_payment)
    async def paid(message: Message) -> None:
        payment = message.successful_payment
        assert payment is not None
        seen.append(payment.telegram_payment_charge_id)
        await message.answer(f"Paid {payment.total_amount} {payment.currency}")

    return router


async def test_a_dispatcher_takes_a_stars_payment_and_its_repeat(
    fake: FakeTelegram, bot: Bot
) -> None:
    seen: list[str] = []
    dp = Dispatcher()
    dp.include_router(payments_router(seen))
    alice = fake.user()
    async with polling(fake, dp, bot):
        await alice.send("/start")
        invoice = await alice.wait_message(predicate=lambda m: m.invoice is not None)
        payment = await alice.pay(invoice)
        assert payment.ok
        await alice.wait_message("Paid 50 XTR")

        since = fake.mark()
        alice.repeat_payment(payment)
        await alice.wait_message("Paid 50 XTR", since=since, new=True)
        assert seen == [payment.charge_id, payment.charge_id]

        await send_stars_invoice(bot, alice.chat_id, payload="booking:gone")
        refused = await alice.pay()
        assert (refused.ok, refused.error_message) == (False, "Sorry, the spot was taken")
    assert len(seen) == 2
    assert [p.charge_id for p in fake.payments] == [payment.charge_id]


# ----- groups, supergroups and channels ------------------------------------------------

BOT_LINK = "https://t.me/spotbook_test_bot?start="


def card_keyboard(payload: str = "book_7") -> InlineKeyboardMarkup:
    return keyboard(
        [InlineKeyboardButton(text="Book", url=BOT_LINK + payload)],
        [InlineKeyboardButton(text="Who's in?", callback_data="who:7")],
    )


async def test_the_bot_posts_edits_and_deletes_in_a_supergroup(
    fake: FakeTelegram, bot: Bot
) -> None:
    alice = fake.user()
    fans = fake.group(-100123, "Yoga <fans>")
    assert fake.group(-100123, "ignored") is fans
    assert (fans.chat_id, fans.type, fans.bot_status) == (-100123, "supergroup", "member")

    since = fake.mark()
    sent = await bot.send_message(
        fans.chat_id, "<b>Yoga</b> Mon 18:00: 3 spots", parse_mode="HTML",
        reply_markup=card_keyboard(),
    )  # fmt: skip
    assert (sent.chat.id, sent.chat.type, sent.chat.title) == (-100123, "supergroup", "Yoga <fans>")
    assert sent.from_user is not None
    assert sent.from_user.id == fake.bot_id
    card = await fans.wait_message("3 spots", since=since, new=True)
    assert card.url_buttons == {"Book": BOT_LINK + "book_7"}
    assert card.button_texts == ["Book", "Who's in?"]
    assert (card.edit_date, card.edits) == (None, 0)
    assert fans.last_bot_message() == card
    assert alice.messages() == []  # nothing leaked into a private chat

    for spots in (2, 1):
        await bot.edit_message_text(
            f"<b>Yoga</b> Mon 18:00: {spots} spots", chat_id=fans.chat_id,
            message_id=sent.message_id, parse_mode="HTML", reply_markup=card_keyboard(),
        )  # fmt: skip
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=fans.chat_id, message_id=sent.message_id, reply_markup=card_keyboard()
        )
    await bot.edit_message_reply_markup(chat_id=fans.chat_id, message_id=sent.message_id)
    [edited] = fans.bot_messages()
    assert (edited.text, edited.buttons, edited.edits) == ("Yoga Mon 18:00: 1 spots", [], 3)
    assert edited.edit_date is not None
    assert edited.version > card.version

    edits = fans.edit_calls(sent.message_id)
    assert [c.method for c in edits] == ["editMessageText"] * 2 + ["editMessageReplyMarkup"] * 2
    assert [c.ok for c in edits] == [True, True, False, True]
    assert edits == fake.edit_calls(fans.chat_id, since=since)
    assert all(a.at <= b.at for a, b in itertools.pairwise(edits))
    assert fake.edit_calls(alice.chat_id) == []
    assert fans.edit_calls(sent.message_id, since=fake.mark()) == []

    await bot.delete_message(fans.chat_id, sent.message_id)
    assert fans.messages() == []
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(-100999, "who?")
    [error] = take_errors(fake)
    assert "chat not found" in error


async def test_group_chats_must_be_negative_and_typed(fake: FakeTelegram) -> None:
    with pytest.raises(AssertionError, match="negative"):
        fake.group(123, "x")
    with pytest.raises(AssertionError, match="group, supergroup or channel"):
        fake.group(-1, "x", type="private")
    assert fake.chats == {}


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        (BOT_LINK + "a" * 64, True),
        (BOT_LINK + "Az09_-", True),
        ("https://t.me/other_bot?start=x", True),
        ("https://t.me/spotbook_test_bot?startgroup=reg_1", True),
        ("https://example.com/?start=" + "a" * 65, True),  # not a deep link
        (BOT_LINK + "a" * 65, False),
        (BOT_LINK, False),
        (BOT_LINK + "book%207", False),
        (BOT_LINK + "book.7", False),
        ("https://telegram.me/spotbook_test_bot?start=é", False),
        ("https://t.me/spotbook_test_bot?startgroup=" + "a" * 65, False),
        ("not a url", False),
    ],
)
async def test_url_buttons_and_deep_link_payloads_are_validated(
    fake: FakeTelegram, bot: Bot, url: str, ok: bool
) -> None:
    fans = fake.group(-100123, "Yoga fans")
    markup = keyboard([InlineKeyboardButton(text="Book", url=url)])
    if ok:
        await bot.send_message(fans.chat_id, "Card", reply_markup=markup)
        [card] = fans.bot_messages()
        assert card.url_buttons == {"Book": url}
        return
    with pytest.raises(TelegramBadRequest, match="BUTTON_URL_INVALID"):
        await bot.send_message(fans.chat_id, "Card", reply_markup=markup)
    [error] = take_errors(fake)
    assert "BUTTON_URL_INVALID" in error
    assert fans.messages() == []


async def test_members_send_commands_and_privacy_mode_hides_the_rest(
    fake: FakeTelegram, bot: Bot
) -> None:
    alice, bob = fake.user(), fake.user(1002, "Bob", username="bob")
    fans = fake.group(-100123, "Yoga fans")
    me = await bot.get_me()
    assert me.can_read_all_group_messages is False

    addressed = await fans.send(alice, "/register@spotbook_test_bot now")
    general = await fans.send(bob, "/register")
    chatter = await fans.send(alice, "hello all")
    other = await fans.send(alice, "/register@other_bot")
    assert (chatter.update_id, other.update_id) == (None, None)
    assert [m.text for m in fans.messages()] == [
        "/register@spotbook_test_bot now", "/register", "hello all", "/register@other_bot",
    ]  # fmt: skip

    first, second = await bot.get_updates()
    assert [first.update_id, second.update_id] == [addressed.update_id, general.update_id]
    for update, user in ((first, alice), (second, bob)):
        message = update.message
        assert message is not None
        assert message.chat.model_dump(exclude_none=True) == {
            "id": -100123, "type": "supergroup", "title": "Yoga fans",
        }  # fmt: skip
        assert message.from_user is not None
        assert message.from_user.id == user.id
    assert first.message is not None
    assert first.message.entities is not None
    assert (first.message.entities[0].type, first.message.entities[0].length) == (
        "bot_command",
        len("/register@spotbook_test_bot"),
    )
    assert first.message.message_id != second.message.message_id  # type: ignore[union-attr]

    # Without privacy mode (or as an administrator) the bot sees every message.
    fake.group_privacy = False
    assert (await fans.send(alice, "hello again")).update_id is not None
    fake.group_privacy = True
    fans.bot_status = "administrator"
    assert (await fans.send(alice, "and again")).update_id is not None


async def test_channel_posts_come_from_the_channel(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    news = fake.group(-100777, "Studio news", type="channel")
    assert news.bot_status == "administrator"
    sent = await bot.send_message(news.chat_id, "New class!", reply_markup=card_keyboard())
    assert sent.chat.type == "channel"
    assert sent.sender_chat is not None
    assert sent.sender_chat.id == news.chat_id
    assert sent.from_user is None

    post = await news.send(alice, "/register")
    [update] = await bot.get_updates()
    assert update.update_id == post.update_id
    assert update.channel_post is not None
    assert update.channel_post.sender_chat is not None
    assert update.channel_post.sender_chat.id == news.chat_id
    assert update.channel_post.from_user is None


@pytest.mark.parametrize(
    ("chat_type", "left_status", "refusal"),
    [
        ("supergroup", "kicked", "bot was kicked from the supergroup chat"),
        ("group", "left", "bot was kicked from the group chat"),
        ("channel", "kicked", "bot was kicked from the channel chat"),
    ],
)
async def test_the_bot_removed_from_a_group_and_added_back(
    fake: FakeTelegram, bot: Bot, chat_type: str, left_status: str, refusal: str
) -> None:
    alice = fake.user()
    fans = fake.group(-100123, "Yoga fans", type=chat_type)
    card = await bot.send_message(fans.chat_id, "Card")
    old_status = fans.bot_status

    update_id = fans.remove_bot(by=alice)
    [update] = await bot.get_updates()  # my_chat_member is delivered by default
    assert update.update_id == update_id
    change = update.my_chat_member
    assert change is not None
    assert (change.chat.id, change.chat.type, change.from_user.id) == (
        fans.chat_id,
        chat_type,
        alice.id,
    )
    assert (change.old_chat_member.status, change.new_chat_member.status) == (
        old_status,
        left_status,
    )
    assert change.new_chat_member.user.id == fake.bot_id
    assert fans.bot_status == left_status

    with pytest.raises(TelegramForbiddenError, match=refusal):
        await bot.send_message(fans.chat_id, "Anyone?")
    with pytest.raises(TelegramForbiddenError, match=refusal):
        await bot.edit_message_text("Card 2", chat_id=fans.chat_id, message_id=card.message_id)
    with pytest.raises(TelegramForbiddenError, match=refusal):
        await bot.delete_message(fans.chat_id, card.message_id)
    assert fake.errors == []  # a correct bot gets these: not protocol errors
    assert (await fans.send(alice, "/register")).update_id is None
    with pytest.raises(AssertionError, match="not in"):
        fans.remove_bot()

    fans.add_bot(alice)
    [update] = await bot.get_updates(offset=update_id + 1)
    assert update.my_chat_member is not None
    assert update.my_chat_member.old_chat_member.status == left_status
    assert update.my_chat_member.new_chat_member.status == old_status
    await bot.send_message(fans.chat_id, "Back!")
    assert [m.text for m in fans.bot_messages()] == ["Card", "Back!"]
    with pytest.raises(AssertionError, match="already in"):
        fans.add_bot(alice)


async def test_removal_by_an_unknown_admin_and_leaving(fake: FakeTelegram, bot: Bot) -> None:
    fans = fake.group(-100123, "Yoga fans")
    fans.remove_bot(status="left")
    [update] = await bot.get_updates()
    assert update.my_chat_member is not None
    assert update.my_chat_member.from_user.first_name == "Group admin"
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the supergroup chat"):
        await bot.send_message(fans.chat_id, "Anyone?")


async def test_only_an_administrator_deletes_members_messages(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    fans = fake.group(-100123, "Yoga fans")
    said = await fans.send(alice, "/book")
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await bot.delete_message(fans.chat_id, said.message_id)
    assert len(take_errors(fake)) == 1
    fans.bot_status = "administrator"
    await bot.delete_message(fans.chat_id, said.message_id)
    assert fans.messages() == []


async def test_group_waits_share_the_private_chat_implementation(
    fake: FakeTelegram, bot: Bot
) -> None:
    assert FakeGroup.wait_message is FakeUser.wait_message
    assert FakeGroup.bot_messages is FakeUser.bot_messages
    alice = fake.user()
    fans = fake.group(-100123, "Yoga fans")
    await bot.send_message(fans.chat_id, "Welcome")
    assert (await fans.wait_message("Welcome")).text == "Welcome"
    with pytest.raises(AssertionError, match=r"no bot message matching 'Bye'[\s\S]*'Welcome'"):
        await fans.wait_message("Bye", timeout=0.05)
    with pytest.raises(AssertionError, match="in chat -100123"):
        await fans.wait_message("Welcome", since=fake.mark(), new=True, timeout=0.05)
    with pytest.raises(AssertionError, match="in chat 1001"):
        await alice.wait_message("Welcome", timeout=0.05)  # another chat

    waiter = asyncio.create_task(fans.wait_message(predicate=lambda m: m.edits == 1))
    await asyncio.sleep(0)
    [message] = fans.bot_messages()
    await bot.edit_message_text("Welcome!", chat_id=fans.chat_id, message_id=message.message_id)
    assert (await asyncio.wait_for(waiter, 5)).text == "Welcome!"


async def test_deep_links_open_the_private_chat(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    fans = fake.group(-100123, "Yoga fans")
    await bot.send_message(fans.chat_id, "Card", reply_markup=card_keyboard("book_7"))
    card = fans.last_bot_message()
    assert card is not None

    opened = await alice.open_url(card.url_buttons["Book"])
    started = await alice.start("pass_3")
    plain = await alice.open_url("https://t.me/spotbook_test_bot")
    assert [m.text for m in (opened, started, plain)] == [
        "/start book_7",
        "/start pass_3",
        "/start",
    ]
    updates = await bot.get_updates()
    assert [u.message.chat.id for u in updates if u.message] == [alice.chat_id] * 3
    commands = [[(e.type, e.offset, e.length) for e in u.message.entities or []]
                for u in updates if u.message]  # fmt: skip
    assert commands == [[("bot_command", 0, 6)]] * 3
    assert fans.messages() == [card]  # nothing was posted in the group

    for url, problem in (
        ("https://t.me/other_bot?start=x", "not a link to this bot"),
        ("https://example.com/", "not a link to this bot"),
        ("https://t.me/spotbook_test_bot?startgroup=x", "only opens ?start="),
        (BOT_LINK + "a" * 65, "ignores an invalid start parameter"),
    ):
        with pytest.raises(AssertionError, match=re.escape(problem)):
            await alice.open_url(url)
    assert len(alice.messages()) == 3


def group_router(events: list[str]) -> Router:
    router = Router()

    @router.message(Command("register"), F.chat.type.in_({"group", "supergroup"}))
    async def register(message: Message) -> None:
        await message.answer(
            f"Registered <b>{html.escape(message.chat.title or '')}</b>",
            reply_markup=card_keyboard(f"chat{-message.chat.id}"),
        )

    @router.message(CommandStart(deep_link=True))
    async def deep_link(message: Message, command: CommandObject) -> None:
        await message.answer(f"Booking {command.args}")

    @router.my_chat_member()
    async def membership(change: ChatMemberUpdated, bot: Bot) -> None:
        events.append(f"{change.chat.id}: {change.new_chat_member.status}")
        if change.new_chat_member.status == "member":
            await bot.send_message(change.chat.id, "Hello again")

    return router


async def test_a_dispatcher_registers_a_group_and_follows_its_membership(
    fake: FakeTelegram, bot: Bot
) -> None:
    events: list[str] = []
    dp = Dispatcher()
    dp.include_router(group_router(events))
    html_bot = Bot(fake.token, session=bot.session, default=DefaultBotProperties(parse_mode="HTML"))
    alice = fake.user()
    fans = fake.group(-100123, "Yoga & fans")
    async with polling(fake, dp, html_bot):
        await fans.send(alice, "/register@spotbook_test_bot")
        card = await fans.wait_message("Registered Yoga & fans")
        await alice.open_url(card.url_buttons["Book"])
        assert (await alice.wait_message("Booking")).text == "Booking chat100123"

        fans.remove_bot(by=alice)
        await fake.wait_for_call("getUpdates", lambda c: not fake.pending_updates)
        since = fake.mark()
        fans.add_bot(alice)
        await fans.wait_message("Hello again", since=since, new=True)
    assert events == ["-100123: kicked", "-100123: member"]


async def test_group_members_press_callback_buttons(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user()
    fans = fake.group(-100123, "Yoga fans")
    sent = await bot.send_message(fans.chat_id, "Card", reply_markup=card_keyboard())

    async def answer() -> None:
        [update] = await bot.get_updates(timeout=10)
        query = update.callback_query
        assert query is not None
        assert (query.from_user.id, query.data) == (alice.id, "who:7")
        assert query.message is not None
        assert (query.message.chat.id, query.message.message_id) == (fans.chat_id, sent.message_id)
        await bot.answer_callback_query(query.id, text="3 booked")

    responder = asyncio.create_task(answer())
    assert await fans.click(alice, "Who's in?") == "3 booked"
    await responder
    with pytest.raises(AssertionError, match="is a URL button"):
        await fans.click(alice, "Book")


# ----- webhook delivery --------------------------------------------------------------


class Receiver:
    """A stand-in for a bot's webhook server: records each POST and answers ``status``."""

    def __init__(self) -> None:
        self.status = 200
        self.got: list[tuple[str | None, dict]] = []  # (secret header, update)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/hook"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        self.got.append((request.headers.get(SECRET_HEADER), await request.json()))
        return web.json_response({}, status=self.status)

    def texts(self) -> list[str]:
        return [update["message"]["text"] for _, update in self.got]


async def test_once_a_webhook_is_set_updates_are_posted_to_it_with_the_secret(
    fake: FakeTelegram, bot: Bot
) -> None:
    alice = fake.user()
    async with Receiver() as hook:
        assert await bot.set_webhook(hook.url, secret_token="s3cret-_token")
        sent = await alice.send("/start")
        await fake.wait_for_delivery(lambda d: d.update_id == sent.update_id)

        [(secret, update)] = hook.got
        assert secret == "s3cret-_token"
        assert update["update_id"] == sent.update_id
        assert update["message"]["text"] == "/start"
        assert fake.pending_updates == []
        assert [d.ok for d in fake.webhook_deliveries] == [True]

        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count, info.last_error_message) == (hook.url, 0, None)
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates(timeout=0)
        assert len(take_errors(fake)) == 1


async def test_a_refused_update_is_delivered_again_and_the_next_waits_its_turn(
    fake: FakeTelegram, bot: Bot
) -> None:
    alice = fake.user()
    async with Receiver() as hook:
        hook.status = 401
        await bot.set_webhook(hook.url, secret_token="abc")
        await alice.send("first")
        last = await alice.send("second")
        await fake.wait_for_delivery(lambda d: d.status == 401, since=1)

        assert set(hook.texts()) == {"first"}  # tried again, and the second not before it
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 2
        assert info.last_error_message == "Wrong response from the webhook: 401"

        hook.status = 200
        second = await fake.wait_for_delivery(lambda d: d.ok and d.update_id == last.update_id)
        assert hook.texts()[-2:] == ["first", "second"]
        assert fake.webhook_deliveries[-2:] == [
            WebhookDelivery(last.update_id - 1, hook.url, 200),
            second,
        ]
        assert fake.pending_updates == []


async def test_point_webhook_moves_delivery_and_delete_webhook_brings_back_polling(
    fake: FakeTelegram, bot: Bot
) -> None:
    alice = fake.user()
    async with Receiver() as a, Receiver() as b:
        await bot.set_webhook(a.url, secret_token="abc")
        await alice.send("to a")
        await fake.wait_for_delivery()

        fake.point_webhook(b.url)
        await alice.send("to b")
        await fake.wait_for_delivery(since=1)
        assert (a.texts(), b.texts()) == (["to a"], ["to b"])
        assert b.got[0][0] == "abc"  # the same secret
        assert [d.url for d in fake.deliveries_to(b.url)] == [b.url]

        assert await bot.delete_webhook()
        await alice.send("polled")
        [update] = await bot.get_updates(timeout=0)
        assert update.message is not None
        assert update.message.text == "polled"
        assert (len(a.got), len(b.got)) == (1, 1)


async def test_an_unreachable_webhook_keeps_the_update_and_reports_the_error(
    fake: FakeTelegram, bot: Bot
) -> None:
    alice = fake.user()
    async with Receiver() as gone:
        url = gone.url
    await bot.set_webhook(url, secret_token="abc")
    sent = await alice.send("anyone there?")
    delivery = await fake.wait_for_delivery(lambda d: d.update_id == sent.update_id)

    assert (delivery.update_id, delivery.status) == (sent.update_id, None)
    assert delivery.error is not None
    assert delivery.error.startswith("Connection failed")
    assert [u["update_id"] for u in fake.pending_updates] == [sent.update_id]
    assert (await bot.get_webhook_info()).last_error_message == delivery.error


@pytest.mark.parametrize(
    ("url", "secret", "problem"),
    [
        ("ftp://example.com/hook", "abc", "bad webhook: invalid webhook URL specified"),
        ("https://example.com/hook", "with space", "secret token contains unallowed characters"),
        ("https://example.com/hook", "x" * 257, "secret token contains unallowed characters"),
    ],
)
async def test_set_webhook_checks_the_url_and_the_secret_token(
    fake: FakeTelegram, bot: Bot, url: str, secret: str, problem: str
) -> None:
    with pytest.raises(TelegramBadRequest, match=problem):
        await bot.set_webhook(url, secret_token=secret)
    assert fake.webhook_url == ""
    assert len(take_errors(fake)) == 1


async def test_set_webhook_allowed_updates_drop_other_update_types(
    fake: FakeTelegram, bot: Bot
) -> None:
    alice = fake.user()
    async with Receiver() as hook:
        await bot.set_webhook(hook.url, secret_token="abc", allowed_updates=["callback_query"])
        await alice.send("a message the bot did not ask for")
        fake.inject_update(
            {
                "callback_query": {
                    "id": "1",
                    "from": alice.user_json(),
                    "chat_instance": "1",
                    "data": "x",
                }
            }
        )
        await fake.wait_for_delivery()

        assert [sorted(update) for _, update in hook.got] == [["callback_query", "update_id"]]
        [error] = take_errors(fake)
        assert "(message) was dropped" in error
