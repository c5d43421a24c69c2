"""A fake Telegram Bot API server for end-to-end tests, plus a user-side driver.

The bot under test talks HTTP to :class:`FakeTelegram` exactly as it would to
``api.telegram.org`` (configure aiogram with ``TelegramAPIServer.from_base(fake.base_url)``).
Tests act as Telegram users through :class:`FakeUser`, and in groups, supergroups and
channels through :class:`FakeGroup`::

    async with FakeTelegram() as fake, bot_process(fake):
        alice = fake.user(first_name="Alice")
        await alice.send("/start")
        await alice.wait_message("Hello")
        assert await alice.click("Ping") == "pong!"
        await alice.send_document("studio.yaml", b"programmes: []")  # the bot may getFile it
        payment = await alice.pay()  # the newest invoice: pre-checkout, then successful_payment
        alice.repeat_payment(payment)  # Telegram delivering it again

        fans = fake.group(-100123, "Yoga fans")  # a supergroup the bot is a member of
        await fans.send(alice, "/register")  # privacy mode: the bot only gets commands
        card = await fans.wait_message("Yoga")
        await alice.open_url(card.url_buttons["Book"])  # t.me/<bot>?start=X: "/start X"
        assert len(fake.edit_calls(fans.chat_id, card.message_id)) <= 3
        fans.remove_bot()  # my_chat_member; the bot's requests to it now answer 403

Updates wait for ``getUpdates`` (long polling) until the bot calls ``setWebhook``; from then
on the fake POSTs each one to the webhook URL with the ``X-Telegram-Bot-Api-Secret-Token``
header, in order, retrying (as Telegram does) until the bot answers 2xx. Like a load
balancer in front of several bot instances, ``fake.point_webhook(url)`` sends the next
updates elsewhere; :attr:`FakeTelegram.webhook_deliveries` records every attempt.

The fake validates what the bot sends the way Telegram does (HTML markup, callback data
size, editing rules, ...). Telegram answers that a correct bot may legitimately get
("message is not modified", a blocked user) are returned but not recorded; answers that
mean the bot (or the test) did something wrong are also appended to :attr:`FakeTelegram.errors`,
which the test fixtures assert to be empty.

Every wait is event-driven: the fake notifies waiters on every API call and every update.

Where things are: ``server`` (the HTTP server, its state, what tests call on it), ``model``
(calls, messages, errors), ``chats``/``users``/``groups`` (the user side), and one module per
topic of the Bot API: ``messages``, ``formatting`` (HTML parse mode), ``keyboards``, ``files``,
``profile`` (getMe, commands), ``updates`` (the queue, long polling), ``webhook``, ``payments``.
"""

from tests.fake_telegram.chats import FakeChat
from tests.fake_telegram.formatting import parse_html
from tests.fake_telegram.groups import FakeGroup
from tests.fake_telegram.model import (
    ApiCall,
    ApiError,
    Button,
    CallPredicate,
    FakeMessage,
    Handler,
    InvalidUpdateError,
    MessagePredicate,
    UploadedFile,
)
from tests.fake_telegram.payments import STARS, Payment, SentInvoice, StarRefund
from tests.fake_telegram.server import FakeTelegram
from tests.fake_telegram.users import FakeUser
from tests.fake_telegram.webhook import SECRET_HEADER, WebhookDelivery

__all__ = [
    "SECRET_HEADER",
    "STARS",
    "ApiCall",
    "ApiError",
    "Button",
    "CallPredicate",
    "FakeChat",
    "FakeGroup",
    "FakeMessage",
    "FakeTelegram",
    "FakeUser",
    "Handler",
    "InvalidUpdateError",
    "MessagePredicate",
    "Payment",
    "SentInvoice",
    "StarRefund",
    "UploadedFile",
    "WebhookDelivery",
    "parse_html",
]
