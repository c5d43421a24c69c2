"""A class's terms for moving a booking in the catalog file: reschedule_until, reschedule_fee
and reschedules_max, read with their defaults and refused out of range; a programme's
reschedule_to_any_class, refused on an ongoing programme."""

from __future__ import annotations

from tests.domain.test_catalog_file import (
    ONE_SESSION,
    VALID_CLASS,
    codes_and_lines,
    only_programme,
    parse,
    with_class,
    with_programme,
)


def test_a_class_moves_without_limit_or_fee_by_default():
    [klass] = parse(with_class(*VALID_CLASS, ONE_SESSION)).programmes[0].classes

    assert (klass.move_cutoff_hours, klass.move_fee_percent, klass.moves_max) == (None, 0, None)


def test_the_three_move_fields_are_read():
    text = with_class(
        *VALID_CLASS,
        ONE_SESSION,
        "reschedule_until: 12",
        "reschedule_fee: 25",
        "reschedules_max: 0",
    )
    [klass] = parse(text).programmes[0].classes

    assert (klass.move_cutoff_hours, klass.move_fee_percent, klass.moves_max) == (12, 25, 0)


def test_out_of_range_move_fields_are_refused_on_their_lines():
    for field, line in (
        ("reschedule_until: 721", 9),
        ("reschedule_fee: 101", 9),
        ("reschedules_max: -1", 9),
        ("reschedules_max: 101", 9),
    ):
        problems = codes_and_lines(with_class(*VALID_CLASS, ONE_SESSION, field))
        assert [at for at, _code in problems] == [line], (field, problems)


def test_a_programme_moves_within_each_class_by_default():
    assert only_programme(with_programme()).move_any_class is False


def test_reschedule_to_any_class_is_read_on_pay_as_you_go_and_one_off_programmes():
    for kind in ("pay-as-you-go", "one-off"):
        text = with_programme(f"kind: {kind}", "reschedule_to_any_class: yes")
        assert only_programme(text).move_any_class is True, kind
    text = with_programme("kind: ongoing", "reschedule_to_any_class: no")
    assert only_programme(text).move_any_class is False


def test_reschedule_to_any_class_on_an_ongoing_programme_is_refused_on_its_line():
    text = with_programme("kind: ongoing", "reschedule_to_any_class: yes")
    assert codes_and_lines(text) == [(5, "any_class_moves_not_ongoing")]
