"""What a use case tells the outside world happened: each is written to the notification
outbox (domain/notices/outbox.py) in the use case's own transaction and sent from there.

Every event names its ``recipient`` (a Telegram chat id), a ``kind`` (the outbox row's kind)
and a ``dedupe_key``: the same happening, recorded twice, is one message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar


class _ToClient:
    """An event the client it names is told of."""

    client_id: int

    @property
    def recipient(self) -> int:
        return self.client_id


@dataclass(frozen=True)
class Promoted(_ToClient):
    """A waiting client got the freed place and is now booked."""

    kind: ClassVar[str] = "promoted"
    client_id: int
    booking_id: int
    enrolment_pending: bool = False  # the booking also enrolled them, pending staff's confirming

    @property
    def dedupe_key(self) -> str:
        return f"promoted:{self.booking_id}"


@dataclass(frozen=True)
class SpotOffered(_ToClient):
    """A freed place is offered to a waiting client until expires_at: Take or Skip.

    For a session (session_id) the place is held; for an ongoing class (class_id) it is not,
    and taking it enrols the client if the class still has room.
    """

    kind: ClassVar[str] = "offered"
    client_id: int
    entry_id: int
    session_id: int | None
    expires_at: datetime
    class_id: int | None = None

    @property
    def dedupe_key(self) -> str:
        return f"offered:{self.entry_id}"


@dataclass(frozen=True)
class OfferLapsed(_ToClient):
    kind: ClassVar[str] = "offer_lapsed"
    client_id: int
    entry_id: int
    session_id: int | None
    class_id: int | None = None

    @property
    def dedupe_key(self) -> str:
        return f"offer_lapsed:{self.entry_id}"


@dataclass(frozen=True)
class EnrolledFromWaitlist(_ToClient):
    """A place in an ongoing class freed up and the first waiting client was enrolled."""

    kind: ClassVar[str] = "enrolled_from_waitlist"
    client_id: int
    class_id: int
    pending: bool = False  # their places are held until staff confirm the enrolment
    entry_id: int = 0  # the waiting-list entry that got the place

    @property
    def dedupe_key(self) -> str:
        return f"enrolled_from_waitlist:{self.entry_id}"


@dataclass(frozen=True)
class EnrolmentConfirmed(_ToClient):
    """Staff confirmed a pending enrolment."""

    kind: ClassVar[str] = "enrolment_confirmed"
    client_id: int
    enrolment_id: int

    @property
    def dedupe_key(self) -> str:
        return f"enrolment_confirmed:{self.enrolment_id}"


@dataclass(frozen=True)
class SessionReminder(_ToClient):
    """Before a booked session: Coming / Can't come. ``before`` is the offset's label ("24h")."""

    kind: ClassVar[str] = "reminder"
    client_id: int
    booking_id: int
    starts_at: datetime
    before: str

    @property
    def dedupe_key(self) -> str:
        # the start is part of the key: a moved booking is reminded again for its new time
        return f"reminder:{self.booking_id}:{self.starts_at.isoformat()}:{self.before}"


@dataclass(frozen=True)
class BookingReleased(_ToClient):
    """The client did not answer the reminder by the deadline (or did not pay within the
    hold): their place went on."""

    kind: ClassVar[str] = "released"
    client_id: int
    booking_id: int
    unpaid: bool = False  # released for not paying in time, not for not answering
    reservation: bool = False  # a spot staff reserved, not confirmed within the type's hold

    @property
    def dedupe_key(self) -> str:
        return f"released:{self.booking_id}"


@dataclass(frozen=True)
class LateCancellation:
    """A session starting soon lost a client: each staff member is told."""

    kind: ClassVar[str] = "late_cancellation"
    staff_id: int
    booking_id: int

    @property
    def recipient(self) -> int:
        return self.staff_id

    @property
    def dedupe_key(self) -> str:
        return f"late_cancellation:{self.booking_id}:{self.staff_id}"


@dataclass(frozen=True)
class UndersubscribedCancelled:
    """A run of the minimum-participants check cancelled sessions below their class's
    minimum: each staff member gets one summary of the run. ``sessions``: (session id, active
    bookings it had) pairs."""

    kind: ClassVar[str] = "undersubscribed"
    staff_id: int
    sessions: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:  # read back from JSON as lists
        object.__setattr__(self, "sessions", tuple((int(s), int(n)) for s, n in self.sessions))

    @property
    def recipient(self) -> int:
        return self.staff_id

    @property
    def dedupe_key(self) -> str:
        # a session is cancelled by one run only, so its first session names the run
        return f"undersubscribed:{self.sessions[0][0]}:{self.staff_id}"


@dataclass(frozen=True)
class PaymentNudge(_ToClient):
    """A booking's price is still due: "please pay" with a Pay button, ``day`` days after it
    was booked (a cadence step)."""

    kind: ClassVar[str] = "payment_nudge"
    client_id: int
    booking_id: int
    day: int

    @property
    def dedupe_key(self) -> str:
        return f"payment_nudge:{self.booking_id}:{self.day}"


@dataclass(frozen=True)
class ReservationRequest(_ToClient):
    """Staff reserved a spot for the client (or moved their single session): Confirm /
    Decline (and Pay), before ``hold_until``."""

    kind: ClassVar[str] = "reservation"
    client_id: int
    booking_id: int
    starts_at: datetime  # the time asked about: a moved session is asked about again
    hold_until: datetime

    @property
    def dedupe_key(self) -> str:
        return f"reservation:{self.booking_id}:{self.starts_at:%Y%m%d%H%M}"


@dataclass(frozen=True)
class PackageChanged(_ToClient):
    """Staff cancelled (``change`` "cancelled") or moved ("moved": ``booking_id`` is the new
    booking) a session of the client's package."""

    kind: ClassVar[str] = "package_changed"
    client_id: int
    booking_id: int
    package_id: int
    change: str
    at: datetime

    @property
    def dedupe_key(self) -> str:
        return f"package_changed:{self.booking_id}:{self.change}"


@dataclass(frozen=True)
class BookingMoved(_ToClient):
    """Staff moved the client's booking (not a package's session) to another session: the
    ``sequence``-th move of it (domain/booking/moves.py)."""

    kind: ClassVar[str] = "booking_moved"
    client_id: int
    booking_id: int
    session_id: int
    sequence: int
    at: datetime

    @property
    def dedupe_key(self) -> str:
        return f"booking_moved:{self.booking_id}:{self.sequence}"


@dataclass(frozen=True)
class FeeNudge(_ToClient):
    """A fee is still due: "please pay" with a Pay button, ``day`` days after it fell due.
    ``fee_id``: the ledger line that charged it."""

    kind: ClassVar[str] = "fee_nudge"
    client_id: int
    fee_id: int
    day: int

    @property
    def dedupe_key(self) -> str:
        return f"fee_nudge:{self.fee_id}:{self.day}"


@dataclass(frozen=True)
class MoneyReturned(_ToClient):
    """Staff refunded part of what the client paid for a booking; ``credit_minor`` of it went
    to their balance as credit. ``refund_id``: the first ledger line of that refund."""

    kind: ClassVar[str] = "money_returned"
    client_id: int
    booking_id: int
    amount_minor: int
    credit_minor: int
    refund_id: int

    @property
    def dedupe_key(self) -> str:
        return f"money_returned:{self.refund_id}"


@dataclass(frozen=True)
class PaymentReceived(_ToClient):
    """Telegram took the client's payment and it is in the ledger (recorded once per charge
    id, so the client is thanked once however often Telegram delivers it). ``late``: found by
    reconciliation (domain.billing.reconcile), never having reached the bot as it happened."""

    kind: ClassVar[str] = "payment_received"
    client_id: int
    charge_id: str
    item: str
    amount_minor: int
    currency: str
    late: bool = False

    @property
    def dedupe_key(self) -> str:
        return f"payment_received:{self.charge_id}"


@dataclass(frozen=True)
class StaffCancelled(_ToClient):
    """Staff cancelled the client's booking (``whole_session``: the whole session, with
    ``automatic`` when it had too few participants). What went back: ``stars_minor`` through
    Telegram, ``credit_minor`` to their balance, ``other_minor`` by card or cash (staff pay it);
    ``returned``: "entry", "unit" or "" (what of a pass or course came back); ``makeup``: a
    make-up credit was given. ``reason``: what staff typed, shown as typed."""

    kind: ClassVar[str] = "staff_cancelled"
    client_id: int
    booking_id: int
    session_id: int
    whole_session: bool
    currency: str
    stars_minor: int = 0
    credit_minor: int = 0
    other_minor: int = 0
    returned: str = ""
    makeup: bool = False
    reason: str | None = None
    automatic: bool = False

    @property
    def dedupe_key(self) -> str:
        return f"staff_cancelled:{self.booking_id}"


@dataclass(frozen=True)
class TakenOffClass(_ToClient):
    """Staff took the client off an ongoing class (their enrolment ``enrolment_id`` ended):
    one notice for all of it. ``booking_ids``: the sessions ahead it cancelled. What came back,
    in total over them: ``stars_minor`` through Telegram, ``credit_minor`` to their balance,
    ``other_minor`` by card or cash (staff pay it); ``entries`` pass entries, ``units`` course
    units, ``makeups_back`` make-up credits they had used; ``makeups`` make-up credits given.
    ``reason``: what staff typed, shown as typed."""

    kind: ClassVar[str] = "taken_off_class"
    client_id: int
    enrolment_id: int
    class_id: int
    booking_ids: tuple[int, ...]
    currency: str
    stars_minor: int = 0
    credit_minor: int = 0
    other_minor: int = 0
    entries: int = 0
    units: int = 0
    makeups_back: int = 0
    makeups: int = 0
    reason: str | None = None

    def __post_init__(self) -> None:  # read back from JSON as a list
        object.__setattr__(self, "booking_ids", tuple(int(b) for b in self.booking_ids))

    @property
    def dedupe_key(self) -> str:
        return f"taken_off_class:{self.enrolment_id}"


@dataclass(frozen=True)
class RefundRefusedForStaff:
    """Telegram refused for good a Stars refund a client had been told was going back (a
    quiet request, QuietRefundRefused): each staff member is told, to settle it with them."""

    kind: ClassVar[str] = "refund_refused_staff"
    staff_id: int
    request_id: int
    client_id: int
    booking_id: int
    amount_minor: int
    currency: str
    why: str

    @property
    def recipient(self) -> int:
        return self.staff_id

    @property
    def dedupe_key(self) -> str:
        return f"refund_refused_staff:{self.request_id}:{self.staff_id}"


@dataclass(frozen=True)
class QuietRefundRefused(_ToClient):
    """Telegram refused for good a Stars refund the client had already been told was going
    back (a staff cancellation's, recorded *quiet*): they are told it did not go through.
    ``request_id``: the refund request."""

    kind: ClassVar[str] = "quiet_refund_refused"
    client_id: int
    request_id: int
    booking_id: int
    amount_minor: int
    currency: str

    @property
    def dedupe_key(self) -> str:
        return f"quiet_refund_refused:{self.request_id}"


Event = (
    Promoted
    | SpotOffered
    | OfferLapsed
    | EnrolledFromWaitlist
    | EnrolmentConfirmed
    | SessionReminder
    | BookingReleased
    | LateCancellation
    | UndersubscribedCancelled
    | PaymentNudge
    | FeeNudge
    | PackageChanged
    | BookingMoved
    | ReservationRequest
    | MoneyReturned
    | PaymentReceived
    | StaffCancelled
    | TakenOffClass
    | QuietRefundRefused
    | RefundRefusedForStaff
)
EVENT_KINDS: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        Promoted,
        SpotOffered,
        OfferLapsed,
        EnrolledFromWaitlist,
        EnrolmentConfirmed,
        SessionReminder,
        BookingReleased,
        LateCancellation,
        UndersubscribedCancelled,
        PaymentNudge,
        FeeNudge,
        PackageChanged,
        BookingMoved,
        ReservationRequest,
        MoneyReturned,
        PaymentReceived,
        StaffCancelled,
        TakenOffClass,
        QuietRefundRefused,
        RefundRefusedForStaff,
    )
}
