"""One message a person: the escalations one `remind` run owes someone go out together, and the weekly digest
lists what `todo` lists for each person (`collab digest`, or `remind` on COLLAB_DIGEST_DAY). Real subprocesses,
a real SMTP server (aiosmtpd on 127.0.0.1), both databases; the timeline of tests/scripted.py."""

from __future__ import annotations

from collections import Counter
from datetime import date

from builders import as_of, open_as
from conftest import collab
from scripted import in_delivery
from test_reminders import Mailbox, deliveries, mailbox, remind  # noqa: F401 - mailbox is a fixture

MORE = [f"B{n}" for n in range(3, 22)]  # with B1 and B2, 21 benefits reviewed by RCB


def test_105_escalations_to_5_people_go_out_as_5_messages_each_recorded_once(db: str, mailbox: Mailbox) -> None:
    in_delivery(db, date(2026, 9, 2))
    with as_of("2026-09-02T10:00"):
        pm = open_as(db, "pm")
        for code in MORE:
            pm.add_benefit("SA", code, title=f"Saving {code}", category="efficiency", measure="GBP k", baseline=0,
                           target=10, by=date(2030, 3, 31), owner="owner", board="RCB")
    # 20 Oct: none of the 21 benefits was reviewed at the 6 Oct meeting, so each escalates to the programme
    # manager and both partners' chief officers and PCCs: 105 escalations (the flood issue 12 met was 63 to 3).
    report = remind(db, mailbox, "2026-10-20T09:00")
    assert Counter(s["kind"] for s in report["sent"]) == {"escalation": 105}
    messages = mailbox.messages()
    assert sorted(rcpt[0] for rcpt, _ in messages) == [f"{to}@example.org" for to in ("cc.dc", "cc.do", "pcc.dc", "pcc.do", "pm")]
    for _, message in messages:
        assert message["Subject"] == "21 reviews missed and overdue: your collaborations need attention"
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert text.count("RCB meeting on Tue 6 October 2026, 14 days overdue") == 21
        assert "Saving B21 (benefit B21) of Strategic Alliance (SA)" in text
        html = message.get_body(preferencelist=("html",)).get_content()
        assert html.count("<li>") == 21
    escalated = open_as(db, "audit").history("SA", action="escalated")
    assert Counter(e["payload"]["to"] for e in escalated) == {"pm": 21, "cc.dc": 21, "cc.do": 21, "pcc.dc": 21, "pcc.do": 21}
    assert deliveries(db) == 105
    mailbox.take()
    again = remind(db, mailbox, "2026-10-20T09:00")
    assert (again["sent"], again["already_sent"]) == ([], 105) and mailbox.take() == []
    assert collab(db, "audit", "verify", "--json", actor="audit", check=0).json()["ok"]


def test_the_weekly_digest_lists_what_todo_lists_once_a_week(db: str, mailbox: Mailbox) -> None:
    in_delivery(db, date(2026, 9, 2))
    # Mon 19 Oct, the digest day: B1 and B2 missed the 6 Oct meeting, so their owners owe figures and RCB's
    # secretary their reviews; nobody else owes anything.
    on_monday = {"COLLAB_DIGEST_DAY": "Monday"}
    report = remind(db, mailbox, "2026-10-19T09:00", env=on_monday)
    assert Counter(s["kind"] for s in report["sent"]) == {"digest": 3}
    received = {to: subject for to, kind, subject in mailbox.take()}
    assert received == {
        "owner@example.org": "Your week from Mon 19 October 2026: 1 thing owed in collab",
        "owner2@example.org": "Your week from Mon 19 October 2026: 1 thing owed in collab",
        "sec@example.org": "Your week from Mon 19 October 2026: 2 things owed in collab"}
    todo = collab(db, "todo", "--json", actor="sec", env={"COLLAB_NOW": "2026-10-19T09:00"}, check=0).json()
    assert [(i["kind"], i["item"]) for i in todo] == [("review", "B1"), ("review", "B2")]
    # the rest of the week: each digest was sent once, by `remind` on its day or by `collab digest`
    assert remind(db, mailbox, "2026-10-20T09:00", env=on_monday)["sent"] != []  # the escalations
    mailbox.take()
    later = collab(db, "digest", "--at", "2026-10-21T09:00", "--json", actor="root",
                   env={"COLLAB_NOW": "2026-10-21T09:00", **mailbox.env}, check=0).json()
    assert (later["sent"], later["already_sent"]) == ([], 3) and mailbox.take() == []
    # without COLLAB_DIGEST_DAY, `remind` sends none; `collab digest` sends the next week's on any day
    assert [s for s in remind(db, mailbox, "2026-10-26T09:00")["sent"] if s["kind"] == "digest"] == []
    dry = collab(db, "digest", "--at", "2026-10-28T09:00", "--dry-run", actor="audit",
                 env={"COLLAB_NOW": "2026-10-28T09:00", **mailbox.env}, check=0).out
    assert "would send digest to sec@example.org: Your week from Mon 26 October 2026" in dry
    sent = collab(db, "digest", "--at", "2026-10-28T09:00", "--json", actor="root",
                  env={"COLLAB_NOW": "2026-10-28T09:00", **mailbox.env}, check=0).json()
    assert {s["user"] for s in sent["sent"]} == {"owner", "owner2", "sec"}
    (secretary,) = [m for rcpt, m in mailbox.messages() if rcpt == ["sec@example.org"]]
    text = secretary.get_body(preferencelist=("plain",)).get_content()
    assert "* review benefit B1 of SA at your board" in text
    assert "COLLAB_DIGEST_DAY='someday' is not a weekday" in collab(
        db, "remind", "--dry-run", actor="root", env={"COLLAB_DIGEST_DAY": "someday"}, check=2).err
