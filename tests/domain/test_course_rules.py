"""Courses and service packages (seed 004) as pure rules: each unit free 🟩, booked 🟧 or
redeemed 🟥; booking takes a free unit of the right service while the course is valid; a
cancel in time frees it, a late cancel or a no-show follows the course's policy; check-out
redeems a unit once; a plain booking converts only before check-out; a redeemed unit never
changes again."""

from __future__ import annotations

from datetime import date

import pytest

from domain.courses.rules import LatePolicy, UnitState, new_course
from domain.errors import (
    AlreadyFromCourse,
    CourseExpired,
    CourseUnitNotFound,
    NoFreeCourseUnit,
    NotInCourse,
    UnitAlreadyRedeemed,
)

MASSAGE, FACIAL = 1, 2
DAY = date(2026, 12, 10)


def five_visits(**kwargs):
    return new_course({MASSAGE: 5}, **kwargs)


def test_a_bought_course_is_all_free():
    assert five_visits().grid() == "🟩🟩🟩🟩🟩"
    assert five_visits().left(MASSAGE) == 5


def test_booking_takes_the_first_free_unit_and_turns_it_booked():
    course = five_visits().book(MASSAGE, 11, DAY).book(MASSAGE, 12, DAY)

    assert course.grid() == "🟧🟧🟩🟩🟩"
    assert course.unit_of(12).state == UnitState.BOOKED
    assert course.left(MASSAGE) == 3


def test_check_out_redeems_the_booked_unit_once():
    course = five_visits().book(MASSAGE, 11, DAY).book(MASSAGE, 12, DAY).redeem(11)

    assert course.grid() == "🟥🟧🟩🟩🟩"
    with pytest.raises(UnitAlreadyRedeemed):
        course.redeem(11)


def test_a_redeemed_unit_cannot_be_cancelled_or_marked_a_no_show():
    course = five_visits().book(MASSAGE, 11, DAY).redeem(11)

    with pytest.raises(UnitAlreadyRedeemed):
        course.cancel(11, in_time=True)
    with pytest.raises(UnitAlreadyRedeemed):
        course.no_show(11)
    assert course.grid() == "🟥🟩🟩🟩🟩"


def test_cancelling_in_time_frees_the_unit():
    course = five_visits().book(MASSAGE, 11, DAY).cancel(11, in_time=True)

    assert course.grid() == "🟩🟩🟩🟩🟩"
    assert course.unit_of(11) is None


@pytest.mark.parametrize(
    ("policy", "grid", "forfeited"),
    [(LatePolicy.FORFEIT, "🟥🟩🟩🟩🟩", True), (LatePolicy.RETURN, "🟩🟩🟩🟩🟩", False)],
)
def test_a_late_cancel_and_a_no_show_follow_the_courses_policy(policy, grid, forfeited):
    booked = five_visits(late=policy).book(MASSAGE, 11, DAY)

    late = booked.cancel(11, in_time=False)
    missed = booked.no_show(11)

    assert late.grid() == missed.grid() == grid
    unit = late.units[0]
    assert unit.forfeited is forfeited


def test_a_course_is_only_for_its_own_services():
    with pytest.raises(NotInCourse):
        five_visits().book(FACIAL, 11, DAY)


def test_a_package_counts_each_service_apart():
    package = new_course({MASSAGE: 2, FACIAL: 1})
    package = package.book(FACIAL, 11, DAY)

    assert package.is_package
    assert not five_visits().is_package
    assert package.grid() == "🟩🟩🟧"
    with pytest.raises(NoFreeCourseUnit):
        package.book(FACIAL, 12, DAY)
    assert package.left(MASSAGE) == 2


def test_no_unit_left_is_refused():
    course = new_course({MASSAGE: 1}).book(MASSAGE, 11, DAY)

    with pytest.raises(NoFreeCourseUnit):
        course.book(MASSAGE, 12, DAY)


def test_a_course_is_valid_through_its_last_day():
    course = five_visits(expires_on=DAY)

    assert course.book(MASSAGE, 11, DAY).grid() == "🟧🟩🟩🟩🟩"
    with pytest.raises(CourseExpired) as expired:
        course.book(MASSAGE, 11, date(2026, 12, 11))
    assert expired.value.params == {"until": DAY}


def test_a_plain_booking_converts_before_check_out_only():
    converted = five_visits().convert(MASSAGE, 21, DAY, checked_out=False)

    assert converted.unit_of(21).state == UnitState.BOOKED
    with pytest.raises(UnitAlreadyRedeemed):
        five_visits().convert(MASSAGE, 21, DAY, checked_out=True)
    with pytest.raises(AlreadyFromCourse):
        converted.convert(MASSAGE, 21, DAY, checked_out=False)


def test_converting_follows_the_courses_service_and_expiry():
    with pytest.raises(NotInCourse):
        five_visits().convert(FACIAL, 21, DAY, checked_out=False)
    with pytest.raises(CourseExpired):
        five_visits(expires_on=date(2026, 12, 1)).convert(MASSAGE, 21, DAY, checked_out=False)


def test_a_booking_that_holds_no_unit_cannot_be_cancelled_from_the_course():
    with pytest.raises(CourseUnitNotFound):
        five_visits().book(MASSAGE, 11, DAY).cancel(99, in_time=True)


def test_seed_004s_grid_after_two_bookings_and_one_check_out():
    course = five_visits().book(MASSAGE, 11, DAY).book(MASSAGE, 12, DAY).redeem(11)

    assert course.grid() == "🟥🟧🟩🟩🟩"
