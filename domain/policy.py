"""Business settings the rules need, passed into use cases as one value."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

from domain.rules import RankAllowance


@dataclass(frozen=True)
class Policy:
    zone: tzinfo = UTC
    rank_allowance: RankAllowance = field(default_factory=RankAllowance)

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


DEFAULT_POLICY = Policy()
