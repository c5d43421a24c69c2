"""Money rules: the ledger and its balance, refund caps and routes, credit spent on the next
purchase, entry passes, attendance credits, fees and payment nudges."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.billing import money
from domain.billing.money import ChargeFor, EntryKind, Method, Money, RefundRoute
from domain.booking.rules import Period
from domain.errors import (
    AmountNotPositive,
    CurrencyMismatch,
    NoAttendanceCredit,
    PassExpired,
    PassUsedUp,
    RefundOverCap,
    WaiverOverDue,
)

PRAGUE = ZoneInfo("Europe/Prague")


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def xtr(stars: int) -> Money:
    return Money(stars, money.STARS)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=PRAGUE).astimezone(UTC)


BOOKING = "booking:1"
NEXT = "booking:2"


def booked_and_paid(amount: Money, method: Method = Method.STARS) -> list[money.Entry]:
    return [
        money.charge(BOOKING, amount, ChargeFor.BOOKING),
        money.payment(BOOKING, amount, method, charge_id="tg-1"),
    ]


# --- money -----------------------------------------------------------------------------------


def test_amounts_in_different_currencies_never_mix():
    with pytest.raises(CurrencyMismatch) as raised:
        eur(100) + xtr(100)
    assert raised.value.params == {"expected": "EUR", "got": "XTR"}


def test_amounts_in_different_currencies_are_not_compared():
    with pytest.raises(CurrencyMismatch):
        _ = eur(100) < xtr(200)


@pytest.mark.parametrize(
    ("amount", "shown"),
    [(eur(1250), "12.50 EUR"), (eur(-5), "-0.05 EUR"), (xtr(75), "75 XTR")],
)
def test_an_amount_reads_in_major_units_for_logs_and_messages(amount, shown):
    assert str(amount) == shown


@pytest.mark.parametrize(
    ("percent", "parts", "refund", "fee"),
    [
        (50, 1, 500, 500),
        (50, 3, 166, 167),  # 1000 / 3 * 50% = 166.67: the refund rounds down, the fee up
        (100, 3, 333, 334),
        (0, 4, 0, 0),
    ],
)
def test_policy_shares_round_in_the_business_favour(percent, parts, refund, fee):
    assert money.refund_share(eur(1000), percent, parts) == eur(refund)
    assert money.fee_share(eur(1000), percent, parts) == eur(fee)


def test_full_refund_shares_of_a_package_never_add_up_to_more_than_its_price():
    shares = [money.refund_share(eur(1000), 100, 3) for _ in range(3)]
    assert sum(share.minor for share in shares) <= 1000


@pytest.mark.parametrize(("percent", "parts"), [(101, 1), (-1, 1), (50, 0)])
def test_a_share_needs_a_percentage_and_at_least_one_part(percent, parts):
    with pytest.raises(ValueError, match="percentage"):
        money.refund_share(eur(1000), percent, parts)


# --- ledger and balance ----------------------------------------------------------------------


def test_an_unpaid_charge_is_owed():
    entries = [money.charge(BOOKING, eur(1500), ChargeFor.BOOKING)]

    assert money.balance(entries) == eur(1500)
    assert money.due_for(BOOKING, entries) == eur(1500)


def test_a_paid_charge_leaves_nothing_owed():
    entries = booked_and_paid(eur(1500), Method.CARD)

    assert money.balance(entries) == eur(0)
    assert money.due_for(BOOKING, entries) == eur(0)


def test_a_part_payment_leaves_the_rest_due():
    entries = [
        money.charge(BOOKING, eur(1500), ChargeFor.BOOKING),
        money.payment(BOOKING, eur(500), Method.VENUE),
    ]
    assert money.due_for(BOOKING, entries) == eur(1000)


def test_a_money_refund_leaves_the_balance_even():
    entries = [
        *booked_and_paid(eur(1500), Method.CARD),
        money.refund(BOOKING, eur(500), Method.CARD),
    ]

    assert money.balance(entries) == eur(0)
    assert money.due_for(BOOKING, entries) == eur(0)


def test_a_credit_shows_as_a_negative_balance_and_as_available_credit():
    entries = [*booked_and_paid(xtr(100)), money.credit(BOOKING, xtr(30))]

    assert money.balance(entries) == xtr(-30)
    assert money.available_credit(entries) == xtr(30)
    assert money.due_for(BOOKING, entries) == xtr(0)


def test_paying_with_credit_moves_it_onto_the_item_without_counting_it_twice():
    entries = [
        *booked_and_paid(xtr(100)),
        money.credit(BOOKING, xtr(30)),
        money.charge(NEXT, xtr(100), ChargeFor.BOOKING),
        money.payment(NEXT, xtr(30), Method.CREDIT),
    ]

    assert money.balance(entries) == xtr(70)
    assert money.available_credit(entries) == xtr(0)
    assert money.due_for(NEXT, entries) == xtr(70)


def test_a_waived_fee_is_no_longer_owed():
    fee = "fee:3:77:2026-02"
    entries = [money.charge(fee, eur(4000), ChargeFor.MONTHLY_FEE), money.waiver(fee, eur(4000))]

    assert money.balance(entries) == eur(0)
    assert money.due_for(fee, entries) == eur(0)


def test_each_item_has_its_own_due():
    entries = [
        money.charge(BOOKING, eur(1000), ChargeFor.BOOKING),
        money.charge(NEXT, eur(300), ChargeFor.RESCHEDULE_FEE),
        money.payment(BOOKING, eur(1000), Method.CARD),
    ]

    assert money.due_for(BOOKING, entries) == eur(0)
    assert money.due_for(NEXT, entries) == eur(300)
    assert money.balance(entries) == eur(300)


def test_a_ledger_in_two_currencies_is_refused():
    entries = [money.charge(BOOKING, eur(100), ChargeFor.BOOKING), *booked_and_paid(xtr(10))]
    with pytest.raises(CurrencyMismatch):
        money.balance(entries)


def test_an_empty_ledger_owes_nothing_in_its_currency():
    assert money.balance([], "EUR") == eur(0)
    assert money.due_for(BOOKING, [], "EUR") == eur(0)


@pytest.mark.parametrize("minor", [0, -100])
def test_an_entry_is_always_a_positive_amount(minor):
    with pytest.raises(AmountNotPositive):
        money.charge(BOOKING, eur(minor), ChargeFor.BOOKING)


def test_payments_name_their_method_and_credit_back_is_not_a_refund():
    with pytest.raises(ValueError, match="need method"):
        money.Entry(EntryKind.PAYMENT, BOOKING, eur(100))
    with pytest.raises(ValueError, match="CREDIT entry"):
        money.refund(BOOKING, eur(100), Method.CREDIT)


# --- refund caps -----------------------------------------------------------------------------


def test_up_to_what_was_paid_can_be_refunded():
    money.ensure_refundable(BOOKING, eur(1500), booked_and_paid(eur(1500), Method.CARD))


def test_a_refund_over_what_was_paid_is_refused_with_the_cap():
    with pytest.raises(RefundOverCap) as raised:
        money.ensure_refundable(BOOKING, eur(1501), booked_and_paid(eur(1500), Method.CARD))
    assert raised.value.params == {"requested": eur(1501), "refundable": eur(1500)}


def test_earlier_refunds_and_credits_lower_the_cap():
    entries = [
        *booked_and_paid(eur(1500), Method.CARD),
        money.refund(BOOKING, eur(500), Method.CARD),
        money.credit(BOOKING, eur(400)),
    ]

    money.ensure_refundable(BOOKING, eur(600), entries)
    with pytest.raises(RefundOverCap):
        money.ensure_refundable(BOOKING, eur(601), entries)


def test_nothing_can_be_refunded_for_an_unpaid_item():
    entries = [money.charge(BOOKING, eur(1500), ChargeFor.BOOKING)]
    with pytest.raises(RefundOverCap):
        money.ensure_refundable(BOOKING, eur(1), entries)


def test_another_items_payment_does_not_raise_the_cap():
    entries = [*booked_and_paid(eur(1500), Method.CARD), money.payment(NEXT, eur(900), Method.CARD)]
    with pytest.raises(RefundOverCap):
        money.ensure_refundable(BOOKING, eur(1600), entries)


@pytest.mark.parametrize("minor", [0, -1])
def test_a_refund_of_nothing_is_refused(minor):
    with pytest.raises(AmountNotPositive):
        money.ensure_refundable(BOOKING, eur(minor), booked_and_paid(eur(1500)))


def test_only_what_is_still_due_can_be_waived():
    entries = [
        money.charge(BOOKING, eur(1500), ChargeFor.BOOKING),
        money.payment(BOOKING, eur(1000), Method.VENUE),
    ]

    money.ensure_waivable(BOOKING, eur(500), entries)
    with pytest.raises(WaiverOverDue):
        money.ensure_waivable(BOOKING, eur(501), entries)


# --- refund routes ---------------------------------------------------------------------------


def test_a_whole_stars_payment_is_refunded_through_telegram():
    paid = money.payment(BOOKING, xtr(100), Method.STARS, charge_id="tg-1")

    plan = money.plan_refund(paid, xtr(100))

    assert plan.route == RefundRoute.STARS_REFUND
    assert plan.charge_id == "tg-1"
    assert plan.entry == money.refund(BOOKING, xtr(100), Method.STARS)


def test_part_of_a_stars_payment_becomes_credit_on_the_balance():
    paid = money.payment(BOOKING, xtr(100), Method.STARS, charge_id="tg-1")

    plan = money.plan_refund(paid, xtr(40))

    assert plan.route == RefundRoute.BALANCE_CREDIT
    assert plan.entry == money.credit(BOOKING, xtr(40))
    assert money.balance([*booked_and_paid(xtr(100)), plan.entry]) == xtr(-40)


def test_the_rest_of_a_partly_credited_stars_payment_is_credit_too():
    # refundStarPayment would give back all 100 Stars, 40 of them already credited
    paid = money.payment(BOOKING, xtr(100), Method.STARS, charge_id="tg-1")

    plan = money.plan_refund(paid, xtr(60), already_returned=xtr(40))

    assert plan.route == RefundRoute.BALANCE_CREDIT


@pytest.mark.parametrize(
    ("method", "route", "entry_method"),
    [
        (Method.CARD, RefundRoute.PROVIDER, Method.CARD),
        (Method.VENUE, RefundRoute.CASH, Method.VENUE),
    ],
)
def test_card_and_venue_refunds_are_recorded_for_staff_to_pay_back(method, route, entry_method):
    paid = money.payment(BOOKING, eur(1500), method)

    plan = money.plan_refund(paid, eur(500))

    assert plan.route == route
    assert plan.entry == money.refund(BOOKING, eur(500), entry_method)


def test_what_was_paid_with_credit_goes_back_as_credit():
    paid = money.payment(BOOKING, eur(1500), Method.CREDIT)
    assert money.plan_refund(paid, eur(1500)).route == RefundRoute.BALANCE_CREDIT


def test_a_planned_refund_is_capped_by_the_payment():
    paid = money.payment(BOOKING, xtr(100), Method.STARS)
    with pytest.raises(RefundOverCap):
        money.plan_refund(paid, xtr(70), already_returned=xtr(40))


# --- credit spent on the next purchase -------------------------------------------------------


@pytest.mark.parametrize(
    ("credit", "price", "used", "invoice", "needs_invoice"),
    [
        (0, 100, 0, 100, True),
        (30, 100, 30, 70, True),
        (100, 100, 100, 0, False),
        (250, 100, 100, 0, False),  # the rest stays on the balance
        (-40, 100, 0, 100, True),  # a debt is no credit
        (30, 0, 0, 0, False),
    ],
)
def test_credit_pays_what_it_can_of_the_next_purchase(credit, price, used, invoice, needs_invoice):
    use = money.spend_credit(xtr(credit), xtr(price))

    assert use.credit_used == xtr(used)
    assert use.to_invoice == xtr(invoice)
    assert use.needs_invoice is needs_invoice


def test_credit_in_another_currency_is_not_spent():
    with pytest.raises(CurrencyMismatch):
        money.spend_credit(xtr(30), eur(100))


# --- entry passes ----------------------------------------------------------------------------

SESSION = local(2026, 5, 20, 18, 0)


def test_booking_with_a_pass_uses_one_entry():
    entry_pass = money.EntryPass(entries=10, expires_on=date(2026, 6, 30), used=3)

    after = money.use_pass_entry(entry_pass, starts_at=SESSION, zone=PRAGUE)

    assert after.left == 6


def test_a_used_up_pass_is_refused():
    entry_pass = money.EntryPass(entries=5, expires_on=date(2026, 6, 30), used=5)
    with pytest.raises(PassUsedUp):
        money.use_pass_entry(entry_pass, starts_at=SESSION, zone=PRAGUE)


@pytest.mark.parametrize(
    ("starts_at", "usable"),
    [
        (local(2026, 5, 31, 23, 30), True),  # the last day, late evening (21:30 UTC)
        (local(2026, 6, 1, 0, 30), False),  # the next local day, though still 31 May in UTC
    ],
)
def test_a_pass_is_good_until_its_last_local_day(starts_at, usable):
    entry_pass = money.EntryPass(entries=5, expires_on=date(2026, 5, 31))
    if usable:
        assert money.use_pass_entry(entry_pass, starts_at=starts_at, zone=PRAGUE).used == 1
    else:
        with pytest.raises(PassExpired):
            money.use_pass_entry(entry_pass, starts_at=starts_at, zone=PRAGUE)


@pytest.mark.parametrize(("hours_before", "left"), [(48, 8), (24, 8), (23, 7)])
def test_cancelling_in_time_gives_the_entry_back(hours_before, left):
    entry_pass = money.EntryPass(entries=10, expires_on=date(2026, 6, 30), used=3)

    after = money.pass_after_cancel(
        entry_pass, starts_at=SESSION, now=SESSION - timedelta(hours=hours_before), notice_hours=24
    )

    assert after.left == left


# --- attendance credits ----------------------------------------------------------------------

MAY, JUNE = money.month_of(date(2026, 5, 14)), money.month_of(date(2026, 6, 1))


def test_a_month_runs_from_its_first_to_its_last_day():
    assert money.month_of(date(2028, 2, 10)) == Period(date(2028, 2, 1), date(2028, 2, 29))


def test_attending_consumes_a_credit_of_the_period():
    credits = money.grant_credits(8, MAY, expire_unused=True)

    after = money.consume_credit(credits, date(2026, 5, 14))

    assert after.left == 7


def test_attending_without_a_credit_left_is_refused():
    credits = money.AttendanceCredits(MAY, granted=4, used=4)
    with pytest.raises(NoAttendanceCredit):
        money.consume_credit(credits, date(2026, 5, 14))


def test_a_periods_credits_are_not_used_for_a_session_in_another_period():
    credits = money.grant_credits(8, MAY, expire_unused=True)
    assert money.credits_left_on(credits, date(2026, 6, 1)) == 0
    with pytest.raises(NoAttendanceCredit):
        money.consume_credit(credits, date(2026, 6, 1))


@pytest.mark.parametrize(("expire_unused", "june_credits"), [(True, 8), (False, 11)])
def test_unused_credits_expire_at_period_end_or_carry_over(expire_unused, june_credits):
    may = money.AttendanceCredits(MAY, granted=8, used=5)

    june = money.grant_credits(8, JUNE, may, expire_unused=expire_unused)

    assert june.granted == june_credits


@pytest.mark.parametrize(
    ("credits_left", "allowed", "refused"),
    [(1, False, False), (0, False, True), (0, True, False)],
)
def test_enrolment_needs_a_credit_unless_the_setting_allows_it(credits_left, allowed, refused):
    if refused:
        with pytest.raises(NoAttendanceCredit):
            money.ensure_can_enrol_with_credits(credits_left, allowed_without_credit=allowed)
    else:
        money.ensure_can_enrol_with_credits(credits_left, allowed_without_credit=allowed)


# --- fees ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "month", "due_day", "due_on"),
    [
        (2026, 2, 31, date(2026, 2, 28)),
        (2028, 2, 31, date(2028, 2, 29)),  # a leap year
        (2026, 2, 29, date(2026, 2, 28)),
        (2026, 2, 28, date(2026, 2, 28)),
        (2026, 4, 31, date(2026, 4, 30)),
        (2026, 4, 30, date(2026, 4, 30)),
        (2026, 1, 31, date(2026, 1, 31)),
        (2026, 3, 1, date(2026, 3, 1)),
    ],
)
def test_a_due_day_past_the_months_end_falls_on_its_last_day(year, month, due_day, due_on):
    assert money.due_date(year, month, due_day) == due_on


@pytest.mark.parametrize("due_day", [0, 32])
def test_a_due_day_is_a_day_of_the_month(due_day):
    with pytest.raises(ValueError, match="due day"):
        money.due_date(2026, 1, due_day)


MONTHLY = money.FeePlan(package_id=3, monthly_fee=eur(4000), due_day=31)


def test_the_monthly_fee_is_raised_on_the_due_day_with_a_key_per_month():
    fees = money.fees_to_raise(MONTHLY, 77, on=date(2026, 2, 28), since=date(2026, 2, 1))

    assert fees == [money.FeeCharge("fee:3:77:2026-02", 77, date(2026, 2, 28), eur(4000))]
    assert fees[0].entry() == money.charge("fee:3:77:2026-02", eur(4000), ChargeFor.MONTHLY_FEE)


def test_nothing_is_due_before_the_due_day():
    assert money.fees_to_raise(MONTHLY, 77, on=date(2026, 2, 27), since=date(2026, 2, 1)) == []


def test_raising_fees_twice_on_the_same_day_raises_nothing_new():
    first = money.fees_to_raise(MONTHLY, 77, on=date(2026, 2, 28), since=date(2026, 2, 1))

    again = money.fees_to_raise(
        MONTHLY, 77, on=date(2026, 2, 28), since=date(2026, 2, 1), raised={f.key for f in first}
    )

    assert again == []


def test_days_the_job_missed_are_caught_up_once():
    fees = money.fees_to_raise(
        MONTHLY, 77, on=date(2026, 5, 2), since=date(2026, 2, 1), raised={"fee:3:77:2026-02"}
    )
    assert [f.due_on for f in fees] == [date(2026, 3, 31), date(2026, 4, 30)]


def test_a_fee_due_before_the_client_enrolled_is_not_charged():
    fees = money.fees_to_raise(MONTHLY, 77, on=date(2026, 3, 31), since=date(2026, 3, 5))
    assert [f.key for f in fees] == ["fee:3:77:2026-03"]


def test_moving_the_due_day_does_not_charge_the_month_again():
    raised = {"fee:3:77:2026-03"}  # raised on the 5th, then the due day became the 20th
    plan = money.FeePlan(package_id=3, monthly_fee=eur(4000), due_day=20)
    assert (
        money.fees_to_raise(plan, 77, on=date(2026, 3, 20), since=date(2026, 3, 1), raised=raised)
        == []
    )


def test_a_custom_schedule_overrides_the_monthly_fee():
    plan = money.FeePlan(
        package_id=3,
        monthly_fee=eur(4000),
        due_day=1,
        schedule=(
            money.FeeRow(date(2026, 3, 15), eur(9000)),
            money.FeeRow(date(2026, 1, 10), eur(6000)),
        ),
    )

    fees = money.fees_to_raise(plan, 77, on=date(2026, 3, 31), since=date(2026, 1, 1))

    assert [(f.key, f.amount) for f in fees] == [
        ("fee:3:77:2026-01-10", eur(6000)),
        ("fee:3:77:2026-03-15", eur(9000)),
    ]
    late_joiner = money.fees_to_raise(plan, 78, on=date(2026, 3, 31), since=date(2026, 2, 1))
    assert [f.key for f in late_joiner] == ["fee:3:78:2026-03-15"]


def test_a_package_without_a_fee_charges_nothing():
    plan = money.FeePlan(package_id=3)
    assert money.fees_to_raise(plan, 77, on=date(2026, 12, 31), since=date(2026, 1, 1)) == []


# --- payment nudges --------------------------------------------------------------------------


def test_nudges_go_out_at_the_local_hour_across_the_spring_change():
    # Prague moves to summer time on Sunday 29 March 2026
    times = money.nudge_times(date(2026, 3, 27), [7, 0, 3], PRAGUE, time(10))

    assert times == [
        datetime(2026, 3, 27, 9, 0, tzinfo=UTC),  # 10:00 CET
        datetime(2026, 3, 30, 8, 0, tzinfo=UTC),  # 10:00 CEST
        datetime(2026, 4, 3, 8, 0, tzinfo=UTC),
    ]


def test_a_cadence_day_given_twice_nudges_once():
    assert len(money.nudge_times(date(2026, 3, 27), [0, 3, 3], PRAGUE)) == 2


def test_nudges_never_come_before_the_due_day():
    with pytest.raises(ValueError, match="on or after"):
        money.nudge_times(date(2026, 3, 27), [-1, 0], PRAGUE)


def test_remaining_nudges_are_those_still_ahead_while_something_is_due():
    times = money.nudge_times(date(2026, 3, 27), [0, 3, 7], PRAGUE)
    now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)

    assert money.nudges_still_to_send(times, due=eur(4000), now=now) == times[1:]


def test_nudges_stop_once_the_item_is_paid():
    times = money.nudge_times(date(2026, 3, 27), [0, 3, 7], PRAGUE)
    entries = [
        money.charge("fee:3:77:2026-03", eur(4000), ChargeFor.MONTHLY_FEE),
        money.payment("fee:3:77:2026-03", eur(4000), Method.CARD),
    ]
    due = money.due_for("fee:3:77:2026-03", entries)

    assert money.nudges_still_to_send(times, due=due, now=times[0]) == []


@pytest.mark.parametrize(
    ("state", "answer", "after"),
    [
        ("requested", "done", "done"),
        ("requested", "refused", "refused"),
        ("requested", "unknown", "unknown"),
        ("unknown", "done", "done"),
        ("unknown", "refused", "refused"),
        ("done", "refused", "done"),  # a late or repeated answer changes nothing settled
        ("done", "unknown", "done"),
        ("refused", "done", "refused"),
    ],
)
def test_an_open_stars_refund_takes_telegrams_answer_a_settled_one_keeps_its_state(
    state, answer, after
):
    state, answer = money.RefundState(state), money.RefundState(answer)
    assert money.refund_answered(state, answer) == money.RefundState(after)


def test_requested_is_no_answer():
    with pytest.raises(ValueError, match="answer"):
        money.refund_answered(money.RefundState.UNKNOWN, money.RefundState.REQUESTED)
