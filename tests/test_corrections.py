"""Corrections are events with a reason, never deletes of history: voided figures, partners and benefits
removed by mistake, categories and titles put right, a collaboration with no partner withdrawn. Names people
type match whatever their case, with a "did you mean" when near. Each correction replays (`audit verify`)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from builders import DC, DORSET, in_delivery, open_as, people, ready_for_delivery, scoped
from conftest import collab
from workflow.db import engine_for

NOW = {"COLLAB_NOW": "2020-03-02T10:00"}


def verified(db: str) -> dict:  # type: ignore[type-arg]
    return collab(db, "audit", "verify", "--json", actor="audit", env=NOW, check=0).json()  # type: ignore[return-value]


def test_a_voided_measurement_stays_in_the_history_and_leaves_the_figures(db: str) -> None:
    people(db)
    in_delivery(db)
    collab(db, "benefit", "measure", "SA", "B1", "3", "--on", "2020-02-03", actor="owner", env=NOW, check=0)
    wrong = collab(db, "benefit", "measure", "SA", "B1", "30", "--on", "2020-03-02", "--json", actor="owner", env=NOW,
                   check=0).json()
    assert wrong == {"key": "SA", "id": "B1", "value": 30.0, "on": "2020-03-02"}
    assert _latest(db) == 30.0
    voided = collab(db, "benefit", "void", "sa", "b1", "2020-03-02", "--reason", "typed 30 for 3.0", "--json",
                    actor="owner", env=NOW, check=0).json()
    assert voided == {"key": "SA", "id": "B1", "on": "2020-03-02", "value": 30.0, "voided_on": "2020-03-02",
                      "reason": "typed 30 for 3.0"}
    assert _latest(db) == 3.0
    (event,) = collab(db, "history", "SA", "--action", "measurement-voided", "--json", actor="audit", env=NOW).json()
    assert (event["reason"], event["payload"]["value"], event["payload"]["measured_on"]) == ("typed 30 for 3.0", 30.0,
                                                                                             "2020-03-02")
    report = collab(db, "report", "SA", "--format", "json", actor="audit", env=NOW, check=0).json()
    (b1,) = [b for b in report["benefits"] if b["id"] == "B1"]
    assert [m["value"] for m in b1["measured"]] == [3.0]
    assert [(m["value"], m["reason"]) for m in b1["voided"]] == [(30.0, "typed 30 for 3.0")]
    assert [(c["action"], c["reason"]) for c in report["corrections"]] == [("measurement-voided", "typed 30 for 3.0")]
    html = collab(db, "report", "SA", "--out", "-", actor="audit", env=NOW, check=0).out
    assert "Voided measurements" in html and "typed 30 for 3.0" in html
    assert verified(db)["ok"]
    again = collab(db, "benefit", "void", "SA", "B1", "2020-03-02", "--reason", "twice", actor="owner", env=NOW, check=2)
    assert again.err.strip() == ("benefit B1 has no standing measurement on 2020-03-02 "
                                 "(collab history SA --action measured lists the figures)")
    refused = collab(db, "benefit", "void", "SA", "B1", "2020-02-03", "--reason", "not mine", actor="pm", env=NOW, check=1)
    assert "pm may not measure benefit B1" in refused.err
    assert collab(db, "benefit", "void", "SA", "B1", "2020-02-03", "--reason", " ", actor="owner", env=NOW,
                  check=2).err.strip() == "voiding a measurement needs a reason (--reason TEXT)"


def _latest(db: str) -> float:
    rows = collab(db, "benefit", "list", "SA", "--json", actor="audit", env=NOW, check=0).json()
    return next(r["latest"] for r in rows if r["id"] == "B1")  # type: ignore[union-attr]


def test_a_voided_figure_edited_in_the_database_is_named_by_audit_verify(db: str) -> None:
    people(db)
    in_delivery(db)
    owner = open_as(db, "owner")
    owner.measure("SA", "B1", 4.5)
    owner.void_measurement("SA", "B1", date.today(), reason="wrong month")
    assert owner.verify().ok
    with engine_for(db).begin() as connection:
        connection.execute(text("UPDATE measurements SET voided_reason = 'nothing to see', voided_on = NULL"))
    problem = collab(db, "audit", "verify", "--json", actor="audit", check=3).json()["problem"]  # type: ignore[index]
    assert problem.startswith("table measurements, row SA/B1, entry 1: the history says ")
    assert "'wrong month', 'owner')" in problem and "None, 'nothing to see', 'owner')" in problem


def test_a_partner_is_removed_before_its_gate_and_only_as_a_variation_after(db: str) -> None:
    people(db)
    scoped(db)
    pm = open_as(db, "pm")
    pm.add_partner("SA", "Avon and Somerset Police", risk_appetite="cautious")
    removed = collab(db, "partner", "remove", "SA", "avon and somerset police", "--reason", "not in this alliance",
                     "--json", actor="pm", check=0).json()
    assert removed == {"key": "SA", "partner": "Avon and Somerset Police", "kind": "police", "risk_appetite": "cautious",
                       "cost_share": None, "variation": False, "reason": "not in this alliance"}
    assert [p["name"] for p in pm.show("SA")["partners"]] == [DC, DORSET]

    ready_for_delivery_after_scoping(db)
    pm.advance("SA", on=date(2020, 1, 6))
    refused = collab(db, "partner", "remove", "SA", DORSET, "--reason", "left", actor="pm", check=1)
    assert ("Dorset Police was approved as a partner at the delivery gate: removing it now is a variation of that "
            "agreement, which its signatories must re-approve") in refused.err
    assert "--variation" in refused.err
    # What was agreed goes on holding: the shares must still total 100% without the partner leaving.
    assert "must go on holding" in collab(db, "partner", "remove", "SA", DORSET, "--reason", "left", "--variation",
                                          actor="pm", check=1).err
    collab(db, "partner", "shares", "SA", f"{DC}=100", f"{DORSET}=0", actor="pm", check=0)
    done = collab(db, "partner", "remove", "SA", DORSET, "--reason", "left", "--variation", actor="pm", check=0)
    assert done.out.strip() == "SA: partner Dorset Police removed (a variation: re-approval needed)"
    (variation,) = pm.check("SA")["variations"]
    assert "partner Dorset Police removed" in variation["changed"]
    assert verified(db)["ok"]
    history = collab(db, "history", "SA", actor="audit", check=0).out
    assert "partner-removed (not in this alliance)" in history and "partner-removed (left)" in history


def ready_for_delivery_after_scoping(db: str) -> None:
    """`ready_for_delivery`'s steps for an SA that `scoped` already registered."""
    from builders import EVIDENCE

    pm = open_as(db, "pm")
    pm.advance("SA", on=date(2019, 6, 3))
    for code, baseline, target in (("B1", 0, 12), ("B2", 74, 78)):
        pm.update_benefit("SA", code, measure="measure", baseline=baseline, target=target, by=date(2030, 3, 31),
                          owner="owner", board="RCB")
    for kind in ("pid", "benefits-management-strategy", "benefits-logic-map", "collaboration-agreement"):
        pm.add_artefact("SA", kind, f"ref/{kind}", on=EVIDENCE)
    pm.set_cost_shares("SA", {DC: "70", DORSET: "30"})
    for approver in ("cc.dc", "pcc.dc", "cc.do", "pcc.do"):
        open_as(db, approver).approve("SA", "delivery", on=EVIDENCE)


def test_a_benefit_is_removed_before_its_gate_and_retired_after(db: str) -> None:
    people(db)
    pm = scoped(db)
    pm.add_benefit("SA", "B9", title="Registered twice", category="economic")
    pm.plan("SA", "B9", [(date.today(), 1.0)])
    done = collab(db, "benefit", "remove", "SA", "b9", "--reason", "a duplicate of B1", "--json", actor="pm", check=0)
    assert done.json() == {"key": "SA", "id": "B9", "title": "Registered twice", "reason": "a duplicate of B1"}
    assert [b["id"] for b in pm.benefits("SA")] == ["B1", "B2"]
    assert verified(db)["ok"]
    ready_for_delivery_after_scoping(db)
    pm.advance("SA", on=date(2020, 1, 6))  # approved, the gate is still open to change; passed, it is agreed
    refused = collab(db, "benefit", "remove", "SA", "B2", "--reason", "changed our mind", actor="pm", check=1)
    assert "benefit B2 was approved at the delivery gate: it can no longer be removed, only retired" in refused.err
    assert "collab benefit retire SA B2 --reason TEXT" in refused.err
    assert "unknown benefit 'B22' in SA (did you mean B2?)" in collab(db, "benefit", "remove", "SA", "B22", "--reason", "x",
                                                                      actor="pm", check=2).err


def test_a_category_is_corrected_with_a_reason_and_a_title_too(db: str) -> None:
    people(db)
    scoped(db)
    assert "correcting benefit B2's category needs a reason" in collab(
        db, "benefit", "update", "SA", "B2", "--category", "efficiency", actor="pm", check=2).err
    done = collab(db, "benefit", "update", "SA", "B2", "--category", "efficiency", "--title", "Public trust",
                  "--reason", "recorded as effectiveness by mistake", "--json", actor="pm", check=0).json()
    assert done == {"key": "SA", "id": "B2", "changed": ["category", "title"]}
    assert [(b["id"], b["category"], b["title"]) for b in open_as(db, "pm").benefits("SA")][1] == (
        "B2", "efficiency", "Public trust")
    renamed = collab(db, "update", "sa", "--title", "The Strategic Alliance", "--reason", "typo at registration",
                     "--json", actor="pm", check=0).json()
    assert renamed == {"key": "SA", "changed": ["title"]}
    events = collab(db, "history", "SA", "--json", actor="audit", check=0).json()
    assert [(e["action"], e["reason"]) for e in events[-2:]] == [  # type: ignore[index]
        ("benefit-updated", "recorded as effectiveness by mistake"), ("updated", "typo at registration")]
    report = collab(db, "report", "SA", "--format", "json", actor="audit", check=0).json()
    assert [c["action"] for c in report["corrections"]] == ["benefit-updated", "updated"]  # type: ignore[index]
    assert verified(db)["ok"]


def test_a_collaboration_with_no_partner_is_withdrawn_by_its_programme_manager(db: str) -> None:
    people(db)
    collab(db, "new", "ERRP", "--title", "Registered by mistake", actor="pm", check=0)
    assert "only a chief officer or PCC of a partner" in collab(db, "withdraw", "ERRP", "--reason", "not ours",
                                                                 actor="cc.dc", check=1).err
    done = collab(db, "withdraw", "errp", "--reason", "registered by mistake", "--json", actor="pm", check=0).json()
    assert (done["key"], done["to"]) == ("ERRP", "withdrawn")  # type: ignore[index]
    assert verified(db)["ok"]


def test_keys_and_names_match_whatever_their_case_with_a_did_you_mean(db: str) -> None:
    people(db)
    scoped(db, "ERRP")
    assert open_as(db, "audit").show("errp")["key"] == "ERRP"
    assert "collaboration 'errp' already exists as 'ERRP'" in collab(db, "new", "errp", "--title", "x", actor="pm",
                                                                     check=2).err
    assert "unknown collaboration 'ERPP' (did you mean ERRP?)" in collab(db, "show", "ERPP", actor="pm", check=2).err
    assert "'dorset police' is already a partner of ERRP as 'Dorset Police'" in collab(
        db, "partner", "add", "ERRP", "dorset police", actor="pm", check=2).err
    assert "user 'OWNER' already exists as 'owner'" in collab(db, "user", "add", "OWNER", "--role", "auditor",
                                                              actor="root", check=2).err
    assert "unknown user 'owmer' (did you mean owner?)" in collab(db, "user", "update", "owmer", "--email", "o@x.org",
                                                                  actor="root", check=2).err
    assert collab(db, "benefit", "update", "errp", "b1", "--owner", "OWNER", actor="PM", check=0).out.strip() == \
        "ERRP: benefit B1: updated owner"
    assert collab(db, "partner", "shares", "ERRP", "dorset police=40", f"{DC}=60", actor="pm", check=0)
    assert "Dorst Police: not a partner of ERRP" in (err := collab(db, "partner", "shares", "ERRP", "Dorst Police=40",
                                                                   actor="pm", check=2).err)
    assert "(did you mean Dorset Police?)" in err
    assert verified(db)["ok"]


def test_names_differing_only_in_case_are_refused_by_the_database_too(db: str) -> None:
    people(db)
    with pytest.raises(IntegrityError, match="uq_users_name_nocase|UNIQUE constraint failed"):
        with engine_for(db).begin() as connection:
            connection.execute(text("INSERT INTO users (name, role, created_on) VALUES ('OWNER', 'auditor', '2020-01-01')"))


def test_writes_answer_in_json_with_what_was_written(db: str) -> None:
    people(db)
    scoped(db)
    added = collab(db, "benefit", "add", "SA", "B3", "--title", "Fewer repeat calls", "--category", "effectiveness",
                   "--json", actor="pm", check=0).json()
    assert added == {"key": "SA", "id": "B3", "title": "Fewer repeat calls", "category": "effectiveness", "boards": []}
    partner = collab(db, "partner", "add", "SA", DC, "--cost-share", "70", "--json", actor="pm", check=0).json()
    assert partner == {"key": "SA", "name": DC, "kind": "police", "risk_appetite": "cautious", "cost_share": 70.0}
    moved = collab(db, "advance", "SA", "--json", actor="pm", check=0).json()
    assert (moved["from"], moved["to"]) == ("scoping", "pid")  # type: ignore[index]
    held = collab(db, "hold", "SA", "--reason", "budget", "--json", actor="pm", check=0).json()
    resumed = collab(db, "resume", "SA", "--json", actor="pm", check=0).json()
    assert (held["to"], resumed["to"]) == ("on-hold", "pid")  # type: ignore[index]
    approved = collab(db, "approve", "SA", "--gate", "delivery", "--json", actor="cc.dc", check=0).json()
    assert {k: approved[k] for k in ("key", "gate", "partner", "role", "already")} == {  # type: ignore[index]
        "key": "SA", "gate": "delivery", "partner": DC, "role": "chief-officer", "already": False}
