"""Courses and service packages in the bot: My courses (each as its 🟥🟧🟩 grid with the
services and dates, and those on sale, bought with an invoice), booking a session from one,
and moving a plain booking onto one before check-out."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram import Bot
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.text import Format

from bot.deps import Deps, client_of, formatter_of
from bot.dialogs.common import choice_list, take_error
from bot.dialogs.payments.invoices import buy_from_offer, on_buy
from bot.text import purchases
from bot.text.formatting import html
from bot.text.i18n import T
from bot.text.purchases import course_text
from bot.text.reader import Formatter
from domain.billing.payments import OfferTerms, buy_course
from domain.clients.record import ClientRef
from domain.courses import units as course_units
from domain.courses.rules import LatePolicy
from domain.storage.db import UnitOfWork

COURSE_OFFERS = "co"  # My courses: buy one
BOOK_FROM = "cb"  # a session card: book it from this course
CONVERT_TO = "cv"  # a booking: move it onto this course


def offer_label(fmt: Formatter, offer: course_units.CourseOfferView) -> str:
    return _("🛒 Buy {title} — {price}").format(
        title=offer.title, price=fmt.money(offer.price_minor)
    )


async def offer_lines(db: UnitOfWork, offers: list[course_units.CourseOfferView]) -> str:
    """What each offer holds: '• Yoga ×5: 5 × Yoga, valid 90 days'."""
    names = await course_units.service_names(db, {u.programme_id for o in offers for u in o.units})
    lines = []
    for offer in offers:
        units = ", ".join(f"{u.count} × {html(names.get(u.programme_id, ''))}" for u in offer.units)
        line = f"• <b>{html(offer.title)}</b>: {units}"
        if offer.valid_days:
            line += ", " + ngettext(
                "valid {days} day", "valid {days} days", offer.valid_days
            ).format(days=offer.valid_days)
        if offer.late_policy == LatePolicy.RETURN:
            line += ", " + _("a late cancel gives the unit back")
        lines.append(line)
    return "\n".join(lines)


async def my_courses_getter(dialog_manager: DialogManager, deps: Deps, **_kwargs) -> dict:
    fmt = formatter_of(dialog_manager)
    client = client_of(dialog_manager)
    today = deps.settings.policy.today(deps.clock())
    async with deps.db() as db:
        mine = await course_units.courses_of(db, client.id)
        on_sale = await course_units.offers(db)
        offers_text = await offer_lines(db, on_sale)
    payable = deps.settings.online_payment is not None
    return {
        "error": take_error(dialog_manager),
        "courses": "\n\n".join(course_text(fmt, view, today) for view in mine),
        "no_courses": not mine,
        "offers_text": offers_text,
        "course_offers": [(o.id, offer_label(fmt, o)) for o in on_sale if payable],
        "sold_at_studio": bool(on_sale) and not payable,
        "course_note": dialog_manager.dialog_data.pop("course_note", ""),
    }


async def request_course_payment(
    bot: Bot, deps: Deps, fmt: Formatter, *, client: ClientRef, offer_id: int
) -> str | None:
    """Send the invoice for a course; a line to show instead when it can't be bought here,
    or when the client's credit bought it."""

    def describe(offer: OfferTerms) -> str:
        if not offer.valid_days:
            return _("A course: book its sessions in the bot.")
        return ngettext(
            "A course: book its sessions in the bot. Valid for {days} day from today.",
            "A course: book its sessions in the bot. Valid for {days} days from today.",
            offer.valid_days,
        ).format(days=offer.valid_days)

    return await buy_from_offer(
        bot,
        deps,
        client=client,
        offer_id=offer_id,
        buy=buy_course,
        describe=describe,
        bought_line=lambda item: bought_text(deps, fmt, item),
        sold_at_studio=_("Courses are sold at the studio."),
    )


on_buy_course = on_buy(request_course_payment, "course_note")


async def bought_text(deps: Deps, fmt: Formatter, item: str) -> str | None:
    """The lines after a course's payment: its grid; None if no course came of it."""
    async with deps.db() as db:
        return await purchases.course_bought(
            db, fmt, item, deps.settings.policy.today(deps.clock())
        )


# --- a programme's card: the courses that hold it ---------------------------------------------


async def course_data(
    db: UnitOfWork, deps: Deps, fmt: Formatter, client_id: int, programme_id: int | None
) -> dict[str, Any]:
    """Getter data for a programme's card: ``service_courses`` (what the courses on sale that
    hold this service contain), ``service_course_offers`` to buy (online payment only) and
    ``my_service_courses`` (the client's courses here, with their grids); read in the
    getter's session ``db``."""
    if programme_id is None:
        return {"service_courses": "", "service_course_offers": [], "my_service_courses": ""}
    today = deps.settings.policy.today(deps.clock())
    on_sale = await course_units.offers(db, programme_id)
    mine = await course_units.courses_of(db, client_id)
    held = [
        v
        for v in mine
        if v.course.valid_on(today) and any(u.service_id == programme_id for u in v.course.units)
    ]
    payable = deps.settings.online_payment is not None
    return {
        "service_courses": await offer_lines(db, on_sale) if on_sale else "",
        "service_course_offers": [(o.id, offer_label(fmt, o)) for o in on_sale if payable],
        "my_service_courses": "\n".join(
            _("🟩 Your course {title}: {grid}").format(title=html(v.title), grid=v.grid)
            for v in held
        ),
    }


def course_widgets() -> list:
    """What a programme's card shows of its courses (its getter merges course_data)."""
    return [
        Format("{my_service_courses}", when="my_service_courses"),
        T("🟩 Courses with this service:", when="service_courses"),
        Format("{service_courses}", when="service_courses"),
        Format(
            "{dialog_data[course_note]}", when=lambda d, *_: d["dialog_data"].get("course_note")
        ),
        choice_list(COURSE_OFFERS, "service_course_offers", on_buy_course),
    ]


# --- a session card: book it from a course ---------------------------------------------------


def course_choice(view: course_units.CourseView, service_id: int, label: str) -> tuple[int, str]:
    return view.id, label.format(title=view.title, left=view.free(service_id))


async def book_from_choices(
    db: UnitOfWork, client_id: int, programme_id: int, day: date
) -> list[tuple[int, str]]:
    """The session card's '🟩 Book from <course> (N left)' buttons."""
    usable = await course_units.usable_for(db, client_id, programme_id, day)
    label = _("🟩 Book from {title} ({left} left)")
    return [course_choice(view, programme_id, label) for view in usable]


async def convert_choices(
    db: UnitOfWork, client_id: int, programme_id: int, day: date
) -> list[tuple[int, str]]:
    """A plain booking's '🟩 Use my course <course> (N left)' buttons."""
    usable = await course_units.usable_for(db, client_id, programme_id, day)
    label = _("🟩 Use my course {title} ({left} left)")
    return [course_choice(view, programme_id, label) for view in usable]


async def course_line(db: UnitOfWork, booking_id: int) -> str:
    """'🟩 From your course Yoga ×5: 🟧🟧🟩🟩🟩' for a booking that holds a unit."""
    view = await course_units.course_of_booking(db, booking_id)
    if view is None:
        return ""
    return _("🟩 From your course {title}: {grid}").format(title=html(view.title), grid=view.grid)
