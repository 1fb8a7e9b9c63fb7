"""Replay the history into the state it implies, and compare that with the tables.

Every change to state is written with an event that describes it completely, so the events alone
rebuild every collaboration, partner, benefit, measurement, handover, approval, artefact, lesson,
user, board, objective, link of the logic map and cost. A row edited, added or removed behind the engine's back (straight in the database)
shows as the first field where the tables and the history disagree. The events are streamed once, by the
chain check's walk (workflow/verification.py), which applies each in turn; the state kept is one entry per
thing, not per event.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from workflow.model import (
    Approval, Artefact, Benefit, BenefitBoard, BenefitLink, BenefitReview, Board, Collaboration, Cost, Handover, Lesson,
    Measurement, MeetingChange, Objective, Partner, PlanPoint, User, UserRole,
)

MOVES = ("advance", "hold", "resume", "withdraw")

Row = dict[str, Any]


@dataclass
class State:
    """What the history says the tables hold, keyed by the names people use."""

    users: dict[str, Row] = field(default_factory=dict)
    boards: dict[str, Row] = field(default_factory=dict)
    meetings: dict[tuple[str, str], Row] = field(default_factory=dict)  # (board, meeting): a meeting moved or cancelled
    collaborations: dict[str, Row] = field(default_factory=dict)
    partners: dict[tuple[str, str], Row] = field(default_factory=dict)
    approvals: dict[tuple[str, str, str, str], Row] = field(default_factory=dict)
    benefits: dict[tuple[str, str], Row] = field(default_factory=dict)
    plans: dict[tuple[str, str], list[tuple[str | None, float]]] = field(default_factory=dict)
    measurements: dict[tuple[str, str], list[tuple[Any, ...]]] = field(default_factory=dict)
    handovers: dict[tuple[str, str], list[Row]] = field(default_factory=dict)
    artefacts: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    lessons: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    objectives: dict[tuple[str, str], Row] = field(default_factory=dict)
    links: dict[tuple[str, str], list[tuple[str, str | None]]] = field(default_factory=dict)  # (kind, objective or benefit)
    costs: dict[tuple[str, str, str, str], Row] = field(default_factory=dict)  # (key, partner, year, category)
    reviews: dict[tuple[str, str], list[tuple[Any, ...]]] = field(default_factory=dict)  # a board's outcomes, per benefit
    benefit_boards: dict[tuple[str, str, str], Row] = field(default_factory=dict)  # (key, benefit, further board)


# What json.loads runs after its own checks (a BOM, whitespace around the value): a stored payload has neither.
_SCAN = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # the C scanner, set in __init__


def facts(payload: Any, reason: str | None) -> dict[str, Any]:
    """An event's payload with its reason under "reason" (unless the payload has a "reason" of its own): exactly
    `{"reason": reason, **json.loads(payload)}`, with its value or its error, at a third of the cost for a
    payload that is one JSON object and nothing else, as collab writes them."""
    try:
        value, end = _SCAN(payload, 0)
        if end != len(payload) or type(value) is not dict:
            raise ValueError
    except (StopIteration, TypeError, ValueError):  # anything else: json.loads decides, as ever
        return {"reason": reason, **json.loads(payload)}
    value.setdefault("reason", reason)
    return value


def apply(state: State, key: str | None, on: str, actor: str, action: str, from_stage: str | None,
          to_stage: str | None, p: dict[str, Any]) -> None:
    """One event's change of state (events that change no table, such as escalations, change nothing).
    `p` is the payload with the event's reason under "reason"."""
    c = state.collaborations.get(key) if key else None
    if c is not None:
        c["version"] += 1
    if action == "user-added":
        state.users[p["user"]] = {"role": p["role"], "roles": [p["role"]], "email": p["email"], "partner": p["partner"],
                                  "created_on": on, "deactivated_on": None, "login": p.get("login")}
    elif action == "user-updated":
        _user_updated(state.users[p["user"]], p["changes"])
    elif action == "user-deactivated":
        _deactivated(state, on, p)
    elif action == "board-added":
        state.boards[p["board"]] = {"partner": p["partner"], "meets": p["meets"], "anchor": on, "secretary": p["secretary"],
                                    "meets_at": None, "location": None, "retired_on": None, "retired_reason": None,
                                    "type": p.get("type")}
    elif action == "board-updated":
        state.boards[p["board"]].update({name: change["to"] for name, change in p["changes"].items()})
    elif action == "board-retired":
        state.boards[p["board"]].update(retired_on=on, retired_reason=p["reason"])
    elif action in ("meeting-moved", "meeting-cancelled"):  # a cancelled meeting keeps the day it had been moved to
        held = state.meetings.get((p["board"], p["meeting"]), {})
        state.meetings[(p["board"], p["meeting"])] = {
            "status": action.removeprefix("meeting-"), "moved_to": p.get("to", held.get("moved_to")), "reason": p["reason"],
            "sequence": p["sequence"], "changed_on": on}
    elif action == "registered" and key:
        name, version = _definition(p["definition"])
        state.collaborations[key] = {
            "title": p["title"], "objective": p["objective"], "public_benefit": p["public_benefit"], "rationale": None,
            "origin": p["origin"], "manager": p["manager"], "definition_name": name, "definition_version": version,
            "stage": to_stage, "held_from": None, "stage_since": on, "created_on": on, "closed_on": None,
            "pir_due": None, "version": 1}
        state.artefacts[key], state.lessons[key] = [], []
    elif c is None or key is None:
        return
    elif action == "updated":
        c.update({name: change["to"] for name, change in p["changes"].items()})
    elif action in ("partner-added", "partner-changed"):
        state.partners[(key, p["partner"])] = {"kind": p["kind"], "risk_appetite": p["risk_appetite"],
                                               "cost_share": _decimal(p["cost_share"])}
    elif action == "partner-removed":
        del state.partners[(key, p["partner"])]
    elif action == "cost-shares-set":
        for org, change in p["changes"].items():
            state.partners[(key, org)]["cost_share"] = _decimal(change["to"])
    elif action == "cost-set":
        state.costs[(key, p["partner"], p["year"], p["category"])] = {
            name: Decimal(p["after"][name]) for name in ("one_off", "recurring")}
    elif action == "artefact-added":
        state.artefacts[key].append((p["kind"], p["ref"], on, actor, p.get("sha256")))
    elif action == "approved":
        state.approvals[(key, p["gate"], p["partner"], p["role"])] = {"user": actor, "approved_on": on,
                                                                      "digest": p.get("digest"), "signed": "signature" in p}
    elif action in MOVES:
        c.update(stage=to_stage, stage_since=on,
                 held_from=p["held_from"] if "held_from" in p else from_stage if action == "hold" else None)
        if "closed_on" in p or "pir_due" in p:
            c["closed_on"] = p.get("closed_on", on)
        if "pir_due" in p:
            c["pir_due"] = p["pir_due"]
        for code, moved in p.get("handed_over", {}).items():
            state.benefits[(key, code)].update(owner=moved["owner"], board=moved["board"])
    elif action == "migrated":
        c["definition_name"], c["definition_version"] = _definition(p["definition"]["to"])
        c.update(stage=to_stage, held_from=p["held_from"])
        for (ckey, gate, partner, role) in [k for k in state.approvals if k[0] == key and k[1] in p["map"]]:
            state.approvals[(ckey, p["map"][gate], partner, role)] = state.approvals.pop((ckey, gate, partner, role))
    else:
        _benefit_event(state, key, on, actor, action, p)


def _benefit_event(state: State, key: str, on: str, actor: str, action: str, p: dict[str, Any]) -> None:
    if action == "lesson-recorded":
        state.lessons[key].append((p["text"], p["theme"], on, actor))
        return
    if action == "objective-added":
        state.objectives[(key, p["objective"])] = {"title": p["title"], "added_on": on}
        return
    code = p.get("benefit")
    if code is None:
        return
    b = (key, code)
    if action == "benefit-added":
        state.benefits[b] = {name: p[name] for name in ("title", "category", "dis_benefit", "measure", "unit", "baseline",
                                                         "target", "target_date", "owner", "board")}
        state.benefits[b].update(start_on=on, retired_on=None, retired_reason=None, retired_by=None)
        state.plans[b], state.measurements[b], state.handovers[b], state.links[b] = [], [], [], []
    elif action == "benefit-updated":
        state.benefits[b].update({name: change["to"] for name, change in p["changes"].items()})
        if "board" in p["changes"]:  # a further board made its own board is no longer a further one
            state.benefit_boards.pop((*b, p["changes"]["board"]["to"]), None)
    elif action == "benefit-planned":
        state.plans[b] = sorted((day, float(value)) for day, value in p["points"].items())
    elif action == "measured":
        state.measurements[b].append((on, float(p["value"]), p["note"], actor, None, None, None))
    elif action == "measurement-voided":
        figures = state.measurements[b]
        n = max(i for i, m in enumerate(figures) if m[0] == p["measured_on"] and m[1] == float(p["value"]) and m[4] is None)
        figures[n] = (*figures[n][:4], on, p["reason"], actor)
    elif action == "benefit-removed":
        for table in (state.benefits, state.plans, state.measurements, state.handovers, state.links):
            del table[b]
        for assigned in [k for k in state.benefit_boards if k[:2] == b]:
            del state.benefit_boards[assigned]
        for (each, _), links in state.links.items():
            if each == key:
                links[:] = [(kind, to) for kind, to in links if kind == "objective" or to != code]
    elif action == "benefit-reviewed":
        evidence = p["evidence"][0] if p["evidence"] else {}
        state.reviews.setdefault(b, []).append((p["board"], p["meeting"], p["outcome"], p["note"], evidence.get("source"),
                                                evidence.get("on"), actor, on))
    elif action == "benefit-linked":
        state.links[b].append((p["link"], p["to"]))
    elif action == "handover-proposed":
        state.handovers[b].append({"business_area": p["business_area"], "to": p["to"], "board": p["board"],
                                   "status": "proposed", "reason": None, "proposed_on": on, "decided_on": None})
    elif action in ("handover-accepted", "handover-declined"):
        state.handovers[b][-1].update(status=action.removeprefix("handover-"), reason=p.get("reason"), decided_on=on)
    elif action == "benefit-board-added":
        state.benefit_boards[(key, code, p["board"])] = {"since": on}
    elif action == "benefit-board-removed":
        del state.benefit_boards[(key, code, p["board"])]
    elif action == "benefit-retired":
        state.benefits[b].update(retired_on=on, retired_reason=p["reason"], retired_by=actor)


def _user_updated(user: Row, changes: dict[str, Any]) -> None:
    """Each change's new value; a change of the (only) role from before people held several also sets their roles."""
    user.update({name: change["to"] for name, change in changes.items()})
    if "role" in changes and "roles" not in changes:
        user["roles"] = [changes["role"]["to"]]


def _deactivated(state: State, on: str, p: dict[str, Any]) -> None:
    state.users[p["user"]]["deactivated_on"] = on
    for moved in p["benefits"]:
        state.benefits[(moved["collaboration"], moved["benefit"])]["owner"] = p["reassigned_to"]
    for board in p["boards"]:
        state.boards[board]["secretary"] = p["reassigned_to"]
    for moved in p["handovers"]:
        state.handovers[(moved["collaboration"], moved["benefit"])][-1]["to"] = p["reassigned_to"]


def _definition(label: str) -> tuple[str, int]:
    """NAME@VERSION (and the older "NAME vVERSION")."""
    name, _, version = label.replace(" v", "@").rpartition("@")
    return name, int(version)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


# -- the tables as the same shape ------------------------------------------------------------------


def tables(session: Session) -> State:
    """What the tables hold, in the shape of `replay`'s state (read as plain rows by column name: an ORM entity per
    row costs more than the comparison, and a Row's attribute three times its mapping's item)."""
    found = State()
    manager, owner, by, secretary, to = (aliased(User) for _ in range(5))

    def rows(entity: Any, *joined: Any) -> Select[Any]:
        return select(*entity.__table__.columns, *joined)

    def read(statement: Select[Any]) -> Iterable[Any]:
        return session.execute(statement).mappings()

    board_names: dict[int, str] = {}
    held: dict[int, list[str]] = {}
    for user_id, role in session.execute(select(UserRole.user_id, UserRole.role).order_by(UserRole.role)):
        held.setdefault(user_id, []).append(role)
    for u in read(rows(User)):
        found.users[u["name"]] = {"role": u["role"], "roles": held.get(u["id"], []), "email": u["email"],
                                  "partner": u["partner"], "created_on": _day(u["created_on"]),
                                  "deactivated_on": _day(u["deactivated_on"]), "login": u["login"]}
    for board in read(rows(Board, secretary.name.label("secretary"))
                      .join(secretary, secretary.id == Board.secretary_id)):
        found.boards[board["name"]] = {
            "partner": board["partner"], "meets": board["meets"], "anchor": _day(board["anchor"]),
            "secretary": board["secretary"], "meets_at": board["meets_at"], "location": board["location"],
            "retired_on": _day(board["retired_on"]), "retired_reason": board["retired_reason"],
            "type": board["type"]}
        board_names[board["id"]] = board["name"]
    for change in read(rows(MeetingChange)):
        found.meetings[(board_names[change["board_id"]], change["meeting"].isoformat())] = {
            "status": change["status"], "moved_to": _day(change["moved_to"]), "reason": change["reason"],
            "sequence": change["sequence"], "changed_on": _day(change["changed_on"])}
    keys = {}
    for c in read(rows(Collaboration, manager.name.label("manager"))
                  .join(manager, manager.id == Collaboration.manager_id)):
        keys[c["id"]] = c["key"]
        found.collaborations[c["key"]] = {
            "title": c["title"], "objective": c["objective"], "public_benefit": c["public_benefit"],
            "rationale": c["rationale"], "origin": c["origin"], "manager": c["manager"],
            "definition_name": c["definition_name"], "definition_version": c["definition_version"], "stage": c["stage"],
            "held_from": c["held_from"], "stage_since": _day(c["stage_since"]), "created_on": _day(c["created_on"]),
            "closed_on": _day(c["closed_on"]), "pir_due": _day(c["pir_due"]), "version": c["version"]}
        found.artefacts[c["key"]], found.lessons[c["key"]] = [], []
    for p in read(rows(Partner)):
        found.partners[(keys[p["collaboration_id"]], p["name"])] = {
            "kind": p["kind"], "risk_appetite": p["risk_appetite"], "cost_share": _decimal(p["cost_share"])}
    for artefact in read(rows(Artefact, by.name.label("by")).join(by, by.id == Artefact.recorded_by_id).order_by(Artefact.id)):
        found.artefacts[keys[artefact["collaboration_id"]]].append(
            (artefact["kind"], artefact["ref"], _day(artefact["recorded_on"]), artefact["by"], artefact["sha256"]))
    for approval in read(rows(Approval, by.name.label("by")).join(by, by.id == Approval.user_id)):
        cid = approval["collaboration_id"]
        found.approvals[(keys[cid], approval["gate"], approval["partner"], approval["role"])] = {
            "user": approval["by"], "approved_on": _day(approval["approved_on"]), "digest": approval["digest"],
            "signed": approval["signed"]}
    codes = {}
    for b in read((rows(Benefit, owner.name.label("owner"), Board.name.label("board"), by.name.label("retired_by"))
              .outerjoin(owner, owner.id == Benefit.owner_id).outerjoin(Board, Board.id == Benefit.board_id)
              .outerjoin(by, by.id == Benefit.retired_by_id))):
        key = codes[b["id"]] = (keys[b["collaboration_id"]], b["code"])
        found.benefits[key] = {
            "title": b["title"], "category": b["category"], "dis_benefit": b["dis_benefit"], "measure": b["measure"],
            "unit": b["unit"], "baseline": b["baseline"], "target": b["target"], "target_date": _day(b["target_date"]),
            "owner": b["owner"], "board": b["board"], "start_on": _day(b["start_on"]), "retired_on": _day(b["retired_on"]),
            "retired_reason": b["retired_reason"], "retired_by": b["retired_by"]}
        found.plans[key], found.measurements[key], found.handovers[key], found.links[key] = [], [], [], []
    for point in read(rows(PlanPoint).order_by(PlanPoint.on)):
        found.plans[codes[point["benefit_id"]]].append((_day(point["on"]), float(point["value"])))
    for m in read(rows(Measurement, by.name.label("by"), to.name.label("voided_by"))
                  .join(by, by.id == Measurement.recorded_by_id)
                  .outerjoin(to, to.id == Measurement.voided_by_id).order_by(Measurement.id)):
        found.measurements[codes[m["benefit_id"]]].append((_day(m["on"]), float(m["value"]), m["note"], m["by"],
                                                           _day(m["voided_on"]), m["voided_reason"], m["voided_by"]))
    for h in read((rows(Handover, to.name.label("to"), Board.name.label("board"))
                   .join(to, to.id == Handover.to_user_id)
                   .outerjoin(Board, Board.id == Handover.board_id).order_by(Handover.id))):
        found.handovers[codes[h["benefit_id"]]].append({
            "business_area": h["business_area"], "to": h["to"], "board": h["board"], "status": h["status"],
            "reason": h["reason"], "proposed_on": _day(h["proposed_on"]), "decided_on": _day(h["decided_on"])})
    for r in read(rows(BenefitReview, Board.name.label("board"), by.name.label("by"))
                  .join(Board, Board.id == BenefitReview.board_id)
                  .join(by, by.id == BenefitReview.recorded_by_id).order_by(BenefitReview.id)):
        found.reviews.setdefault(codes[r["benefit_id"]], []).append(
            (r["board"], _day(r["meeting"]), r["outcome"], r["note"], r["evidence_source"], _day(r["evidence_on"]),
             r["by"], _day(r["recorded_on"])))
    for assigned in read(rows(BenefitBoard, Board.name.label("board")).join(Board, Board.id == BenefitBoard.board_id)):
        found.benefit_boards[(*codes[assigned["benefit_id"]], assigned["board"])] = {"since": _day(assigned["since"])}
    for lesson in read(rows(Lesson, by.name.label("by")).join(by, by.id == Lesson.recorded_by_id).order_by(Lesson.id)):
        found.lessons[keys[lesson["collaboration_id"]]].append(
            (lesson["text"], lesson["theme"], _day(lesson["recorded_on"]), lesson["by"]))
    objectives = {}
    for o in read(rows(Objective)):
        objectives[o["id"]] = o["code"]
        found.objectives[(keys[o["collaboration_id"]], o["code"])] = {"title": o["title"],
                                                                       "added_on": _day(o["added_on"])}
    for link in read(rows(BenefitLink).order_by(BenefitLink.id)):
        target = link["target_id"]
        end = codes[target][1] if target is not None else objectives.get(link["objective_id"] or 0)
        found.links[codes[link["benefit_id"]]].append((link["kind"], end))
    for cost in read(rows(Cost)):
        found.costs[(keys[cost["collaboration_id"]], cost["partner"], cost["year"], cost["category"])] = {
            "one_off": cost["one_off"], "recurring": cost["recurring"]}
    return found


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def divergence(session: Session, implied: State) -> str | None:
    """The first place where the tables differ from `implied`, the state the history implies, or None."""
    held = tables(session)
    for table in State.__dataclass_fields__:
        expected, actual = getattr(implied, table), getattr(held, table)
        for row in sorted(set(expected) | set(actual), key=str):
            if row not in actual:
                return f"table {table}, row {_name(row)}: in the history but missing from the table"
            if row not in expected:
                return f"table {table}, row {_name(row)}: in the table but not in the history"
            said = _differs(expected[row], actual[row])
            if said:
                return f"table {table}, row {_name(row)}, {said}"
    return None


def _differs(expected: Any, actual: Any) -> str | None:
    if isinstance(expected, dict):
        for name in expected:
            if not _same(expected[name], actual.get(name)):
                return f"field {name}: the history says {expected[name]!r}, the table holds {actual.get(name)!r}"
        return None
    if len(expected) != len(actual):
        return f"{len(expected)} entries in the history, {len(actual)} in the table"
    for n, (want, have) in enumerate(zip(expected, actual), 1):
        said = _differs(want, have) if isinstance(want, dict) else None if _same(want, have) else \
            f"the history says {want!r}, the table holds {have!r}"
        if said:
            return f"entry {n}: {said}"
    return None


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, (tuple, list)) and isinstance(actual, (tuple, list)):
        return len(expected) == len(actual) and all(map(_same, expected, actual))
    if isinstance(expected, (int, float, Decimal)) and isinstance(actual, (int, float, Decimal)) \
            and not isinstance(expected, bool) and not isinstance(actual, bool):
        return Decimal(str(expected)) == Decimal(str(actual))
    return bool(expected == actual)


def _name(row: Any) -> str:
    return "/".join(map(str, row)) if isinstance(row, tuple) else str(row)
