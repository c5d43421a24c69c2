"""The staff dialog (/admin): the coming sessions → a roster → book a client, or a client's
card (rank, money, the front desk); today's sessions; who owes what.

Every widget id starts with STAFF_WIDGET_PREFIX, so a staff button is recognised (and refused
to anyone else) before any dialog handles it; the StaffOnly middleware guards the rest.
"""

from __future__ import annotations

from aiogram_dialog import Dialog

from bot.access import StaffOnly
from bot.dialogs.staff.desk import start_with_data
from bot.dialogs.staff.windows import cancel, client, desk, money, move, sessions


def staff_dialog() -> Dialog:
    dialog = Dialog(
        *sessions.windows,
        *client.windows,
        *desk.windows,
        *money.windows,
        *move.windows,
        *cancel.windows,
        on_start=start_with_data,
    )
    # an open staff dialog outlives its owner's rights (ADMIN_IDS changed, storage kept)
    dialog.message.middleware(StaffOnly())
    dialog.callback_query.middleware(StaffOnly())
    return dialog
