"""Several boards per benefit: each further board has it on its agenda and reminders and owes its own reviews,
from the day it took the benefit on (`collab benefit board add/remove`).

The timeline (tests/scripted.py): RCB (Devon & Cornwall) meets FREQ=MONTHLY;BYDAY=1TU from 2026-09-02, when SA
enters delivery: 6 Oct, 3 Nov, 1 Dec. Dorset's RCB meets FREQ=MONTHLY;BYDAY=2WE: 14 Oct, 11 Nov, 9 Dec. The
definition's lead is 7 days, its grace 14 days.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import text

from builders import DC, DORSET, as_of, open_as
from conftest import collab
from scripted import in_delivery, measure
from workflow.clock import LONDON
from workflow.db import engine_for
from workflow.errors import BadInput, Refused
from workflow.reminders import Reminders

DELIVERY = date(2026, 9, 2)
DORSET_RCB = "Dorset RCB"


def with_dorset_board(db: str, *, taken_on: str = "2026-10-10") -> None:
    """SA in delivery; Dorset's RCB (secretary sec2) takes B1 on `taken_on`, after its window for 14 Oct opened."""
    in_delivery(db, DELIVERY)
    with as_of("2026-09-02T09:00"):
        admin = open_as(db, "root")
        admin.add_user("sec2", "board-secretary", email="sec2@example.org")
        admin.add_board(DORSET_RCB, DORSET, "FREQ=MONTHLY;BYDAY=2WE", "sec2")
    with as_of(f"{taken_on}T09:00"):
        open_as(db, "pm").add_benefit_board("SA", "B1", DORSET_RCB)


def reviews(db: str, at: str, within: int = 35) -> list[tuple[str | None, str | None, str, str]]:
    rows = Reminders(open_as(db, "audit").ctx).reviews(date.fromisoformat(at), within)
    return [(r["benefit"], r["board"], r["due_on"], r["status"]) for r in rows]


def test_a_further_board_owes_its_own_reviews_from_the_day_it_took_the_benefit(db: str) -> None:
    with_dorset_board(db)
    # 15 Oct: Dorset's 14 Oct meeting went by, but its window (7 Oct) opened before it took B1 (10 Oct): not owed.
    assert [r for r in reviews(db, "2026-10-15", within=0) if r[1] == DORSET_RCB] == []
    # A figure of 8 Oct is after RCB's 6 Oct meeting (satisfies its 3 Nov review) but before Dorset's 14 Oct one,
    # so Dorset's 11 Nov review still needs a newer figure.
    measure(db, "B1", 5, date(2026, 10, 8))
    owed_by_b2 = [("B2", "RCB", "2026-10-06", "overdue"), ("B2", "RCB", "2026-11-03", "due")]
    assert reviews(db, "2026-10-27", within=20) == [*owed_by_b2, ("B1", DORSET_RCB, "2026-11-11", "upcoming")]
    assert Reminders(open_as(db, "audit").ctx).reviews(date(2026, 10, 27), board=DORSET_RCB)[0]["benefit"] == "B1"
    measure(db, "B1", 6, date(2026, 10, 20))
    assert reviews(db, "2026-10-27", within=20) == owed_by_b2
    assert open_as(db, "audit").verify().ok


def test_the_further_board_gets_the_agenda_and_the_owner_a_request_for_its_meeting(db: str) -> None:
    with_dorset_board(db)
    moment = datetime(2026, 11, 4, 9, 0, tzinfo=LONDON)  # Dorset's 11 Nov window opens; RCB's 3 Nov meeting is past
    with as_of("2026-11-04T09:00"):
        sent = Reminders(open_as(db, "root").ctx).remind(moment, dry_run=True)["sent"]
    assert sorted((s["kind"], s["user"], s["key"]) for s in sent if s["kind"] != "escalation") == [
        ("agenda", "sec2", "agenda:*:board-2:2026-11-11:sec2"),
        ("measurement-request", "owner", "measurement-request:SA:B1@board-2:2026-11-11:owner"),
    ]


def test_refusals_and_removal_with_a_reason(db: str) -> None:
    with_dorset_board(db)
    pm = open_as(db, "pm")
    with pytest.raises(Refused, match="Dorset RCB already reviews benefit B1"):
        pm.add_benefit_board("SA", "B1", "dorset rcb")
    with pytest.raises(Refused, match="RCB already reviews benefit B1"):
        pm.add_benefit_board("SA", "B1", "RCB")  # its own board
    with pytest.raises(Refused, match="RCB is not a further board of benefit B2 \\(it is the benefit's own board"):
        pm.remove_benefit_board("SA", "B2", "RCB", reason="x")
    with pytest.raises(BadInput, match="unknown board 'Nope'"):
        pm.add_benefit_board("SA", "B2", "Nope")
    with pytest.raises(BadInput, match="before SA was registered"):
        pm.add_benefit_board("SA", "B2", DORSET_RCB, on=date(2018, 1, 1))
    with as_of("2026-10-12T09:00"):
        open_as(db, "pm").add_benefit("SA", "B3", title="Later benefit", category="efficiency", on=date(2026, 10, 1))
        with pytest.raises(BadInput, match="identified on 2026-10-01: a board cannot take it on 2026-09-15"):
            open_as(db, "pm").add_benefit_board("SA", "B3", DORSET_RCB, on=date(2026, 9, 15))
    done = pm.remove_benefit_board("SA", "B1", DORSET_RCB, reason="Dorset reviews it through the Executive Board")
    assert done["board"] == DORSET_RCB
    assert [r for r in reviews(db, "2026-11-04") if r[1] == DORSET_RCB] == []
    removed = open_as(db, "audit").history("SA", action="benefit-board-removed")
    assert [(e["payload"]["board"], e["reason"]) for e in removed] == [
        (DORSET_RCB, "Dorset reviews it through the Executive Board")]
    assert open_as(db, "audit").verify().ok


@pytest.mark.parametrize("edit", [
    "UPDATE benefit_boards SET since = '2026-09-01'",
    "DELETE FROM benefit_boards",
    "INSERT INTO benefit_boards (benefit_id, board_id, since) SELECT id, 2, '2026-10-10' FROM benefits WHERE code = 'B2'",
])
def test_a_board_assignment_edited_in_the_database_is_named_by_audit_verify(db: str, edit: str) -> None:
    with_dorset_board(db)
    with engine_for(db).begin() as connection:
        connection.execute(text(edit))
    problem = collab(db, "audit", "verify", "--json", actor="audit", check=3).json()["problem"]  # type: ignore[index]
    assert problem.startswith("table benefit_boards, row SA/B")


def test_cli_add_show_list_report_and_remove(db: str) -> None:
    with_dorset_board(db)
    now = {"COLLAB_NOW": "2026-11-02T09:00"}
    added = collab(db, "benefit", "board", "add", "SA", "B2", "dorset rcb", "--json", actor="pm", env=now, check=0).json()
    assert added == {"key": "SA", "id": "B2", "board": DORSET_RCB, "since": "2026-11-02"}
    assert collab(db, "benefit", "board", "add", "SA", "B2", DORSET_RCB, actor="pm", env=now, check=1).err.strip() == \
        f"{DORSET_RCB} already reviews benefit B2"
    assert "unknown board 'Nope'" in collab(db, "benefit", "board", "add", "SA", "B2", "Nope", actor="pm", env=now, check=2).err
    boards = {b["id"]: b["boards"] for b in collab(db, "show", "SA", "--json", actor="audit", env=now, check=0).json()["benefits"]}
    assert boards == {"B1": ["RCB", DORSET_RCB], "B2": ["RCB", DORSET_RCB]}
    listed = collab(db, "benefit", "list", "SA", "--json", actor="audit", env=now, check=0).json()
    assert [b["boards"] for b in listed] == [["RCB", DORSET_RCB], ["RCB", DORSET_RCB]]
    assert f"RCB, {DORSET_RCB}" in collab(db, "benefit", "list", "SA", actor="audit", env=now, check=0).out
    assert f"(boards: RCB, {DORSET_RCB})" in collab(db, "show", "SA", actor="audit", env=now, check=0).out
    report = collab(db, "report", "SA", "--format", "json", actor="audit", env=now, check=0).json()
    assert [b["boards"] for b in report["benefits"]] == [["RCB", DORSET_RCB], ["RCB", DORSET_RCB]]
    assert f"RCB, {DORSET_RCB}" in collab(db, "report", "SA", "--format", "html", "--out", "-", actor="audit", env=now,
                                                  check=0).out
    collab(db, "benefit", "board", "remove", "SA", "B2", DORSET_RCB, actor="pm", env=now, check=2)  # --reason missing
    removed = collab(db, "benefit", "board", "remove", "SA", "B2", DORSET_RCB, "--reason", "one board is enough",
                     actor="pm", env=now, check=0)
    assert removed.out.strip() == f"SA: benefit B2 no longer reviewed by {DORSET_RCB}"
    assert collab(db, "audit", "verify", actor="audit", check=0)


def test_a_benefit_added_without_a_board_gets_the_partners_boards_of_its_categorys_types(db: str) -> None:
    in_delivery(db, DELIVERY)  # on definition v4: economic -> resource-control, executive; effectiveness -> performance
    with as_of("2026-09-02T09:00"):
        admin = open_as(db, "root")
        admin.add_user("sec2", "board-secretary", email="sec2@example.org")
        for name, force, kind in (("D&C RCB", DC, "resource-control"), (DORSET_RCB, DORSET, "resource-control"),
                                  ("Executive Board", DC, "executive"), ("Wiltshire RCB", "Wiltshire Police", "resource-control"),
                                  ("D&C Performance Board", DC, "performance")):
            admin.add_board(name, force, "FREQ=MONTHLY;BYDAY=2WE", "sec2", type=kind)
        with pytest.raises(BadInput, match="unknown board type 'wizardry' \\(types: executive, performance, resource-control\\)"):
            admin.add_board("Odd Board", DC, "FREQ=MONTHLY;BYDAY=2WE", "sec2", type="wizardry")
    with as_of("2026-09-10T09:00"):
        pm = open_as(db, "pm")
        assert pm.add_benefit("SA", "B3", title="Estates savings", category="economic")["boards"] == [
            "D&C RCB", DORSET_RCB, "Executive Board"]  # not Wiltshire's: no partner
        assert pm.add_benefit("SA", "B4", title="Victim satisfaction", category="effectiveness")["boards"] == [
            "D&C Performance Board"]
        assert pm.add_benefit("SA", "B5", title="Named board", category="economic", board="RCB")["boards"] == ["RCB"]
        proposed = pm.handover("SA", "B4", business_area="Victim services", to="owner2")  # no board named
        assert proposed["board"] == "D&C Performance Board"
    boards = {b["id"]: (b["board"], b["boards"]) for b in open_as(db, "audit").show("SA")["benefits"]}
    assert boards["B3"] == ("D&C RCB", ["D&C RCB", DORSET_RCB, "Executive Board"])
    assert boards["B4"] == ("D&C Performance Board", ["D&C Performance Board"])
    # `check` names each benefit without a board of a type its category needs (RCB has no type).
    gaps = collab(db, "check", "SA", "--json", actor="pm", check=0).json()["board_gaps"]
    assert gaps == [{"benefit": "B1", "category": "economic", "missing": ["resource-control", "executive"]},
                    {"benefit": "B2", "category": "effectiveness", "missing": ["performance"]},
                    {"benefit": "B5", "category": "economic", "missing": ["resource-control", "executive"]}]
    assert "benefit B2 (effectiveness) has no board of type performance" in collab(db, "check", "SA", actor="pm").out
    assert {b["name"]: b["type"] for b in collab(db, "board", "list", "--json", actor="pm").json()}["Executive Board"] == "executive"
    assert open_as(db, "audit").verify().ok


def test_a_further_board_made_the_own_board_reviews_the_benefit_once(db: str) -> None:
    with_dorset_board(db)
    with as_of("2026-10-12T09:00"):
        open_as(db, "pm").update_benefit("SA", "B1", board=DORSET_RCB)
    shown = collab(db, "show", "SA", "--json", actor="audit", check=0).json()
    assert {b["id"]: b["boards"] for b in shown["benefits"]}["B1"] == [DORSET_RCB]  # type: ignore[index]
    assert open_as(db, "audit").verify().ok  # the replay drops the further board too


def test_a_further_boards_secretary_records_its_review_and_a_reviewed_benefit_is_retired_not_removed(db: str) -> None:
    with_dorset_board(db)
    with as_of("2026-11-12T09:00"):
        done = open_as(db, "sec2").review_benefit("SA", "B1", board=DORSET_RCB, meeting=date(2026, 11, 11),
                                                  outcome="concern", note="savings behind plan")
        assert (done["board"], done["outcome"]) == (DORSET_RCB, "concern")
        pm = open_as(db, "pm")
        pm.add_benefit("SA", "B3", title="Fewer repeat calls", category="effectiveness", board=DORSET_RCB)
    with as_of("2026-12-10T09:00"):
        open_as(db, "sec2").review_benefit("SA", "B3", board=DORSET_RCB, meeting=date(2026, 12, 9), outcome="noted",
                                           note="first look")
        with pytest.raises(Refused, match="benefit B3 already has board reviews: retire it instead"):
            open_as(db, "pm").remove_benefit("SA", "B3", reason="entered twice")
    assert open_as(db, "audit").verify().ok
