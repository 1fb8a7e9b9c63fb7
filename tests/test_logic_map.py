"""The benefits logic map: objectives, benefits linked to them, to the benefits they contribute to and (dis-benefits)
to their causes; the delivery gate of version 3 needs every benefit to reach an objective; replay rebuilds the map."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from builders import awaiting_delivery_approvals, in_delivery, open_as, people, scoped
from conftest import collab
from workflow import charts
from workflow.db import engine_for

V2 = Path(__file__).parent / "data" / "police-collaboration-v2.yaml"
NOW = {"COLLAB_NOW": "2019-03-04T10:00"}


def unmet(db: str, to: str = "delivery") -> str:
    """What the gate into `to` still needs, as one text."""
    [move] = [t for t in open_as(db, "pm").check("SA")["transitions"] if t["to"] == to]
    return " ".join(move["unmet"])


def test_objectives_and_links_are_recorded_listed_and_in_the_history(db: str) -> None:
    people(db)
    scoped(db)  # B1 (economic) and B2 (effectiveness) serve O1
    pm = open_as(db, "pm")
    pm.add_benefit("SA", "B3", title="Calls answered", category="effectiveness")
    pm.add_benefit("SA", "D1", title="Travel between sites", category="efficiency", dis_benefit=True)
    added = collab(db, "objective", "add", "SA", "O2", "--title", "A better service", "--json", actor="pm",
                   env=NOW, check=0).json()
    assert added == {"key": "SA", "id": "O2", "title": "A better service"}
    for args in (("B2", "--objective", "o2"), ("B3", "--contributes-to", "B2"), ("D1", "--caused-by", "B1")):
        collab(db, "benefit", "link", "SA", *args, actor="pm", env=NOW, check=0)
    assert collab(db, "objective", "list", "SA", "--json", actor="audit", env=NOW, check=0).json() == [
        {"id": "O1", "title": "Protect the front line while budgets fall", "benefits": ["B1", "B2"]},
        {"id": "O2", "title": "A better service", "benefits": ["B2"]}]
    listed = collab(db, "objective", "list", "SA", actor="audit", env=NOW).out.splitlines()
    assert [line.split() for line in listed][-1] == ["O2", "A", "better", "service", "B2"]
    linked = [e["payload"] for e in collab(db, "history", "SA", "--json", actor="audit", env=NOW).json()
              if e["action"] == "benefit-linked"]
    assert [(p["benefit"], p["link"], p["to"]) for p in linked][2:] == [
        ("B2", "objective", "O2"), ("B3", "contributes-to", "B2"), ("D1", "caused-by", "B1")]
    assert open_as(db, "audit").verify().ok


@pytest.mark.parametrize(("args", "said"), [
    (["benefit", "link", "SA", "B1", "--objective", "O9"], "unknown objective 'O9' in SA "
                                                           "(collab objective list SA shows them"),
    (["benefit", "link", "SA", "B1"], "give exactly one of --objective, --contributes-to, --caused-by"),
    (["benefit", "link", "SA", "B1", "--objective", "O1", "--contributes-to", "B2"], "give exactly one of"),
    (["benefit", "link", "SA", "B1", "--objective", "O1"], "benefit B1 is already linked (objective) to O1"),
    (["benefit", "link", "SA", "B2", "--contributes-to", "B1"], "benefit B2 cannot contribute to B1: B1 already "
                                                               "contributes to B2"),
    (["benefit", "link", "SA", "B2", "--contributes-to", "B2"], "benefit B2 cannot contribute to B2"),
    (["benefit", "link", "SA", "B2", "--caused-by", "B1"], "only a dis-benefit is caused by a benefit"),
    (["benefit", "link", "SA", "B9", "--objective", "O1"], "unknown benefit 'B9'"),
    (["objective", "add", "SA", "o1", "--title", "Again"], "objective o1 already exists in SA as O1"),
    (["objective", "add", "SA", "O2", "--title", "  "], "the title"),
])
def test_bad_links_and_objectives_exit_2_naming_the_fix_and_change_nothing(db: str, args: list[str], said: str) -> None:
    people(db)
    pm = scoped(db)  # B1 and B2 serve O1
    pm.link_benefit("SA", "B1", kind="contributes-to", to="B2")
    before = collab(db, "history", "SA", "--json", actor="audit", env=NOW, check=0).json()
    refused = collab(db, *args, actor="pm", env=NOW, check=2)
    assert said in refused.err
    assert collab(db, "history", "SA", "--json", actor="audit", env=NOW, check=0).json() == before


def test_the_delivery_gate_refuses_a_benefit_that_reaches_no_objective(db: str) -> None:
    people(db)
    pm = awaiting_delivery_approvals(db)  # B1 and B2 serve O1
    pm.add_benefit("SA", "B3", title="Calls answered", category="effectiveness", measure="share", baseline=80,
                   target=90, by=date(2030, 3, 31), owner="owner", board="RCB")
    pm.add_benefit("SA", "D1", title="Travel", category="efficiency", measure="hours", baseline=0, target=10,
                   by=date(2030, 3, 31), owner="owner", board="RCB", dis_benefit=True)
    refused = collab(db, "check", "SA", actor="pm", check=0).out
    assert "benefit B3 is linked to no objective" in refused and "benefit D1 is linked to no objective" in refused
    assert "(collab benefit link SA B3 --objective OBJ or --contributes-to BID)" in refused
    assert "benefit B1 is linked" not in refused
    pm.link_benefit("SA", "B3", kind="contributes-to", to="B2")  # reaches O1 through B2
    pm.link_benefit("SA", "D1", kind="caused-by", to="B3")  # and D1 through its cause
    assert "linked to no objective" not in unmet(db)


def test_collaborations_on_version_2_are_not_held_to_the_logic_map(db: str) -> None:
    people(db)
    collab(db, "definition", "add", str(V2), actor="root", check=0)
    pm = scoped(db, definition="police-collaboration@2")
    pm.add_benefit("SA", "B3", title="On no map", category="effectiveness")
    pm.advance("SA", on=date(2019, 6, 3))
    assert "cost share" in unmet(db) and "linked to no objective" not in unmet(db)
    assert open_as(db, "pm").show("SA")["definition_version"] == 2
    packaged = collab(db, "definition", "show", "police-collaboration", "--format", "json", actor="pm", check=0).json()
    assert "benefits-linked" in [g["requirement"] for g in packaged["gates"]["delivery"]]  # type: ignore[index]


@pytest.mark.parametrize("edit", [
    "UPDATE objectives SET title = 'Something else'",
    "UPDATE benefit_links SET kind = 'contributes-to', objective_id = NULL, "
    "target_id = (SELECT id FROM benefits WHERE code = 'B2') WHERE benefit_id = (SELECT id FROM benefits WHERE code = 'B1')",
    "DELETE FROM benefit_links WHERE benefit_id = (SELECT id FROM benefits WHERE code = 'B2')",
])
def test_a_logic_map_edited_in_the_database_is_named_by_audit_verify(db: str, edit: str) -> None:
    people(db)
    awaiting_delivery_approvals(db)
    assert open_as(db, "audit").verify().ok
    with engine_for(db).begin() as connection:
        connection.execute(text(edit))
    problem = collab(db, "audit", "verify", "--json", actor="audit", check=3).json()["problem"]  # type: ignore[index]
    assert problem.startswith("table objectives, row SA/O1, field title" if "objectives" in edit else "table links, row SA/B")


def test_a_benefit_removed_by_mistake_takes_its_links_and_replays(db: str) -> None:
    people(db)
    pm = scoped(db)
    pm.add_benefit("SA", "B3", title="Mistake", category="effectiveness")
    pm.add_objective("SA", "O2", title="A better service")
    pm.link_benefit("SA", "B3", kind="objective", to="O2")
    pm.link_benefit("SA", "B1", kind="contributes-to", to="B3")
    pm.remove_benefit("SA", "B3", reason="typed twice")
    assert pm.objectives("SA")[1] == {"id": "O2", "title": "A better service", "benefits": []}
    assert open_as(db, "audit").verify().ok


def test_the_report_lists_objectives_and_links_and_draws_the_map(db: str) -> None:
    people(db)
    pm = in_delivery(db)
    pm.add_benefit("SA", "B3", title="Calls <answered>", category="effectiveness")
    pm.link_benefit("SA", "B3", kind="contributes-to", to="B2")
    report = collab(db, "report", "SA", "--format", "json", actor="audit", check=0).json()
    assert report["objectives"] == [  # type: ignore[index]
        {"id": "O1", "title": "Protect the front line while budgets fall", "benefits": ["B1", "B2"]}]
    assert {b["id"]: b["contributes_to"] for b in report["benefits"]} == {  # type: ignore[index]
        "B1": [], "B2": [], "B3": ["B2"]}
    html = collab(db, "report", "SA", "--format", "html", "--out", "-", actor="audit", check=0).out
    assert '<svg class="logic-map"' in html
    assert "B3 Calls &lt;answered&gt;" in html and "<answered>" not in html
    assert "Objective O1 Protect the front line while budgets fall is served by B1, B2;" in html


def test_the_map_places_objectives_programme_and_business_area_benefits_in_columns() -> None:
    benefit = {"dis_benefit": False, "objectives": [], "contributes_to": [], "caused_by": []}
    drawn = charts.logic_map([{"id": "O1", "title": "Objective"}], [
        {**benefit, "id": "B1", "title": "Programme", "objectives": ["O1"]},
        {**benefit, "id": "B2", "title": "Business area", "contributes_to": ["B1"]},
        {**benefit, "id": "D1", "title": "Dis-benefit", "dis_benefit": True, "caused_by": ["B2"]},
        {**benefit, "id": "B9", "title": "Nowhere"}])
    assert drawn is not None
    assert [(n.id, n.kind, n.x) for n in drawn.nodes] == [
        ("O1", "objective", 0), ("B1", "benefit", 170), ("B2", "benefit", 340), ("D1", "dis-benefit", 510),
        ("B9", "unlinked", 170)]
    assert [h for _, h in drawn.columns] == ["Objectives", "Programme benefits", "Business-area benefits",
                                             "Business-area benefits"]
    assert drawn.edges[0] == f"{drawn.box_width},37.0 170.0,37.0"  # O1's right edge to B1's left edge
    assert len(drawn.edges) == 3  # B9 reaches nothing
    assert charts.logic_map([], []) is None
