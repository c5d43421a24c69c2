"""SQLAlchemy models. Times are stored in UTC; money in integer minor units. The words of
their states and kinds live with their contexts (domain/booking/status.py,
domain/catalog/kinds.py); they are imported here, where the columns default to them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from domain.billing.money import RefundState
from domain.booking.status import BookingStatus, EnrolmentStatus, MakeupStatus, WaitStatus
from domain.catalog.kinds import ProgrammeKind, Promotion

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which keeps no offset) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Programme(Base):
    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default=ProgrammeKind.PAYG)
    category: Mapped[str] = mapped_column(String(60), default="")
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    colour: Mapped[str | None] = mapped_column(String(7), nullable=True)
    cancel_notice_hours: Mapped[int] = mapped_column(Integer, default=24)
    makeups_carry_over: Mapped[bool] = mapped_column(Boolean, default=False)
    # private programmes are reached by t.me/<bot>?start=p_<link_token>, not by a guessable id
    link_token: Mapped[str | None] = mapped_column(String(24), nullable=True, unique=True)
    # seed 003 MonthlyFee / MonthlyFeeDueDay: charged to each active enrolment every month,
    # unless the programme has a custom fee schedule (ProgrammeFee rows), which overrides it
    monthly_fee_minor: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fee_due_day: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # seed 003 AttendanceCredit: sessions a client may attend per period (None: no limit)
    attendance_credits: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # catalog reschedule_to_any_class (pay-as-you-go / one-off): a booking may move to a
    # session of any class of the programme with the same price, not only of its own class
    move_any_class: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    classes: Mapped[list[ProgrammeClass]] = relationship(
        back_populates="programme", order_by="ProgrammeClass.title"
    )


class ProgrammeClass(Base):
    """A group of clients within a programme ("class" in the seeds), with its capacity."""

    __tablename__ = "classes"
    __table_args__ = (
        UniqueConstraint("programme_id", "key"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(100))
    capacity: Mapped[int] = mapped_column(Integer)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    price_minor: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_overload: Mapped[int] = mapped_column(Integer, default=0)
    # a session with fewer active bookings min_check_hours before it starts is cancelled
    # (domain/timetable/minimum.py); None: no minimum
    min_participants: Mapped[int | None] = mapped_column(Integer, nullable=True)
    min_check_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    waiting_list: Mapped[bool] = mapped_column(Boolean, default=True)
    promotion: Mapped[str] = mapped_column(String(8), default=Promotion.AUTO)
    offer_hold_minutes: Mapped[int] = mapped_column(Integer, default=120)

    # shown in the catalog (a single session made for one client is not)
    listed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # seed 002 session packages: booked only as a package of exactly this many sessions (1-20)
    # for package_price; None: one session per booking (the default)
    package_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    package_price_minor: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # a package's session may be cancelled / rescheduled by the client until this many hours
    # before it starts (None: the programme's cancel_notice_hours)
    cancel_cutoff_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reschedule_cutoff_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # % of a session's relative cost (package price / size): given back when it is cancelled
    # in time, charged when it is rescheduled
    cancel_refund_percent: Mapped[int] = mapped_column(Integer, default=100, server_default="100")
    reschedule_fee_percent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # most sessions of this class one client may book per local day / week (None: no limit);
    # never together with a package (seed 002)
    max_per_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_per_week: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # moving a booking that is not a package's session (domain/booking/moves.py): the client
    # may until this many hours before it starts (None: the programme's cancel_notice_hours),
    # paying this % of the session's price, at most moves_max times a booking (None: no limit,
    # 0: not at all)
    move_cutoff_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    move_fee_percent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    moves_max: Mapped[int | None] = mapped_column(Integer, nullable=True)

    programme: Mapped[Programme] = relationship(back_populates="classes")
    sessions: Mapped[list[ClassSession]] = relationship(
        back_populates="klass", order_by="ClassSession.starts_at"
    )


class ClassSession(Base):
    """One dated occurrence of a class: what a client books."""

    __tablename__ = "sessions"
    __table_args__ = (
        UniqueConstraint("class_id", "starts_at"),
        # seats_taken is the concurrency guard for capacity: booking takes a seat with one
        # conditional UPDATE (atomic on SQLite and PostgreSQL alike), so it may never exceed it.
        CheckConstraint("seats_taken >= 0", name="seats_taken_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # staff (or the minimum-participants check, cancelled_by None) cancelled the whole session:
    # nothing books it any more (take_seat's guard), it leaves the client lists
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the minimum-participants check ran (once per session, whatever it found); staff kept
    # the session on before it ("Run it anyway"), so the check leaves it be
    min_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    kept_on_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    kept_on_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    klass: Mapped[ProgrammeClass] = relationship(back_populates="sessions")


class Client(Base):
    """A Telegram user who has booked something; the id is their Telegram user id."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_name: Mapped[str] = mapped_column(String(200), default="")
    # the language they speak with the bot: Telegram's on first contact, then their choice
    language_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # their own time zone (an IANA name) for dates shown to them; None: the business's
    time_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rank: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # set when Telegram answered 403 (they blocked the bot); cleared when they write again
    unreachable_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        # One active booking per client and session, also under a double tap from two devices.
        Index(
            "uq_bookings_active_client_session",
            "session_id",
            "client_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=BookingStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # a staff override: who cancelled it, the reason they typed, what they waived
    # (domain.desk.cancellations.CancelTerms.waived, e.g. "money,entry,makeup")
    cancelled_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancel_waived: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # set when the booking is part of an ongoing class enrolment
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolments.id"), nullable=True, index=True
    )
    by_staff: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # the client answered a reminder with "Coming"
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # a spot staff reserved for the client: theirs until then unless they confirm it
    # (confirmed_at); released after
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    # the entry pass that paid for it (one entry), instead of the session's price
    pass_id: Mapped[int | None] = mapped_column(
        ForeignKey("client_passes.id"), nullable=True, index=True
    )
    # the attendance credits it used up when the session took place (credit programmes)
    credit_id: Mapped[int | None] = mapped_column(
        ForeignKey("attendance_credits.id"), nullable=True, index=True
    )

    # the front desk (seed 004): attendance, once each; a no-show never checks in
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    no_show_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # the client shows t.me/<bot>?start=ci_<token> at the desk; made when first asked for
    check_in_token: Mapped[str | None] = mapped_column(
        String(24), nullable=True, unique=True, index=True
    )
    # how often it was moved to another session (domain/booking/moves.py): the class's
    # moves_max counts it, and its calendar event's SEQUENCE is it
    moves: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    session: Mapped[ClassSession] = relationship()
    client: Mapped[Client] = relationship()


class BillingPeriod(Base):
    """A semester or similar; make-up credits live within one (or carry over to the next)."""

    __tablename__ = "billing_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


# The predicate of the partial unique index; inserts name it in ON CONFLICT, so keep one text.
OPEN_ENROLMENT = "status IN ('pending', 'active')"


class Enrolment(Base):
    """A client in a programme (pay-as-you-go) or in one class of it (ongoing)."""

    __tablename__ = "enrolments"
    __table_args__ = (
        # One pending-or-active enrolment per client and programme, also under a double tap.
        Index(
            "uq_enrolments_open_client_programme",
            "client_id",
            "programme_id",
            unique=True,
            sqlite_where=text(OPEN_ENROLMENT),
            postgresql_where=text(OPEN_ENROLMENT),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    class_id: Mapped[int | None] = mapped_column(
        ForeignKey("classes.id", ondelete="CASCADE"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(16), default=EnrolmentStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # what the client told the teacher when enrolling (ENROLMENT_NOTES)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)


class WaitlistEntry(Base):
    """A client waiting for a place in a full session (or, for ongoing classes, in the class)."""

    __tablename__ = "waitlist"
    __table_args__ = (
        Index(
            "uq_waitlist_open_client_session",
            "session_id",
            "client_id",
            unique=True,
            sqlite_where=text("status IN ('waiting', 'offered') AND session_id IS NOT NULL"),
            postgresql_where=text("status IN ('waiting', 'offered') AND session_id IS NOT NULL"),
        ),
        Index(
            "uq_waitlist_open_client_class",
            "class_id",
            "client_id",
            unique=True,
            sqlite_where=text("status IN ('waiting', 'offered') AND class_id IS NOT NULL"),
            postgresql_where=text("status IN ('waiting', 'offered') AND class_id IS NOT NULL"),
        ),
        Index("ix_waitlist_queue", "session_id", "class_id", "status", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), nullable=True
    )
    class_id: Mapped[int | None] = mapped_column(
        ForeignKey("classes.id", ondelete="CASCADE"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(16), default=WaitStatus.WAITING)
    # arrival order: when the client asked, then the row id for ties
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    offer_expires_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, nullable=True, index=True
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # a class's queue: the note given when joining it goes to the enrolment it leads to
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)


class MakeupCredit(Base):
    """Given for cancelling an ongoing class's session in time; books another session."""

    __tablename__ = "makeup_credits"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    source_booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # None: no billing periods are defined, so the credit never lapses
    usable_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=MakeupStatus.AVAILABLE)
    used_booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id"), nullable=True, unique=True
    )


class OutboxState:
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class OutboxMessage(Base):
    """A message to send at ``due_at``: written in the transaction of the change that causes it,
    claimed and sent by the dispatcher (see domain/notices/outbox.py)."""

    __tablename__ = "outbox"
    __table_args__ = (
        # what the dispatcher asks for: pending rows by due time
        Index("ix_outbox_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # one row per thing to say, however often the use case that says it is retried
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    state: Mapped[str] = mapped_column(String(12), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # a dispatcher that claimed the row owns it until then; after that another may retry it
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # the booking the message is about, so cancelling or moving it can cancel or move the row
    booking_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class LedgerEntry(Base):
    """One line of a client's ledger: a domain.billing.money.Entry (kind, item, amount, method,
    what a
    charge is for, Telegram's charge id). Amounts are positive minor units; the kind says which
    way they go. The balance is derived from the lines (domain.billing.money.balance), never
    stored."""

    __tablename__ = "ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    # what it is about, e.g. "booking:42"
    item: Mapped[str] = mapped_column(String(64), index=True)
    method: Mapped[str | None] = mapped_column(String(12), nullable=True)
    charge_for: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Telegram's telegram_payment_charge_id for payments: a payment is applied once, however
    # often Telegram delivers it
    charge_id: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True)
    provider_charge_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    staff_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="positive_amount"),
        # a fee is charged once, however often (or on however many machines) the job runs
        Index(
            "uq_ledger_fee_item",
            "item",
            unique=True,
            sqlite_where=text("charge_for = 'monthly_fee'"),
            postgresql_where=text("charge_for = 'monthly_fee'"),
        ),
    )


class RefundRequest(Base):
    """A whole Stars payment going back through refundStarPayment, in two phases
    (domain/billing/refunds.py): recorded *requested* and committed before Telegram is asked
    (the refund cap counts an open request as going back), then *done* (a ledger refund line
    is written then), *refused* (the money is held again; Telegram's reason is kept) or
    *unknown* (no answer: asked again, or settled from Telegram's list of refunds)."""

    __tablename__ = "refund_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    item: Mapped[str] = mapped_column(String(64))
    # the Stars payment's telegram_payment_charge_id: what refundStarPayment is given
    charge_id: Mapped[str] = mapped_column(String(128))
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    booking_id: Mapped[int] = mapped_column(Integer)  # what the client is told it is about
    staff_id: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[str] = mapped_column(String(12), default=RefundState.REQUESTED)
    refused_why: Mapped[str | None] = mapped_column(Text, nullable=True)
    ledger_id: Mapped[int | None] = mapped_column(ForeignKey("ledger.id"), nullable=True)
    # the same refund's other parts (credit, cash, card: written at once), told to the client
    # along with this one's outcome; zero once told
    others_minor: Mapped[int] = mapped_column(Integer, default=0)
    others_credit_minor: Mapped[int] = mapped_column(Integer, default=0)
    others_line_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # the client was already told of it (a cancelled session's notice): no second message
    quiet: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="positive_amount"),
        # a payment has one refund under way or done at a time
        Index(
            "uq_refund_requests_charge_id",
            "charge_id",
            unique=True,
            sqlite_where=text("state != 'refused'"),
            postgresql_where=text("state != 'refused'"),
        ),
        Index("ix_refund_requests_state", "state"),
    )


class PassOffer(Base):
    """An entry pass a pay-as-you-go programme sells: K entries, valid for some days."""

    __tablename__ = "pass_offers"
    __table_args__ = (UniqueConstraint("programme_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(100))
    entries: Mapped[int] = mapped_column(Integer)
    price_minor: Mapped[int] = mapped_column(Integer)
    valid_days: Mapped[int] = mapped_column(Integer)
    # the catalog no longer lists it: not sold any more (passes bought from it stay valid)
    on_sale: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class ClientPass(Base):
    """A pass a client bought. ``used`` is the concurrency guard: an entry is taken with one
    conditional UPDATE (``used < entries``), so it can never exceed the entries bought."""

    __tablename__ = "client_passes"
    __table_args__ = (CheckConstraint("used >= 0 AND used <= entries", name="used_within_entries"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("pass_offers.id"), nullable=True)
    title: Mapped[str] = mapped_column(String(100))
    entries: Mapped[int] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    expires_on: Mapped[date] = mapped_column(Date)  # the last local day a session may be on
    bought_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the ledger item it was bought as: one pass per payment, however often it is delivered
    item: Mapped[str] = mapped_column(String(64), unique=True)


class ProgrammeFee(Base):
    """A row of a programme's custom fee schedule (seed 003 CoursePackageFee): this amount is
    due on this day from every client enrolled by then. Any rows replace the monthly fee."""

    __tablename__ = "programme_fees"
    __table_args__ = (
        UniqueConstraint("programme_id", "due_on"),
        CheckConstraint("amount_minor > 0", name="positive_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    due_on: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(Integer)


class AttendanceCredit(Base):
    """A client's attendance credits in a programme for one period (a billing period, or the
    calendar month when none is defined): ``granted`` then, ``used`` by sessions attended.
    ``used`` may pass ``granted`` only when enrolling without credit is allowed."""

    __tablename__ = "attendance_credits"
    __table_args__ = (
        UniqueConstraint("client_id", "programme_id", "period_start"),
        CheckConstraint("used >= 0", name="used_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # inclusive
    granted: Mapped[int] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SessionKind:
    SINGLE = "single"  # one client: staff make it for them and send it to confirm
    MULTI = "multi"  # several spots: one after another, or all at the same time


class SessionType(Base):
    """What staff make sessions from (seed 001 Booking Sessions): a name, single or multi,
    the length of a spot and the break after it, a price and how long a reservation waits for
    the client. Its sessions are classes of its own programme, so clients book them like any
    other session."""

    __tablename__ = "session_types"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("break_minutes >= 0", name="break_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(8), default=SessionKind.MULTI)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    break_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    price_minor: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hold_minutes: Mapped[int] = mapped_column(Integer, default=1440, server_default="1440")
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    # a single type's package options as JSON: [{"key", "name", "price_minor", "description"}]
    # in file order (read through domain.timetable.sessions.package_options); None: no packages
    packages: Mapped[str | None] = mapped_column(Text, nullable=True)


class TypedSession(Base):
    """A multi or single session staff made from a session type: which class it is."""

    __tablename__ = "typed_sessions"

    class_id: Mapped[int] = mapped_column(
        ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    type_id: Mapped[int] = mapped_column(
        ForeignKey("session_types.id", ondelete="CASCADE"), index=True
    )
    # spots one after another (one client each) or all at the same time (a workshop)
    spots_together: Mapped[bool] = mapped_column(Boolean, default=False)
    # announcements and share links reach it by t.me/<bot>?start=c_<token>, not by its id
    link_token: Mapped[str] = mapped_column(String(24), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the package option chosen (by staff when making it, or by the client when confirming),
    # kept as it was then: a later catalog change doesn't alter what was agreed
    package_key: Mapped[str | None] = mapped_column(String(40), nullable=True)
    package_name: Mapped[str | None] = mapped_column(String(100), nullable=True)


class AnnounceChat(Base):
    """A group or channel where new multi sessions are announced."""

    __tablename__ = "announce_chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(200), default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the bot was removed (or the chat deleted): nothing more is posted or edited there
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    gone_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the language its cards are written in; None: the business's default
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)


class AnnouncementState:
    LIVE = "live"  # its spots left are kept up to date
    CLOSED = "closed"  # the session is over (or the message was deleted): left as it is


class Announcement(Base):
    """A card posted in an announce chat for a multi session, edited in place as it fills."""

    __tablename__ = "announcements"
    __table_args__ = (UniqueConstraint("chat_id", "class_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("announce_chats.chat_id", ondelete="CASCADE"))
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    state: Mapped[str] = mapped_column(String(8), default=AnnouncementState.LIVE)
    # what the card says now: an edit is sent only when the new text differs
    shown: Mapped[str] = mapped_column(Text, default="")
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Package(Base):
    """A client's session package (seed 002): exactly ``size`` sessions of one class, booked
    in one go for ``price_minor`` (the ledger item ``package:<id>``)."""

    __tablename__ = "packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    size: Mapped[int] = mapped_column(Integer)
    price_minor: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the policy it was bought under: a later catalog change doesn't alter a bought package
    cancel_cutoff_hours: Mapped[int] = mapped_column(Integer)
    reschedule_cutoff_hours: Mapped[int] = mapped_column(Integer)
    cancel_refund_percent: Mapped[int] = mapped_column(Integer)
    reschedule_fee_percent: Mapped[int] = mapped_column(Integer)
    # the client's details or wishes for the studio, given once for all its sessions
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)


class PackageSlot(Base):
    """A booking of a package, in its slot 1..size. A rescheduled session is a new booking in
    the same slot (the slot names its calendar event, so an update replaces the right one)."""

    __tablename__ = "package_slots"

    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="CASCADE"), index=True
    )
    slot: Mapped[int] = mapped_column(Integer)
    # staff moved or cancelled it past the client's cut-off: who
    override_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    override_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CourseOffer(Base):
    """A course (N units of one service) or service package (units of several) on sale.
    A service is a pay-as-you-go programme: its sessions are what a unit books."""

    __tablename__ = "course_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    price_minor: Mapped[int] = mapped_column(Integer)
    # days from the day it is bought; None: it never expires
    valid_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # what a late cancel or a no-show does to its unit (domain.courses.rules.LatePolicy)
    late_policy: Mapped[str] = mapped_column(String(8), default="forfeit")
    # the catalog no longer lists it: not sold any more (courses bought from it stay)
    on_sale: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    units: Mapped[list[CourseOfferUnit]] = relationship(
        order_by="CourseOfferUnit.position", cascade="all, delete-orphan"
    )


class CourseOfferUnit(Base):
    """How many units of one service an offer holds, in file order."""

    __tablename__ = "course_offer_units"
    __table_args__ = (CheckConstraint("count > 0", name="count_positive"),)

    offer_id: Mapped[int] = mapped_column(
        ForeignKey("course_offers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    position: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)


class ClientCourse(Base):
    """A course or package a client bought (online, or from staff at the venue), kept as it
    was sold: a later catalog change doesn't alter it."""

    __tablename__ = "client_courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("course_offers.id"), nullable=True)
    title: Mapped[str] = mapped_column(String(100))
    price_minor: Mapped[int] = mapped_column(Integer)
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # last local day
    late_policy: Mapped[str] = mapped_column(String(8))
    bought_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the ledger item it was bought as: one course per payment, however often delivered
    item: Mapped[str] = mapped_column(String(64), unique=True)
    # the staff member who sold it at the venue; None: bought in the bot
    sold_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    units: Mapped[list[CourseUnit]] = relationship(order_by="CourseUnit.position")


class CourseUnit(Base):
    """One unit of a bought course: free, booked (by ``booking_id``) or redeemed. ``state``
    is the concurrency guard: a unit is taken or redeemed with one conditional UPDATE."""

    __tablename__ = "course_units"
    __table_args__ = (UniqueConstraint("course_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("client_courses.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(8), default="free")
    # a booking uses at most one unit; kept once redeemed (what used it)
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id"), nullable=True, unique=True
    )
    forfeited: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Checkpoint(Base):
    """How far a periodic job has read something outside Spotbook (e.g. Telegram's list of
    Stars transactions), so its next run starts there: a name and a few integers."""

    __tablename__ = "checkpoints"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # the newest moment read (unix seconds) and how many items were listed up to it
    seen_until: Mapped[int] = mapped_column(BigInteger, default=0)
    listed: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
