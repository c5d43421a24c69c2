"""Cancelling as staff: the choices, the reason typed for the client, the confirmation
(handlers in bot/dialogs/staff/cancel.py); and the buttons that start it on the client card
and the roster."""

from __future__ import annotations

from operator import itemgetter

from aiogram.enums import ContentType
from aiogram_dialog import Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Column, Select, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.access import STAFF_WIDGET_PREFIX as P
from bot.dialogs.common import ERROR_LINE
from bot.dialogs.staff import cancel, cancel_getters
from bot.dialogs.staff.windows.parts import present
from bot.states import Staff
from bot.text.i18n import T

CANCEL_BOOKING, TAKE_OFF, CANCEL_SESSION = f"{P}xb", f"{P}xc", f"{P}xs"
MONEY, GIVE_BACK, MAKEUP, NEXT = f"{P}xm", f"{P}xg", f"{P}xu", f"{P}xn"
NO_REASON, CONFIRM, TERMS_BACK, CONFIRM_BACK = f"{P}xr", f"{P}xy", f"{P}xk", f"{P}xq"

# on the client card (its getter adds cancel.client_cancel_getter)
client_buttons = Column(
    Button(
        T("❌ Cancel booking"),
        id=CANCEL_BOOKING,
        on_click=cancel.on_cancel_booking,
        when="can_cancel_booking",
    ),
    Button(
        T("🚪 Take off the class"),
        id=TAKE_OFF,
        on_click=cancel.on_take_off_class,
        when="can_take_off",
    ),
)
client_overrides = T("\n🛡 <b>Cancelled by staff</b>\n{overrides}", when="overrides")

# on the roster (its getter adds cancel.roster_cancel_getter)
roster_done = Format("{cancel_done}\n", when="cancel_done")
roster_cancelled = T("\n❌ This session was cancelled.", when="session_cancelled")
roster_button = Button(
    T("🚫 Cancel session"),
    id=CANCEL_SESSION,
    on_click=cancel.on_cancel_session,
    when="can_cancel_session",
)

terms_window = Window(
    ERROR_LINE,
    Format("{head}", when=present),
    T("\nWhat happens to the money paid?", when="ask_money"),
    Column(
        Select(
            Format("{item[1]}"),
            id=MONEY,
            item_id_getter=itemgetter(0),
            items="money_choices",
            on_click=cancel.on_money,
        ),
        when="ask_money",
    ),
    Button(
        Format("{give_back_label}"),
        id=GIVE_BACK,
        on_click=cancel.on_give_back,
        when="ask_give_back",
    ),
    Button(Format("{makeup_label}"), id=MAKEUP, on_click=cancel.on_makeup, when="ask_makeup"),
    SwitchTo(T("➡️ Next"), id=NEXT, state=Staff.cancel_reason, when=present),
    Button(T("◀️ Back"), id=TERMS_BACK, on_click=cancel.on_terms_back),
    state=Staff.cancel_terms,
    getter=cancel_getters.terms_getter,
)

reason_window = Window(
    ERROR_LINE,
    Format("{head}", when=present),
    T(
        "\n✍️ Type the reason the client will read (optional, up to 300 characters), "
        "or tap No reason."
    ),
    MessageInput(cancel.on_reason_text, content_types=ContentType.TEXT),
    Button(T("⏭ No reason"), id=NO_REASON, on_click=cancel.on_no_reason),
    SwitchTo(T("◀️ Back"), id=TERMS_BACK, state=Staff.cancel_terms),
    state=Staff.cancel_reason,
    getter=cancel_getters.terms_getter,
)

confirm_window = Window(
    ERROR_LINE,
    Format("{head}", when=present),
    Format("\n{summary}"),
    T("\nEach client is told in their language. Cancel now?"),
    Button(T("✅ Yes, cancel"), id=CONFIRM, on_click=cancel.on_confirm, when=present),
    SwitchTo(T("◀️ Back"), id=CONFIRM_BACK, state=Staff.cancel_terms),
    state=Staff.cancel_confirm,
    getter=cancel_getters.terms_getter,
)

windows = [terms_window, reason_window, confirm_window]
