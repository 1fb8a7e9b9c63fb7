"""The engine drives a collaboration through the default definition's gates (service API, both databases)."""

from datetime import date
from pathlib import Path

import pytest

from builders import DC, DORSET, open_as, people, ready_for_delivery, scoped
from workflow import definition
from workflow.errors import BadInput, Conflict, Refused
from workflow.service import Collab


@pytest.fixture
def app(db: str) -> Collab:
    people(db)
    return open_as(db, "pm")


def test_refused_advance_lists_every_unmet_requirement_and_changes_nothing(app: Collab, db: str) -> None:
    app.new("SA", "Strategic Alliance")
    before = (app.show("SA"), app.history("SA"), app.verify().head)
    with pytest.raises(Refused) as refused:
        app.advance("SA")
    assert refused.value.reasons == [
        "no objective recorded",
        "no public-benefit statement recorded",
        "0 partner(s) recorded; at least 2 needed",
        "no s.23HA rationale recorded: name the existing agreements considered and why this serves "
        "efficiency or effectiveness",
        "0 benefit(s) identified; at least 1 needed",
        "0 non-financial benefit(s) identified; at least 1 needed (a benefit of category effectiveness)",
    ]
    assert (app.show("SA"), app.history("SA"), app.verify().head) == before


def test_each_gate_passes_once_met(app: Collab, db: str) -> None:
    ready_for_delivery(db)
    assert app.show("SA")["stage"] == "pid"
    assert app.advance("SA")["to"] == "delivery"
    assert [e["to_stage"] for e in app.history("SA") if e["action"] == "advance"] == ["pid", "delivery"]


def test_delivery_gate_refusal_names_the_missing_pcc(app: Collab, db: str) -> None:
    scoped(db).advance("SA")
    with pytest.raises(Refused) as refused:
        app.advance("SA")
    assert "Dorset Police PCC has not approved the delivery gate" in refused.value.reasons
    assert "artefact 'collaboration-agreement' not recorded" in refused.value.reasons


def test_check_shows_what_is_met_for_each_next_stage(app: Collab, db: str) -> None:
    ready_for_delivery(db)
    result = app.check("SA")
    assert result["stage"] == "pid"
    assert result["transitions"] == [{"to": "delivery", "trigger": "advance", "ready": True, "unmet": [], "reasons": []}]


def test_hold_resumes_to_the_stage_it_was_held_from(app: Collab, db: str) -> None:
    scoped(db).advance("SA")
    assert app.hold("SA", reason="budget review")["to"] == "on-hold"
    with pytest.raises(Refused):
        app.advance("SA")
    assert app.resume("SA")["to"] == "pid"
    assert app.show("SA")["held_from"] is None


def test_only_a_partners_chief_officer_or_pcc_withdraws(app: Collab, db: str) -> None:
    scoped(db)
    with pytest.raises(Refused, match="only a chief officer or PCC of a partner may move"):
        app.withdraw("SA", reason="no longer needed")  # its programme manager, but it has partners
    open_as(db, "root").add_user("cc.avon", "chief-officer", partner="Avon and Somerset Police")
    with pytest.raises(Refused, match="only a chief officer or PCC of a partner"):
        open_as(db, "cc.avon").withdraw("SA", reason="not ours")
    assert open_as(db, "pcc.do").withdraw("SA", reason="not in the public interest")["to"] == "withdrawn"
    with pytest.raises(Refused, match="withdrawn is a final stage"):
        app.advance("SA")


def test_approval_is_for_the_approvers_own_force_and_role(app: Collab, db: str) -> None:
    scoped(db).advance("SA")
    assert open_as(db, "pcc.dc").approve("SA", "delivery")["partner"] == DC
    again = open_as(db, "pcc.dc").approve("SA", "delivery")
    assert again["already"] is True
    with pytest.raises(Refused, match="the pid gate asks no approval of a pcc"):
        open_as(db, "pcc.dc").approve("SA", "pid")
    with pytest.raises(BadInput, match="unknown gate 'delivry'"):
        open_as(db, "pcc.dc").approve("SA", "delivry")


def test_roles_are_enforced_and_refusals_name_the_role(app: Collab, db: str) -> None:
    scoped(db)
    with pytest.raises(Refused, match="audit is an auditor; to change a collaboration needs the role admin or programme-manager"):
        open_as(db, "audit").update("SA", title="x")
    with pytest.raises(Refused, match="to register users needs the role admin"):
        app.add_user("eve", "admin")
    with pytest.raises(BadInput, match="name the acting user"):
        open_as(db).list()
    with pytest.raises(BadInput, match="unknown user 'nobody'"):
        open_as(db, "nobody").list()
    assert open_as(db, "audit").show("SA")["key"] == "SA"


def test_first_user_must_be_admin(db: str) -> None:
    with pytest.raises(Refused, match="the first user must be an admin"):
        open_as(db).add_user("pm", "programme-manager")
    open_as(db).add_user("root", "admin")
    with pytest.raises(BadInput, match="name the acting user"):
        open_as(db).add_user("second", "admin")


def test_stale_expected_version_is_a_conflict_and_changes_nothing(app: Collab, db: str) -> None:
    scoped(db)
    seen = app.version_of("SA")
    app.update("SA", title="Renamed")
    with pytest.raises(Conflict):
        app.update("SA", title="Lost update", expected_version=seen)
    assert app.show("SA")["title"] == "Renamed"


def test_effective_dates_cannot_be_in_the_future_or_before_the_stage(app: Collab, db: str) -> None:
    scoped(db)
    with pytest.raises(BadInput, match="is in the future"):
        app.advance("SA", on=date(2999, 1, 1))
    app.advance("SA", on=date(2020, 1, 1))
    with pytest.raises(BadInput, match="before SA entered pid on 2020-01-01"):
        app.hold("SA", reason="x", on=date(2019, 12, 31))


def test_closure_schedules_the_pir_six_months_on(app: Collab, db: str) -> None:
    ready_for_delivery(db)
    app.advance("SA", on=date(2024, 1, 10))
    for code in ("B1", "B2"):
        app.handover("SA", code, business_area="Finance", to="owner2")
    app.advance("SA", on=date(2024, 8, 31))
    shown = app.show("SA")
    # 31 August + 6 months: there is no 31 February, so the last day of February 2025
    assert (shown["stage"], shown["closed_on"], shown["pir_due"]) == ("closure", "2024-08-31", "2025-02-28")


def test_a_collaboration_stays_on_the_definition_version_it_started_with(app: Collab, db: str) -> None:
    scoped(db)
    admin = open_as(db, "root")
    original = Path(definition.builtin_files()["police-collaboration"]).read_text()
    changed = original.replace("partners: {at_least: 2}", "partners: {at_least: 3}")
    with pytest.raises(Refused, match="already stored with other text"):
        admin.add_definition(changed, "changed.yaml")
    assert admin.add_definition(changed.replace("version: 4", "version: 5"), "changed.yaml")["added"]
    assert app.new("SB", "Second")["version"] == 5  # the newest stored version
    assert app.new("SC", "Third", definition="police-collaboration@4")["version"] == 4
    assert app.advance("SA")["to"] == "pid"  # SA keeps version 4: two partners are enough
    listed = {(d["name"], d["version"]): d["collaborations"] for d in app.definitions()}
    assert listed == {("police-collaboration", 4): 2, ("police-collaboration", 5): 1}
