"""The update log names what an update was for: in a dialog, its state and the widget."""

from __future__ import annotations

import logging


async def test_a_click_in_a_dialog_is_logged_with_the_dialog_state_and_the_widget(chat, caplog):
    caplog.set_level(logging.INFO, logger="bot.updates")
    await chat.start()
    await chat.click("Book a session")

    start, click = [r for r in caplog.records if r.name == "bot.updates"]
    assert (start.use_case, start.user_id, start.outcome) == ("/start", 42, "handled")
    assert click.update_type == "callback_query"
    assert click.use_case == "MainMenu:main/book"  # the window the button was on, its widget
    assert click.outcome == "handled"
