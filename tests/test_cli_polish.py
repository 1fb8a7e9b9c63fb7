"""Small CLI corrections: a negative measured value, an unknown stage or actor named as a filter."""

from __future__ import annotations

import re
from pathlib import Path

from builders import as_of, in_delivery, people
from conftest import collab

NOW = {"COLLAB_NOW": "2020-03-01T09:00"}
STAGES = "bau, closure, delivery, on-hold, pid, pir, scoping, withdrawn"


def test_a_negative_value_is_measured_not_taken_for_an_option(db: str) -> None:
    with as_of("2020-01-06T09:00"):
        people(db)
        in_delivery(db)
    done = collab(db, "benefit", "measure", "SA", "B1", "-1", "--on", "2020-02-01", actor="owner", env=NOW, check=0)
    assert done.out.strip() == "SA: benefit B1 measured -1 on 2020-02-01"
    collab(db, "benefit", "measure", "SA", "B2", "--on", "2020-02-03", "-2.5e1", "--note", "fell", actor="owner",
           env=NOW, check=0)
    latest = {b["id"]: (b["latest"], b["latest_on"])
              for b in collab(db, "benefit", "list", "SA", "--json", actor="pm", env=NOW, check=0).json()}  # type: ignore[union-attr, index]
    assert latest == {"B1": (-1.0, "2020-02-01"), "B2": (-25.0, "2020-02-03")}
    assert "is not a number" in collab(db, "benefit", "measure", "SA", "B1", "-x", actor="owner", env=NOW, check=2).err


def test_list_refuses_a_stage_no_stored_definition_has(db: str, tmp_path: Path) -> None:
    people(db)
    refused = collab(db, "list", "--stage", "bogus", actor="pm", check=2)
    assert refused.err.strip() == f"unknown stage 'bogus' (stages: {STAGES})"
    assert collab(db, "list", "--stage", "bau", "--json", actor="pm", check=0).json() == []
    assert "unknown stage 'business-as-usual'" in collab(db, "list", "--stage", "business-as-usual", actor="pm", check=2).err
    source = (Path(__file__).parents[1] / "definitions" / "police-collaboration.yaml").read_text()
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(re.sub(r"\bbau\b", "business-as-usual", source.replace("name: police-collaboration", "name: renamed", 1)))
    collab(db, "definition", "add", str(renamed), actor="root", check=0)
    assert collab(db, "list", "--stage", "business-as-usual", "--json", actor="pm", check=0).json() == []


def test_history_refuses_an_unknown_actor(db: str) -> None:
    people(db)
    refused = collab(db, "history", "--all", "--actor", "nobody", actor="pm", check=2)
    assert refused.err.startswith("unknown user 'nobody'")
    assert [e["action"] for e in collab(db, "history", "--all", "--actor", "root", "--json", actor="pm", check=0).json()][:2] == [  # type: ignore[index, union-attr]
        "user-added", "user-added"]
    assert collab(db, "history", "--all", "--actor", "audit", "--json", actor="pm", check=0).json() == []
