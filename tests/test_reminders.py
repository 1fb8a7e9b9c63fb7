"""`collab remind` end to end: real subprocesses, a real SMTP server (aiosmtpd on 127.0.0.1), both databases.

The scripted timeline (tests/scripted.py): SA enters delivery on Wed 2 Sep 2026; board RCB (secretary `sec`)
meets FREQ=MONTHLY;BYDAY=1TU at 10:00 from that day, so first on Tue 6 Oct 2026 (1 Oct is a Thursday).
B1 is owned by `owner`, B2 by `owner2`; the partners are Devon & Cornwall (chief officer cc.dc, PCC pcc.dc)
and Dorset (cc.do, pcc.do); the programme manager is pm. Definition v4 escalates to chief officers and PCCs. Lead 7 days, grace 14 days, PIR six months after closure.
"""

from __future__ import annotations

import email
import email.policy
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path

import icalendar
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from builders import open_as
from conftest import collab
from notifications.render import DEFAULT_DIRECTORY
from builders import as_of
from scripted import close, in_delivery, measure
from test_notifications import Collector, free_port
from workflow.clock import LONDON
from workflow.db import UnitOfWork, engine_for
from workflow.model import Delivery, User
from workflow.demo import demo_reminders

SENDER = "collab@alliance.example"


class Mailbox:
    def __init__(self, controller: Controller, collector: Collector) -> None:
        self.controller, self.collector = controller, collector

    @property
    def env(self) -> dict[str, str]:
        return {"COLLAB_SMTP": f"127.0.0.1:{self.controller.port}", "COLLAB_MAIL_FROM": SENDER}

    def messages(self) -> list[tuple[list[str], EmailMessage]]:
        return [(e.rcpt_tos, email.message_from_bytes(e.original_content, policy=email.policy.default))
                for e in self.collector.envelopes]

    def take(self) -> list[tuple[str, str, str]]:
        """(recipient, kind, subject) of each message received since the last take, then forget them.

        A long subject may arrive folded right after "Subject:"; unfolding leaves a leading space, which mail
        clients ignore, and so does this."""
        received = [(rcpt[0], m["X-Collab-Key"].split(":")[0], m["Subject"].strip()) for rcpt, m in self.messages()]
        self.collector.envelopes.clear()
        return sorted(received)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    controller = Controller(Collector(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield Mailbox(controller, controller.handler)
    finally:
        controller.stop()


def remind(db: str, mailbox: Mailbox, at: str, *args: str, check: int = 0, actor: str = "root",
           env: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    """`remind --at AT` run at AT itself (COLLAB_NOW), so that a date after today is no mere dry run."""
    return collab(db, "remind", "--at", at, "--json", *args, actor=actor,
                  env={"COLLAB_NOW": at, **mailbox.env, **(env or {})}, check=check).json()  # type: ignore[return-value]


def calendar_event(message: EmailMessage) -> icalendar.Event:
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")[0]


def deliveries(db: str) -> int:
    with UnitOfWork(engine_for(db)).read() as session:
        return session.scalar(select(func.count()).select_from(Delivery)) or 0


def test_the_scripted_timeline_reaches_everyone_once(db: str, mailbox: Mailbox) -> None:
    in_delivery(db, date(2026, 9, 2))

    # 28 Sep: nothing yet (the 6 Oct window opens on 29 Sep = 6 Oct - 7).
    assert remind(db, mailbox, "2026-09-28T09:00")["sent"] == [] and mailbox.take() == []

    # 29 Sep: the agenda to RCB's secretary, a request to each owner.
    report = remind(db, mailbox, "2026-09-29T09:00")
    assert sorted(s["kind"] for s in report["sent"]) == ["agenda", "measurement-request", "measurement-request"]
    (agenda,) = [m for _, m in mailbox.messages() if m["X-Collab-Key"].startswith("agenda:")]
    assert mailbox.take() == [
        ("owner2@example.org", "measurement-request", "Figure needed by Tue 6 October 2026: Public confidence (SA)"),
        ("owner@example.org", "measurement-request", "Figure needed by Tue 6 October 2026: Savings (SA)"),
        ("sec@example.org", "agenda", "Benefit reviews for the RCB meeting on Tue 6 October 2026"),
    ]
    assert agenda["From"] == SENDER and agenda["To"] == "sec@example.org"
    text = agenda.get_body(preferencelist=("plain",)).get_content()
    assert "* Savings (benefit B1, economic)" in text and "* Public confidence (benefit B2, effectiveness)" in text
    event = calendar_event(agenda)
    assert str(event["UID"]) == "meeting-20261006-board-1@collab"
    assert event.decoded("DTSTART") == datetime(2026, 10, 6, 10, 0, tzinfo=LONDON)  # 09:00 UTC, summer time
    assert str(event["SUMMARY"]) == "RCB meeting"

    # The same moment again: nothing new.
    again = remind(db, mailbox, "2026-09-29T09:00")
    assert (again["sent"], again["already_sent"]) == ([], 3) and mailbox.take() == []

    # B1's figure arrives on 2 Oct; B2's never does. 19 Oct: nothing (escalation on 6 Oct + 14 = 20 Oct;
    # the 3 Nov window opens on 27 Oct).
    measure(db, "B1", 5, date(2026, 10, 2))
    assert remind(db, mailbox, "2026-10-19T09:00")["sent"] == []
    # 20 Oct: B2's missed review goes to the programme manager and both partners' chief officers and PCCs.
    remind(db, mailbox, "2026-10-20T09:00")
    subject = "Review missed, 14 days overdue: Public confidence (SA)"
    assert mailbox.take() == [("cc.dc@example.org", "escalation", subject), ("cc.do@example.org", "escalation", subject),
                              ("pcc.dc@example.org", "escalation", subject), ("pcc.do@example.org", "escalation", subject),
                              ("pm@example.org", "escalation", subject)]

    # Both benefits reach their targets on 21 Oct (realised: no more reviews); SA closes on 30 Oct 2026, so
    # its PIR is due on Fri 30 Apr 2027: a reminder on 23 Apr (30 Apr - 7), escalated on 14 May (30 Apr + 14).
    measure(db, "B1", 12, date(2026, 10, 21))
    measure(db, "B2", 78, date(2026, 10, 21))
    close(db, date(2026, 10, 30))
    assert remind(db, mailbox, "2027-04-22T09:00")["sent"] == []
    remind(db, mailbox, "2027-04-23T09:00")
    assert mailbox.take() == [("pm@example.org", "pir-reminder", "Post-implementation review of SA due on Fri 30 April 2027")]
    assert remind(db, mailbox, "2027-05-13T09:00")["sent"] == []
    remind(db, mailbox, "2027-05-14T09:00")
    subject = "Overdue: post-implementation review of SA was due on Fri 30 April 2027"
    assert mailbox.take() == [("cc.dc@example.org", "pir-escalation", subject), ("cc.do@example.org", "pir-escalation", subject),
                              ("pcc.dc@example.org", "pir-escalation", subject), ("pcc.do@example.org", "pir-escalation", subject),
                              ("pm@example.org", "pir-escalation", subject)]
    assert remind(db, mailbox, "2027-05-14T09:00")["already_sent"] == 5
    assert mailbox.take() == []

    history = open_as(db, "audit").history("SA", action="escalated")
    assert [(e["payload"]["kind"], e["payload"]["to"]) for e in history] == [
        *((kind, to) for kind in ("escalation", "pir-escalation") for to in ("cc.dc", "cc.do", "pcc.dc", "pcc.do", "pm"))]
    assert deliveries(db) == 3 + 5 + 1 + 5


def test_a_christmas_meeting_moves_to_the_29th_and_its_reminders_follow(db: str, mailbox: Mailbox) -> None:
    in_delivery(db, date(2026, 12, 1))
    with as_of("2026-12-01T09:00"):
        open_as(db, "root").add_board("Xmas Board", "Devon & Cornwall Police", "FREQ=MONTHLY;BYMONTHDAY=25", "sec")
        for code in ("B1", "B2"):
            open_as(db, "pm").update_benefit("SA", code, board="Xmas Board")
    # The 25 Dec 2026 meeting (a Friday, Christmas Day) moves past Sat 26, Sun 27 and Mon 28 (the Boxing Day
    # substitute) to Tue 29 Dec. Agenda and requests: 29 Dec - 7 = 22 Dec. Escalation: 29 Dec + 14 = 12 Jan 2027
    # (not 25 Dec + 14 = 8 Jan).
    rows = collab(db, "reviews", "--at", "2026-12-21", "--within", "10", "--json", actor="audit", check=0).json()
    assert {(r["board"], r["due_on"], r["status"]) for r in rows} == {("Xmas Board", "2026-12-29", "upcoming")}
    assert remind(db, mailbox, "2026-12-21T09:00")["sent"] == []
    remind(db, mailbox, "2026-12-22T09:00")
    (agenda,) = [m for _, m in mailbox.messages() if m["X-Collab-Key"].startswith("agenda:")]
    assert agenda["X-Collab-Key"] == "agenda:*:board-2:2026-12-29:sec"
    assert calendar_event(agenda).decoded("DTSTART") == datetime(2026, 12, 29, 10, 0, tzinfo=LONDON)
    assert mailbox.take() == [
        ("owner2@example.org", "measurement-request", "Figure needed by Tue 29 December 2026: Public confidence (SA)"),
        ("owner@example.org", "measurement-request", "Figure needed by Tue 29 December 2026: Savings (SA)"),
        ("sec@example.org", "agenda", "Benefit reviews for the Xmas Board meeting on Tue 29 December 2026"),
    ]
    assert remind(db, mailbox, "2027-01-08T09:00")["sent"] == []
    assert remind(db, mailbox, "2027-01-11T09:00")["sent"] == []
    report = remind(db, mailbox, "2027-01-12T09:00")
    assert Counter(s["kind"] for s in report["sent"]) == {"escalation": 10}  # B1 and B2, to pm, cc.dc, cc.do, pcc.dc, pcc.do
    assert {s["subject"] for s in report["sent"]} == {"Review missed, 14 days overdue: Savings (SA)",
                                                      "Review missed, 14 days overdue: Public confidence (SA)"}
    assert "meeting on Tue 29 December 2026" in mailbox.messages()[0][1].get_body(preferencelist=("plain",)).get_content()


def test_a_run_after_downtime_catches_up_within_the_lookback(db: str, mailbox: Mailbox) -> None:
    in_delivery(db, date(2026, 9, 2))
    # Had nobody run remind until Tue 1 Dec 2026: the 6 Oct misses escalated on 20 Oct, 42 days ago, beyond the
    # 35-day lookback, so they are left alone; the 3 Nov misses escalated on 17 Nov (caught up); and the 1 Dec
    # meeting's agenda and requests are due that very day.
    report = remind(db, mailbox, "2026-12-01T09:00", "--dry-run")
    assert sorted({(s["kind"], s["key"].split(":")[3]) for s in report["sent"]}) == [
        ("agenda", "2026-12-01"), ("escalation", "2026-11-03"), ("measurement-request", "2026-12-01")]
    # Run on 25 Oct instead: the 6 Oct agenda and requests are moot (the meeting has passed), but the escalations
    # that fell due on 20 Oct go out.
    report = remind(db, mailbox, "2026-10-25T09:00")
    assert Counter((s["kind"], s["key"].split(":")[3]) for s in report["sent"]) == {("escalation", "2026-10-06"): 10}
    assert len(mailbox.take()) == 5  # one message to each of pm, cc.dc, cc.do, pcc.dc and pcc.do, listing both


def test_dry_run_lists_and_sends_and_records_nothing(db: str, mailbox: Mailbox) -> None:
    in_delivery(db, date(2026, 9, 2))
    dry = remind(db, mailbox, "2026-09-29T09:00", "--dry-run", actor="audit")  # a dry run is a read
    assert dry["dry_run"] is True
    assert sorted((s["to"], s["kind"]) for s in dry["sent"]) == [
        ("owner2@example.org", "measurement-request"), ("owner@example.org", "measurement-request"),
        ("sec@example.org", "agenda")]
    assert mailbox.take() == [] and deliveries(db) == 0
    assert sorted(s["subject"] for s in remind(db, mailbox, "2026-09-29T09:00")["sent"]) == sorted(s["subject"] for s in dry["sent"])
    text = collab(db, "remind", "--at", "2026-09-29T09:00", "--dry-run", actor="root", env=mailbox.env, check=0).out
    assert text.strip().endswith("0 would send, 3 already sent")


def test_a_moment_in_the_future_is_a_dry_run_unless_forced(db: str, mailbox: Mailbox) -> None:
    in_delivery(db, date(2026, 9, 2))
    today = {"COLLAB_NOW": "2026-09-20T09:00", **mailbox.env}
    ahead = collab(db, "remind", "--at", "2026-10-20T09:00", "--json", actor="root", env=today, check=0)
    assert "--at 2026-10-20T09:00 is in the future: a dry run, nothing sent or recorded (--force sends)" in ahead.err
    report = ahead.json()
    assert (report["dry_run"], report["future"]) == (True, True)  # type: ignore[index]
    assert {s["kind"] for s in report["sent"]} == {"escalation"}  # type: ignore[index]
    assert mailbox.take() == [] and deliveries(db) == 0
    assert not [e for e in open_as(db, "audit").history("SA") if e["action"] == "escalated"]
    forced = collab(db, "remind", "--at", "2026-10-20T09:00", "--force", actor="root", env=today, check=0)
    assert "in the future" not in forced.err and "would send" not in forced.out
    assert deliveries(db) == len(report["sent"]) == 10  # type: ignore[index]  # B1 and B2 to pm, chiefs and PCCs
    assert len(mailbox.take()) == 5  # one message a person


def test_who_may_send_and_bad_input(db: str, mailbox: Mailbox) -> None:
    in_delivery(db, date(2026, 9, 2))
    result = collab(db, "remind", "--at", "2026-09-29T09:00", actor="owner", env=mailbox.env, check=1)
    assert "owner is a benefit-owner; to send reminders needs the role admin or board-secretary" in result.err
    assert collab(db, "remind", "--at", "2026-09-29T09:00", "--json", actor="sec", env=mailbox.env, check=0).json()["sent"]
    assert "--at 'next tuesday' is not an ISO date or datetime" in collab(
        db, "remind", "--at", "next tuesday", actor="root", env=mailbox.env, check=2).err
    assert "COLLAB_SMTP must be HOST:PORT" in collab(db, "remind", actor="root", env={"COLLAB_SMTP": "mail"}, check=2).err


def test_someone_without_an_email_address_is_reported_not_skipped_silently(db: str, mailbox: Mailbox) -> None:
    in_delivery(db, date(2026, 9, 2))
    with UnitOfWork(engine_for(db)).write(history=False) as session:
        session.execute(update(User).where(User.name == "owner2").values(email=None))
    result = collab(db, "remind", "--at", "2026-09-29T09:00", actor="root", env=mailbox.env, check=5)
    assert "not sent: measurement-request for owner2: no email address" in result.err
    assert "collab user update NAME --email ADDR" in result.err
    assert [to for to, _, _ in mailbox.take()] == ["owner@example.org", "sec@example.org"]
    on_the_day = {**mailbox.env, "COLLAB_NOW": "2026-09-29T09:00"}
    assert {"kind": "address", "collaboration": "SA", "item": "owner2", "due_on": "2026-09-29"} in collab(
        db, "todo", "--json", actor="root", env=on_the_day).json()
    assert [i for i in collab(db, "todo", "--json", actor="pm", env=on_the_day).json() if i["kind"] == "address"] == []
    collab(db, "user", "update", "owner2", "--email", "owner2@example.org", actor="root", env=on_the_day)
    assert [s["to"] for s in remind(db, mailbox, "2026-09-29T09:00")["sent"]] == ["owner2@example.org"]
    assert [i for i in collab(db, "todo", "--json", actor="root", env=on_the_day).json() if i["kind"] == "address"] == []


def test_a_template_with_an_unknown_variable_is_rejected_at_load_not_at_send(db: str, mailbox: Mailbox, tmp_path: Path) -> None:
    in_delivery(db, date(2026, 9, 2))
    broken = tmp_path / "templates"
    shutil.copytree(DEFAULT_DIRECTORY, broken)
    (broken / "escalation.txt").write_text("Dear {{ recipient.name }}, ask {{ secretary }}.\n")  # escalations are not due
    env = {"COLLAB_TEMPLATES": str(broken)}
    result = collab(db, "remind", "--at", "2026-09-29T09:00", actor="root", env={**mailbox.env, **env}, check=2)
    assert result.err.strip() == ("notification templates: escalation.txt: unknown variable 'secretary' (allowed: benefit, "
                                  "board, collaboration, days_overdue, meeting, recipient)")
    assert mailbox.take() == [] and deliveries(db) == 0
    assert "unknown variable 'secretary'" in collab(db, "worker", actor="root", env={**mailbox.env, **env}, check=2).err


def test_smtp_down_exits_5_and_the_next_run_delivers(db: str, mailbox: Mailbox) -> None:
    in_delivery(db, date(2026, 9, 2))
    down = {"COLLAB_SMTP": f"127.0.0.1:{free_port()}"}
    result = collab(db, "remind", "--at", "2026-09-29T09:00", actor="root", env=down, check=5)
    assert result.err.count("could not send") == 3 and "the next run retries" in result.err
    report = remind(db, mailbox, "2026-09-29T09:00")
    assert (len(report["sent"]), report["already_sent"], report["failed"]) == (3, 0, [])
    assert len(mailbox.take()) == 3


def test_without_smtp_messages_go_to_the_outbox_beside_the_database(tmp_path: Path) -> None:
    db = str(tmp_path / "collab.db")
    collab(db, "init", check=0)
    in_delivery(db, date(2026, 9, 2))
    collab(db, "remind", "--at", "2026-09-29T09:00", actor="root", check=0)
    files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert len(files) == 3 and files[0].startswith("agenda-board-1-2026-10-06-sec-")


def test_demo_reminders_prints_each_run_and_uses_the_outbox(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.db")
    collab(db, "init", check=0)
    in_delivery(db, date(2026, 9, 2))
    lines: list[str] = []
    demo_reminders(db, lines.append, ["2026-09-28T09:00", "2026-09-29T09:00", datetime(2026, 10, 20, 9, tzinfo=LONDON)],
                   actor="root")
    assert lines == [
        "2026-09-28  $ collab --as root remind --at 2026-09-28T09:00", "  nothing due",
        "2026-09-29  $ collab --as root remind --at 2026-09-29T09:00",
        "  agenda               to sec@example.org: Benefit reviews for the RCB meeting on Tue 6 October 2026",
        "  measurement-request  to owner@example.org: Figure needed by Tue 6 October 2026: Savings (SA)",
        "  measurement-request  to owner2@example.org: Figure needed by Tue 6 October 2026: Public confidence (SA)",
        "2026-10-20  $ collab --as root remind --at 2026-10-20T09:00",
        *[f"  escalation           to {to}@example.org: Review missed, 14 days overdue: {title} (SA)"
          for title in ("Savings", "Public confidence") for to in ("cc.dc", "cc.do", "pcc.dc", "pcc.do", "pm")],
    ]
    assert len(list((tmp_path / "outbox").iterdir())) == 8  # the escalations in one message to each of five people
    assert open_as(db, "audit").verify().ok
