"""The note a client leaves for the teacher when enrolling (ENROLMENT_NOTES)."""

import pytest

from domain.booking.rules import MAX_NOTE_LENGTH, EnrolmentNotes, enrolment_note
from domain.errors import NoteRequired, NoteTooLong


def test_a_note_is_kept_trimmed_and_a_blank_one_is_no_note():
    assert enrolment_note("  Bad knee \n", EnrolmentNotes.OPTIONAL) == "Bad knee"
    assert enrolment_note("   ", EnrolmentNotes.OPTIONAL) is None
    assert enrolment_note(None, EnrolmentNotes.OPTIONAL) is None


def test_a_note_may_be_as_long_as_the_limit_and_no_longer():
    assert enrolment_note("x" * MAX_NOTE_LENGTH, EnrolmentNotes.REQUIRED) == "x" * 500
    with pytest.raises(NoteTooLong):
        enrolment_note("x" * (MAX_NOTE_LENGTH + 1), EnrolmentNotes.OPTIONAL)


def test_a_required_note_cannot_be_blank():
    with pytest.raises(NoteRequired):
        enrolment_note(" ", EnrolmentNotes.REQUIRED)


def test_with_notes_off_nothing_is_kept():
    assert enrolment_note("x" * 900, EnrolmentNotes.OFF) is None
