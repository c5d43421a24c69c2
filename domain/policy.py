"""Business settings the rules need, passed into use cases as one value."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

from domain.booking.rules import EnrolmentNotes, RankAllowance
from domain.notices.rules import ReminderOffset


@dataclass(frozen=True)
class Policy:
    zone: tzinfo = UTC
    rank_allowance: RankAllowance = field(default_factory=RankAllowance)
    # seed 003 CourseSubscriptionActiveByDefault: when False, staff confirm each new enrolment
    enrolment_active_by_default: bool = True
    # seed 003 CourseSubscriptionNotes: does enrolling in a class ask for a note to the teacher
    enrolment_notes: EnrolmentNotes = EnrolmentNotes.OPTIONAL
    # reminders before each booked session (Coming / Can't come)
    reminders: tuple[ReminderOffset, ...] = (ReminderOffset(24, "h"), ReminderOffset(2, "h"))
    # a booking whose reminder went unanswered is released this many hours before (0: never)
    release_unconfirmed_hours: int = 0
    # staff hear of cancellations of sessions starting within this many hours (0: never)
    staff_notice_hours: int = 24
    staff_ids: tuple[int, ...] = ()
    # prices and the ledger are in this currency ("XTR": Telegram Stars)
    currency: str = "EUR"
    # "please pay" reminders, days after booking at 10:00 local, while a price is due; only
    # when clients can pay in the bot
    payment_nudge_days: tuple[int, ...] = ()
    # a booking not paid within this many minutes is released (0: never; online payment only)
    payment_hold_minutes: int = 0
    # "please pay" reminders for a monthly fee, days after it fell due, while it is unpaid
    fee_nudge_days: tuple[int, ...] = (0, 3, 7)
    # seed 003 CourseSubscriptionAllowedWithoutCredit: enrol (or book) with no credit left
    enrol_without_credit: bool = False
    # unused attendance credits are usable in the next period too (else they expire)
    credits_carry_over: bool = False

    def today(self, now: datetime) -> date:
        return self.local_day(now)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


DEFAULT_POLICY = Policy()
