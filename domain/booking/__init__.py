"""Booking a place: seats, the waiting list, holds, enrolment, ongoing classes, make-ups."""
