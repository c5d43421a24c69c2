"""Money: a refund's or waiver's amount, who owes what, one fee due."""

from __future__ import annotations

from aiogram.enums import ContentType
from aiogram_dialog import Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button
from aiogram_dialog.widgets.text import Format

from bot.access import STAFF_WIDGET_PREFIX as P
from bot.dialogs.common import ERROR_LINE, choice_list
from bot.dialogs.staff import money
from bot.dialogs.staff.windows.parts import back_to
from bot.states import Staff
from bot.text.i18n import T

CSV, FEES, FEE_PAID, FEE_WAIVE = f"{P}csv", f"{P}f", f"{P}feepaid", f"{P}feewaive"


def _closed(data: dict, *_: object) -> bool:
    return not data["open"]


amount_window = Window(
    ERROR_LINE,
    T("↩️ <b>Refund</b> {name}: at most {refundable}.", when="refunding"),
    T("🙅 <b>Waive</b> for {name}: at most {due}.", when="waiving"),
    T("\nSend the amount and the reason, e.g. <code>{example} wheel broke</code>."),
    MessageInput(money.on_amount_text, content_types=ContentType.TEXT),
    back_to(Staff.client),
    state=Staff.money_amount,
    getter=money.amount_getter,
)

owing_window = Window(
    ERROR_LINE,
    T("💰 <b>Who owes what</b>", when="anyone"),
    Format("{owing_lines}", when="anyone"),
    T("💰 Nobody owes anything.", when="nobody_owes"),
    Button(T("📄 CSV"), id=CSV, on_click=money.on_export_owing, when="anyone"),
    T("🧾 Fees due: tap one to mark it paid or waive it.", when="fees_due"),
    choice_list(FEES, "fees_due", money.on_fee_chosen),
    back_to(Staff.sessions),
    state=Staff.owing,
    getter=money.owing_getter,
)

fee_window = Window(
    ERROR_LINE,
    Format("{fee}", when="fee"),
    T("Nothing is due for this fee any more.", when=_closed),
    Format("{done}", when="done"),
    Button(
        T("✅ Paid at the venue"), id=FEE_PAID, on_click=money.on_fee_paid_at_venue, when="open"
    ),
    Button(T("🙅 Waive"), id=FEE_WAIVE, on_click=money.on_fee_waive, when="open"),
    back_to(Staff.owing),
    state=Staff.fee,
    getter=money.fee_getter,
)

windows = [amount_window, owing_window, fee_window]
