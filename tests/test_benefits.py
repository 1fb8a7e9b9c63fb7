"""The benefits register: measurements, realisation, enforced handover, retirement, lessons."""

from datetime import date, datetime

import pytest

from builders import DC, DORSET, closed, in_delivery, open_as, people
from conftest import collab
from workflow.clock import LONDON, Clock
from workflow.errors import BadInput, Refused
from workflow.service import Collab

JULY_6 = {"COLLAB_NOW": "2020-07-06T12:00"}


def at(db: str, actor: str, day: str) -> Collab:
    return Collab.open(db, actor, Clock(datetime.fromisoformat(day).replace(tzinfo=LONDON)))


def test_seven_benefits_one_not_accepted_is_refused_entry_to_pir(db: str) -> None:
    people(db)
    pm = in_delivery(db)
    for n in range(3, 8):
        pm.add_benefit("SA", f"B{n}", title=f"Outcome {n}", category="effectiveness", measure="m", baseline=0,
                       target=10, by=date(2030, 1, 1), owner="owner", board="RCB")
    for n in range(1, 8):
        pm.handover("SA", f"B{n}", business_area="Operations", to="owner2", board="RCB")
    pm.advance("SA", on=date(2023, 3, 31))
    pm.add_artefact("SA", "closure-report", "ref/closure")
    receiver = open_as(db, "owner2")
    for n in (1, 2, 3, 4, 6, 7):
        receiver.accept("SA", f"B{n}")
    refused = collab(db, "advance", "SA", actor="pm", check=1)
    assert refused.err.splitlines() == ["benefit B5 handover not yet accepted by owner2"]
    collab(db, "benefit", "accept", "SA", "B5", actor="owner2", check=0)
    assert "closure -> pir" in collab(db, "advance", "SA", actor="pm", check=0).out


def test_benefit_list_reports_realisation_for_rising_falling_and_missing_data(db: str) -> None:
    people(db)
    in_delivery(db)
    july = at(db, "pm", "2020-07-06T12:00")
    # Rising: 100 -> 150 from 2020-01-06 to 2021-01-06 (366 days, 2020 is a leap year).
    july.add_benefit("SA", "UP", title="Cases solved", category="effectiveness", measure="cases", baseline=100,
                     target=150, by=date(2021, 1, 6), owner="owner", board="RCB", on=date(2020, 1, 6))
    # Falling: annual cost 10 -> 8 over the same year, planned to be half way (9.0) by 6 July.
    july.add_benefit("SA", "DOWN", title="Annual cost", category="economic", measure="cost", unit="£m", baseline=10,
                     target=8, by=date(2021, 1, 6), owner="owner", board="RCB", on=date(2020, 1, 6))
    july.plan("SA", "DOWN", [(date(2020, 7, 6), 9.0), (date(2021, 1, 6), 8.0)])
    july.add_benefit("SA", "NONE", title="Not yet measured", category="effectiveness", measure="m", baseline=1,
                     target=2, by=date(2021, 1, 6), owner="owner", board="RCB", on=date(2020, 1, 6))
    collab(db, "benefit", "measure", "SA", "UP", "125", "--on", "2020-07-06", actor="owner", env=JULY_6, check=0)
    collab(db, "benefit", "measure", "SA", "DOWN", "9.5", "--on", "2020-07-01", actor="sec", env=JULY_6, check=0)
    rows = {r["id"]: r for r in collab(db, "benefit", "list", "SA", "--json", actor="audit", env=JULY_6, check=0).json()}
    for key in ("id", "title", "category", "owner", "board", "baseline", "target", "latest", "progress", "planned",
                "status", "handover"):
        assert key in rows["UP"]
    # (125 - 100) / (150 - 100) = 0.5; planned: 100 + 50 * 182/366 = 124.863388; 0.5 >= 0.4973 -> on-track
    assert (rows["UP"]["latest"], rows["UP"]["progress"], rows["UP"]["planned"], rows["UP"]["status"]) == (
        125.0, 0.5, 124.863388, "on-track")
    # (9.5 - 10) / (8 - 10) = 0.25 against a plan of 9.0 (0.5 of the way) -> behind
    assert (rows["DOWN"]["latest"], rows["DOWN"]["progress"], rows["DOWN"]["planned"], rows["DOWN"]["status"]) == (
        9.5, 0.25, 9.0, "behind")
    # a cashable saving is shared 70/30 by cost share: 9.5 -> 6.65 and 2.85
    assert rows["DOWN"]["savings"] == {DC: 6.65, DORSET: 2.85}
    assert (rows["NONE"]["latest"], rows["NONE"]["progress"], rows["NONE"]["status"]) == (None, None, "no-data")
    collab(db, "benefit", "measure", "SA", "DOWN", "7.5", "--on", "2020-07-06", actor="owner", env=JULY_6, check=0)
    down = next(r for r in collab(db, "benefit", "list", "SA", "--json", actor="audit", env=JULY_6, check=0).json() if r["id"] == "DOWN")
    # (7.5 - 10) / (8 - 10) = 1.25: beyond target
    assert (down["progress"], down["status"]) == (1.25, "realised")
    shown = collab(db, "show", "SA", "--json", actor="audit", env=JULY_6, check=0).json()
    assert shown["realisation"]["benefits"]["realised"] == 1 and shown["realisation"]["savings"] == {DC: 5.25, DORSET: 2.25}


def test_only_the_named_receiver_accepts_and_an_auditor_cannot_measure(db: str) -> None:
    people(db)
    closed(db)
    before = collab(db, "history", "SA", "--json", actor="audit", check=0).json()
    wrong = collab(db, "benefit", "accept", "SA", "B1", actor="owner", check=1)
    assert wrong.err.strip() == "only owner2, the named receiver, may accept or decline benefit B1"
    auditor = collab(db, "benefit", "measure", "SA", "B1", "3", actor="audit", check=1)
    assert "audit may not measure benefit B1" in auditor.err
    assert collab(db, "history", "SA", "--json", actor="audit", check=0).json() == before
    assert all(r["latest"] is None for r in collab(db, "benefit", "list", "SA", "--json", actor="audit", check=0).json())


@pytest.mark.parametrize("args, message", [
    (["B1", "lots"], "the value 'lots' is not a number"),
    (["B1", "nan"], "is not a finite number"),
    (["B1", "3", "--on", "2999-01-01"], "a measurement cannot be dated in the future"),
    (["B9", "3"], "unknown benefit 'B9' in SA"),
])
def test_bad_measurements_exit_2(db: str, args: list[str], message: str) -> None:
    people(db)
    in_delivery(db)
    assert message in collab(db, "benefit", "measure", "SA", *args, actor="owner", check=2).err


def test_measurements_after_closure_are_kept_by_the_business_area(db: str) -> None:
    people(db)
    closed(db)
    receiver = open_as(db, "owner2")
    receiver.accept("SA", "B1")
    receiver.accept("SA", "B2")
    pm = open_as(db, "pm")
    pm.advance("SA", on=date(2023, 4, 3))
    rows = {r["id"]: r for r in pm.benefits("SA")}
    assert rows["B1"]["owner"] == "owner2"  # ownership moved to the business area
    with pytest.raises(Refused, match="only its owner \\(owner2\\)"):
        open_as(db, "owner").measure("SA", "B1", 4)
    collab(db, "benefit", "measure", "SA", "B1", "4.5", "--on", "2023-06-30", "--note", "Q1", actor="owner2", check=0)
    pm.add_lesson("SA", "Agree owners early")
    pm.add_artefact("SA", "pir-report", "ref/pir")
    for approver in ("cc.dc", "cc.do"):
        open_as(db, approver).approve("SA", "bau")
    pm.advance("SA")
    collab(db, "benefit", "measure", "SA", "B1", "6", actor="owner2", check=0)
    listed = {r["id"]: r for r in collab(db, "benefit", "list", "SA", "--json", actor="audit", check=0).json()}
    assert (listed["B1"]["latest"], listed["B1"]["measurements"]) == (6.0, 2)
    measured = [e for e in collab(db, "history", "SA", "--action", "measured", "--json", actor="audit", check=0).json()]
    assert [(e["payload"]["value"], e["payload"]["stage"]) for e in measured] == [(4.5, "pir"), (6.0, "bau")]


def test_a_declined_handover_is_proposed_again(db: str) -> None:
    people(db)
    closed(db)
    receiver = open_as(db, "owner2")
    receiver.decline("SA", "B1", reason="not our area")
    receiver.accept("SA", "B2")
    with pytest.raises(Refused) as refused:
        open_as(db, "pm").advance("SA")
    assert refused.value.reasons == ["benefit B1 handover was declined by owner2; propose it again"]
    with pytest.raises(Refused, match="its handover is already declined"):
        receiver.accept("SA", "B1")
    open_as(db, "pm").handover("SA", "B1", business_area="Operations", to="owner")
    open_as(db, "owner").accept("SA", "B1")
    assert open_as(db, "pm").advance("SA")["to"] == "pir"
    with pytest.raises(Refused, match="already accepted by owner"):
        open_as(db, "pm").handover("SA", "B1", business_area="Elsewhere", to="owner2")


def test_a_retired_benefit_needs_a_partners_chief_officer_and_leaves_the_gate(db: str) -> None:
    people(db)
    closed(db)
    with pytest.raises(Refused, match="to retire a benefit needs the role chief-officer"):
        open_as(db, "pcc.dc").retire("SA", "B1", reason="superseded")
    open_as(db, "root").add_user("cc.avon", "chief-officer", partner="Avon and Somerset Police")
    with pytest.raises(Refused, match="not a partner of SA"):
        open_as(db, "cc.avon").retire("SA", "B1", reason="superseded")
    open_as(db, "cc.dc").retire("SA", "B1", reason="superseded by the national programme")
    open_as(db, "owner2").accept("SA", "B2")
    with pytest.raises(Refused, match="variation of the delivery gate .benefit B1 retired"):
        open_as(db, "pm").advance("SA")  # retiring a benefit varies what its signatories approved
    for signatory in ("cc.dc", "pcc.dc", "cc.do", "pcc.do"):
        open_as(db, signatory).approve("SA", "delivery")
    assert open_as(db, "pm").advance("SA")["to"] == "pir"
    b1 = next(r for r in open_as(db, "pm").benefits("SA") if r["id"] == "B1")
    assert (b1["status"], b1["retired"]["reason"]) == ("retired", "superseded by the national programme")
    with pytest.raises(Refused, match="retired"):
        open_as(db, "owner").measure("SA", "B1", 1)


def test_dis_benefits_are_tracked_and_shown_apart(db: str) -> None:
    people(db)
    pm = in_delivery(db)
    pm.add_benefit("SA", "D1", title="Officer travel time", category="efficiency", measure="hours", baseline=0,
                   target=500, by=date(2030, 1, 1), owner="owner", board="RCB", dis_benefit=True)
    open_as(db, "owner").measure("SA", "D1", 100)
    shown = pm.show("SA")
    assert sum(shown["realisation"]["dis_benefits"].values()) == 1
    assert sum(shown["realisation"]["benefits"].values()) == 2
    text = collab(db, "benefit", "list", "SA", actor="audit", check=0).out
    assert text.index("SA dis-benefits:") < text.index("D1")


def test_lessons_are_found_across_collaborations(db: str) -> None:
    people(db)
    pm = open_as(db, "pm")
    pm.new("SA", "Strategic Alliance")
    pm.new("ROCU", "Regional organised crime unit", origin="operational")
    pm.add_lesson("SA", "Name benefit owners in the business areas at PID", theme="benefits")
    open_as(db, "cc.dc").add_lesson("ROCU", "Agree the risk appetite before the agreement", theme="governance")
    with pytest.raises(Refused):
        open_as(db, "audit").add_lesson("SA", "auditors only read")
    found = collab(db, "lessons", "--search", "BENEFIT", "--json", actor="audit", check=0).json()
    assert [(r["collaboration"], r["theme"]) for r in found] == [("SA", "benefits")]
    everything = collab(db, "lessons", "--json", actor="audit", check=0).json()
    assert {r["collaboration"] for r in everything} == {"SA", "ROCU"}
    assert [r["collaboration"] for r in collab(db, "lessons", "--search", "organised", "--json", actor="audit", check=0).json()] == ["ROCU"]


def test_a_plan_needs_distinct_dates(db: str) -> None:
    people(db)
    pm = in_delivery(db)
    with pytest.raises(BadInput, match="two plan points for one date"):
        pm.plan("SA", "B1", [(date(2025, 1, 1), 1.0), (date(2025, 1, 1), 2.0)])
    assert "is not DATE=VALUE" in collab(db, "benefit", "plan", "SA", "B1", "--point", "soon=3", actor="pm", check=2).err
