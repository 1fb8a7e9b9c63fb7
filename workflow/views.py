"""Read views: what a front end or a report shows of collaborations, benefits, lessons and history.

Each view is a function over an open session, so a report can compose several in one snapshot;
`ViewCases` runs each in a read transaction of its own for the use-case API.
"""

from __future__ import annotations

import builtins
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from workflow import approvals, audit, facts as gate_facts, stored
from workflow.progress import Progress
from workflow.board_assignment import board_gaps, boards_of, further_boards
from workflow.context import Context
from workflow.definition import Definition
from workflow.errors import BadInput, Reason, reason
from workflow.gates import GateFacts
from workflow.machine import lifecycle
from workflow.lookups import current_handovers, find_collaboration
from workflow.model import Approval, Artefact, Benefit, Collaboration, DefinitionVersion, Event, Lesson, Measurement, PlanPoint, User
from workflow.realisation import STATUSES, Realisation, assess, share_savings, shares_complete
from workflow.register import partner_dict

if TYPE_CHECKING:
    from workflow.verification import Verification

# Moves that are always open and whose only requirement is what the person gives at the time.
UNCHECKED_TRIGGERS = ("hold", "withdraw")


class ViewCases:
    ctx: Context

    def version_of(self, key: str) -> int:
        """The collaboration's version as the caller sees it now; pass it back as expected_version."""
        with self.ctx.uow.read() as session:
            return find_collaboration(session, key).version

    def list(self, stage: str | None = None) -> list[dict[str, Any]]:
        with self.ctx.reading() as session:
            if stage is not None:
                known_stage(session, stage)
            return collaborations(session, stage)

    def show(self, key: str) -> dict[str, Any]:
        with self.ctx.reading() as session:
            return show(session, key, self.ctx.clock.today())

    def benefits(self, key: str) -> builtins.list[dict[str, Any]]:
        """The register with realisation as at today (latest, progress, planned value, status)."""
        with self.ctx.reading() as session:
            return benefit_rows(session, find_collaboration(session, key), self.ctx.clock.today())

    def history(self, key: str | None = None, *, since: date | None = None, actor: str | None = None,
                action: str | None = None) -> builtins.list[dict[str, Any]]:
        with self.ctx.reading() as session:
            return history(session, key, since=since, actor=actor, action=action)

    def check(self, key: str) -> dict[str, Any]:
        """For each stage reachable next, whether its gate is met and what is missing."""
        with self.ctx.reading() as session:
            return check(session, find_collaboration(session, key))

    def verify(self, expect: tuple[int, str] | None = None, progress: Progress | None = None) -> Verification:
        """The history against its chain, signatures and keys, `expect` (SEQ, HASH), and the tables against
        the state the history implies."""
        from workflow import verification  # with the replay, which a write does not need

        with self.ctx.snapshot() as session:
            return verification.verify(session, expect, progress)

    def head(self) -> dict[str, Any]:
        """The statement to quote in board minutes: the newest event's seq, hash and recorded_at."""
        with self.ctx.snapshot() as session:
            return audit.head(session)

    def export(self, key: str) -> dict[str, Any]:
        """One collaboration's events, verifiable on their own (docs/audit-format.md)."""
        with self.ctx.snapshot() as session:
            return audit.export(session, find_collaboration(session, key).key)

    def lessons(self, search: str | None = None) -> builtins.list[dict[str, Any]]:
        """Lessons across every collaboration; `search` matches text, theme, key or title, any case."""
        with self.ctx.reading() as session:
            return lessons(session, search)


def known_stage(session: Session, stage: str) -> None:
    """Refuse a stage no stored definition has (a typing mistake would otherwise list nothing)."""
    names = {name for d, v in session.execute(select(DefinitionVersion.name, DefinitionVersion.version))
             for name in stored.stored_definition(session, d, v).stage_names}
    if stage not in names:
        raise BadInput(reason("unknown-stage", f"unknown stage '{stage}' (stages: {', '.join(sorted(names))})",
                              stage=stage))


def collaborations(session: Session, stage: str | None = None) -> list[dict[str, Any]]:
    query = select(Collaboration).order_by(Collaboration.key)
    if stage:
        query = query.where(Collaboration.stage == stage)
    return [
        {"key": c.key, "title": c.title, "stage": c.stage, "since": c.stage_since.isoformat(),
         "origin": c.origin, "manager": c.manager.name, "definition": c.definition_name}
        for c in session.scalars(query)
    ]


def show(session: Session, key: str, today: date) -> dict[str, Any]:
    c = find_collaboration(session, key)
    rows = benefit_rows(session, c, today)
    return {
        "key": c.key, "title": c.title, "stage": c.stage, "since": c.stage_since.isoformat(),
        "definition": c.definition_name, "definition_version": c.definition_version,
        "objective": c.objective, "public_benefit": c.public_benefit, "rationale": c.rationale,
        "origin": c.origin, "manager": c.manager.name, "version": c.version,
        "held_from": c.held_from, "closed_on": _iso(c.closed_on), "pir_due": _iso(c.pir_due),
        "partners": [partner_dict(p) for p in c.partners],
        "artefacts": [
            {"kind": a.kind, "ref": a.ref, "on": a.recorded_on.isoformat(), "sha256": a.sha256}
            for a in session.scalars(select(Artefact).where(Artefact.collaboration_id == c.id).order_by(Artefact.id))
        ],
        "approvals": [
            {"gate": a.gate, "partner": a.partner, "role": a.role, "on": a.approved_on.isoformat()}
            for a in session.scalars(select(Approval).where(Approval.collaboration_id == c.id).order_by(Approval.id))
        ],
        "benefits": [
            {name: row[name] for name in ("id", "title", "category", "dis_benefit", "owner", "board", "boards", "status",
                                     "progress")}
            for row in rows
        ],
        "realisation": summary(rows),
    }


def check(session: Session, collaboration: Collaboration) -> dict[str, Any]:
    """The read view of `check`: each next stage, ready or not, with its unmet requirements."""
    stale = approvals.stale(session, collaboration)
    facts = gate_facts.gate_facts(session, collaboration, stale=stale)
    return {"key": collaboration.key, "stage": collaboration.stage, "version": collaboration.version,
            "transitions": next_moves(stored.definition_of(session, collaboration), collaboration, facts),
            "variations": [v.as_dict() for v in approvals.variations(session, collaboration, stale)],
            "board_gaps": board_gaps(session, collaboration)}


def next_moves(chosen: Definition, collaboration: Collaboration, facts: GateFacts) -> list[dict[str, Any]]:
    """Each next stage of the collaboration, ready or not, with its unmet requirements (as `check` shows them)."""
    machine = lifecycle(chosen)
    moves = []
    for t in chosen.transitions_from(collaboration.stage, collaboration.held_from):
        if t.trigger in UNCHECKED_TRIGGERS:
            continue
        unmet: list[Reason] = [] if t.back else machine.check(collaboration.stage, t.dest, facts)
        moves.append({"to": t.dest, "trigger": t.trigger, "ready": not unmet, "unmet": [r.text for r in unmet],
                      "reasons": [r.as_dict() for r in unmet]})
    return moves


def history(session: Session, key: str | None = None, *, since: date | None = None, actor: str | None = None,
            action: str | None = None) -> list[dict[str, Any]]:
    """Events oldest first: of one collaboration, or of all when key is None; filters combine."""
    query = select(Event).order_by(Event.seq)
    if key is not None:
        query = query.where(Event.collaboration == find_collaboration(session, key).key)
    if since is not None:
        query = query.where(Event.effective_on >= since.isoformat())
    if actor is not None:
        if session.scalar(select(User.id).where(User.name == actor)) is None and \
                session.scalar(select(Event.seq).where(Event.actor == actor).limit(1)) is None:
            raise BadInput(reason("unknown-user", f"unknown user '{actor}'", name=actor))
        query = query.where(Event.actor == actor)
    if action is not None:
        query = query.where(Event.action == action)
    return [audit.as_record(e) for e in session.scalars(query)]


def lessons(session: Session, search: str | None = None) -> list[dict[str, Any]]:
    query = (
        select(Lesson, Collaboration.key, Collaboration.title, User.name)
        .join(Collaboration, Lesson.collaboration_id == Collaboration.id)
        .join(User, Lesson.recorded_by_id == User.id)
        .order_by(Lesson.recorded_on, Lesson.id)
    )
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(or_(*(func.lower(column).like(pattern) for column in
                                  (Lesson.text, Lesson.theme, Collaboration.key, Collaboration.title))))
    return [
        {"collaboration": ckey, "title": title, "text": lesson.text, "theme": lesson.theme,
         "recorded_on": lesson.recorded_on.isoformat(), "by": by}
        for lesson, ckey, title, by in session.execute(query)
    ]


def benefit_rows(session: Session, collaboration: Collaboration, today: date) -> list[dict[str, Any]]:
    """Each benefit's profile, realisation as at `today`, current handover and share of savings."""
    ids = [b.id for b in collaboration.benefits]
    plans: dict[int, list[tuple[date, float]]] = {i: [] for i in ids}
    measured: dict[int, list[tuple[date, float]]] = {i: [] for i in ids}
    if ids:
        for point in session.scalars(select(PlanPoint).where(PlanPoint.benefit_id.in_(ids))):
            plans[point.benefit_id].append((point.on, point.value))
        for m in session.scalars(select(Measurement).where(Measurement.benefit_id.in_(ids), Measurement.voided_on.is_(None))
                                 .order_by(Measurement.id)):
            measured[m.benefit_id].append((m.on, m.value))
    handovers, further = current_handovers(session, ids), further_boards(session, ids)
    shares = {p.name: p.cost_share for p in collaboration.partners}
    rows = []
    for b in collaboration.benefits:
        seen = _realisation(b, plans[b.id], measured[b.id], today)
        handover = handovers.get(b.id)
        row: dict[str, Any] = {
            "id": b.code, "title": b.title, "category": b.category, "dis_benefit": b.dis_benefit,
            "owner": b.owner.name if b.owner else None, "board": b.board.name if b.board else None,
            "boards": boards_of(b, further), "measure": b.measure, "unit": b.unit, "baseline": b.baseline, "target": b.target,
            "target_date": _iso(b.target_date),
            "latest": seen.latest if seen else None, "latest_on": _iso(seen.latest_on) if seen else None,
            "progress": seen.progress if seen else None, "planned": seen.planned if seen else None,
            "status": seen.status if seen else ("retired" if b.retired_on else "no-data"),
            "measurements": len(measured[b.id]),
            "handover": {"business_area": handover.business_area, "to": handover.to_user.name,
                         "board": handover.board.name if handover.board else None, "status": handover.status,
                         "reason": handover.reason} if handover else None,
            "retired": {"on": b.retired_on.isoformat(), "reason": b.retired_reason} if b.retired_on else None,
            "savings": None,
        }
        if b.category == "economic" and not b.dis_benefit and row["latest"] is not None and shares_complete(shares):
            row["savings"] = share_savings(row["latest"], shares)  # type: ignore[arg-type]
        rows.append(row)
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Benefits (not dis-benefits) by status, dis-benefits apart, and cashable savings per partner."""
    by_status = {status: 0 for status in STATUSES}
    dis_benefits = {status: 0 for status in STATUSES}
    savings: dict[str, float] = {}
    for row in rows:
        (dis_benefits if row["dis_benefit"] else by_status)[row["status"]] += 1
        for partner, amount in (row["savings"] or {}).items():
            savings[partner] = round(savings.get(partner, 0.0) + amount, 2)
    return {"benefits": by_status, "dis_benefits": dis_benefits, "savings": savings}


def realisation_of_all(session: Session, today: date) -> dict[int, dict[str, Any]]:
    """Every collaboration's benefits and dis-benefits by status (by id; without savings), in three queries."""
    plans = approvals.grouped(session.execute(select(PlanPoint.benefit_id, PlanPoint.on, PlanPoint.value)))
    measured = approvals.grouped(session.execute(
        select(Measurement.benefit_id, Measurement.on, Measurement.value).order_by(Measurement.id)))
    rows: dict[int, list[dict[str, Any]]] = {}
    for b in session.execute(select(*_REALISED)):
        plan, readings = (cast(list[tuple[date, float]], found.get(b.id, [])) for found in (plans, measured))
        seen = _realisation(cast(Benefit, b), plan, readings, today)  # a row has what it reads of a Benefit
        rows.setdefault(b.collaboration_id, []).append({
            "dis_benefit": b.dis_benefit, "savings": None,
            "status": seen.status if seen else ("retired" if b.retired_on else "no-data")})
    return {cid: summary(found) for cid, found in rows.items()}


_REALISED = (Benefit.id, Benefit.collaboration_id, Benefit.baseline, Benefit.target, Benefit.start_on, Benefit.target_date,
             Benefit.retired_on, Benefit.dis_benefit)


def _realisation(benefit: Benefit, plan: list[tuple[date, float]], measured: list[tuple[date, float]],
                 today: date) -> Realisation | None:
    """None while the profile lacks what realisation needs (baseline, target, target date)."""
    if benefit.baseline is None or benefit.target is None or benefit.target_date is None:
        return None
    return assess(baseline=benefit.baseline, target=benefit.target, start=benefit.start_on,
                  target_date=benefit.target_date, plan=plan, measurements=measured, today=today,
                  retired=benefit.retired_on is not None, dis_benefit=benefit.dis_benefit)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
