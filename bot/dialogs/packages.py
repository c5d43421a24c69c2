"""Session packages in the bot (seed 002): the client picks exactly N slots on one screen (a
multi-select, a week at a time, counting what is still to pick), reviews them and confirms;
one confirmation lists every session and comes with an .ics file of one event per session.
In My bookings each session of a package is cancelled or rescheduled on its own, with its
refund or fee shown first (and a new .ics for a moved one). Staff: /pkgcancel and /pkgmove
override the client's cut-offs; /pkgrefund gives money back on a package."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n
from aiogram_dialog import DialogManager

from bot.access import IsStaff, refuse
from bot.commands.sessions import usage_hint
from bot.delivery.courier import send_due
from bot.deps import Deps, client_of, deps_of, formatter_of
from bot.dialogs.common import item_id, send_notices, show_error
from bot.dialogs.payments.invoices import send_invoice
from bot.dialogs.staff.money import parse_amount, refund_summary, stars_refunder
from bot.states import Catalog, MyBookings
from bot.text.errors import describe
from bot.text.formatting import html
from bot.text.reader import Formatter
from domain.billing import money
from domain.billing.payments import entries, invoice_package
from domain.billing.refunds import refund_package
from domain.booking import rules
from domain.booking.rules import MAX_NOTE_LENGTH, EnrolmentNotes, week_of
from domain.errors import DomainError, WrongPackageCount
from domain.storage.db import UnitOfWork
from domain.timetable import ics, packages

PICKED = "picked"
SHOWN_PACKAGE = "package_shown"  # the package size of the sessions window last shown
NOTE = "package_note"


# --- picking N slots -----------------------------------------------------------------------


async def pick_data(
    db: UnitOfWork, manager: DialogManager, deps: Deps, fmt: Formatter, class_id: int
) -> dict:
    """Getter data for a package class's sessions window: the week's free sessions as
    toggles (✅ picked), what is still to pick, and week paging; read in the getter's
    session ``db``."""
    offer = await packages.package_offer(db, class_id)
    # what the window shows decides what a click on a session does (browse.on_session)
    manager.dialog_data[SHOWN_PACKAGE] = offer.size if offer else None
    if offer is None:  # most classes: nothing more to read
        return {"package": False}
    free = await packages.free_sessions(db, class_id, deps.clock())
    size = offer.size
    if manager.dialog_data.get("picked_for") != class_id:  # another class: start afresh
        manager.dialog_data.update({"picked_for": class_id, PICKED: [], "week": 0})
    free_ids = {s.id for s in free}
    # a pick taken by someone else meanwhile is dropped (it could not be unpicked otherwise)
    kept = [i for i in manager.dialog_data.get(PICKED, []) if i in free_ids]
    manager.dialog_data[PICKED] = kept
    picked = set(manager.dialog_data[PICKED])
    zone = fmt.zone

    def week(session) -> date:
        return week_of(session.starts_at.astimezone(zone).date())[0]

    weeks = sorted({week(s) for s in free})
    page = min(manager.dialog_data.get("week", 0), max(len(weeks) - 1, 0))
    shown = [s for s in free if weeks and week(s) == weeks[page]]
    left = size - len(picked)
    price = offer.price_minor
    return {
        "package": True,
        "size": size,
        "to_pick": max(left, 0),
        "ready": left == 0,
        "package_price": fmt.money(price) if price else "",
        "week_label": fmt.day(weeks[page]) if weeks else "",
        "prev_week": page > 0,
        "next_week": page + 1 < len(weeks),
        "sessions": [
            (s.id, ("✅ " if s.id in picked else "▫️ ") + fmt.short_when(s.starts_at)) for s in shown
        ],
        "empty": not free,
    }


async def on_pick(manager: DialogManager, session_id: int, size: int) -> None:
    picked: list[int] = list(manager.dialog_data.get(PICKED, []))
    if session_id in picked:
        picked.remove(session_id)
    elif len(picked) >= size:
        show_error(manager, WrongPackageCount(need=size, got=len(picked) + 1))
        return
    else:
        picked.append(session_id)
    manager.dialog_data[PICKED] = picked


async def on_week(manager: DialogManager, step: int) -> None:
    manager.dialog_data["week"] = max(manager.dialog_data.get("week", 0) + step, 0)


async def review_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    class_id = dialog_manager.dialog_data["class_id"]
    picked = dialog_manager.dialog_data.get(PICKED, [])
    try:
        async with deps.db() as db:
            offer = await packages.terms(db, class_id, deps.settings.currency)
            free = {s.id: s for s in await packages.free_sessions(db, class_id, deps.clock())}
    except DomainError:
        return {"title": "", "lines": "", "complete": False, "price": "", "policy": ""}
    chosen = sorted(free[i].starts_at for i in picked if i in free)
    mode = deps.settings.policy.enrolment_notes
    note = dialog_manager.dialog_data.get(NOTE, "")
    return {
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
    if view is None:
        return {"title": "", "lines": ""}
    return {
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


# --- the calendar file -----------------------------------------------------------------------


async def send_calendar(
    bot: Bot,
    deps: Deps,
    fmt: Formatter,
    view: packages.PackageView,
    chat_id: int,
    *,
    slots: list[int] | None = None,
) -> None:
    """An .ics with one event per session of the package (or just ``slots``)."""
    events = [
        ics.CalendarEvent(
            uid=ics.slot_uid(view.id, s.slot),
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            summary=view.title,
            description=_("Session {slot} of {size}").format(slot=s.slot, size=view.size),
            sequence=s.sequence,
            cancelled=not s.active,
        )
        for s in view.slots
        if slots is None or s.slot in slots
    ]
    data = ics.calendar_file(events, now=deps.clock())
    await bot.send_document(
        chat_id,
        BufferedInputFile(data, filename=f"package-{view.id}.ics"),
        caption=_("📅 Add these to your calendar."),
    )


# --- My bookings: one session of a package ------------------------------------------------


async def booking_data(deps: Deps, fmt: Formatter, client_id: int, booking_id: int) -> dict:
    """Getter data for a booking of a package: its slot, and what cancelling or moving it
    now means (or until when it was possible)."""
    async with deps.db() as db:
        mine = await packages.packages_of(db, client_id)
        if booking_id not in mine:
            return {"in_package": False}
        quote = await packages.quote(
            db,
            client_id=client_id,
            booking_id=booking_id,
            now=deps.clock(),
            policy=deps.settings.policy,
        )
    _package_id, slot, size = mine[booking_id]
    return {
        "in_package": True,
        "slot_line": _("📦 Session {slot} of {size} of your package").format(slot=slot, size=size),
        "refund": fmt.money(quote.refund.minor),
        "fee": fmt.money(quote.fee.minor),
        "can_cancel_pkg": quote.can_cancel,
        "can_move_pkg": quote.can_reschedule,
        "cancel_until": fmt.long_when(quote.cancel_until),
        "move_until": fmt.long_when(quote.reschedule_until),
    }


async def cancel_in_package(manager: DialogManager) -> bool:
    """My bookings' cancel of a package's session; False when the booking is not one."""
    deps = deps_of(manager)
    client_id = client_of(manager).id
    booking_id = manager.dialog_data["booking_id"]
    async with deps.db() as db:
        if booking_id not in await packages.packages_of(db, client_id):
            return False
    try:
        async with deps.db() as db:
            done = await packages.cancel_session(
                db,
                client_id=client_id,
                booking_id=booking_id,
                now=deps.clock(),
                policy=deps.settings.policy,
            )
    except DomainError as error:
        show_error(manager, error)
        await manager.switch_to(MyBookings.booking)
        return True
    manager.dialog_data["refund_note"] = (
        _("{amount} of the package is given back (credit on your balance, or less to pay).").format(
            amount=formatter_of(manager).money(done.refund.minor)
        )
        if done.refund.minor
        else ""
    )
    await manager.switch_to(MyBookings.cancelled)
    await send_notices(manager)
    return True


async def move_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    client_id = client_of(dialog_manager).id
    booking_id = dialog_manager.dialog_data["booking_id"]
    async with deps.db() as db:
        mine = await packages.packages_of(db, client_id)
        if booking_id not in mine:
            return {"targets": [], "fee": ""}
        view = await packages.package_of(db, client_id, mine[booking_id][0], deps.settings.currency)
        quote = await packages.quote(
            db,
            client_id=client_id,
            booking_id=booking_id,
            now=deps.clock(),
            policy=deps.settings.policy,
        )
        free = await packages.free_sessions(db, view.class_id, deps.clock())
    taken = {s.session_id for s in view.slots if s.active}
    return {
        "targets": [(s.id, fmt.short_when(s.starts_at)) for s in free if s.id not in taken][:30],
        "fee": fmt.money(quote.fee.minor) if quote.fee.minor else "",
        "none": not free,
    }


async def on_move_to(_c: CallbackQuery, _w: Any, manager: DialogManager, raw_id: str) -> None:
    target = item_id(raw_id)
    deps = deps_of(manager)
    fmt = formatter_of(manager)
    client_id = client_of(manager).id
    if target is None:
        show_error(manager, "stale_button")
        return
    try:
        async with deps.db() as db:
            done = await packages.reschedule_session(
                db,
                client_id=client_id,
                booking_id=manager.dialog_data["booking_id"],
                new_session_id=target,
                now=deps.clock(),
                policy=deps.settings.policy,
            )
            view = await packages.package_of(db, client_id, done.package_id, deps.settings.currency)
    except DomainError as error:
        show_error(manager, error)
        return
    manager.dialog_data["booking_id"] = done.booking_id
    note = _("🔁 Moved.")
    if done.fee.minor:
        note += " " + _("Reschedule fee: {fee} (added to your package).").format(
            fee=fmt.money(done.fee.minor)
        )
    manager.dialog_data["move_note"] = note
    await manager.switch_to(MyBookings.booking)
    await send_notices(manager)
    await send_calendar(
        manager.middleware_data["bot"], deps, fmt, view, client_id, slots=[done.slot]
    )


async def on_calendar(_c: CallbackQuery, _w: Any, manager: DialogManager) -> None:
    deps = deps_of(manager)
    client_id = client_of(manager).id
    booking_id = manager.dialog_data["booking_id"]
    async with deps.db() as db:
        mine = await packages.packages_of(db, client_id)
        if booking_id not in mine:
            return
        view = await packages.package_of(db, client_id, mine[booking_id][0], deps.settings.currency)
    await send_calendar(
        manager.middleware_data["bot"],
        deps,
        formatter_of(manager),
        view,
        client_id,
        slots=[mine[booking_id][1]],
    )


def list_label(fmt: Formatter, slot_of: dict[int, tuple[int, int, int]], booking_id: int) -> str:
    found = slot_of.get(booking_id)
    return "" if found is None else f"📦 {found[1]}/{found[2]} · "


# --- staff ----------------------------------------------------------------------------------


async def staff_cancel(
    message: Message, command: CommandObject, bot: Bot, deps: Deps, i18n: I18n
) -> None:
    raw = (command.args or "").strip()
    if not raw.isdigit():
        await message.answer(usage_hint("/pkgcancel 42"))
        return
    fmt = Formatter(deps.settings, get_i18n().current_locale)
    try:
        async with deps.db() as db:
            done = await packages.cancel_session(
                db,
                client_id=None,
                booking_id=int(raw),
                now=deps.clock(),
                policy=deps.settings.policy,
                staff_id=message.from_user.id,
            )
    except DomainError as error:
        await message.answer("⚠️ " + describe(error, _, fmt))
        return
    await send_due(bot, deps, i18n)
    await message.answer(
        _("✅ Cancelled (staff override); {amount} back to the client.").format(
            amount=fmt.money(done.refund.minor)
        )
    )


async def staff_move(
    message: Message, command: CommandObject, bot: Bot, deps: Deps, i18n: I18n
) -> None:
    parts = (command.args or "").split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        await message.answer(usage_hint("/pkgmove 42 SPOT_ID"))
        return
    fmt = Formatter(deps.settings, get_i18n().current_locale)
    try:
        async with deps.db() as db:
            await packages.reschedule_session(
                db,
                client_id=None,
                booking_id=int(parts[0]),
                new_session_id=int(parts[1]),
                now=deps.clock(),
                policy=deps.settings.policy,
                staff_id=message.from_user.id,
            )
    except DomainError as error:
        await message.answer("⚠️ " + describe(error, _, fmt))
        return
    await send_due(bot, deps, i18n)
    await message.answer(_("✅ Moved (staff override); the client is told."))


async def staff_refund(
    message: Message, command: CommandObject, bot: Bot, deps: Deps, i18n: I18n
) -> None:
    """/pkgrefund PACKAGE AMOUNT REASON: any amount up to what was paid, with a reason."""
    parts = (command.args or "").split(maxsplit=2)
    fmt = Formatter(deps.settings, get_i18n().current_locale)
    amount = parse_amount(parts[1], deps.settings.currency) if len(parts) == 3 else None
    if len(parts) != 3 or not parts[0].isdigit() or amount is None:
        await message.answer(usage_hint("/pkgrefund 12 20.00 the teacher was ill"))
        return
    try:
        async with deps.db() as db:
            done = await refund_package(
                db,
                package_id=int(parts[0]),
                amount=amount,
                reason=" ".join(parts[2].split())[:300],
                staff_id=message.from_user.id,
                now=deps.clock(),
                refund_stars=stars_refunder(bot),
            )
    except DomainError as error:
        await message.answer("⚠️ " + describe(error, _, fmt))
        return
    await send_due(bot, deps, i18n)
    await message.answer(refund_summary(done, fmt))


def packages_router() -> Router:
    router = Router(name="packages")
    private = F.chat.type == "private"
    router.message.register(staff_cancel, Command("pkgcancel"), private, IsStaff())
    router.message.register(staff_move, Command("pkgmove"), private, IsStaff())
    router.message.register(staff_refund, Command("pkgrefund"), private, IsStaff())
    router.message.register(refuse, Command("pkgcancel", "pkgmove", "pkgrefund"), private)
    return router
