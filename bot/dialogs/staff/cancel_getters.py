"""What the staff cancellation windows show (handlers in bot/dialogs/staff/cancel.py): the
client card's and the roster's cancel buttons, the choices with what is being cancelled (a
whole session's preview), and the confirmation's summary."""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager

from bot.deps import Deps, formatter_of
from bot.dialogs.common import take_error
from bot.dialogs.staff.cancel import CLASS, SESSION
from bot.dialogs.staff.getters import name_of
from bot.text.formatting import html
from bot.text.reader import Formatter
from domain.desk import staff_views
from domain.desk.cancel_views import Paid, cancel_choices, overrides_of
from domain.desk.cancellations import MoneyBack
from domain.errors import DomainError
from domain.timetable.cancellation import session_cancel_preview


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
