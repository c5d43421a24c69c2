"""What the bot does to messages in a chat: send, edit, delete, answer a button's callback
query, show "typing…"; refused the way Telegram refuses them ("message is not modified",
"message can't be edited", ...)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from tests.fake_telegram.formatting import render_text
from tests.fake_telegram.groups import FakeGroup
from tests.fake_telegram.keyboards import parse_markup
from tests.fake_telegram.model import ApiCall, ApiError, FakeMessage

if TYPE_CHECKING:
    from tests.fake_telegram.server import FakeTelegram

EDIT_METHODS = frozenset(
    {"editMessageText", "editMessageReplyMarkup", "editMessageCaption", "editMessageMedia"}
)


def send_message(fake: FakeTelegram, call: ApiCall) -> dict[str, Any]:
    return fake.store_bot_message(call.params)


def edit_message_text(fake: FakeTelegram, call: ApiCall) -> dict[str, Any]:
    message = fake._find_message(call.params, "edit")
    if not message.from_bot:
        raise ApiError(400, "Bad Request: message can't be edited", record=True)
    if message.media:
        raise ApiError(400, "Bad Request: there is no text in the message to edit", record=True)
    text, entities = render_text(call.params, "text", limit=4096, required=True)
    # Without reply_markup Telegram removes the inline keyboard.
    buttons, _, inline_markup = parse_markup(call.params.get("reply_markup"))
    if (text, entities, inline_markup) == (
        message.text,
        message.entities,
        message.reply_markup,
    ):
        raise not_modified()
    message.text, message.entities, message.source = text, entities, call.params.get("text")
    message.buttons, message.reply_markup = buttons, inline_markup
    return _mark_edited(fake, message)


def edit_message_reply_markup(fake: FakeTelegram, call: ApiCall) -> dict[str, Any]:
    message = fake._find_message(call.params, "edit")
    if not message.from_bot:
        raise ApiError(400, "Bad Request: message can't be edited", record=True)
    buttons, _, inline_markup = parse_markup(call.params.get("reply_markup"))
    if inline_markup == message.reply_markup:
        raise not_modified()
    message.buttons, message.reply_markup = buttons, inline_markup
    return _mark_edited(fake, message)


def _mark_edited(fake: FakeTelegram, message: FakeMessage) -> dict[str, Any]:
    message.edited = True
    message.edits += 1
    message.edit_date = int(time.time())
    fake._store(message)
    return fake._message_json(message)


def delete_message(fake: FakeTelegram, call: ApiCall) -> bool:
    message = fake._find_message(call.params, "delete")
    chat = fake.chats[message.chat_id]
    if not message.from_bot and isinstance(chat, FakeGroup) and chat.bot_status != "administrator":
        raise ApiError(
            400,
            "Bad Request: message can't be deleted (only an administrator may delete "
            "other members' messages in a group)",
            record=True,
        )
    del fake._chats[message.chat_id][message.message_id]
    fake._changes.notify()
    return True


def answer_callback_query(fake: FakeTelegram, call: ApiCall) -> bool:
    query_id = str(call.params.get("callback_query_id", ""))
    if query_id not in fake._callback_queries:
        raise ApiError(
            400,
            "Bad Request: query is too old and response timeout expired or query id is invalid",
            record=True,
        )
    if fake._callback_queries[query_id]:
        # Telegram refuses a second answer; aiogram-dialog logs and ignores this, e.g.
        # when an on_click handler answered with a text first. Not a protocol error.
        raise ApiError(
            400,
            "Bad Request: query is too old and response timeout expired or query id is invalid",
        )
    text = call.params.get("text")
    if text is not None and len(str(text)) > 200:
        raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG (callback answer text)", record=True)
    fake._callback_queries[query_id] = True
    return True


def send_chat_action(fake: FakeTelegram, call: ApiCall) -> bool:
    fake._chat_id(call.params)
    actions = {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
    if call.params.get("action") not in actions:
        raise ApiError(400, "Bad Request: wrong parameter action in request", record=True)
    return True


def not_modified() -> ApiError:
    return ApiError(
        400,
        "Bad Request: message is not modified: specified new message content and reply "
        "markup are exactly the same as a current content and reply markup of the message",
    )


METHODS = {
    "sendMessage": send_message,
    "editMessageText": edit_message_text,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "answerCallbackQuery": answer_callback_query,
    "sendChatAction": send_chat_action,
}
