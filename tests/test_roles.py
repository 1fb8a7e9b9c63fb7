"""A person may hold more than one role (`collab user update --add-role/--remove-role`): every permission check
accepts any of them, and the history replays the roles each person holds."""

from __future__ import annotations

from datetime import date

from builders import awaiting_delivery_approvals, open_as, people
from conftest import collab


def test_a_chief_officer_who_also_owns_benefits_and_clerks_a_board(db: str) -> None:
    people(db)
    pm = awaiting_delivery_approvals(db)
    added = collab(db, "user", "update", "cc.dc", "--add-role", "benefit-owner", "--add-role", "board-secretary",
                   "--json", actor="root", check=0).json()
    assert added["role"] == "chief-officer"
    assert added["roles"] == ["chief-officer", "benefit-owner", "board-secretary"]
    assert added["changes"] == {"roles": {"from": ["chief-officer"],
                                          "to": ["benefit-owner", "board-secretary", "chief-officer"]}}

    pm.update_benefit("SA", "B1", owner="cc.dc")
    pm.handover("SA", "B1", business_area="Finance", to="cc.dc")
    chief = open_as(db, "cc.dc")
    assert {(i["kind"], i["item"]) for i in chief.todo()} >= {("approval", "delivery"), ("handover", "B1")}
    assert chief.approve("SA", "delivery", on=date(2019, 12, 2))["role"] == "chief-officer"
    assert chief.accept("SA", "B1")["status"] == "accepted"
    assert chief.measure("SA", "B1", 3, on=date(2019, 12, 2))
    open_as(db, "root").add_board("Joint Board", "Devon & Cornwall Police", "FREQ=MONTHLY;BYDAY=1WE", "cc.dc")

    listed = {u["name"]: u for u in collab(db, "user", "list", "--json", actor="audit", check=0).json()}
    assert listed["cc.dc"]["roles"] == ["chief-officer", "benefit-owner", "board-secretary"]
    table = collab(db, "user", "list", actor="audit", check=0).out
    assert "chief-officer, benefit-owner, board-secretary" in table
    assert collab(db, "audit", "verify", "--json", actor="audit", check=0).json()["ok"]


def test_a_second_role_is_acted_in_and_the_last_is_kept(db: str) -> None:
    people(db)
    awaiting_delivery_approvals(db)
    collab(db, "user", "update", "owner", "--add-role", "pcc", "--partner", "Dorset Police", actor="root", check=0)
    # an owner who is also Dorset's PCC approves as the PCC, though the primary role asks no approval
    assert open_as(db, "owner").approve("SA", "delivery", on=date(2019, 12, 2))["role"] == "pcc"

    refused = collab(db, "user", "update", "audit", "--remove-role", "auditor", actor="root", check=1)
    assert refused.err.startswith("audit must keep at least one role")
    assert "does not hold the role pcc" in collab(db, "user", "update", "audit", "--remove-role", "pcc",
                                                  actor="root", check=2).err
    assert "either add a role or remove it" in collab(db, "user", "update", "audit", "--add-role", "pcc",
                                                      "--remove-role", "pcc", actor="root", check=2).err
    # removing the primary makes the next role held the primary
    moved = collab(db, "user", "update", "owner", "--remove-role", "benefit-owner", "--json", actor="root", check=0).json()
    assert (moved["role"], moved["roles"]) == ("pcc", ["pcc"])
    assert collab(db, "user", "update", "sec", "--add-role", "auditor", "--json", actor="root",
                  check=0).json()["roles"] == ["board-secretary", "auditor"]
    refused = collab(db, "user", "update", "sec", "--remove-role", "board-secretary", actor="root", check=1)
    assert "a board's secretary must have the role board-secretary" in refused.err
    assert collab(db, "audit", "verify", "--json", actor="audit", check=0).json()["ok"]
