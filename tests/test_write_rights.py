"""Authorisation on one collaboration: who may write to it, and a partner's kind once its signatories approved."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from builders import DORSET, open_as, people, ready_for_delivery, scoped
from conftest import collab
from workflow import definition
from workflow.errors import BadInput, Refused

DEFAULT = Path(definition.builtin_files()["police-collaboration"]).read_text()


def test_a_police_partner_whose_signatories_approved_cannot_be_relabelled(db: str) -> None:
    people(db)
    ready_for_delivery(db)  # Dorset's chief officer and PCC approved the delivery gate
    pm = open_as(db, "pm")
    before = pm.history("SA")
    with pytest.raises(Refused, match=f"{DORSET} stays police, not other: its signatories approved the delivery gate "
                                      "of SA as a police partner; a new kind would drop their signatures"):
        pm.add_partner("SA", DORSET, kind="other")
    refused = collab(db, "partner", "add", "SA", DORSET, "--kind", "fire", actor="pm", check=1)
    assert "stays police, not fire" in refused.err
    assert pm.history("SA") == before
    assert {p["name"]: p["kind"] for p in pm.show("SA")["partners"]}[DORSET] == "police"
    pm.add_partner("SA", DORSET, kind="police", risk_appetite="open")  # naming its own kind changes nothing


def test_a_kind_may_change_before_anyone_approved(db: str) -> None:
    people(db)
    pm = scoped(db)
    pm.add_partner("SA", DORSET, kind="fire")
    assert {p["name"]: p["kind"] for p in pm.show("SA")["partners"]}[DORSET] == "fire"


def test_only_its_manager_and_admins_write_to_a_collaboration(db: str) -> None:
    people(db)
    scoped(db)
    open_as(db, "root").add_user("pm2", "programme-manager")
    pm2 = open_as(db, "pm2")
    before = pm2.history("SA")
    attempts: list[tuple[str, Callable[[], Any]]] = [
        ("change a collaboration", lambda: pm2.update("SA", title="Taken over")),
        ("change a collaboration", lambda: pm2.add_partner("SA", "Hampshire Constabulary")),
        ("change a collaboration", lambda: pm2.add_benefit("SA", "B9", title="Mine", category="economic")),
        ("advance a collaboration", lambda: pm2.advance("SA")),
        ("migrate a collaboration", lambda: pm2.migrate("SA", "police-collaboration@1")),
    ]
    for doing, attempt in attempts:
        with pytest.raises(Refused, match=f"^pm2 does not manage SA; to {doing} SA needs pm or an admin$"):
            attempt()
    refused = collab(db, "update", "SA", "--title", "Taken over", actor="pm2", check=1)
    assert refused.err.strip() == "pm2 does not manage SA; to change a collaboration SA needs pm or an admin"
    assert pm2.history("SA") == before
    open_as(db, "root").update("SA", title="Renamed by an admin")
    open_as(db, "pm").update("SA", objective="Still the manager's")
    pm2.new("SB", "Their own")
    pm2.update("SB", title="Theirs to change")


def test_a_definition_may_give_every_programme_manager_write_rights(db: str) -> None:
    people(db)
    root = open_as(db, "root")
    root.add_user("pm2", "programme-manager")
    root.add_definition(DEFAULT.replace("version: 4", "version: 5") + "writers: [admin, programme-manager]\n", "open.yaml")
    open_as(db, "pm").new("SO", "Open to every programme manager", definition="police-collaboration@5")
    open_as(db, "pm2").update("SO", title="Changed by another programme manager")
    assert open_as(db, "pm").show("SO")["title"] == "Changed by another programme manager"
    with pytest.raises(BadInput, match="bad.yaml:[0-9]+: writers: must be a list of roles"):
        root.add_definition(DEFAULT.replace("version: 4", "version: 6") + "writers: [everyone]\n", "bad.yaml")
