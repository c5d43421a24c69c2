"""Business settings the rules need, passed into use cases as one value."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

from domain.rules import EnrolmentNotes, RankAllowance


@dataclass(frozen=True)
class Policy:
    zone: tzinfo = UTC
    rank_allowance: RankAllowance = field(default_factory=RankAllowance)
    # seed 003 CourseSubscriptionActiveByDefault: when False, staff confirm each new enrolment
    enrolment_active_by_default: bool = True
    # seed 003 CourseSubscriptionNotes: does enrolling in a class ask for a note to the teacher
    enrolment_notes: EnrolmentNotes = EnrolmentNotes.OPTIONAL

    def today(self, now: datetime) -> date:
        return self.local_day(now)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


DEFAULT_POLICY = Policy()
