"""Entry passes (pay-as-you-go): bought through an invoice, one entry taken per booking instead
of the session's price, given back when the booking is cancelled in time.

A pass's ledger item is ``pass:<offer id>:<nonce>`` (domain.billing.items): the pass row is written
with the payment and is unique by item, so a repeated payment never buys a second pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.billing import money
from domain.billing.items import OfferItem
from domain.errors import DomainError
from domain.policy import Policy
from domain.storage.models import ClientPass, LedgerEntry, PassOffer

ITEM_KIND = "pass"


def parse_item(item: str) -> OfferItem | None:
    return OfferItem.parse(item, ITEM_KIND)


@dataclass(frozen=True)
class PassOfferView:
    """A pass on sale: ``entries`` sessions for ``price_minor``, valid ``valid_days`` days."""

    id: int
    programme_id: int
    key: str
    title: str
    entries: int
    price_minor: int
    valid_days: int


@dataclass(frozen=True)
class PassView:
    id: int
    title: str
    entries: int
    left: int
    expires_on: date


async def offers(db: AsyncSession, programme_id: int) -> list[PassOfferView]:
    """The programme's passes on sale, fewest entries first."""
    rows = await db.execute(
        select(
            PassOffer.id,
            PassOffer.programme_id,
            PassOffer.key,
            PassOffer.title,
            PassOffer.entries,
            PassOffer.price_minor,
            PassOffer.valid_days,
        )
        .where(PassOffer.programme_id == programme_id, PassOffer.on_sale)
        .order_by(PassOffer.entries, PassOffer.id)
    )
    return [PassOfferView(*row) for row in rows]


async def grant_pass(
    db: AsyncSession,
    *,
    client_id: int,
    item: str,
    currency: str,
    policy: Policy,
    now: datetime,
) -> bool:
    """Within the payment's transaction: the pass and its charge, the offer's price (the caller
    spends credit on what the payment leaves due). False (nothing written) when the offer is
    gone or this invoice already bought a pass: the payment is then credit."""
    parsed = parse_item(item)
    offer = await db.get(PassOffer, parsed.offer_id) if parsed else None
    if offer is None:
        return False
    dialect = postgresql if db.bind.dialect.name == "postgresql" else sqlite
    expires_on = policy.local_day(now) + timedelta(days=offer.valid_days - 1)
    inserted = await db.execute(
        dialect.insert(ClientPass)
        .values(
            client_id=client_id,
            programme_id=offer.programme_id,
            offer_id=offer.id,
            title=offer.title,
            entries=offer.entries,
            used=0,
            expires_on=expires_on,
            bought_at=now,
            item=item,
        )
        .on_conflict_do_nothing(index_elements=[ClientPass.item])
    )
    if inserted.rowcount != 1:
        return False
    db.add(
        LedgerEntry(
            client_id=client_id,
            kind=money.EntryKind.CHARGE,
            charge_for=money.ChargeFor.PASS,
            amount_minor=offer.price_minor,
            currency=currency,
            item=item,
            created_at=now,
        )
    )
    return True


async def take_entry(
    db: AsyncSession,
    *,
    client_id: int,
    programme_id: int,
    starts_at: datetime,
    policy: Policy,
) -> tuple[int | None, DomainError | None]:
    """Use one entry of the client's passes for this programme, the soonest to expire first
    (within the caller's transaction). Returns the pass used, or None and why none could be
    (None too when the client has no pass here)."""
    rows = await db.scalars(
        select(ClientPass)
        .where(ClientPass.client_id == client_id, ClientPass.programme_id == programme_id)
        .order_by(ClientPass.expires_on, ClientPass.id)
    )
    problem: DomainError | None = None
    for row in rows:
        try:
            money.use_pass_entry(
                money.EntryPass(row.entries, row.expires_on, row.used),
                starts_at=starts_at,
                zone=policy.zone,
            )
        except DomainError as error:
            problem = error
            continue
        # the guard: two bookings at once never use more entries than the pass has
        taken = await db.execute(
            update(ClientPass)
            .where(ClientPass.id == row.id, ClientPass.used < ClientPass.entries)
            .values(used=ClientPass.used + 1)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:
            return row.id, None
    return None, problem


async def return_entry(db: AsyncSession, pass_id: int) -> None:
    await db.execute(
        update(ClientPass)
        .where(ClientPass.id == pass_id, ClientPass.used > 0)
        .values(used=ClientPass.used - 1)
        .execution_options(synchronize_session=False)
    )


async def passes_of(
    db: AsyncSession, client_id: int, *, today: date, programme_id: int | None = None
) -> list[PassView]:
    """The client's passes still valid today with entries left, soonest to expire first."""
    query = select(ClientPass).where(
        ClientPass.client_id == client_id,
        ClientPass.expires_on >= today,
        ClientPass.used < ClientPass.entries,
    )
    if programme_id is not None:
        query = query.where(ClientPass.programme_id == programme_id)
    rows = await db.scalars(query.order_by(ClientPass.expires_on, ClientPass.id))
    return [PassView(r.id, r.title, r.entries, r.entries - r.used, r.expires_on) for r in rows]


async def pass_of_item(db: AsyncSession, item: str) -> PassView | None:
    row = await db.scalar(select(ClientPass).where(ClientPass.item == item))
    if row is None:
        return None
    return PassView(row.id, row.title, row.entries, row.entries - row.used, row.expires_on)


async def entries_left(db: AsyncSession, pass_id: int) -> int:
    row = await db.get(ClientPass, pass_id, populate_existing=True)
    return 0 if row is None else row.entries - row.used
