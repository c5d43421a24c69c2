"""Courses and service packages (seed 004), as plain rules: no storage, no Telegram.

A course is N units of one service; a service package is units of several services. A client
buys one before booking from it. Each unit is free 🟩, booked 🟧 (in the calendar, not yet
redeemed) or redeemed 🟥 (used at check-out, or forfeited by a late cancel or a no-show when
the course's policy says so). A redeemed unit never changes again.

Every rule takes the course as a value and returns the changed course (or raises a domain
error with a stable code), so the storage layer applies one decision in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from domain.errors import (
    AlreadyFromCourse,
    CourseExpired,
    CourseUnitNotFound,
    NoFreeCourseUnit,
    NotInCourse,
    UnitAlreadyRedeemed,
)


class UnitState(StrEnum):
    FREE = "free"
    BOOKED = "booked"
    REDEEMED = "redeemed"


GRID = {UnitState.FREE: "🟩", UnitState.BOOKED: "🟧", UnitState.REDEEMED: "🟥"}


class LatePolicy(StrEnum):
    """What a late cancel or a no-show does to the unit it was booked with."""

    FORFEIT = "forfeit"  # the unit is used up (🟥), as if attended
    RETURN = "return"  # the unit is free again (🟩)


@dataclass(frozen=True)
class Unit:
    service_id: int
    state: UnitState = UnitState.FREE
    booking_id: int | None = None  # while booked, and kept once redeemed (what used it)
    forfeited: bool = False  # redeemed by a late cancel or a no-show, not by attending


@dataclass(frozen=True)
class Course:
    units: tuple[Unit, ...]
    expires_on: date | None = None  # the last local day a unit can be booked for; None: never
    late_policy: LatePolicy = LatePolicy.FORFEIT

    @property
    def is_package(self) -> bool:
        """Several services: a service package rather than a course."""
        return len({unit.service_id for unit in self.units}) > 1

    def grid(self) -> str:
        """One emoji per unit, in order: 🟥🟧🟩🟩🟩."""
        return "".join(GRID[unit.state] for unit in self.units)

    def left(self, service_id: int) -> int:
        """Free units of that service."""
        return sum(1 for u in self.units if u.service_id == service_id and _free(u))

    def valid_on(self, day: date) -> bool:
        return self.expires_on is None or day <= self.expires_on

    def book(self, service_id: int, booking_id: int, day: date) -> Course:
        """A booking of ``service_id`` on the local ``day`` takes the first free unit of it."""
        return self._take(service_id, booking_id, day)

    def convert(self, service_id: int, booking_id: int, day: date, *, checked_out: bool) -> Course:
        """A plain booking becomes a course booking: allowed any time before check-out."""
        if checked_out:
            raise UnitAlreadyRedeemed()
        return self._take(service_id, booking_id, day)

    def cancel(self, booking_id: int, *, in_time: bool) -> Course:
        """Cancelled inside the window the unit is free again; late, the policy decides."""
        index = self._booked(booking_id)
        return self._release(index) if in_time else self._late(index)

    def no_show(self, booking_id: int) -> Course:
        return self._late(self._booked(booking_id))

    def redeem(self, booking_id: int) -> Course:
        """Check-out: the booked unit is used (at most once)."""
        index = self._booked(booking_id)
        unit = replace(self.units[index], state=UnitState.REDEEMED)
        return self._with(index, unit)

    def unit_of(self, booking_id: int) -> Unit | None:
        return next((u for u in self.units if u.booking_id == booking_id), None)

    # --- the state machine ---

    def _take(self, service_id: int, booking_id: int, day: date) -> Course:
        if not any(u.service_id == service_id for u in self.units):
            raise NotInCourse()
        if not self.valid_on(day):
            raise CourseExpired(until=self.expires_on)
        if self.unit_of(booking_id) is not None:
            raise UnitAlreadyRedeemed() if self._is_redeemed(booking_id) else AlreadyFromCourse()
        for index, unit in enumerate(self.units):
            if unit.service_id == service_id and _free(unit):
                booked = replace(unit, state=UnitState.BOOKED, booking_id=booking_id)
                return self._with(index, booked)
        raise NoFreeCourseUnit()

    def _booked(self, booking_id: int) -> int:
        for index, unit in enumerate(self.units):
            if unit.booking_id == booking_id:
                if unit.state == UnitState.REDEEMED:
                    raise UnitAlreadyRedeemed()
                return index
        raise CourseUnitNotFound()

    def _is_redeemed(self, booking_id: int) -> bool:
        unit = self.unit_of(booking_id)
        return unit is not None and unit.state == UnitState.REDEEMED

    def _release(self, index: int) -> Course:
        return self._with(index, Unit(self.units[index].service_id))

    def _late(self, index: int) -> Course:
        if self.late_policy == LatePolicy.RETURN:
            return self._release(index)
        unit = replace(self.units[index], state=UnitState.REDEEMED, forfeited=True)
        return self._with(index, unit)

    def _with(self, index: int, unit: Unit) -> Course:
        units = (*self.units[:index], unit, *self.units[index + 1 :])
        return replace(self, units=units)


def new_course(
    counts: dict[int, int], *, expires_on: date | None = None, late: LatePolicy = LatePolicy.FORFEIT
) -> Course:
    """A bought course: ``counts`` is service id → units, in the order given."""
    units = tuple(Unit(service) for service, n in counts.items() for _ in range(n))
    return Course(units, expires_on, late)


def _free(unit: Unit) -> bool:
    return unit.state == UnitState.FREE
