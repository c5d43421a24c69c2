"""What the bot tells Telegram about itself: ``getMe``, its command lists per scope and
language, its menu button and descriptions."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tests.fake_telegram.model import ApiCall, ApiError

if TYPE_CHECKING:
    from tests.fake_telegram.server import FakeTelegram


def get_me(fake: FakeTelegram, call: ApiCall) -> dict[str, Any]:
    return {
        **fake.bot_user(),
        "can_join_groups": True,
        "can_read_all_group_messages": not fake.group_privacy,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def commands_key(params: Mapping[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def set_my_commands(fake: FakeTelegram, call: ApiCall) -> bool:
    commands = call.params.get("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise ApiError(400, "Bad Request: commands must be a list of at most 100", record=True)
    for command in commands:
        name = command.get("command", "") if isinstance(command, dict) else ""
        description = command.get("description", "") if isinstance(command, dict) else ""
        if not re.fullmatch(r"[a-z0-9_]{1,32}", name) or not 1 <= len(description) <= 256:
            raise ApiError(400, f"Bad Request: BOT_COMMAND_INVALID ({command!r})", record=True)
    scope = call.params.get("scope")
    if isinstance(scope, dict) and "chat_id" in scope and scope["chat_id"] not in fake._chats:
        # a user who never opened the bot: a correct bot may get this, so not recorded
        raise ApiError(400, "Bad Request: chat not found")
    fake._commands[commands_key(call.params)] = commands
    return True


def get_my_commands(fake: FakeTelegram, call: ApiCall) -> list[dict[str, Any]]:
    return fake._commands.get(commands_key(call.params), [])


def delete_my_commands(fake: FakeTelegram, call: ApiCall) -> bool:
    fake._commands.pop(commands_key(call.params), None)
    return True


def set_chat_menu_button(fake: FakeTelegram, call: ApiCall) -> bool:
    chat_id = call.params.get("chat_id")
    fake.menu_buttons[chat_id] = call.params.get("menu_button") or {"type": "default"}
    return True


def get_chat_menu_button(fake: FakeTelegram, call: ApiCall) -> dict[str, Any]:
    chat_id = call.params.get("chat_id")
    return fake.menu_buttons.get(chat_id, fake.menu_buttons.get(None, {"type": "commands"}))


METHODS = {
    "getMe": get_me,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "setChatMenuButton": set_chat_menu_button,
    "getChatMenuButton": get_chat_menu_button,
    "setMyDescription": lambda fake, call: True,
    "setMyShortDescription": lambda fake, call: True,
}
