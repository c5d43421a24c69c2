"""Staff cancellations in the staff dialog: ❌ Cancel booking and 🚪 Take off the class on a
client's card, 🚫 Cancel session on a roster. Each goes through the same three windows
(windows/cancel.py): the choices (money, what comes back, a make-up credit; for a session, a
preview of who and what is involved), an optional reason typed for the client, a
confirmation. Then the use case (domain.desk.cancellations, domain.timetable.cancellation)
runs once; the Stars refunds it recorded are asked of Telegram after its commit, and the
clients' notices go out through the outbox.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram_dialog import DialogManager

from bot.delivery.refunds import stars_refunder
from bot.deps import deps_of, formatter_of
from bot.dialogs.common import send_notices, show_error
from bot.states import Staff
from bot.text.formatting import html
from bot.text.reader import Formatter
from domain.billing.refunds import ask_requested
from domain.desk.cancel_views import cancel_choices
from domain.desk.cancellations import (
    CancelTerms,
    MoneyBack,
    Settled,
    cancel_for_client,
    take_off_class,
)
from domain.errors import DomainError
from domain.timetable.cancellation import cancel_whole_session, session_cancel_preview

MAX_REASON = 300
BOOKING, CLASS, SESSION = "booking", "class", "session"


def _state(manager: DialogManager) -> dict:
    """The cancellation under way, in the dialog's data (JSON values only)."""
    return manager.dialog_data.setdefault("cancel", {})


# --- starting one: from the client card or the roster -----------------------------------------


async def on_cancel_booking(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    await _start_for_client(manager, BOOKING)


async def on_take_off_class(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    await _start_for_client(manager, CLASS)


async def _start_for_client(manager: DialogManager, scope: str) -> None:
    deps, data = deps_of(manager), manager.dialog_data
    async with deps.db() as db:
        choices = await cancel_choices(
            db, client_id=data["client_id"], session_id=data["session_id"], now=deps.clock()
        )
    if choices is None or (scope == CLASS and not choices.in_class):
        show_error(manager, "staff_no_booking")
        return
    if choices.started and scope == BOOKING:
        show_error(manager, "session_already_started")
        return
    data["cancel"] = {
        "scope": scope,
        "money": MoneyBack.AUTO.value,
        "give_back": True,
        "makeup": True,
        "reason": None,
        "booking_id": choices.booking_id,
        "class_id": choices.class_id,
        "asks": [
            choices.money_choice or scope == CLASS,
            choices.give_back_choice or scope == CLASS,
            choices.makeup_choice,
        ],
    }
    await manager.switch_to(Staff.cancel_terms)


async def on_cancel_session(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    deps = deps_of(manager)
    try:
        async with deps.db() as db:
            await session_cancel_preview(
                db,
                session_id=manager.dialog_data["session_id"],
                now=deps.clock(),
                policy=deps.settings.policy,
            )
    except DomainError as error:
        show_error(manager, error)
        return
    manager.dialog_data["cancel"] = {
        "scope": SESSION,
        "money": MoneyBack.AUTO.value,
        "give_back": True,
        "makeup": True,
        "reason": None,
        "asks": [True, False, False],
    }
    await manager.switch_to(Staff.cancel_terms)


# --- the choices -----------------------------------------------------------------------------


async def on_money(_c: CallbackQuery, _w: Any, manager: DialogManager, raw: str) -> None:
    if raw in {m.value for m in MoneyBack}:  # forged callback data changes nothing
        _state(manager)["money"] = raw


async def on_give_back(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    state = _state(manager)
    state["give_back"] = not state.get("give_back", True)


async def on_makeup(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    state = _state(manager)
    state["makeup"] = not state.get("makeup", True)


async def on_reason_text(message: Message, _w: Any, manager: DialogManager) -> None:
    reason = " ".join((message.text or "").split())
    if not reason or len(reason) > MAX_REASON:
        show_error(manager, "cancel_reason_too_long")
        return
    _state(manager)["reason"] = reason
    await manager.switch_to(Staff.cancel_confirm)


async def on_no_reason(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    _state(manager)["reason"] = None
    await manager.switch_to(Staff.cancel_confirm)


async def on_terms_back(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    scope = _state(manager).get("scope")
    manager.dialog_data.pop("cancel", None)
    await manager.switch_to(Staff.roster if scope == SESSION else Staff.client)


# --- doing it --------------------------------------------------------------------------------


def _terms(state: dict) -> CancelTerms:
    return CancelTerms(
        money=MoneyBack(state.get("money", MoneyBack.AUTO.value)),
        give_back=bool(state.get("give_back", True)),
        makeup=bool(state.get("makeup", True)),
        reason=state.get("reason"),
    )


async def on_confirm(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    deps, data = deps_of(manager), manager.dialog_data
    state = data.get("cancel")
    if not state:  # a stale confirmation: done already, or never begun
        show_error(manager, "stale_button")
        await manager.switch_to(Staff.roster)
        return
    staff_id = manager.middleware_data["event_from_user"].id
    values = {"staff_id": staff_id, "terms": _terms(state), "now": deps.clock()}
    values["policy"] = deps.settings.policy
    try:
        async with deps.db() as db:
            if state["scope"] == SESSION:
                done = await cancel_whole_session(db, session_id=data["session_id"], **values)
            elif state["scope"] == CLASS:
                done = await take_off_class(
                    db, client_id=data["client_id"], class_id=state["class_id"], **values
                )
            else:
                done = await cancel_for_client(
                    db, booking_id=state["booking_id"], client_id=data["client_id"], **values
                )
    except DomainError as error:
        data.pop("cancel", None)
        show_error(manager, error)
        await manager.switch_to(Staff.roster if state["scope"] == SESSION else Staff.client)
        return
    data.pop("cancel", None)
    refused = await _ask_telegram(manager, done.request_ids)
    data["cancel_done"] = done_summary(state["scope"], done.settled, refused, formatter_of(manager))
    await manager.switch_to(Staff.roster)
    await send_notices(manager)
    if state["scope"] == SESSION and deps.announcer is not None:
        deps.announcer.wake()  # its group cards say "Cancelled"


async def _ask_telegram(manager: DialogManager, request_ids: list[int]) -> list[tuple[int, str]]:
    """The Stars refunds the cancellation recorded, asked of Telegram now; those refused."""
    if not request_ids:
        return []
    deps = deps_of(manager)
    bot: Bot = manager.middleware_data["bot"]
    async with deps.db() as db:
        answered = await ask_requested(
            db,
            request_ids=request_ids,
            refund_stars=stars_refunder(bot),
            now=deps.clock(),
            staff_ids=deps.settings.policy.staff_ids,
        )
    return [(r.amount_minor, r.refused_why or "?") for r in answered if r.state == "refused"]


def done_summary(
    scope: str, settled: list[Settled], refused: list[tuple[int, str]], fmt: Formatter
) -> str:
    n = len(settled)
    if scope == SESSION:
        head = ngettext(
            "✅ Session cancelled: {n} client told.", "✅ Session cancelled: {n} clients told.", n
        ).format(n=n)
    elif scope == CLASS:
        head = ngettext(
            "✅ Taken off the class: {n} session cancelled, the client told.",
            "✅ Taken off the class: {n} sessions cancelled, the client told.",
            n,
        ).format(n=n)
    else:
        head = _("✅ Booking cancelled; the client has been told.")
    lines = [head]
    totals = {
        "stars_minor": _("↩️ {amount} back through Telegram Stars."),
        "credit_minor": _("💰 {amount} as credit on the clients' balances."),
        "other_minor": _("⚠️ {amount} recorded as refunds by card or cash: pay them back."),
        "kept_minor": _("🔒 {amount} kept by the studio."),
        "waived_minor": _("🙅 {amount} unpaid, waived."),
    }
    for field, text in totals.items():
        amount = sum(getattr(s, field) for s in settled)
        if amount:
            lines.append(text.format(amount=fmt.money(amount)))
    for amount, why in refused:
        lines.append(
            _("⚠️ Telegram refused to refund {amount}: {why}. The studio still holds it.").format(
                amount=fmt.money(amount), why=html(why)
            )
        )
    return "\n".join(lines)
