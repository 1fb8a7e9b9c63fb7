"""Approvals hold: bound to the facts they approved, varied only by re-approval, on dates that make sense."""

from __future__ import annotations

import pytest

from builders import DC, DORSET, as_of, in_delivery, open_as, people, ready_for_delivery
from conftest import collab
from workflow.errors import BadInput, Refused
from workflow.realisation import assess

SIGNATORIES = ("cc.dc", "pcc.dc", "cc.do", "pcc.do")


def history(db: str) -> list[dict]:
    return collab(db, "history", "SA", "--json", actor="audit", check=0).json()


def test_a_cost_share_change_after_the_delivery_gate_is_a_variation_until_all_four_re_approve(db: str) -> None:
    people(db)
    in_delivery(db)
    for code in ("B1", "B2"):
        open_as(db, "pm").handover("SA", code, business_area="Finance", to="owner2")
    collab(db, "partner", "shares", "SA", f"{DC}=60", f"{DORSET}=40", actor="pm", check=0)

    checked = collab(db, "check", "SA", "--json", actor="pm", check=0).json()
    assert checked["variations"] == [{
        "gate": "delivery",
        "changed": [f"partner {DC} cost share: 70.000 -> 60.000", f"partner {DORSET} cost share: 30.000 -> 40.000"],
        "awaiting": [f"{DC} chief officer", f"{DC} PCC", f"{DORSET} chief officer", f"{DORSET} PCC"],
    }]
    refused = collab(db, "advance", "SA", actor="pm", check=1)
    assert "variation of the delivery gate" in refused.err and f"{DORSET} PCC" in refused.err
    for signatory in SIGNATORIES[:3]:
        assert "approved the delivery gate" in collab(db, "approve", "SA", "--gate", "delivery", actor=signatory, check=0).out
    still = collab(db, "check", "SA", "--json", actor="pm").json()["variations"]
    assert [v["awaiting"] for v in still] == [[f"{DORSET} PCC"]]
    collab(db, "advance", "SA", actor="pm", check=1)
    collab(db, "approve", "SA", "--gate", "delivery", actor="pcc.do", check=0)
    assert collab(db, "check", "SA", "--json", actor="pm").json()["variations"] == []
    assert "delivery -> closure" in collab(db, "advance", "SA", actor="pm", check=0).out
    reapprovals = [e for e in history(db) if e["action"] == "approved" and e["payload"]["variation"]]
    assert len(reapprovals) == 4
    assert {e["payload"]["facts"]["partners"][DORSET]["cost_share"] for e in reapprovals} == {"40.000"}


def test_an_approval_records_the_facts_it_approved(db: str) -> None:
    people(db)
    ready_for_delivery(db)
    [approval] = [e for e in history(db) if e["action"] == "approved" and e["actor"] == "cc.dc"]
    facts = approval["payload"]["facts"]
    assert facts["partners"][DC] == {"kind": "police", "risk_appetite": "cautious", "cost_share": "70.000"}
    assert facts["artefacts"]["collaboration-agreement"] == "ref/collaboration-agreement"
    assert facts["benefits"]["B1"]["target"] == 12 and facts["purpose"]["objective"] == "Share services"
    assert len(approval["payload"]["digest"]) == 64


@pytest.mark.parametrize("change", ["partner", "retire", "target"])
def test_each_kind_of_change_after_the_agreement_is_a_variation(db: str, change: str) -> None:
    people(db)
    in_delivery(db)
    pm = open_as(db, "pm")
    if change == "partner":
        pm.add_partner("SA", "Hampshire Constabulary", risk_appetite="cautious")
        expected = "partner Hampshire Constabulary added"
    elif change == "retire":
        open_as(db, "cc.dc").retire("SA", "B2", reason="measured elsewhere")
        expected = "benefit B2 retired: False -> True"
    else:
        pm.update_benefit("SA", "B1", target=6)
        expected = "benefit B1 target: 12.0 -> 6.0"
    [variation] = pm.check("SA")["variations"]
    assert variation["gate"] == "delivery" and expected in variation["changed"]


def test_an_accepted_handover_moving_owners_is_not_a_variation(db: str) -> None:
    people(db)
    in_delivery(db)
    pm = open_as(db, "pm")
    for code in ("B1", "B2"):
        pm.handover("SA", code, business_area="Finance", to="owner2", board="RCB")
        open_as(db, "owner2").accept("SA", code)
    pm.advance("SA", reason="closing")
    pm.add_artefact("SA", "closure-report", "ref/closure")
    pm.advance("SA")  # into pir: the hand-over effect makes owner2 the owner of both
    assert {b["owner"] for b in pm.benefits("SA")} == {"owner2"}
    assert pm.check("SA")["variations"] == []


def test_invariants_hold_at_every_stage(db: str) -> None:
    people(db)
    in_delivery(db)
    pm = open_as(db, "pm")
    with pytest.raises(Refused, match="more than 100%"):
        pm.add_partner("SA", "Hampshire Constabulary", cost_share="10")
    with pytest.raises(Refused, match="cost shares sum to 90.000%, not 100%"):
        pm.add_partner("SA", DC, cost_share="60")
    with pytest.raises(Refused, match="risk appetites differ by more than 1 level"):
        pm.add_partner("SA", DORSET, risk_appetite="averse")
    assert [p["cost_share"] for p in pm.show("SA")["partners"]] == [70.0, 30.0]


def test_only_the_next_gate_or_a_varied_one_is_approved_and_dates_make_sense(db: str) -> None:
    people(db)
    with as_of("2019-01-02T09:00"):
        from builders import scoped

        scoped(db)  # registered on 2019-01-02, in scoping
    before = history(db)
    refused = collab(db, "approve", "SA", "--gate", "bau", actor="cc.dc", check=1)
    assert "the bau gate is neither the next gate of SA (at scoping) nor a passed gate under variation" in refused.err
    collab(db, "approve", "SA", "--gate", "delivery", actor="cc.dc", check=1)  # two gates ahead
    open_as(db, "pm").advance("SA", on=__import__("datetime").date(2019, 6, 3))
    early = collab(db, "approve", "SA", "--gate", "delivery", "--on", "2018-12-31", actor="cc.dc", check=2)
    assert "is before SA was registered on 2019-01-02" in early.err
    assert [e["action"] for e in history(db)] == [e["action"] for e in before] + ["advance"]


def test_a_gate_never_passes_before_its_evidence(db: str) -> None:
    from datetime import date

    people(db)
    with as_of("2020-01-10T09:00"):
        ready_for_delivery(db)
        open_as(db, "pm").add_artefact("SA", "collaboration-agreement", "ref/agreement-v2")  # dated 2020-01-10
        for signatory in SIGNATORIES:  # the agreement they approved was replaced: they approve the new one
            open_as(db, signatory).approve("SA", "delivery")
    with as_of("2020-02-01T09:00"):
        with pytest.raises(BadInput, match="its evidence is dated up to 2020-01-10"):
            open_as(db, "pm").advance("SA", on=date(2020, 1, 6))
        assert open_as(db, "pm").advance("SA", on=date(2020, 1, 10))["to"] == "delivery"


def test_a_dis_benefit_reads_the_right_way_round() -> None:
    from datetime import date

    def status(latest: float) -> str:
        return assess(baseline=0, target=300, start=date(2020, 1, 1), target_date=date(2021, 1, 1), plan=[],
                      measurements=[(date(2020, 7, 1), latest)], today=date(2020, 7, 2), dis_benefit=True).status

    # Half way through the year the plan expects about 150 hours of harm.
    assert status(120) == "on-track"  # less bad than planned
    assert status(200) == "behind"  # worse than planned
    assert status(320) == "behind"  # beyond the harm expected at all


def test_an_approval_given_before_a_change_no_longer_opens_its_gate(db: str) -> None:
    people(db)
    ready_for_delivery(db)
    pm = open_as(db, "pm")
    pm.update_benefit("SA", "B1", target=6)  # after the four approvals, before the gate
    [move] = pm.check("SA")["transitions"]
    assert f"{DC} chief officer approved the delivery gate on facts that have changed since: re-approve" in move["unmet"]
    assert pm.check("SA")["variations"] == []  # not passed yet: a stale approval, not a variation
    with pytest.raises(Refused):
        pm.advance("SA")
    for signatory in SIGNATORIES:
        assert open_as(db, signatory).approve("SA", "delivery")["variation"] is False
    assert pm.advance("SA")["to"] == "delivery"
