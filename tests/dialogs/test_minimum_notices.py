"""The minimum check run by the scheduler's job: the clients' notices and the staff summary as
sent, each in its reader's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.deps import Deps
from bot.runtime.config import Settings
from bot.runtime.scheduler import check_minimums
from bot.text.i18n import build_i18n
from domain.booking.bookings import book_or_wait
from domain.clients.record import ClientRef
from domain.storage.models import ClassSession, Client
from tests.dialogs.test_notices import Outbox
from tests.support.catalog import load

SAM, SOFIA = 900, 901  # staff: Sam reads English, Sofia Czech
ALICE = ClientRef(1, "Alice", "en")
CHECK = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 24 hours before Dec 1, 18:00 in Prague

STUDIO = """
programmes:
  - key: pottery
    title: Pottery
    classes:
      - key: wheel
        title: Wheel
        capacity: 4
        min_participants: 2
        sessions: [2026-12-01 18:00]
"""


def make_deps(db_factory, clock) -> Deps:
    settings = Settings(TZ="Europe/Prague", bot_token=None, admin_ids=frozenset({SAM, SOFIA}))
    return Deps(db=db_factory, settings=settings, clock=clock)


async def test_the_job_tells_each_client_once_and_each_staff_member_in_their_language(
    db_factory, clock
):
    await load(db_factory, STUDIO)
    async with db_factory() as db:
        session_id = await db.scalar(select(ClassSession.id))
        db.add(Client(id=SOFIA, first_name="Sofia", language_code="cs", created_at=clock()))
        await db.commit()
        await book_or_wait(
            db,
            client=ALICE,
            session_id=session_id,
            now=clock(),
            policy=make_deps(db_factory, clock).settings.policy,
        )
    outbox = Outbox()
    clock.now = CHECK

    await check_minimums(outbox, make_deps(db_factory, clock), build_i18n("en"))
    await check_minimums(outbox, make_deps(db_factory, clock), build_i18n("en"))  # once only

    (notice,) = outbox.sent(ALICE.id)
    assert "Pottery — Wheel</b> on" in notice.text
    assert "is cancelled: too few people signed up for it." in notice.text
    assert [b.text for b in notice.reply_markup.inline_keyboard[0]] == ["🔁 Book another time"]
    (english,) = outbox.sent(SAM)
    (czech,) = outbox.sent(SOFIA)
    assert english.text.startswith("🚫 <b>Cancelled for too few participants</b>")
    assert "• <b>Pottery — Wheel</b> on Tuesday, December 1, 2026" in english.text
    assert ": 1 booked, minimum 2" in english.text
    assert czech.text.startswith("🚫 <b>Zrušeno pro málo účastníků</b>")
    assert "přihlášeno 1, minimum 2" in czech.text


async def test_the_job_before_the_check_time_sends_nothing(db_factory, clock):
    await load(db_factory, STUDIO)
    outbox = Outbox()
    clock.now = CHECK - timedelta(minutes=1)

    await check_minimums(outbox, make_deps(db_factory, clock), build_i18n("en"))

    assert outbox.calls == []
