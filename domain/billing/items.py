"""The ledger item of something bought from an offer: ``<kind>:<offer id>:<nonce>``.

The item is fixed when the invoice goes out; what was bought is written with the payment, in
its transaction, and is unique by item: a repeated successful_payment writes nothing more,
and a second payment of the same invoice stays on the balance as credit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class OfferItem:
    kind: str
    offer_id: int
    nonce: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.offer_id}:{self.nonce}"

    @classmethod
    def new(cls, kind: str, offer_id: int) -> OfferItem:
        return cls(kind, offer_id, secrets.token_hex(6))

    @classmethod
    def parse(cls, item: str, kind: str) -> OfferItem | None:
        parts = item.split(":")
        if len(parts) != 3 or parts[0] != kind or not parts[1].isdigit() or not parts[2]:
            return None
        return cls(kind, int(parts[1]), parts[2])
