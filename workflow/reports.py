"""The facts of a collaboration's report and of the portfolio report, read as one consistent snapshot.

A report quotes the head hash of the history chain it verified, so everything in it must come from
the same moment: the read views it composes all run in one read transaction, REPEATABLE READ on
PostgreSQL (a SQLite read transaction is a snapshot already).

The facts are plain JSON-ready dicts; `workflow.report_formats` turns them into HTML, JSON or CSV.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflow import __version__, facts as gate_facts, owed, reviews, verification, views
from workflow.context import Context
from workflow.costs import cost_rows, net_benefit_rows
from workflow.progress import Progress
from workflow.logicmap import objective_rows
from workflow.lookups import find_collaboration, find_force, links_of
from workflow.model import Benefit, BenefitReview, Board, Collaboration, Measurement, PlanPoint
from workflow.realisation import STATUSES, planned_value

# Events that correct a mistake, and events that do when they give a reason (a title or category put right).
CORRECTIONS = ("measurement-voided", "partner-removed", "benefit-removed")
CORRECTABLE = ("updated", "benefit-updated")
COLLABORATION_FIELDS = ("key", "title", "stage", "since", "origin", "manager", "definition", "definition_version",
                        "objective", "public_benefit", "rationale", "held_from", "closed_on", "pir_due")


def open_reviews(session: Session, today: date, key: str | None) -> list[dict[str, Any]]:
    """Reviews due or overdue for one collaboration's benefits (all collaborations when key is None), as
    the reviews view lists them: {"collaboration", "benefit", "board", "due_on", "status"}."""
    snap = reviews.snapshot(session, today, ahead=0, behind=None)
    return [
        row.as_dict() for row in owed.statuses(snap, today, 0)
        if row.status in ("due", "overdue") and (key is None or row.collaboration == key)
    ]


def collaboration_report(ctx: Context, key: str) -> dict[str, Any]:
    """Purpose, partners, stage timeline, gates, benefits with their series, savings, reviews, history, verification."""
    today = ctx.clock.today()
    with ctx.snapshot() as session:
        collaboration = find_collaboration(session, key)
        key = collaboration.key  # as registered, whatever the case it was asked for in
        shown = views.show(session, key, today)
        register = views.benefit_rows(session, collaboration, today)
        events = views.history(session, key)
        checked = views.check(session, collaboration)
        series = _series(session, key)
        objectives = objective_rows(session, collaboration)
        links = links_of(session, collaboration)
        owed = open_reviews(session, today, key)
        costs = cost_rows(session, collaboration)
        net = net_benefit_rows(session, collaboration, costs)
        outcomes = board_reviews(session, collaboration.id)
        verified = verification.verify(session)
    return {
        "report": _about("collaboration", ctx),
        "collaboration": {**{name: shown[name] for name in COLLABORATION_FIELDS},
                          "days_in_stage": _days(shown["since"], today)},
        "partners": shown["partners"],
        "artefacts": shown["artefacts"],
        "stages": _stages(events, today),
        "approvals": [
            {"gate": e["payload"]["gate"], "partner": e["payload"]["partner"], "role": e["payload"]["role"],
             "by": e["actor"], "on": e["effective_on"], "digest": e["payload"].get("digest"),
             "variation": e["payload"].get("variation", False), "signed": "signature" in e["payload"]}
            for e in events if e["action"] == "approved"
        ],
        "gates": checked["transitions"],
        "variations": checked["variations"],
        "objectives": objectives,
        "benefits": [_beside_plan({**row, **series[row["id"]], **_linked(row["id"], links),
                                   "reviews": outcomes.get(row["id"], [])}) for row in register],
        "realisation": shown["realisation"],
        "costs": costs,
        "net_benefit": net,
        "cost_changes": cost_changes(events),
        "reviews": owed,
        "corrections": [{"seq": e["seq"], "on": e["effective_on"], "by": e["actor"], "action": e["action"],
                         "reason": e["reason"], "details": e["payload"]}
                        for e in events if e["action"] in CORRECTIONS or (e["action"] in CORRECTABLE and e["reason"])],
        "history": events,
        "verification": verified.as_dict(),
    }


def portfolio_report(ctx: Context, partner: str | None = None, *, progress: Progress | None = None) -> dict[str, Any]:
    """Every collaboration's stage, time in stage, gate readiness, benefits by status and overdue reviews, read in
    a fixed number of queries whatever the number of collaborations; `progress` hears of the history's verification,
    the longest part.

    For a `partner` (a force), only the collaborations it is a partner of, each with that force's share of the
    costs and savings (never another partner's figures: those cost a few queries per collaboration), and only the
    reviews its own boards owe."""
    today = ctx.clock.today()
    with ctx.snapshot() as session:
        query = select(Collaboration).order_by(Collaboration.key)
        if partner is not None:  # each collaboration's partners, read in one statement for the filter and the shares
            query = query.options(selectinload(Collaboration.partners))
        listed = session.scalars(query).all()
        if partner is not None:
            partner = find_force(session, partner)
            listed = [c for c in listed if partner in {p.name for p in c.partners}]
            shares = {c.key: _share_of(session, c, partner) for c in listed}
            boards = set(session.scalars(select(Board.name).where(Board.partner == partner)))
        facts = gate_facts.gate_facts_of_all(session, listed)
        realised = views.realisation_of_all(session, today)
        definitions = {(c.definition_name, c.definition_version) for c in listed}
        chosen = {version: ctx.definition(session, *version) for version in definitions}
        gates = [views.next_moves(chosen[c.definition_name, c.definition_version], c, facts[c.id][0]) for c in listed]
        owed = open_reviews(session, today, None)
        if partner is not None:
            owed = [r for r in owed if r["board"] in boards]
        verified = verification.verify(session, progress=progress)
    overdue = Counter(r["collaboration"] for r in owed if r["status"] == "overdue")
    empty = views.summary([])
    rows = [
        {"key": c.key, "title": c.title, "stage": c.stage, "since": c.stage_since.isoformat(), "origin": c.origin,
         "manager": c.manager.name, "objective": c.objective, "days_in_stage": (today - c.stage_since).days,
         "gates": moves, "benefits": realised.get(c.id, empty)["benefits"],
         "dis_benefits": realised.get(c.id, empty)["dis_benefits"], "overdue_reviews": overdue[c.key]}
        for c, moves in zip(listed, gates)
    ]
    if partner is not None:
        for row in rows:
            row["share"] = shares[row["key"]]
    return {
        "report": {**_about("portfolio", ctx), **({} if partner is None else {"partner": partner})},
        "collaborations": rows,
        "totals": {
            "collaborations": len(rows),
            "operational": sum(r["origin"] == "operational" for r in rows),
            "by_stage": dict(Counter(r["stage"] for r in rows)),
            "benefits": {status: sum(r["benefits"][status] for r in rows) for status in STATUSES},
            "overdue_reviews": sum(overdue.values()),
        },
        "reviews": owed,
        "verification": verified.as_dict(),
    }


def cost_changes(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """How the costs, and with them the net benefit, moved: each `cost-set` with its date, who, why, the figures
    before and after, and its effect on that partner's net benefit of that year (less cost, more net)."""
    def total(amounts: dict[str, str] | None) -> Decimal:
        return sum((Decimal(v) for v in (amounts or {}).values()), Decimal(0))

    return [{"on": e["effective_on"], "by": e["actor"], "partner": p["partner"], "year": p["year"],
             "category": p["category"], "before": p["before"], "after": p["after"], "reason": e["reason"],
             "net_effect": float(total(p["before"]) - total(p["after"]))}
            for e in events if e["action"] == "cost-set" for p in [e["payload"]]]


def _share_of(session: Session, collaboration: Collaboration, partner: str) -> dict[str, Any]:
    """One partner's share of a collaboration: its cost share, its costs and its net benefit, nobody else's."""
    costs = cost_rows(session, collaboration)
    share = next(p.cost_share for p in collaboration.partners if p.name == partner)
    return {"cost_share": None if share is None else float(share),
            "costs": [c for c in costs if c["partner"] == partner],
            "net_benefit": [n for n in net_benefit_rows(session, collaboration, costs) if n["partner"] == partner]}


def _about(kind: str, ctx: Context) -> dict[str, Any]:
    return {"kind": kind, "generated_at": ctx.clock.now().isoformat(timespec="seconds"),
            "as_of": ctx.clock.today().isoformat(), "generated_by": ctx.actor_name, "collab_version": __version__}


def _days(since: str, today: date) -> int:
    return (today - date.fromisoformat(since)).days


def _stages(events: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """Each stay in a stage, from the history's stage moves: entered on, left on (None: current), days, by whom."""
    moves = [e for e in events if e["to_stage"]]
    stays = []
    for move, following in zip(moves, [*moves[1:], None]):
        until = following["effective_on"] if following else None
        stays.append({"stage": move["to_stage"], "on": move["effective_on"], "until": until,
                      "days": _days(move["effective_on"], date.fromisoformat(until) if until else today),
                      "by": move["actor"], "action": move["action"], "reason": move["reason"]})
    return stays


def _beside_plan(benefit: dict[str, Any]) -> dict[str, Any]:
    """Each measurement with what the realisation plan expected on its day (None while the profile is incomplete)."""
    complete = None not in (benefit["baseline"], benefit["target"], benefit["target_date"])
    plan = [(date.fromisoformat(p["on"]), p["value"]) for p in benefit["plan"]]
    for reading in benefit["measured"]:
        reading["planned"] = round(planned_value(
            date.fromisoformat(benefit["start_on"]), benefit["baseline"], benefit["target"],
            date.fromisoformat(benefit["target_date"]), plan, date.fromisoformat(reading["on"])), 6) if complete else None
    return benefit


def _linked(code: str, links: list[tuple[str, str, str]]) -> dict[str, list[str]]:
    """Where a benefit sits on the logic map: the objectives it serves, the benefits it contributes to, its causes."""
    return {name: [to for each, kind, to in links if each == code and kind == link]
            for name, link in (("objectives", "objective"), ("contributes_to", "contributes-to"),
                               ("caused_by", "caused-by"))}


def board_reviews(session: Session, collaboration_id: int) -> dict[str, list[dict[str, Any]]]:
    """Each benefit's board reviews, oldest first: board, meeting, outcome, note and any evidence (one statement)."""
    query = (select(Benefit.code, Board.name, BenefitReview).join(Benefit, Benefit.id == BenefitReview.benefit_id)
             .join(Board, Board.id == BenefitReview.board_id).where(Benefit.collaboration_id == collaboration_id)
             .order_by(BenefitReview.meeting, BenefitReview.id))
    found: dict[str, list[dict[str, Any]]] = {}
    for code, board, r in session.execute(query):
        evidence = [] if r.evidence_on is None else [{"note": r.note, "source": r.evidence_source, "on": r.evidence_on.isoformat()}]
        found.setdefault(code, []).append({"board": board, "meeting": r.meeting.isoformat(), "outcome": r.outcome,
                                           "note": r.note, "evidence": evidence})
    return found


def _series(session: Session, key: str) -> dict[str, dict[str, Any]]:
    """Each benefit's start, realisation plan and measurements: three queries for the whole collaboration."""
    of_key = (Benefit.collaboration_id == Collaboration.id) & (Collaboration.key == key)
    found: dict[str, dict[str, Any]] = {
        code: {"start_on": start.isoformat(), "plan": [], "measured": [], "voided": []}
        for code, start in session.execute(select(Benefit.code, Benefit.start_on).where(of_key))
    }
    plans = select(Benefit.code, PlanPoint.on, PlanPoint.value).join(Benefit, PlanPoint.benefit_id == Benefit.id)
    for code, on, value in session.execute(plans.where(of_key).order_by(PlanPoint.on)):
        found[code]["plan"].append({"on": on.isoformat(), "value": value})
    measured = (select(Benefit.code, Measurement.on, Measurement.value, Measurement.note, Measurement.voided_on,
                       Measurement.voided_reason).join(Benefit, Measurement.benefit_id == Benefit.id))
    for code, on, value, note, voided_on, why in session.execute(measured.where(of_key)
                                                                 .order_by(Measurement.on, Measurement.id)):
        if voided_on is None:
            found[code]["measured"].append({"on": on.isoformat(), "value": value, "note": note})
        else:  # kept apart: shown struck through, out of the chart and the current figures
            found[code]["voided"].append({"on": on.isoformat(), "value": value, "note": note,
                                          "voided_on": voided_on.isoformat(), "reason": why})
    return found
