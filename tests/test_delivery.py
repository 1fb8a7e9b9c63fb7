"""The delivery log's claim protocol: one claim per occurrence, released on failure, taken over only after its
lease, and a crash between send and mark resends that one message (faults injected with a fake channel)."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import icalendar
import pytest
from sqlalchemy import select

from notifications.channels import Message
from workflow.delivery import Backlog, DeliveryLog, Entry
from builders import connection, open_as
from scripted import in_delivery
from workflow.clock import LONDON
from workflow.db import UnitOfWork, engine_for
from workflow.model import Delivery
from workflow.reminders import Reminders

ENTRY = Entry("agenda:*:board-1:2026-10-06:sec", "agenda", None, "sec", "sec@example.org", date(2026, 9, 29))


def delivery_log(db: str, *, hours_later: int = 0) -> DeliveryLog:
    """The log as a worker sees it, optionally `hours_later` (long after any lease has run out)."""
    return DeliveryLog(UnitOfWork(engine_for(db)), now=lambda: datetime.now(timezone.utc) + timedelta(hours=hours_later))


def row(db: str, key: str = ENTRY.key) -> Delivery:
    with UnitOfWork(engine_for(db)).read() as session:
        found = session.scalar(select(Delivery).where(Delivery.key == key))
        assert found is not None
        return found


def test_a_claimed_occurrence_is_not_claimed_again_and_a_sent_one_never(db: str) -> None:
    log = delivery_log(db)
    token = log.claim(ENTRY, "Benefit reviews")
    assert token is not None
    assert log.claim(ENTRY, "Benefit reviews") is None  # its holder's lease is running
    assert log.backlog([ENTRY]) == Backlog(pending=[], already_sent=0, busy=1)
    assert log.mark_sent(ENTRY, token)
    assert delivery_log(db, hours_later=24).claim(ENTRY, "Benefit reviews") is None  # sent is final
    assert log.backlog([ENTRY]) == Backlog(pending=[], already_sent=1, busy=0)
    sent = row(db)
    assert (sent.state, sent.attempts, sent.recipient, sent.address, sent.subject) == ("sent", 1, "sec", "sec@example.org", "Benefit reviews")
    assert sent.sent_at is not None


def test_a_failed_send_is_released_and_the_next_claim_retries_it(db: str) -> None:
    log = delivery_log(db)
    first = log.claim(ENTRY, "Benefit reviews")
    assert first is not None
    log.release(ENTRY, first, "SMTPServerDisconnected: Connection unexpectedly closed")
    assert log.backlog([ENTRY]).pending == [ENTRY]
    assert row(db).last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    second = log.claim(ENTRY, "Benefit reviews")
    assert second not in (None, first)
    assert not log.mark_sent(ENTRY, first)  # a stale claim cannot mark
    assert log.mark_sent(ENTRY, second)  # type: ignore[arg-type]
    assert (row(db).state, row(db).attempts, row(db).last_error) == ("sent", 2, None)


def test_racing_claims_of_a_new_occurrence_give_one_token(db: str) -> None:
    log = delivery_log(db)
    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(lambda _: log.claim(ENTRY, "Benefit reviews"), range(8)))
    assert len([t for t in tokens if t]) == 1


def test_racing_takeovers_of_an_abandoned_claim_give_one_token(db: str) -> None:
    assert delivery_log(db).claim(ENTRY, "Benefit reviews")  # and its worker dies
    later = delivery_log(db, hours_later=1)
    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(lambda _: later.claim(ENTRY, "Benefit reviews"), range(8)))
    assert len([t for t in tokens if t]) == 1
    assert row(db).attempts == 2


# -- faults injected into a real reminder run --------------------------------------------------------------


class Crash(BaseException):
    """The process dies: nothing after this line of the run happens."""


class FakeChannel:
    """Keeps every message; dies right after accepting message number `die_after`, or refuses `refuse`."""

    def __init__(self, die_after: int | None = None, refuse: str | None = None) -> None:
        self.messages: list[Message] = []
        self.die_after, self.refuse = die_after, refuse

    def send(self, message: Message) -> None:
        if message.to == (self.refuse,):
            raise ConnectionRefusedError(f"{self.refuse}: connection refused")
        self.messages.append(message)
        if len(self.messages) == self.die_after:
            raise Crash


def ics_uid(message: Message) -> str:
    event = icalendar.Calendar.from_ical(message.attachments[0].data).walk("VEVENT")[0]
    return str(event["UID"])


SEP_29 = datetime(2026, 9, 29, 9, 0, tzinfo=LONDON)  # 6 Oct - 7: the agenda and both requests are due
OCT_20 = datetime(2026, 10, 20, 9, 0, tzinfo=LONDON)  # 6 Oct + 14: both reviews escalate, to pm, cc.dc, cc.do, pcc.dc, pcc.do


def test_a_crash_between_send_and_record_resends_that_one_message(db: str) -> None:
    in_delivery(db, date(2026, 9, 2))
    app = open_as(db, "root")
    crashing = FakeChannel(die_after=1)  # the agenda goes first, and the worker dies before recording it
    with pytest.raises(Crash):
        Reminders(app.ctx, channel=crashing).remind(SEP_29)
    steady = FakeChannel()
    within_lease = Reminders(app.ctx, channel=steady).remind(SEP_29)
    assert [s["kind"] for s in within_lease["sent"]] == ["measurement-request", "measurement-request"]
    assert within_lease["in_progress"] == 1  # the dead worker's claim, left alone while its lease runs
    after_lease = Reminders(app.ctx, channel=steady, log=delivery_log(db, hours_later=1)).remind(SEP_29)
    assert [s["kind"] for s in after_lease["sent"]] == ["agenda"]
    assert Reminders(app.ctx, channel=steady).remind(SEP_29)["already_sent"] == 3

    delivered = Counter(m.idempotency_key for m in crashing.messages + steady.messages)
    assert delivered == {"agenda:*:board-1:2026-10-06:sec": 2, "measurement-request:SA:B1:2026-10-06:owner": 1,
                         "measurement-request:SA:B2:2026-10-06:owner2": 1}
    first, again = crashing.messages[0], steady.messages[-1]
    assert ics_uid(first) == ics_uid(again) == "meeting-20261006-board-1@collab"  # calendars update, not duplicate
    assert (first.subject, first.text) == (again.subject, again.text)


def test_an_escalation_is_recorded_in_the_history_once_per_delivery_despite_a_crash(db: str) -> None:
    in_delivery(db, date(2026, 9, 2))
    app = open_as(db, "root")
    with pytest.raises(Crash):
        # one message a person: B1 and B2 to cc.dc recorded; to cc.do sent, then the crash before its record
        Reminders(app.ctx, channel=FakeChannel(die_after=2)).remind(OCT_20)
    assert [(e["payload"]["benefit"], e["payload"]["to"]) for e in app.history("SA", action="escalated")] == [
        ("B1", "cc.dc"), ("B2", "cc.dc")]
    Reminders(app.ctx, channel=FakeChannel(), log=delivery_log(db, hours_later=1)).remind(OCT_20)
    Reminders(app.ctx, channel=FakeChannel()).remind(OCT_20)
    events = app.history("SA", action="escalated")
    assert sorted((e["payload"]["benefit"], e["payload"]["to"]) for e in events) == [
        (b, to) for b in ("B1", "B2") for to in ("cc.dc", "cc.do", "pcc.dc", "pcc.do", "pm")]
    assert {e["actor"] for e in events} == {"root"}
    assert {e["effective_on"] for e in events} == {"2026-10-20"}
    assert events[0]["payload"] == {"kind": "escalation", "benefit": "B1", "board": "RCB", "meeting": "2026-10-06", "to": "cc.dc",
                                    **connection(db)}
    assert app.verify().ok


def test_a_refused_message_is_reported_and_retried_while_the_rest_go_out(db: str) -> None:
    in_delivery(db, date(2026, 9, 2))
    app = open_as(db, "root")
    flaky = FakeChannel(refuse="owner2@example.org")
    report = Reminders(app.ctx, channel=flaky).remind(SEP_29)
    assert [(f["to"], f["error"]) for f in report["failed"]] == [
        ("owner2@example.org", "ConnectionRefusedError: owner2@example.org: connection refused")]
    assert len(report["sent"]) == 2
    retry = Reminders(app.ctx, channel=FakeChannel()).remind(SEP_29)
    assert [(s["kind"], s["to"]) for s in retry["sent"]] == [("measurement-request", "owner2@example.org")]
    assert retry["already_sent"] == 2
    assert row(db, "measurement-request:SA:B2:2026-10-06:owner2").attempts == 2
