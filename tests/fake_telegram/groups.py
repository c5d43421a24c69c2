"""Groups, supergroups and channels with the bot in them: members post and tap buttons,
group privacy mode decides what the bot gets, and admins remove the bot or add it back."""

# The waits take a ``timeout`` argument on purpose: it is the API the tests read best.
# ruff: noqa: ASYNC109

from __future__ import annotations

import copy
import re
import time
from typing import TYPE_CHECKING, Any

from tests.fake_telegram.chats import COMMAND_RE, FakeChat
from tests.fake_telegram.model import ApiError, FakeMessage

if TYPE_CHECKING:
    from tests.fake_telegram.server import FakeTelegram
    from tests.fake_telegram.users import FakeUser

_GROUP_ADMIN = {"id": 7_000_001, "is_bot": False, "first_name": "Group admin"}


class FakeGroup(FakeChat):
    """A group, supergroup or channel (``type``) with the bot in it (:meth:`FakeTelegram.group`).

    ``bot_status`` is the bot's membership: ``"member"``, ``"administrator"``, or after
    :meth:`remove_bot` ``"kicked"`` / ``"left"``; while it is not in the chat every method
    targeting the chat answers 403 (``Forbidden: bot was kicked from the supergroup chat``).
    In a group or supergroup where the bot is not an administrator, group privacy mode
    applies (:attr:`FakeTelegram.group_privacy`): members' messages reach the bot only if
    they start with a command for it (``/cmd`` or ``/cmd@<bot username>``).
    In a channel, posts come from the channel (``sender_chat``, no ``from``) as
    ``channel_post`` updates, and the bot must be an administrator.
    """

    def __init__(self, fake: FakeTelegram, chat_id: int, title: str, type: str) -> None:
        self.fake = fake
        self.id = self.chat_id = chat_id
        self.title = title
        self.type = type
        self.bot_status = "administrator" if type == "channel" else "member"

    def __repr__(self) -> str:
        return f"FakeGroup(id={self.id}, title={self.title!r}, type={self.type!r})"

    def chat_json(self) -> dict[str, Any]:
        return {"id": self.chat_id, "type": self.type, "title": self.title}

    @property
    def bot_is_member(self) -> bool:
        return self.bot_status in ("member", "administrator")

    def _refusal(self) -> ApiError | None:
        # a correct bot gets these after being removed: answered, not recorded as errors
        if self.bot_is_member:
            return None
        if self.bot_status == "kicked" or self.type == "group":
            return ApiError(403, f"Forbidden: bot was kicked from the {self.type} chat")
        return ApiError(403, f"Forbidden: bot is not a member of the {self.type} chat")

    def _bot_sees(self, text: str) -> bool:
        if not self.bot_is_member:
            return False
        if self.type == "channel" or self.bot_status == "administrator":
            return True
        if not self.fake.group_privacy:
            return True
        command = COMMAND_RE.match(text)
        if command is None:
            return False
        mention = command.group(1)
        return mention is None or mention[1:].lower() == self.fake.bot_username.lower()

    # ----- acting --------------------------------------------------------------------

    async def send(self, from_user: FakeUser, text: str) -> FakeMessage:
        """``from_user`` sends a text message in the group (a post, in a channel).

        A leading ``/command`` or ``/command@username`` gets a bot_command entity. The
        message is always in the chat; the bot gets it (``update_id`` set on the returned
        snapshot) only if it would on Telegram: it is in the chat, and privacy mode lets
        the message through (see the class docstring).
        """
        channel = self.type == "channel"
        message = self._user_message(None if channel else from_user, text)
        self._receive(
            message,
            kind="channel_post" if channel else "message",
            deliver=self._bot_sees(text),
        )
        return copy.deepcopy(message)

    async def click(
        self,
        from_user: FakeUser,
        button_text: str | re.Pattern[str],
        *,
        message_id: int | None = None,
        timeout: float = 10,
    ) -> str | None:
        """``from_user`` presses an inline button in the group: see :meth:`FakeUser.click`."""
        return await self._click(from_user, button_text, message_id, timeout)

    def remove_bot(self, by: FakeUser | None = None, *, status: str | None = None) -> int:
        """An admin (``by``, else a made-up one) removes the bot; returns the ``update_id``
        of the ``my_chat_member`` update. The new status is ``"kicked"`` (banned), or for a
        basic group ``"left"``, as Telegram reports them; ``status`` overrides it. From then
        on the bot's requests to the chat answer 403."""
        if not self.bot_is_member:
            raise AssertionError(f"the bot is not in {self!r} (status {self.bot_status!r})")
        new = status or ("left" if self.type == "group" else "kicked")
        if new not in ("kicked", "left"):
            raise AssertionError(f"removed means 'kicked' or 'left', not {new!r}")
        return self._change_bot_status(by, new)

    def add_bot(self, by: FakeUser, *, status: str | None = None) -> int:
        """``by`` adds the bot (back) to the chat: ``my_chat_member`` with the new status
        ``"member"`` (``"administrator"`` in a channel, or as given); returns its
        ``update_id``. The bot may send to the chat again."""
        if self.bot_is_member:
            raise AssertionError(f"the bot is already in {self!r} ({self.bot_status})")
        new = status or ("administrator" if self.type == "channel" else "member")
        if new not in ("member", "administrator") or (
            self.type == "channel" and new != "administrator"
        ):
            raise AssertionError(f"the bot cannot join {self!r} as {new!r}")
        return self._change_bot_status(by, new)

    def _change_bot_status(self, by: FakeUser | None, new: str) -> int:
        update_id = self.fake.inject_update(
            {
                "my_chat_member": {
                    "chat": self.chat_json(),
                    "from": by.user_json() if by is not None else dict(_GROUP_ADMIN),
                    "date": int(time.time()),
                    "old_chat_member": self._bot_member_json(self.bot_status),
                    "new_chat_member": self._bot_member_json(new),
                }
            }
        )  # validates first
        self.bot_status = new
        self.fake._changes.notify()
        return update_id

    def _bot_member_json(self, status: str) -> dict[str, Any]:
        data: dict[str, Any] = {"status": status, "user": self.fake.bot_user()}
        if status == "kicked":
            data["until_date"] = 0  # forever
        elif status == "administrator":
            rights = ("can_manage_chat", "can_delete_messages", "can_invite_users")
            data.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    **{
                        right: right in rights
                        for right in (
                            "can_manage_chat",
                            "can_delete_messages",
                            "can_manage_video_chats",
                            "can_restrict_members",
                            "can_promote_members",
                            "can_change_info",
                            "can_invite_users",
                            "can_post_stories",
                            "can_edit_stories",
                            "can_delete_stories",
                            "can_send_welcome_messages",
                        )
                    },
                }
            )
            if self.type == "channel":
                data.update({"can_post_messages": True, "can_edit_messages": True})
        return data
