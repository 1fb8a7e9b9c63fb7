"""The `collab` command end to end (real subprocesses): exit codes and JSON keys of cli.md."""

from pathlib import Path

import pytest

from builders import DC, DORSET, people, ready_for_delivery
from conftest import collab

PID_GATE = [
    "no objective recorded (collab update SA --objective TEXT)",
    "no public-benefit statement recorded (collab update SA --public-benefit TEXT)",
    "0 partner(s) recorded; at least 2 needed (collab partner add SA ORG)",
    "no s.23HA rationale recorded: name the existing agreements considered and why this serves efficiency or "
    "effectiveness (collab update SA --rationale TEXT)",
    "0 benefit(s) identified; at least 1 needed (collab benefit add)",
    "0 non-financial benefit(s) identified; at least 1 needed (a benefit of category effectiveness)",
]


def test_a_programme_manager_walks_the_pid_gate(db: str) -> None:
    collab(db, "user", "add", "root", "--role", "admin", check=0)
    collab(db, "user", "add", "pm", "--role", "programme-manager", actor="root", check=0)
    collab(db, "new", "SA", "--title", "Strategic Alliance", "--on", "2020-01-06", actor="pm", check=0)
    before = collab(db, "history", "SA", "--json", actor="pm", check=0).json()

    refused = collab(db, "advance", "SA", actor="pm", check=1)
    assert refused.err.splitlines() == PID_GATE
    assert collab(db, "history", "SA", "--json", actor="pm", check=0).json() == before
    assert collab(db, "show", "SA", "--json", actor="pm", check=0).json()["stage"] == "scoping"

    collab(db, "update", "SA", "--objective", "Share services", "--public-benefit", "Protect the front line",
           "--rationale", "s.22A agreements considered", actor="pm", check=0)
    collab(db, "partner", "add", "SA", DC, "--risk-appetite", "cautious", actor="pm", check=0)
    collab(db, "partner", "add", "SA", DORSET, "--risk-appetite", "eager", actor="pm", check=0)
    collab(db, "benefit", "add", "SA", "B1", "--title", "Confidence", "--category", "effectiveness", actor="pm", check=0)
    still = collab(db, "advance", "SA", actor="pm", check=1)
    assert still.err.splitlines() == [
        f"risk appetites differ by more than 1 level(s): {DC} is cautious, {DORSET} is eager"]
    collab(db, "partner", "add", "SA", DORSET, "--risk-appetite", "open", actor="pm", check=0)

    check = collab(db, "check", "SA", "--json", actor="pm", check=0).json()
    assert check == {"key": "SA", "stage": "scoping", "version": check["version"],
                     "transitions": [{"to": "pid", "trigger": "advance", "ready": True, "unmet": [], "reasons": []}], "variations": [],
                     # RCB has no type: definition v4 wants a performance board for an effectiveness benefit
                     "board_gaps": [{"benefit": "B1", "category": "effectiveness", "missing": ["performance"]}]}
    moved = collab(db, "advance", "SA", "--on", "2020-02-03", "--reason", "scoping complete", actor="pm", check=0)
    assert "scoping -> pid" in moved.out
    last = collab(db, "history", "SA", "--json", actor="pm", check=0).json()[-1]
    assert (last["action"], last["from_stage"], last["to_stage"], last["effective_on"], last["reason"], last["actor"]) == (
        "advance", "scoping", "pid", "2020-02-03", "scoping complete", "pm")


def test_show_and_list_carry_the_contract_keys(db: str) -> None:
    people(db)
    ready_for_delivery(db)
    shown = collab(db, "show", "SA", "--json", actor="audit", check=0).json()
    for key in ("key", "title", "stage", "definition", "objective", "public_benefit", "partners", "benefits"):
        assert key in shown
    assert shown["partners"][0] == {"name": DC, "kind": "police", "risk_appetite": "cautious", "cost_share": 70.0}
    for key in ("id", "title", "category", "owner", "board", "status"):
        assert key in shown["benefits"][0]
    assert [c["key"] for c in collab(db, "list", "--stage", "pid", "--json", actor="audit", check=0).json()] == ["SA"]
    assert collab(db, "list", "--stage", "bau", "--json", actor="audit", check=0).json() == []
    users = collab(db, "user", "list", "--json", actor="audit", check=0).json()
    assert {"name": "pcc.do", "role": "pcc", "roles": ["pcc"], "email": "pcc.do@example.org", "partner": DORSET,
            "deactivated_on": None, "login": None} in users
    boards = collab(db, "board", "list", "--json", actor="audit", check=0).json()
    assert boards == [{"name": "RCB", "partner": DC, "meets": "FREQ=MONTHLY;BYDAY=1TU", "secretary": "sec", "time": None,
                       "location": None, "retired_on": None, "type": None}]


def test_an_auditor_changes_nothing(db: str) -> None:
    people(db)
    ready_for_delivery(db)
    before = collab(db, "history", "SA", "--json", actor="audit", check=0).json()
    refused = collab(db, "advance", "SA", actor="audit", check=1)
    assert refused.err.strip() == "audit is an auditor; to advance a collaboration needs the role admin or programme-manager"
    collab(db, "approve", "SA", "--gate", "bau", actor="audit", check=1)
    assert collab(db, "history", "SA", "--json", actor="audit", check=0).json() == before


@pytest.mark.parametrize("args, message", [
    (["show", "NOPE"], "unknown collaboration 'NOPE'"),
    (["advance", "SA", "--on", "2024-13-01"], "'2024-13-01' is not an ISO date"),
    (["user", "add", "x", "--role", "sheriff"], "'sheriff' is not one of"),
    (["partner", "add", "SA", DC, "--cost-share", "seventy"], "is not a number of percent"),
    (["benefit", "add", "SA", "B9", "--title", "t", "--category", "economic", "--owner", "ghost"], "unknown user 'ghost'"),
    (["board", "add", "B", "--partner", DC, "--meets", "FREQ=SOMETIMES", "--secretary", "sec"], "--meets"),
    (["artefact", "add", "SA", "napkin", "--ref", "x"], "unknown artefact kind 'napkin'"),
    (["advance", "SA", "--to", "nowhere"], "unknown stage 'nowhere'"),
])
def test_bad_input_exits_2_and_changes_nothing(db: str, args: list[str], message: str) -> None:
    people(db)
    ready_for_delivery(db)
    actor = "root" if args[0] in ("user", "board") else "pm"
    before = collab(db, "history", "--all", "--json", actor="audit", check=0).json()
    result = collab(db, *args, actor=actor, check=2)
    assert message in result.err
    assert collab(db, "history", "--all", "--json", actor="audit", check=0).json() == before


def test_malformed_definition_file_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: x\nversion: 1\nstages:\n  - name: a\n   - name: b\n")
    result = collab(str(tmp_path / "c.db"), "definition", "validate", str(bad), check=2)
    assert result.err.startswith(f"{bad}:5: malformed YAML")


def test_an_uninitialised_database_is_named(tmp_path: Path) -> None:
    result = collab(str(tmp_path / "fresh.db"), "list", check=2)
    assert "is not initialised: run `collab init`" in result.err
    collab(str(tmp_path / "fresh.db"), "init", check=0)
    assert "schema revision" in collab(str(tmp_path / "fresh.db"), "init", check=0).out
    assert collab(str(tmp_path / "fresh.db"), "list", "--json", check=0).json() == []


def test_missing_folder_is_bad_input(tmp_path: Path) -> None:
    result = collab(str(tmp_path / "no" / "such" / "c.db"), "init", check=2)
    assert "does not exist" in result.err


def test_definition_list_and_show(tmp_path: Path) -> None:
    db = str(tmp_path / "c.db")
    collab(db, "init", check=0)
    listed = collab(db, "definition", "list", "--json", check=0).json()
    assert listed == [{"name": "police-collaboration", "version": 4, "title": listed[0]["title"],
                       "digest": listed[0]["digest"], "collaborations": 0}]
    shown = collab(db, "definition", "show", "police-collaboration", "--format", "json", check=0).json()
    assert [g["requirement"] for g in shown["gates"]["pir"]] == ["artefacts", "handovers-accepted", "pir-scheduled",
                                                            "no-open-variations"]
    collab(db, "definition", "show", "nope", check=2)
