"""People change: an admin corrects a user's details, and deactivates a user, moving what they hold
to someone else in one step (`collab user update`, `collab user deactivate`)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from builders import DC, DORSET, as_of, closed, connection, in_delivery, open_as, people, scoped
from conftest import collab
from workflow.db import engine_for


def events(db: str, action: str) -> list[dict[str, object]]:
    return collab(db, "history", "--all", "--action", action, "--json", actor="audit", check=0).json()  # type: ignore[return-value]


def users(db: str) -> dict[str, dict[str, object]]:
    return {u["name"]: u for u in collab(db, "user", "list", "--json", actor="audit", check=0).json()}  # type: ignore[union-attr, index]


def verified(db: str) -> bool:
    return collab(db, "audit", "verify", "--json", actor="pm", check=0).json()["ok"]  # type: ignore[index, call-overload, no-any-return]


def test_an_admin_corrects_a_users_email_and_force(db: str) -> None:
    people(db)
    done = collab(db, "user", "update", "pcc.do", "--email", "PCC@Dorset.PNN.Police.UK", "--partner", "Dorset OPCC",
                  actor="root", check=0)
    assert done.out.strip() == ("updated pcc.do: email pcc.do@example.org -> PCC@dorset.pnn.police.uk, "
                                "partner Dorset Police -> Dorset OPCC")
    assert users(db)["pcc.do"]["email"] == "PCC@dorset.pnn.police.uk"
    assert users(db)["pcc.do"]["partner"] == "Dorset OPCC"
    [event] = events(db, "user-updated")
    assert event["actor"] == "root"
    assert event["payload"] == {"user": "pcc.do", "changes": {
        "email": {"from": "pcc.do@example.org", "to": "PCC@dorset.pnn.police.uk"},
        "partner": {"from": "Dorset Police", "to": "Dorset OPCC"}}, **connection(db)}
    collab(db, "user", "update", "pm", "--role", "chief-officer", "--partner", "Dorset Police", actor="root", check=0)
    assert users(db)["pm"]["role"] == "chief-officer"
    assert verified(db)


def test_an_email_must_be_exactly_one_address_and_only_an_admin_updates(db: str) -> None:
    people(db)
    for bad in ("a@example.org, b@example.org", "Alice <a@example.org>", "not-an-address"):
        refused = collab(db, "user", "update", "pm", "--email", bad, actor="root", check=2)
        assert "is not a single valid address" in refused.err
        assert "is not a single valid address" in collab(db, "user", "add", "x", "--role", "auditor", "--email", bad,
                                                         actor="root", check=2).err
    assert collab(db, "user", "update", "pm", "--email", "x@example.org", actor="pm", check=1).err.startswith(
        "pm is a programme-manager; to register users needs the role admin")
    assert "a pcc acts for a force" in collab(db, "user", "update", "pm", "--role", "pcc", actor="root", check=2).err
    assert collab(db, "user", "update", "nobody", "--email", "x@example.org", actor="root", check=2).err.startswith(
        "unknown user 'nobody'")
    collab(db, "user", "update", "pm", actor="root", check=2)
    assert collab(db, "user", "update", "sec", "--role", "auditor", actor="root", check=1).err.startswith(
        "sec is the secretary of RCB; a board's secretary must have the role board-secretary")
    assert users(db)["sec"]["role"] == "board-secretary"
    assert users(db)["pm"] == {"name": "pm", "role": "programme-manager", "roles": ["programme-manager"],
                               "email": "pm@example.org", "partner": None, "deactivated_on": None, "login": None}
    assert "x" not in users(db)
    assert events(db, "user-updated") == []


def test_deactivating_a_user_moves_their_benefits_boards_and_handovers(db: str) -> None:
    people(db)
    closed(db)  # B1 and B2 owned by owner, reviewed at RCB (secretary sec), each proposed to owner2
    admin = open_as(db, "root")
    admin.add_user("owner3", "benefit-owner")
    admin.add_user("sec2", "board-secretary")

    refused = collab(db, "user", "deactivate", "owner", actor="root", check=1)
    assert refused.err.strip() == ("owner still holds 2 benefit(s), 0 board(s) and 0 proposed handover(s): name who "
                                   "takes them over with --reassign-to USER")
    done = collab(db, "user", "deactivate", "owner", "--reassign-to", "owner3", actor="root", check=0)
    assert done.out.strip() == "deactivated owner: 2 benefit(s), 0 board(s), 0 handover(s) moved to owner3"
    benefits = collab(db, "benefit", "list", "SA", "--json", actor="audit", check=0).json()
    assert [(b["id"], b["owner"]) for b in benefits] == [("B1", "owner3"), ("B2", "owner3")]  # type: ignore[index, union-attr]
    assert users(db)["owner"]["deactivated_on"] is not None

    assert "cannot take over from owner2: deactivated" in collab(
        db, "user", "deactivate", "owner2", "--reassign-to", "owner", actor="root", check=2).err
    collab(db, "user", "deactivate", "owner2", "--reassign-to", "owner3", actor="root", check=0)
    handovers = [b["handover"] for b in collab(db, "benefit", "list", "SA", "--json", actor="audit", check=0).json()]  # type: ignore[union-attr, index]
    assert [(h["to"], h["status"]) for h in handovers] == [("owner3", "proposed"), ("owner3", "proposed")]
    collab(db, "benefit", "accept", "SA", "B1", actor="owner3", check=0)

    assert "a board's secretary must have the role board-secretary" in collab(
        db, "user", "deactivate", "sec", "--reassign-to", "pm", actor="root", check=2).err
    collab(db, "user", "deactivate", "sec", "--reassign-to", "sec2", actor="root", check=0)
    assert [b["secretary"] for b in collab(db, "board", "list", "--json", actor="audit", check=0).json()] == ["sec2"]  # type: ignore[index, union-attr]

    moved, login = [e["payload"] for e in events(db, "user-deactivated")], connection(db)
    assert moved == [
        {"user": "owner", "reassigned_to": "owner3", "boards": [], "handovers": [],
         "benefits": [{"collaboration": "SA", "benefit": "B1"}, {"collaboration": "SA", "benefit": "B2"}], **login},
        {"user": "owner2", "reassigned_to": "owner3", "boards": [], "benefits": [],
         "handovers": [{"collaboration": "SA", "benefit": "B1"}, {"collaboration": "SA", "benefit": "B2"}], **login},
        {"user": "sec", "reassigned_to": "sec2", "boards": ["RCB"], "benefits": [], "handovers": [], **login},
    ]
    assert verified(db)


def test_a_deactivated_user_can_no_longer_act(db: str) -> None:
    people(db)
    collab(db, "user", "deactivate", "audit", actor="root", check=0)  # holds nothing, so needs no successor
    refused = collab(db, "list", actor="audit", check=1)
    assert refused.err.startswith("audit was deactivated on ")
    assert refused.err.rstrip().endswith("and can no longer act")
    assert "was deactivated on" in collab(db, "user", "deactivate", "audit", actor="root", check=1).err
    assert "may not deactivate themselves" in collab(db, "user", "deactivate", "root", actor="root", check=1).err
    collab(db, "list", actor="pm", check=0)


def test_audit_verify_notices_a_deactivation_undone_behind_its_back(db: str) -> None:
    people(db)
    collab(db, "user", "update", "audit", "--email", "audit@example.org", actor="root", check=0)
    collab(db, "user", "deactivate", "audit", actor="root", check=0)
    assert verified(db)
    with engine_for(db).begin() as connection:
        connection.execute(text("UPDATE users SET deactivated_on = NULL WHERE name = 'audit'"))
    found = collab(db, "audit", "verify", "--json", actor="pm", check=3).json()
    assert "table users, row audit, field deactivated_on" in found["problem"]  # type: ignore[index, call-overload]


def todo(db: str, actor: str, now: str | None = None) -> list[dict[str, object]]:
    env = {"COLLAB_NOW": now} if now else None
    return collab(db, "todo", "--json", actor=actor, env=env, check=0).json()  # type: ignore[return-value]


def test_todo_lists_the_approval_a_pcc_owes_until_they_give_it(db: str) -> None:
    people(db)
    pm = scoped(db)
    pm.advance("SA", on=date(2019, 6, 3))  # in pid: the delivery gate asks each police force's chief officer and PCC
    awaited = [{"kind": "approval", "collaboration": "SA", "item": "delivery", "due_on": None}]
    assert todo(db, "pcc.do") == awaited
    assert todo(db, "cc.dc") == awaited
    assert todo(db, "pm") == [] and todo(db, "owner") == []
    collab(db, "approve", "SA", "--gate", "delivery", actor="pcc.do", check=0)
    assert todo(db, "pcc.do") == []
    assert todo(db, "pcc.dc") == awaited
    listed = collab(db, "todo", actor="pcc.dc", check=0).out.splitlines()
    assert listed[1].split() == ["approval", "SA", "delivery"]


def test_todo_lists_a_variation_to_re_approve(db: str) -> None:
    people(db)
    in_delivery(db)
    assert todo(db, "pcc.do") == []
    collab(db, "partner", "shares", "SA", f"{DC}=60", f"{DORSET}=40", actor="pm", check=0)
    variation = [{"kind": "variation", "collaboration": "SA", "item": "delivery", "due_on": None}]
    assert todo(db, "pcc.do") == variation
    assert todo(db, "cc.dc") == variation
    collab(db, "approve", "SA", "--gate", "delivery", actor="pcc.do", check=0)
    assert todo(db, "pcc.do") == []


def test_todo_lists_handovers_figures_and_reviews(db: str) -> None:
    with as_of("2020-01-06T09:00"):
        people(db)
        in_delivery(db)  # B1 and B2 owned by owner, reviewed at RCB (first Tuesdays; agenda 7 days before)
    # On Sunday 1 March 2020 the February meeting (4th) went by without a figure; the March one (3rd) is due.
    figures = [{"kind": "figure", "collaboration": "SA", "item": code, "due_on": day}
               for day in ("2020-02-04", "2020-03-03") for code in ("B1", "B2")]
    assert todo(db, "owner", "2020-03-01T09:00") == figures
    assert todo(db, "sec", "2020-03-01T09:00") == [{**f, "kind": "review"} for f in figures]
    assert todo(db, "owner", "2020-01-20T09:00") == []  # under review from 6 January: nothing is due yet
    with as_of("2020-03-01T09:00"):
        open_as(db, "owner").measure("SA", "B1", 3.0, on=date(2020, 2, 28))
        open_as(db, "pm").handover("SA", "B2", business_area="Finance", to="owner2")
    assert todo(db, "owner", "2020-03-01T09:00") == [
        {"kind": "figure", "collaboration": "SA", "item": "B2", "due_on": "2020-02-04"},
        {"kind": "figure", "collaboration": "SA", "item": "B2", "due_on": "2020-03-03"}]
    assert todo(db, "owner2", "2020-03-01T09:00") == [
        {"kind": "handover", "collaboration": "SA", "item": "B2", "due_on": None}]


def test_the_acting_user_is_read_once_per_collab_but_their_own_update_takes_effect_at_once(db: str) -> None:
    from workflow.errors import Refused

    people(db)
    root = open_as(db, "root")
    root.add_user("root2", "admin")
    root.update_user("root", role="programme-manager")
    with pytest.raises(Refused):
        root.add_user("late", "auditor")  # no longer an admin, though this Collab had read root as one
