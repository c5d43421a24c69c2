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
from bot.deps import Deps, deps_of, formatter_of
from bot.dialogs.common import send_notices, show_error, take_error
from bot.dialogs.staff.getters import name_of
from bot.states import Staff
from bot.text.formatting import html
from bot.text.reader import Formatter
from domain.billing.refunds import ask_requested
from domain.desk import staff_views
from domain.desk.cancellations import (
    CancelTerms,
    MoneyBack,
    Paid,
    Settled,
    cancel_choices,
    cancel_for_client,
    overrides_of,
    take_off_class,
)
from domain.errors import DomainError
from domain.timetable.cancellation import cancel_whole_session, session_cancel_preview

MAX_REASON = 300
BOOKING, CLASS, SESSION = "booking", "class", "session"


def _state(manager: DialogManager) -> dict:
    """The cancellation under way, in the dialog's data (JSON values only)."""
    return manager.dialog_data.setdefault("cancel", {})


def paid_label(paid: str, amount: str) -> str:
    labels = {
        Paid.STARS: _("⭐ paid in Stars: {amount}"),
        Paid.CARD: _("💳 paid by card: {amount}"),
        Paid.CASH: _("💵 paid at the venue: {amount}"),
        Paid.CREDIT: _("💰 paid from credit: {amount}"),
        Paid.PASS: _("🎟 a pass entry"),
        Paid.UNIT: _("🟩 a course unit"),
        Paid.MAKEUP: _("🔄 a make-up credit"),
        Paid.CLASS: _("📚 ongoing class (its fees)"),
        Paid.PACKAGE: _("📦 a session of a package"),
        Paid.UNPAID: _("⏳ not paid"),
        Paid.FREE: _("free"),
    }
    return labels.get(paid, paid).format(amount=amount)


def money_labels() -> dict[str, str]:
    return {
        MoneyBack.AUTO: _("✨ Automatic: Stars back through Telegram, the rest as credit"),
        MoneyBack.REFUND: _("↩️ Refund as paid"),
        MoneyBack.CREDIT: _("💰 All as credit"),
        MoneyBack.KEEP: _("🔒 The studio keeps it"),
    }


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
            db, request_ids=request_ids, refund_stars=stars_refunder(bot), now=deps.clock()
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


# --- what the windows show -------------------------------------------------------------------


async def roster_cancel_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    """Added to the roster's own getter: 🚫 Cancel session, or that it was cancelled."""
    data = dialog_manager.dialog_data
    async with deps.db() as db:
        roster = await staff_views.roster(db, data["session_id"])
    done = data.pop("cancel_done", "")
    if roster is None:
        return {"cancel_done": done, "can_cancel_session": False, "session_cancelled": False}
    cancelled = roster.cancelled_at is not None
    extra: dict[str, Any] = {
        "cancel_done": done,
        "session_cancelled": cancelled,
        "can_cancel_session": not cancelled and roster.starts_at > deps.clock(),
    }
    if cancelled:  # nothing books it any more
        extra.update(open=False, waits=[], started=False)
    return extra


async def client_cancel_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    """Added to the client card's getter: ❌ Cancel booking, 🚪 Take off the class, and the
    client's bookings staff cancelled before (the overrides)."""
    data = dialog_manager.dialog_data
    fmt = formatter_of(dialog_manager)
    async with deps.db() as db:
        choices = await cancel_choices(
            db, client_id=data["client_id"], session_id=data["session_id"], now=deps.clock()
        )
        overrides = await overrides_of(db, data["client_id"])
    lines = [
        _("❌ {when} {title}: cancelled by staff {staff} on {on}").format(
            when=fmt.short_when(o.starts_at),
            title=html(o.class_title),
            staff=o.cancelled_by or _("(too few participants)"),
            on=fmt.short_when(o.cancelled_at),
        )
        + (" · " + _("waived: {what}").format(what=_waived(o.waived)) if o.waived else "")
        + (" · " + html(o.reason) if o.reason else "")
        for o in overrides
    ]
    return {
        "can_cancel_booking": choices is not None and not choices.started,
        "can_take_off": choices is not None and choices.in_class,
        "overrides": "\n".join(lines),
    }


def _waived(waived: str) -> str:
    names = {
        "money": _("the money"),
        "entry": _("the pass entry, unit or credit"),
        "makeup": _("the make-up credit"),
    }
    return ", ".join(names.get(w, w) for w in waived.split(",") if w)


async def terms_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    data = dialog_manager.dialog_data
    state = data.get("cancel") or {}
    fmt = formatter_of(dialog_manager)
    asks = state.get("asks", [False, False, False])
    chosen = state.get("money", MoneyBack.AUTO.value)
    labels = money_labels()
    head = await _head(deps, fmt, data, state)
    return {
        **head,
        "error": take_error(dialog_manager),
        "ask_money": asks[0],
        "ask_give_back": asks[1],
        "ask_makeup": asks[2],
        "money_choices": [
            (value, ("✅ " if value == chosen else "") + label) for value, label in labels.items()
        ],
        "give_back_label": ("✅ " if state.get("give_back", True) else "⬜ ")
        + _("Give back the pass entry, course unit or credit"),
        "makeup_label": ("✅ " if state.get("makeup", True) else "⬜ ")
        + _("Give a make-up credit"),
        "summary": _summary(state, labels),
    }


def _summary(state: dict, labels: dict[str, str]) -> str:
    asks = state.get("asks", [False, False, False])
    lines = []
    if asks[0]:
        lines.append(_("Money: {choice}").format(choice=labels[state.get("money", "auto")]))
    if asks[1]:
        back = state.get("give_back", True)
        lines.append(
            _("Pass entry, unit or credit: given back")
            if back
            else _("Pass entry, unit or credit: kept as used")
        )
    if asks[2]:
        makeup = state.get("makeup", True)
        lines.append(_("Make-up credit: given") if makeup else _("Make-up credit: none"))
    reason = state.get("reason")
    lines.append(_("Reason: {reason}").format(reason=html(reason)) if reason else _("No reason"))
    return "\n".join(lines)


async def _head(deps: Deps, fmt: Formatter, data: dict, state: dict) -> dict:
    """What is being cancelled, as the choices and confirmation windows say it."""
    scope = state.get("scope")
    now = deps.clock()
    async with deps.db() as db:
        roster = await staff_views.roster(db, data["session_id"])
        if scope == SESSION:
            try:
                preview = await session_cancel_preview(
                    db, session_id=data["session_id"], now=now, policy=deps.settings.policy
                )
            except DomainError:
                preview = None
            client = None
        else:
            preview = None
            client = await staff_views.client(db, data.get("client_id", 0))
            choices = await cancel_choices(
                db, client_id=data.get("client_id", 0), session_id=data["session_id"], now=now
            )
    if roster is None:
        return {"present": False, "head": ""}
    title = html(f"{roster.programme_title} — {roster.class_title}")
    when = fmt.long_when(roster.starts_at)
    if scope == SESSION:
        return {"present": True, "head": _session_head(preview, title, when, fmt)}
    name = html(name_of(client.first_name, client.id)) if client else "?"
    if scope == CLASS:
        text = _("🚪 <b>Take {name} off {title}</b>: each of their sessions ahead is cancelled.")
        return {"present": True, "head": text.format(name=name, title=title)}
    paid = paid_label(choices.paid, fmt.money(choices.amount_minor)) if choices else ""
    text = _("❌ <b>Cancel {name}'s booking</b>\n{title}\n🗓 {when}\nPaid with: {paid}")
    return {"present": True, "head": text.format(name=name, title=title, when=when, paid=paid)}


def _session_head(preview, title: str, when: str, fmt: Formatter) -> str:
    lines = [
        _("🚫 <b>Cancel the whole session</b>\n{title}\n🗓 {when}").format(title=title, when=when)
    ]
    if preview is None:
        return "\n".join(lines)
    lines.append(_("👥 Clients booked: {n}").format(n=preview.clients))
    for position, line in enumerate(preview.lines, 1):
        lines.append(
            f"{position}. {html(line.first_name or str(line.client_id))} · "
            + paid_label(line.paid, fmt.money(line.amount_minor))
        )
    if preview.paid_minor:
        lines.append(
            _("💳 Paid for it: {paid}, of it in Stars: {stars}").format(
                paid=fmt.money(preview.paid_minor), stars=fmt.money(preview.stars_minor)
            )
        )
    counts = (
        (Paid.PASS, _("🎟 Pass entries given back: {n}")),
        (Paid.UNIT, _("🟩 Course units freed: {n}")),
        (Paid.MAKEUP, _("🔄 Make-up credits given back: {n}")),
        (Paid.CLASS, _("🔄 Make-up credits given (ongoing class): {n}")),
    )
    for paid, text in counts:
        if preview.count(paid):
            lines.append(text.format(n=preview.count(paid)))
    if preview.waiting:
        lines.append(_("⏳ Waiting list cleared: {n}").format(n=preview.waiting))
    return "\n".join(lines)
