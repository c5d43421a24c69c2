"""The picked sessions of a package reviewed (with the client's note for the studio), booked
in one confirmation that comes with an .ics of them all, then paid."""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager

from bot.deps import Deps, client_of, deps_of, formatter_of
from bot.dialogs.common import show_error, take_error
from bot.dialogs.packages.calendar import send_calendar
from bot.dialogs.packages.picking import PICKED
from bot.dialogs.payments.invoices import send_invoice
from bot.states import Catalog
from bot.text.formatting import html
from domain.billing import money
from domain.billing.payments import entries, invoice_package
from domain.booking import rules
from domain.booking.rules import MAX_NOTE_LENGTH, EnrolmentNotes
from domain.errors import DomainError
from domain.timetable import packages

NOTE = "package_note"


async def review_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    class_id = dialog_manager.dialog_data["class_id"]
    picked = dialog_manager.dialog_data.get(PICKED, [])
    error = take_error(dialog_manager)
    try:
        async with deps.db() as db:
            offer = await packages.terms(db, class_id, deps.settings.currency)
            free = {s.id: s for s in await packages.free_sessions(db, class_id, deps.clock())}
    except DomainError:
        return {
            "title": "",
            "lines": "",
            "complete": False,
            "price": "",
            "policy": "",
            "error": error,
        }
    chosen = sorted(free[i].starts_at for i in picked if i in free)
    mode = deps.settings.policy.enrolment_notes
    note = dialog_manager.dialog_data.get(NOTE, "")
    return {
        "error": error,
        "asks_note": mode != EnrolmentNotes.OFF and not note,
        "needs_note": mode == EnrolmentNotes.REQUIRED and not note,
        "note": html(note),
        "max": MAX_NOTE_LENGTH,
        "title": html(offer.title),
        "lines": "\n".join(f"{n}. {fmt.long_when(s)}" for n, s in enumerate(chosen, start=1)),
        "price": fmt.money(offer.price.minor) if offer.price.minor else "",
        "policy": _(
            "Each session can be cancelled up to {cancel} h before ({refund} back) or moved up "
            "to {move} h before (fee {fee})."
        ).format(
            cancel=offer.cancel_hours,
            refund=fmt.money(offer.refund.minor),
            move=offer.reschedule_hours,
            fee=fmt.money(offer.fee.minor),
        ),
        "complete": len(chosen) == offer.size
        and not (mode == EnrolmentNotes.REQUIRED and not note),
    }


async def on_note(message: Message, _w: Any, manager: DialogManager) -> None:
    """The client's details or wishes for the studio, sent on the review screen."""
    policy = deps_of(manager).settings.policy
    try:
        note = rules.enrolment_note(message.text, policy.enrolment_notes)
    except DomainError as error:
        show_error(manager, error)
        return
    manager.dialog_data[NOTE] = note or ""


async def on_note_not_text(_m: Message, _w: Any, manager: DialogManager) -> None:
    show_error(manager, "note_not_text")


async def on_confirm(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    deps = deps_of(manager)
    fmt = formatter_of(manager)
    try:
        async with deps.db() as db:
            view = await packages.book_package(
                db,
                client=client_of(manager),
                class_id=manager.dialog_data["class_id"],
                session_ids=list(manager.dialog_data.get(PICKED, [])),
                now=deps.clock(),
                policy=deps.settings.policy,
                note=manager.dialog_data.get(NOTE) or None,
            )
    except DomainError as error:
        taken = error.params.get("session_id")
        if taken is not None:  # that one is gone: pick another instead
            manager.dialog_data[PICKED] = [
                i for i in manager.dialog_data.get(PICKED, []) if i != taken
            ]
        show_error(manager, error)
        await manager.switch_to(Catalog.sessions)
        return
    manager.dialog_data.pop(PICKED, None)
    manager.dialog_data.pop(NOTE, None)
    manager.dialog_data["package_id"] = view.id
    await manager.switch_to(Catalog.package_booked)
    await send_calendar(manager.middleware_data["bot"], deps, fmt, view, client_of(manager).id)


async def booked_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    client_id = client_of(dialog_manager).id
    async with deps.db() as db:
        view = await packages.package_of(
            db, client_id, dialog_manager.dialog_data["package_id"], deps.settings.currency
        )
        due = await package_due(db, client_id, view.id, deps.settings.currency) if view else None
    error = take_error(dialog_manager)
    if view is None:
        return {"title": "", "lines": "", "error": error}
    return {
        "error": error,
        "title": html(view.title),
        "lines": "\n".join(f"{s.slot}. {fmt.long_when(s.starts_at)}" for s in view.slots),
        "price": fmt.money(view.price.minor) if view.price.minor else "",
        "to_pay": fmt.money(due.minor) if due and due.minor else "",
        "can_pay": bool(due and due.minor) and deps.settings.online_payment is not None,
        "city": fmt.city(),
    }


async def package_due(db, client_id: int, package_id: int, currency: str) -> money.Money:
    item = packages.package_item(package_id)
    lines = [e for e in await entries(db, client_id) if e.item == item]
    return money.due_for(item, lines, currency) if lines else money.Money.zero(currency)


async def on_pay_package(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    deps = deps_of(manager)
    client_id = client_of(manager).id
    package_id = manager.dialog_data.get("package_id")
    try:
        async with deps.db() as db:
            view = await packages.package_of(db, client_id, package_id, deps.settings.currency)
            invoice = await invoice_package(
                db, client_id=client_id, package_id=package_id, now=deps.clock()
            )
    except DomainError as error:
        show_error(manager, error)
        return
    if invoice is None:
        manager.dialog_data["pay_note"] = _("✅ Paid from your credit. Nothing more is due.")
        return
    label = _("Package: {title}").format(title=view.title if view else "")
    await send_invoice(
        manager.middleware_data["bot"], deps, client_id, invoice, title=label, description=label
    )
    manager.dialog_data["pay_note"] = _("The invoice is below: tap Pay on it.")
