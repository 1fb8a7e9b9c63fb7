"""A board changes: its rule, secretary, time or place (`collab board update`), and retires (`collab board retire`).

The scripted timeline (tests/scripted.py): SA enters delivery on Wed 2 Sep 2026; RCB (secretary `sec`) meets
FREQ=MONTHLY;BYDAY=1TU at 10:00, first on Tue 6 Oct 2026, and reviews B1 and B2. Each change replays (`audit verify`).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import icalendar
from sqlalchemy import text

from builders import DC, as_of, open_as
from conftest import collab
from scripted import in_delivery, measure
from test_reminders import Mailbox, calendar_event, mailbox, remind  # noqa: F401 (the fixture)
from workflow.clock import LONDON
from workflow.db import engine_for


def verify(db: str, code: int = 0) -> dict:  # type: ignore[type-arg]
    return collab(db, "audit", "verify", "--json", actor="audit", check=code).json()  # type: ignore[return-value]


def due_dates(db: str, at: str) -> list[str]:
    rows = collab(db, "reviews", "--at", at, "--within", "70", "--json", actor="audit", check=0).json()
    return sorted({r["due_on"] for r in rows})  # type: ignore[union-attr, index]


def test_an_update_changes_rule_secretary_time_and_place_and_replays(db: str) -> None:
    in_delivery(db, date(2026, 9, 2))
    open_as(db, "root").add_user("sec2", "board-secretary", email="sec2@example.org")
    assert due_dates(db, "2026-09-20") == ["2026-10-06", "2026-11-03"]
    done = collab(db, "board", "update", "rcb", "--rule", "FREQ=MONTHLY;BYDAY=2WE", "--secretary", "sec2",
                  "--time", "14:30", "--location", "HQ, room 2", "--json", actor="root",
                  env={"COLLAB_NOW": "2026-09-20T09:00"}, check=0).json()
    assert done["changes"] == {  # type: ignore[index]
        "meets": {"from": "FREQ=MONTHLY;BYDAY=1TU", "to": "FREQ=MONTHLY;BYDAY=2WE"},
        "meets_at": {"from": None, "to": "14:30"}, "location": {"from": None, "to": "HQ, room 2"},
        "secretary": {"from": "sec", "to": "sec2"}, "anchor": {"from": "2026-09-02", "to": "2026-09-20"}}
    (event,) = collab(db, "history", "--all", "--action", "board-updated", "--json", actor="audit", check=0).json()  # type: ignore[misc]
    assert event["payload"]["changes"] == done["changes"]  # type: ignore[index]
    # The meetings from now on follow the new rule: the second Wednesday.
    assert due_dates(db, "2026-09-20") == ["2026-10-14", "2026-11-11"]
    (board,) = collab(db, "board", "list", "--json", actor="audit", check=0).json()  # type: ignore[misc]
    assert (board["secretary"], board["time"], board["location"]) == ("sec2", "14:30", "HQ, room 2")  # type: ignore[index]
    assert verify(db)["ok"]
    again = collab(db, "board", "update", "RCB", "--time", "14:30", "--json", actor="root", check=0).json()
    assert again["changes"] == {}  # type: ignore[index]


def test_an_update_is_checked_like_a_new_board(db: str) -> None:
    in_delivery(db, date(2026, 9, 2))
    before = collab(db, "board", "list", "--json", actor="audit", check=0).json()
    for args, said in ((["--rule", "FREQ=SECONDLY"], "finer than DAILY"), (["--time", "25:00"], "is not HH:MM"),
                       (["--secretary", "pm"], "must have the role board-secretary"), ([], "nothing to change"),
                       (["--secretary", "ghost"], "unknown user 'ghost'"), (["--location", " "], "must not be empty")):
        assert said in collab(db, "board", "update", "RCB", *args, actor="root", check=2).err
    assert "unknown board 'RBC'" in collab(db, "board", "update", "RBC", "--time", "09:00", actor="root", check=2).err
    assert "to register boards needs the role admin" in collab(db, "board", "update", "RCB", "--time", "09:00",
                                                               actor="sec", check=1).err
    assert collab(db, "board", "list", "--json", actor="audit", check=0).json() == before


def test_the_new_time_is_in_the_invitation_and_sent_reminders_are_not_resent(db: str, mailbox: Mailbox) -> None:
    in_delivery(db, date(2026, 9, 2))
    remind(db, mailbox, "2026-09-29T09:00")
    assert len(mailbox.take()) == 3  # the 6 Oct agenda and two figure requests
    with as_of("2026-09-29T10:00"):
        open_as(db, "root").update_board("RCB", time="14:00")
    assert remind(db, mailbox, "2026-09-29T11:00")["sent"] == [] and mailbox.take() == []  # same meeting, same day
    with as_of("2026-09-30T09:00"):
        open_as(db, "root").update_board("RCB", rule="FREQ=MONTHLY;BYDAY=1WE")  # 7 Oct from now on
    report = remind(db, mailbox, "2026-09-30T09:00")
    assert sorted(s["kind"] for s in report["sent"]) == ["agenda", "measurement-request", "measurement-request"]
    (agenda,) = [m for _, m in mailbox.messages() if m["X-Collab-Key"].startswith("agenda:")]
    assert calendar_event(agenda).decoded("DTSTART") == datetime(2026, 10, 7, 14, 0, tzinfo=LONDON)
    assert verify(db)["ok"]


def test_a_board_change_made_in_the_database_fails_verification(db: str) -> None:
    in_delivery(db, date(2026, 9, 2))
    open_as(db, "root").update_board("RCB", time="09:30")
    with engine_for(db).begin() as connection:
        connection.execute(text("UPDATE boards SET meets_at = '11:00'"))
    assert verify(db, 3)["problem"] == "table boards, row RCB, field meets_at: the history says '09:30', the table holds '11:00'"


def test_a_board_is_retired_only_once_no_benefit_is_reviewed_by_it(db: str) -> None:
    in_delivery(db, date(2026, 9, 2))
    admin = open_as(db, "root")
    admin.add_board("PB", DC, "FREQ=MONTHLY;BYDAY=2TU", "sec")
    refused = collab(db, "board", "retire", "RCB", "--reason", "merged into PB", actor="root", check=1)
    assert refused.err.splitlines() == [
        "benefit B1 of SA is still reviewed by RCB: move it to another board first (collab benefit update SA B1 --board BOARD)",
        "benefit B2 of SA is still reviewed by RCB: move it to another board first (collab benefit update SA B2 --board BOARD)"]
    for code in ("B1", "B2"):
        collab(db, "benefit", "update", "SA", code, "--board", "PB", actor="pm", check=0)
    done = collab(db, "board", "retire", "RCB", "--reason", "merged into PB", "--json", actor="root", check=0).json()
    assert done["retired_on"] is not None  # type: ignore[index]
    assert [b["name"] for b in collab(db, "board", "list", "--json", actor="audit", check=0).json()] == ["PB"]  # type: ignore[union-attr, index]
    assert [b["name"] for b in collab(db, "board", "list", "--all", "--json", actor="audit", check=0).json()] == ["PB", "RCB"]  # type: ignore[union-attr, index]
    assert "the board RCB was retired" in collab(db, "benefit", "update", "SA", "B1", "--board", "rcb", actor="pm",
                                                 check=1).err
    assert "the board RCB was retired" in collab(db, "board", "retire", "RCB", "--reason", "again", actor="root", check=1).err
    assert "RCB" not in {r["board"] for r in collab(db, "reviews", "--at", "2026-09-30", "--json", actor="audit", check=0).json()}  # type: ignore[union-attr, index]
    assert verify(db)["ok"]
    with engine_for(db).begin() as connection:
        connection.execute(text("UPDATE boards SET retired_on = NULL"))
    assert "field retired_on" in verify(db, 3)["problem"]


def invitation(mailbox: Mailbox, kind: str) -> tuple[str, icalendar.Event]:
    """The METHOD and the event of the calendar attached to the one message of `kind` received."""
    (message,) = [m for _, m in mailbox.messages() if m["X-Collab-Key"].startswith(f"{kind}:")]
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    calendar = icalendar.Calendar.from_ical(part.get_content())
    return str(calendar["METHOD"]), calendar.walk("VEVENT")[0]


def test_a_moved_meeting_owes_its_reviews_on_the_new_day_and_updates_the_invitation(db: str, mailbox: Mailbox) -> None:
    in_delivery(db, date(2026, 9, 2))
    remind(db, mailbox, "2026-09-29T09:00")
    method, event = invitation(mailbox, "agenda")
    assert (method, str(event["UID"]), event.get("SEQUENCE")) == ("PUBLISH", "meeting-20261006-board-1@collab", None)
    mailbox.take()
    moved = collab(db, "board", "meeting", "move", "RCB", "2026-10-06", "--to", "2026-10-13", "--reason", "room taken",
                   "--json", actor="sec", env={"COLLAB_NOW": "2026-09-30T09:00"}, check=0).json()
    assert moved == {"board": "RCB", "meeting": "2026-10-06", "was_on": "2026-10-06", "status": "moved",
                     "to": "2026-10-13", "reason": "room taken", "sequence": 1}
    assert due_dates(db, "2026-09-30") == ["2026-10-13", "2026-11-03", "2026-12-01"]
    assert remind(db, mailbox, "2026-10-05T09:00")["sent"] == []  # the new day's window opens on 6 Oct
    report = remind(db, mailbox, "2026-10-06T09:00")
    assert sorted(s["kind"] for s in report["sent"]) == ["agenda", "measurement-request", "measurement-request"]
    method, event = invitation(mailbox, "agenda")
    assert (method, str(event["UID"]), event["SEQUENCE"]) == ("REQUEST", "meeting-20261006-board-1@collab", 1)
    assert event.decoded("DTSTART") == datetime(2026, 10, 13, 10, 0, tzinfo=LONDON)
    mailbox.take()
    # The missed reviews escalate 14 days after the new day (27 Oct), not after the old one (20 Oct).
    assert remind(db, mailbox, "2026-10-26T09:00")["sent"] == []
    sent = remind(db, mailbox, "2026-10-27T09:00")["sent"]  # with the 3 Nov agenda and requests
    assert {s["key"].split(":")[3] for s in sent if s["kind"] == "escalation"} == {"2026-10-13"}
    assert len([s for s in sent if s["kind"] == "escalation"]) == 10  # B1 and B2, to pm and both forces' leaders
    assert verify(db)["ok"]


def test_a_cancelled_meeting_owes_nothing_and_its_invitation_is_withdrawn(db: str, mailbox: Mailbox) -> None:
    in_delivery(db, date(2026, 9, 2))
    measure(db, "B1", 5, date(2026, 10, 2))
    measure(db, "B2", 75, date(2026, 10, 2))
    remind(db, mailbox, "2026-10-27T09:00")  # the 3 Nov agenda and requests
    mailbox.take()
    with as_of("2026-10-28T09:00"):
        done = open_as(db, "sec").cancel_meeting("RCB", date(2026, 11, 3), reason_text="not quorate")
    assert (done["status"], done["sequence"]) == ("cancelled", 1)
    assert due_dates(db, "2026-10-28") == ["2026-12-01", "2027-01-05"]  # not 3 Nov
    remind(db, mailbox, "2026-10-28T09:00")
    (message,) = [m for _, m in mailbox.messages()]
    assert message["Subject"] == "The RCB meeting of Tue 3 November 2026 is cancelled"
    assert "Reason: not quorate" in message.get_body(preferencelist=("plain",)).get_content()
    method, event = invitation(mailbox, "meeting-cancelled")
    assert (method, str(event["UID"]), str(event["STATUS"]), event["SEQUENCE"]) == (
        "CANCEL", "meeting-20261103-board-1@collab", "CANCELLED", 1)
    mailbox.take()
    # Nothing escalates for the cancelled meeting (3 Nov + 14 = 17 Nov), and the cancellation is sent once.
    assert remind(db, mailbox, "2026-11-17T09:00")["sent"] == []
    assert verify(db)["ok"]
    with engine_for(db).begin() as connection:
        connection.execute(text("UPDATE meeting_changes SET status = 'moved', moved_to = '2026-11-04'"))
    assert "table meetings, row RCB/2026-11-03, field status" in verify(db, 3)["problem"]


def test_only_a_meeting_of_the_schedule_still_ahead_is_changed_by_its_secretary(db: str) -> None:
    in_delivery(db, date(2026, 9, 2))
    open_as(db, "root").add_user("sec2", "board-secretary")
    now = {"COLLAB_NOW": "2026-09-30T09:00"}

    def refused(actor: str, code: int, *args: str) -> str:
        return collab(db, "board", "meeting", *args, actor=actor, env=now, check=code).err

    assert refused("sec", 2, "move", "RCB", "2026-10-07", "--to", "2026-10-08") == (
        "RCB does not meet on 2026-10-07 (its nearest meetings: 2026-10-06, 2026-11-03, 2026-12-01)\n")
    assert "RCB already meets on 2026-11-03" in refused("sec", 2, "move", "RCB", "2026-10-06", "--to", "2026-11-03")
    assert "has been held" in collab(db, "board", "meeting", "cancel", "RCB", "2026-10-06", "--reason", "late",
                                     actor="sec", env={"COLLAB_NOW": "2026-10-07T09:00"}, check=2).err
    assert "before 2026-09-30" in refused("sec", 2, "move", "RCB", "2026-10-06", "--to", "2026-09-29")
    assert "sec2 is not the secretary of RCB (sec is)" in refused("sec2", 1, "cancel", "RCB", "2026-10-06", "--reason", "x")
    assert "to change a board's meetings needs the role admin or board-secretary" in refused(
        "owner", 1, "cancel", "RCB", "2026-10-06", "--reason", "x")
    assert collab(db, "history", "--all", "--action", "meeting-moved", "--json", actor="audit", check=0).json() == []
    collab(db, "board", "meeting", "cancel", "RCB", "2026-10-06", "--reason", "x", actor="root", env=now, check=0)
    assert "was cancelled on 2026-09-30" in refused("sec", 1, "move", "RCB", "2026-10-06", "--to", "2026-10-08")


def test_the_agenda_preview_is_what_the_secretary_is_sent(db: str, mailbox: Mailbox) -> None:
    in_delivery(db, date(2026, 9, 2))
    measure(db, "B1", 5, date(2026, 10, 2))  # B1's 6 Oct review is satisfied, B2's is missed
    now = {"COLLAB_NOW": "2026-10-27T09:00"}
    agenda = collab(db, "board", "agenda", "rcb", "--json", actor="audit", env=now, check=0).json()
    assert (agenda["board"], agenda["meeting"], agenda["secretary"]) == ("RCB", "2026-11-03", "sec")  # type: ignore[index]
    (sa,) = agenda["collaborations"]  # type: ignore[index]
    assert [(r["benefit_id"], r["owner"], r["status"], r["latest"], r["target"]) for r in sa["reviews"]] == [
        ("B1", "owner", "awaiting figure", 5.0, 12.0), ("B2", "owner2", "awaiting figure", None, 78.0)]
    assert [(r["benefit"], r["due_on"], r["status"]) for r in agenda["overdue"]] == [("B2", "2026-10-06", "overdue")]  # type: ignore[index]
    shown = collab(db, "board", "agenda", "RCB", "--meeting", "2026-11-03", actor="audit", env=now, check=0).out
    remind(db, mailbox, "2026-10-27T09:00")
    (message,) = [m for _, m in mailbox.messages() if m["X-Collab-Key"].startswith("agenda:")]
    sent = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert shown.startswith(sent.rstrip("\n") + "\n")
    assert shown.endswith("overdue: SA B2 (Public confidence), due 2026-10-06, figure from owner2\n")
    # A past meeting shows what it owed; a day the board does not meet is bad input.
    past = collab(db, "board", "agenda", "RCB", "--meeting", "2026-10-06", "--json", actor="audit", env=now, check=0).json()
    assert [r["status"] for r in past["collaborations"][0]["reviews"]] == ["figure received", "awaiting figure"]  # type: ignore[index]
    assert "RCB does not meet on 2026-11-04" in collab(db, "board", "agenda", "RCB", "--meeting", "2026-11-04",
                                                       actor="audit", env=now, check=2).err


def test_a_boards_review_outcome_and_its_evidence_show_in_the_report(db: str, tmp_path: Path) -> None:
    in_delivery(db, date(2026, 9, 2))
    now = {"COLLAB_NOW": "2026-10-07T09:00"}
    done = collab(db, "benefit", "review", "SA", "B1", "--board", "rcb", "--meeting", "2026-10-06", "--outcome", "concern",
                  "--note", "Savings behind plan", "--evidence-source", "Staff survey", "--evidence-date", "2026-09-30",
                  "--json", actor="sec", env=now, check=0).json()
    evidence = [{"note": "Savings behind plan", "source": "Staff survey", "on": "2026-09-30"}]
    assert done == {"key": "SA", "id": "B1", "board": "RCB", "meeting": "2026-10-06", "outcome": "concern",
                    "note": "Savings behind plan", "evidence": evidence}
    collab(db, "benefit", "review", "SA", "B2", "--board", "RCB", "--meeting", "2026-10-06", "--outcome", "noted",
           "--note", "No figure yet", actor="sec", env=now, check=0)
    report = collab(db, "report", "SA", "--format", "json", actor="audit", env=now, check=0).json()
    reviews = {b["id"]: b["reviews"] for b in report["benefits"]}  # type: ignore[index]
    assert reviews == {"B1": [{"board": "RCB", "meeting": "2026-10-06", "outcome": "concern", "note": "Savings behind plan",
                               "evidence": evidence}],
                       "B2": [{"board": "RCB", "meeting": "2026-10-06", "outcome": "noted", "note": "No figure yet",
                               "evidence": []}]}
    html = collab(db, "report", "SA", "--format", "html", "--out", str(tmp_path / "r.html"), actor="audit", env=now, check=0)
    page = (tmp_path / "r.html").read_text()
    assert html.code == 0 and "Board reviews" in page and "Savings behind plan" in page and "Staff survey" in page
    # The outcome sits beside the figure: B2's 6 Oct review is still overdue without one.
    owed = collab(db, "reviews", "--at", "2026-10-07", "--json", actor="audit", check=0).json()
    assert {(r["benefit"], r["due_on"], r["status"]) for r in owed} >= {("B2", "2026-10-06", "overdue")}  # type: ignore[union-attr, index]
    assert verify(db)["ok"]
    with engine_for(db).begin() as connection:
        connection.execute(text("UPDATE benefit_reviews SET outcome = 'noted' WHERE note = 'Savings behind plan'"))
    assert verify(db, 3)["problem"].startswith("table reviews, row SA/B1, entry 1")


def test_only_the_boards_secretary_records_its_review_of_a_meeting_held(db: str) -> None:
    in_delivery(db, date(2026, 9, 2))
    admin = open_as(db, "root")
    admin.add_user("sec2", "board-secretary")
    admin.add_board("PB", DC, "FREQ=MONTHLY;BYDAY=1TU", "sec2")
    now = {"COLLAB_NOW": "2026-10-07T09:00"}

    def refused(actor: str, code: int, *args: str) -> str:
        base = ["benefit", "review", "SA", "B1", "--board", "RCB", "--meeting", "2026-10-06", "--outcome", "noted",
                "--note", "fine"]
        return collab(db, *base, *args, actor=actor, env=now, check=code).err

    assert "to record a board's review needs the role board-secretary" in refused("pm", 1)
    assert "sec2 is not the secretary of RCB (sec is)" in refused("sec2", 1)
    assert "benefit B1 of SA is not reviewed by PB" in refused("sec2", 2, "--board", "PB")
    assert "RCB did not meet on 2026-10-07" in refused("sec", 2, "--meeting", "2026-10-07")
    assert "after 2026-10-07" in refused("sec", 2, "--meeting", "2026-11-03")
    assert "evidence needs both its source and its date" in refused("sec", 2, "--evidence-source", "Focus group")
    assert "Invalid value for '--outcome'" in refused("sec", 2, "--outcome", "great")
    assert collab(db, "history", "--all", "--action", "benefit-reviewed", "--json", actor="audit", check=0).json() == []
