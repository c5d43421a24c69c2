from aiogram.fsm.state import State, StatesGroup


class MainMenu(StatesGroup):
    main = State()
    account = State()
    settings = State()  # language and time zone
    courses = State()  # my courses and packages, and those on sale


class Catalog(StatesGroup):
    categories = State()
    programmes = State()
    classes = State()
    class_card = State()
    enrol_note = State()
    leave_class = State()
    enrolled = State()
    class_waitlisted = State()
    sessions = State()
    session = State()
    booked = State()
    waitlisted = State()
    package_review = State()  # the N picked sessions of a package, before confirming
    package_booked = State()


class MyBookings(StatesGroup):
    list = State()
    booking = State()
    confirm_cancel = State()
    cancelled = State()
    move = State()  # a package's session: pick its new time
    move_to = State()  # any other booking: pick its new time (bot/dialogs/bookings/moving.py)
    confirm_move = State()  # ... and confirm it, with its fee


class Staff(StatesGroup):
    sessions = State()
    roster = State()
    book_client = State()
    client = State()
    money_amount = State()  # a refund's or waiver's amount and reason
    owing = State()
    fee = State()  # one fee due: paid at the venue, or waived
    today = State()  # the front desk: today's sessions
    redeem = State()  # checking in: "Redeem from course?"
    courses = State()  # a client's courses, and selling one at the venue
    move_to = State()  # 🔁 Move booking: pick the new session (bot/dialogs/staff/windows/move.py)
    confirm_move = State()  # ... and confirm it
    cancel_terms = State()  # cancelling a booking, a client's class, or a session: the choices
    cancel_reason = State()  # … the reason typed for the client (optional)
    cancel_confirm = State()  # … and the confirmation
