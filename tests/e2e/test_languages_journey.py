"""Languages through the real bot process and the fake Bot API: a client whose Telegram
language is Hungarian gets Hungarian, switches to Czech in 🌐 and the next message is Czech;
the command menus are set per scope and per language; a group's cards use the group's
language, whoever books."""

from __future__ import annotations

import pytest

from bot.dialogs.settings import language_name
from bot.text.i18n import build_i18n
from tests.e2e.harness import bot_process

pytestmark = pytest.mark.e2e

I18N = build_i18n("en")
MENU = "👋 Hello, <b>{name}</b>!\n\nBook a session, see your bookings or cancel one."
SAM = 9001


def translated(msgid: str, locale: str) -> str:
    with I18N.context(), I18N.use_locale(locale):
        return I18N.gettext(msgid)


def menu_line(locale: str) -> str:
    """The menu's last line in ``locale`` (no markup, no name)."""
    return translated(MENU, locale).split("\n")[-1]


async def test_a_hungarian_client_gets_hungarian_switches_to_czech_and_hears_czech(
    fake, bot_env, catalog, database
):
    eva = fake.user(1001, "Éva", language_code="hu")
    async with bot_process(fake, env=bot_env):
        await eva.send("/start")
        menu = await eva.wait_message(menu_line("hu"))
        assert menu_line("en") not in menu.text
        assert translated("📅 Book a session", "hu") in menu.button_texts

        await eva.click(translated("🌐 Language and time zone", "hu"))
        await eva.click(language_name("cs"))
        assert "✅ " + language_name("cs") in eva.buttons()
        assert database.query("select language_code from clients where id = 1001") == [("cs",)]

        mark = fake.mark()
        await eva.send("/start")
        menu = await eva.wait_message(menu_line("cs"), since=mark)
        assert translated("📅 Book a session", "cs") in menu.button_texts

    # remembered across a restart (the dialog state is gone, the choice is not)
    async with bot_process(fake, env=bot_env):
        mark = fake.mark()
        await eva.send("/bookings")
        await eva.wait_message(translated("You have no upcoming bookings.", "cs"), since=mark)


async def test_command_menus_are_set_per_scope_and_language(fake, bot_env):
    async with bot_process(fake, env={**bot_env, "ADMIN_IDS": str(SAM)}):
        fake.user(SAM, "Sam")
        private = {"type": "all_private_chats"}
        groups = {"type": "all_group_chats"}
        for language in ("cs", "hu", "ru"):
            commands = fake.bot_commands(private, language)
            assert [c["command"] for c in commands] == ["start", "bookings", "language"]
            assert commands[0]["description"] == translated("Main menu", language)
            assert commands[0]["description"] != "Main menu"
            assert [c["command"] for c in fake.bot_commands(groups, language)] == ["announcehere"]
        default = fake.bot_commands(private)
        assert default[0]["description"] == "Main menu"
