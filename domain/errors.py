"""Domain errors carry a stable code; the bot turns the code into a localized message."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "domain_error"

    def __init__(self, **params: Any) -> None:
        super().__init__(self.code, params)
        self.params = params


class SessionNotFound(DomainError):
    code = "session_not_found"


class SessionFull(DomainError):
    code = "session_full"


class SessionAlreadyStarted(DomainError):
    code = "session_already_started"


class SessionCancelledByStaff(DomainError):
    """The session was cancelled as a whole: it takes no bookings, and is not cancelled twice."""

    code = "session_cancelled"


class AlreadyBooked(DomainError):
    code = "already_booked"


class BookingNotFound(DomainError):
    """Also raised for someone else's booking: a client never learns that a foreign id exists."""

    code = "booking_not_found"


class BookingAlreadyCancelled(DomainError):
    code = "booking_already_cancelled"


class ProgrammeNotFound(DomainError):
    code = "programme_not_found"


class ProgrammeNotOpen(DomainError):
    """Outside the programme's valid from/until dates."""

    code = "programme_not_open"


class RankTooLow(DomainError):
    code = "rank_too_low"


class RankTooHigh(DomainError):
    code = "rank_too_high"


class NoMinimum(DomainError):
    """The session's class sets no minimum number of participants."""

    code = "no_minimum"


class MinimumReached(DomainError):
    code = "minimum_reached"


class MinimumCheckPassed(DomainError):
    """The minimum was checked already (or its time has come): keeping on is decided."""

    code = "minimum_check_passed"


class AlreadyKeptOn(DomainError):
    code = "already_kept_on"


class NotKeptOn(DomainError):
    code = "not_kept_on"


class NeedsEnrolment(DomainError):
    """Sessions of an ongoing class are booked by enrolling in the class (or with a make-up)."""

    code = "needs_enrolment"


class AlreadyEnrolled(DomainError):
    code = "already_enrolled"


class NotEnrolled(DomainError):
    code = "not_enrolled"


class ClassFull(DomainError):
    code = "class_full"


class NoWaitingList(DomainError):
    code = "no_waiting_list"


class AlreadyWaiting(DomainError):
    code = "already_waiting"


class HasRoom(DomainError):
    """Joining a waiting list while a place is free: book it instead."""

    code = "has_room"


class OfferNotFound(DomainError):
    code = "offer_not_found"


class OfferExpired(DomainError):
    code = "offer_expired"


class MakeupNotUsable(DomainError):
    code = "makeup_not_usable"


class NotOngoing(DomainError):
    """Enrolling in a class is for ongoing programmes; others are booked session by session."""

    code = "not_ongoing"


class ClassFinished(DomainError):
    code = "class_finished"


class ClientNotFound(DomainError):
    """Staff named a client the bot does not know (they have never booked or queued)."""

    code = "client_not_found"


class RankOutOfRange(DomainError):
    code = "rank_out_of_range"


class NotWaiting(DomainError):
    """Staff moved someone off a waiting list they are no longer on."""

    code = "not_waiting"


class NoteTooLong(DomainError):
    """The note a client leaves when enrolling is short: the teacher reads it on the roster."""

    code = "note_too_long"


class NoteRequired(DomainError):
    code = "note_required"


class EnrolmentNotPending(DomainError):
    """Staff confirmed an enrolment that is no longer waiting (confirmed meanwhile, or left)."""

    code = "enrolment_not_pending"


# --- money ---------------------------------------------------------------------------------


class CurrencyMismatch(DomainError):
    """Two amounts in different currencies met: money is never converted silently."""

    code = "currency_mismatch"


class AmountNotPositive(DomainError):
    code = "amount_not_positive"


class RefundOverCap(DomainError):
    """More than was paid for the item, less what was already refunded or credited."""

    code = "refund_over_cap"


class WaiverOverDue(DomainError):
    code = "waiver_over_due"


class PassUsedUp(DomainError):
    code = "pass_used_up"


class PassExpired(DomainError):
    code = "pass_expired"


class PassNotOnSale(DomainError):
    """The pass offer is gone, or its price changed since the invoice was sent."""

    code = "pass_not_on_sale"


class PassAlreadyBought(DomainError):
    """This invoice for a pass was paid already."""

    code = "pass_already_bought"


class NoAttendanceCredit(DomainError):
    code = "no_attendance_credit"


class FeeNotFound(DomainError):
    code = "fee_not_found"


class InvalidPayment(DomainError):
    """A payment or invoice payload this bot did not issue."""

    code = "invalid_payment"


class AlreadyPaid(DomainError):
    code = "already_paid"


class AmountChanged(DomainError):
    """The invoice asks for another amount than is due now (paid meanwhile, credit used...)."""

    code = "amount_changed"


class NothingDue(DomainError):
    """Staff marked paid (or waived) a booking on which nothing is owed."""

    code = "nothing_due"


class StarsRefundRefused(DomainError):
    """Telegram refused refundStarPayment (``reason``: its description); the money is held
    again. Its "CHARGE_ALREADY_REFUNDED" means the payment went back before: done."""

    code = "stars_refund_refused"


class StarsRefundUnanswered(DomainError):
    """refundStarPayment got no answer (timeout, network, Telegram's server error): whether
    the payment went back is unknown until it is asked again or Telegram's list shows it."""

    code = "stars_refund_unanswered"


# --- session types, multi and single sessions, reservations, announcements -----------------


class SessionTypeNotFound(DomainError):
    code = "session_type_not_found"


class BadSpotCount(DomainError):
    code = "bad_spot_count"


class LocalTimeInvalid(DomainError):
    """A wall-clock time the business's clock skips or shows twice (a summer-time change)."""

    code = "local_time_invalid"


class StartInPast(DomainError):
    code = "start_in_past"


class SpotsOverlap(DomainError):
    code = "spots_overlap"


class NotATypedSession(DomainError):
    """Not a multi or single session staff made from a session type."""

    code = "not_a_typed_session"


class WrongSessionKind(DomainError):
    code = "wrong_session_kind"


class SessionConfirmed(DomainError):
    """A single session the client confirmed keeps its time: it is rescheduled instead."""

    code = "session_confirmed"


class ReservationNotFound(DomainError):
    """Also for someone else's reservation, and one already answered or released."""

    code = "reservation_not_found"


class NotInCourse(DomainError):
    """The course (or service package) holds no unit of that service."""

    code = "not_in_course"


class CourseExpired(DomainError):
    code = "course_expired"


class NoFreeCourseUnit(DomainError):
    code = "no_free_course_unit"


class CourseUnitNotFound(DomainError):
    """The booking holds no unit of the course (a plain booking, or someone else's)."""

    code = "course_unit_not_found"


class UnitAlreadyRedeemed(DomainError):
    """A redeemed unit is used: it can't be cancelled, converted or redeemed again."""

    code = "unit_already_redeemed"


class AlreadyFromCourse(DomainError):
    code = "already_from_course"


class CourseNotFound(DomainError):
    """No such course, or someone else's: a client never learns that a foreign id exists."""

    code = "course_not_found"


class CourseNotOnSale(DomainError):
    """The course offer is gone, or its price changed since the invoice was sent."""

    code = "course_not_on_sale"


class CourseAlreadyBought(DomainError):
    """This invoice for a course was paid already."""

    code = "course_already_bought"


class AlreadyCheckedIn(DomainError):
    code = "already_checked_in"


class NotCheckedIn(DomainError):
    code = "not_checked_in"


class AlreadyCheckedOut(DomainError):
    """Attendance is closed: check-out happened (the unit, if any, is redeemed)."""

    code = "already_checked_out"


class InPackage(DomainError):
    """A session package's booking is paid with its package: it doesn't move onto a course."""

    code = "booking_in_package"


class SessionNotStarted(DomainError):
    """A no-show is marked once the session has begun."""

    code = "session_not_started"


class MarkedNoShow(DomainError):
    code = "marked_no_show"


class CheckInCodeUnknown(DomainError):
    """A ci_<token> link that names no active booking (mistyped, or the booking is gone)."""

    code = "check_in_code_unknown"


class UnknownLanguage(DomainError):
    code = "unknown_language"


class UnknownTimeZone(DomainError):
    code = "unknown_time_zone"


class PackageOptionNotFound(DomainError):
    """A package key the session type doesn't offer, or not the one already agreed."""

    code = "package_option_not_found"


class PackageChoiceNeeded(DomainError):
    """The session's type offers packages and none is chosen yet: confirm by picking one."""

    code = "package_choice_needed"


class UnknownChat(DomainError):
    code = "unknown_chat"


class NotAnnounceable(DomainError):
    """Private, single, or with no spot ahead: never announced."""

    code = "not_announceable"


# --- session packages ------------------------------------------------------------------------


class NotAPackage(DomainError):
    """The class is booked one session at a time (or a booking is not part of a package)."""

    code = "not_a_package"


class WrongPackageCount(DomainError):
    code = "wrong_package_count"


class MixedServices(DomainError):
    """Every session of a package belongs to the same class."""

    code = "mixed_services"


class SlotTaken(DomainError):
    """One of the picked sessions was taken meanwhile: ``session_id`` says which."""

    code = "slot_taken"


class TooLateToChange(DomainError):
    code = "too_late_to_change"


class DayLimitReached(DomainError):
    code = "day_limit_reached"


class WeekLimitReached(DomainError):
    code = "week_limit_reached"


class PackageOnly(DomainError):
    """The class is booked only as a package of ``size`` sessions, not one by one."""

    code = "package_only"


# --- moving a booking (domain/booking/moves.py) --------------------------------------------


class MoveTargetFull(DomainError):
    """The session a booking was to move to filled up first: the booking stays where it was.
    ``when``: that session's start."""

    code = "move_target_full"


class MoveNotAllowed(DomainError):
    """The booking's class does not let clients move its bookings (reschedules_max: 0)."""

    code = "move_not_allowed"


class MovesUsedUp(DomainError):
    """The booking was moved as often as its class allows (``limit``)."""

    code = "moves_used_up"


class NotAMoveTarget(DomainError):
    """The booking may not move to that session (another class or programme, its own session,
    outside its billing period, past its pass or course)."""

    code = "not_a_move_target"


class BookingChanged(DomainError):
    """The booking was moved or cancelled meanwhile (another device, staff): nothing done."""

    code = "booking_changed"
