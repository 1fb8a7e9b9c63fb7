"""The definition owns the lifecycle: a copy of the default with every stage and artefact renamed runs the
Strategic Alliance with the same gates, reviews, reminders and report; definitions live in the database and
an in-flight collaboration migrates between versions."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from builders import DC, DORSET, as_of, open_as, people, scoped
from conftest import collab
from workflow import definition
from workflow.reminders import Reminders
from workflow.reports import collaboration_report

DEFAULT = Path(definition.builtin_files()["police-collaboration"]).read_text()
STAGES = {"scoping": "s1-initiation", "pid": "s2-planning", "delivery": "s3-build", "closure": "s4-handover",
          "pir": "s5-review", "bau": "s6-live", "on-hold": "paused", "withdrawn": "abandoned"}
ARTEFACTS = {"pid": "doc-plan", "benefits-management-strategy": "doc-benefits-strategy",
             "benefits-logic-map": "doc-logic-map", "collaboration-agreement": "doc-agreement",
             "closure-report": "doc-closure", "pir-report": "doc-review"}
IDENTITY = ({s: s for s in STAGES}, {a: a for a in ARTEFACTS})


def renamed_definition() -> str:
    """The default definition with every stage and artefact kind renamed, field by field."""
    data = yaml.safe_load(DEFAULT)
    stage, kind = STAGES.__getitem__, ARTEFACTS.__getitem__

    def names(value: Any, rename: Any) -> Any:
        return [rename(v) for v in value] if isinstance(value, list) else rename(value)

    data["name"] = "renamed-collaboration"
    data["initial"] = stage(data["initial"])
    for item in data["stages"]:
        item["name"] = stage(item["name"])
    for t in data["transitions"]:
        t["from"], t["to"] = names(t["from"], stage), names(t["to"], stage)
    data["gates"] = {stage(gate): [
        {name: {**params, "kinds": [kind(k) for k in params["kinds"]]} if name == "artefacts" else params}
        if isinstance(requirement, dict) else requirement
        for requirement in requirements for name, params in
        ([next(iter(requirement.items()))] if isinstance(requirement, dict) else [(requirement, None)])
    ] for gate, requirements in data["gates"].items()}
    data["artefact_kinds"] = [kind(k) for k in data["artefact_kinds"]]
    reviews = data["reviews"]
    reviews["stages"], reviews["begin"] = [stage(s) for s in reviews["stages"]], stage(reviews["begin"])
    reviews["pir"]["artefact"] = kind(reviews["pir"]["artefact"])
    return yaml.safe_dump(data, sort_keys=False)


def alliance(db: str, spec: str, stages: dict[str, str], kinds: dict[str, str], outbox: Path) -> dict[str, Any]:
    """Walk the Strategic Alliance from registration to the PIR stage; what each step showed, in order."""
    seen: dict[str, Any] = {}

    def unmet(key: str = "SA") -> list[str]:
        return [text for move in open_as(db, "pm").check(key)["transitions"] for text in move["unmet"]]

    with as_of("2026-01-05T09:00"):
        pm = open_as(db, "pm")
        pm.new("SA", "Strategic Alliance", definition=spec)
        seen["scoping"] = unmet()
        pm.update("SA", objective="Share services", public_benefit="Protect the front line",
                  rationale="s.22A agreements considered; serves efficiency and effectiveness")
        pm.add_partner("SA", DC, risk_appetite="cautious")
        pm.add_partner("SA", DORSET, risk_appetite="open")
        for code, category, baseline, target in (("B1", "economic", 0, 12), ("B2", "effectiveness", 74, 78)):
            pm.add_benefit("SA", code, title=code, category=category, measure="m", baseline=baseline, target=target,
                           by=date(2030, 3, 31), owner="owner", board="RCB")
        seen["advance-1"] = pm.advance("SA")
        seen["planning"] = unmet()
        for artefact in ("pid", "benefits-management-strategy", "benefits-logic-map", "collaboration-agreement"):
            pm.add_artefact("SA", kinds[artefact], f"ref/{artefact}")
        pm.add_partner("SA", DC, cost_share="70")
        pm.add_partner("SA", DORSET, cost_share="30")
        pm.add_objective("SA", "O1", title="Share services")
        for code in ("B1", "B2"):
            pm.link_benefit("SA", code, kind="objective", to="O1")
        for approver in ("cc.dc", "pcc.dc", "cc.do", "pcc.do"):
            open_as(db, approver).approve("SA", stages["delivery"])
    with as_of("2026-02-02T09:00"):
        seen["advance-2"] = open_as(db, "pm").advance("SA")
        seen["build"] = unmet()
    with as_of("2026-03-20T09:00"):
        seen["reviews-march"] = Reminders(open_as(db, "audit").ctx).reviews(within=30)
    with as_of("2026-06-01T09:00"):
        for code in ("B1", "B2"):
            open_as(db, "pm").handover("SA", code, business_area="Finance", to="owner2")
        seen["advance-3"] = open_as(db, "pm").advance("SA")
        seen["show-closed"] = {k: open_as(db, "pm").show("SA")[k] for k in ("stage", "closed_on", "pir_due")}
        open_as(db, "pm").add_artefact("SA", kinds["closure-report"], "ref/closure")
        seen["handover"] = unmet()
        for code in ("B1", "B2"):
            open_as(db, "owner2").accept("SA", code)
        seen["advance-4"] = open_as(db, "pm").advance("SA")
        seen["owners"] = [(b["id"], b["owner"]) for b in open_as(db, "pm").benefits("SA")]
        seen["review"] = unmet()
    with as_of("2026-11-24T09:00") as clock:
        ctx = open_as(db, "root").ctx
        seen["reviews-november"] = Reminders(ctx).reviews(within=10)
        sent = Reminders.from_env(ctx, db, {"COLLAB_OUTBOX": str(outbox)}).remind(clock.now())["sent"]
        seen["reminders"] = sorted((s["kind"], s["user"], s["subject"]) for s in sent)
        report = collaboration_report(open_as(db, "audit").ctx, "SA")
        seen["report"] = {"stages": [(s["stage"], s["on"], s["until"]) for s in report["stages"]],
                          "gates": report["gates"], "verified": report["verification"]["ok"]}
    return seen


def normalised(seen: dict[str, Any], stages: dict[str, str], kinds: dict[str, str]) -> str:
    """What the walk showed, with this definition's names read back as the default's."""
    back = {new: old for names in (kinds, stages) for old, new in names.items()}
    text = json.dumps(seen, sort_keys=True, default=str).replace("renamed-collaboration", "police-collaboration")
    return re.sub("|".join(sorted(map(re.escape, back), key=len, reverse=True)), lambda m: back[m.group(0)], text)


def test_a_renamed_copy_runs_the_alliance_as_the_default_does(db: str, other_db: str, tmp_path: Path) -> None:
    with as_of("2026-01-02T09:00"):
        people(db)
    default = alliance(db, "police-collaboration", *IDENTITY, tmp_path / "default")
    assert default["show-closed"]["pir_due"] == "2026-12-01"
    assert ("pir-reminder", "pm") in {(kind, user) for kind, user, _ in default["reminders"]}
    assert {r["benefit"] for r in default["reviews-march"]} == {"B1", "B2"}
    assert default["owners"] == [("B1", "owner2"), ("B2", "owner2")]  # the hand-over effect ran

    with as_of("2026-01-02T09:00"):
        people(other_db)
        assert open_as(other_db, "root").add_definition(renamed_definition(), "renamed.yaml")["added"]
    renamed = alliance(other_db, "renamed-collaboration", STAGES, ARTEFACTS, tmp_path / "renamed")
    assert renamed["advance-4"]["to"] == "s5-review"
    assert normalised(renamed, STAGES, ARTEFACTS) == normalised(default, *IDENTITY)


V1 = Path(__file__).parent / "data" / "police-collaboration-v1.yaml"  # the default as it was before effects were data
V2 = Path(__file__).parent / "data" / "police-collaboration-v2.yaml"  # as it was before the logic map gated delivery


def test_migrating_from_version_1_to_2_is_recorded_and_version_2_gates_apply(db: str) -> None:
    with as_of("2026-01-02T09:00"):
        people(db)
    for older in (V1, V2):
        collab(db, "definition", "add", str(older), actor="root", check=0)
    collab(db, "new", "SA", "--title", "Alliance", "--definition", "police-collaboration@1", "--on", "2026-01-05",
           actor="pm", env={"COLLAB_NOW": "2026-01-05T09:00"}, check=0)
    listed = {(d["name"], d["version"]): d["collaborations"] for d in collab(db, "definition", "list", "--json", actor="pm").json()}
    assert listed == {("police-collaboration", 1): 1, ("police-collaboration", 2): 0, ("police-collaboration", 4): 0}
    stored = collab(db, "definition", "show", "police-collaboration@1", "--format", "yaml", actor="pm", check=0).out
    assert stored == V1.read_text()
    assert "police-collaboration v4:" in collab(db, "definition", "show", "police-collaboration", actor="pm", check=0).out

    before = collab(db, "history", "SA", "--json", actor="pm").json()
    dry = collab(db, "migrate", "SA", "--to", "police-collaboration@2", "--dry-run", "--json", actor="pm", check=0).json()
    assert (dry["from"], dry["to"], dry["stage"], dry["dry_run"]) == (
        "police-collaboration@1", "police-collaboration@2", {"from": "scoping", "to": "scoping"}, True)
    assert collab(db, "history", "SA", "--json", actor="pm").json() == before  # a dry run records nothing
    collab(db, "migrate", "SA", "--to", "police-collaboration@2", actor="pm", check=0)
    [migrated] = [e for e in collab(db, "history", "SA", "--json", actor="pm").json() if e["action"] == "migrated"]
    assert migrated["payload"]["definition"] == {"from": "police-collaboration@1", "to": "police-collaboration@2"}
    shown = collab(db, "show", "SA", "--json", actor="pm").json()
    assert (shown["definition"], shown["definition_version"]) == ("police-collaboration", 2)
    collab(db, "migrate", "SA", "--to", "police-collaboration@2", actor="pm", check=2)  # already there
    collab(db, "migrate", "SA", "--to", "police-collaboration@1", "--map", "scoping=nowhere", actor="pm", check=2)


def test_a_passed_gate_the_new_version_would_refuse_is_listed_and_an_unmapped_stage_refused(db: str) -> None:
    with as_of("2026-01-02T09:00"):
        people(db)
    with as_of("2026-01-05T09:00"):
        scoped(db).advance("SA")  # passes the pid gate with two partners, on version 2
    stricter = DEFAULT.replace("version: 4", "version: 5").replace("partners: {at_least: 2}", "partners: {at_least: 3}")
    renamed_pid = DEFAULT.replace("version: 4", "version: 6").replace("pid", "initiation-document")
    for text in (stricter, renamed_pid):
        open_as(db, "root").add_definition(text, "test.yaml")
    assert "version 5" not in str(open_as(db, "pm").check("SA"))
    dry = collab(db, "migrate", "SA", "--to", "police-collaboration@5", "--dry-run", actor="pm", check=0).out
    assert "passed gate pid would be refused today:" in dry and "2 partner(s) recorded; at least 3 needed" in dry
    refused = collab(db, "migrate", "SA", "--to", "police-collaboration@6", actor="pm", check=1)
    assert "stage 'pid' of police-collaboration@4 has no counterpart in police-collaboration@6" in refused.err
    assert "--map pid=NEW" in refused.err
    done = collab(db, "migrate", "SA", "--to", "police-collaboration@6", "--map", "pid=initiation-document",
                  "--json", actor="pm", check=0).json()
    assert done["stage"] == {"from": "pid", "to": "initiation-document"}
    assert collab(db, "check", "SA", "--json", actor="pm").json()["stage"] == "initiation-document"
