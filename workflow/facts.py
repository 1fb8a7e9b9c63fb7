"""The facts a gate decides on, gathered in the deciding transaction as plain columns.

Every gated move runs these statements, so they are built once and read no ORM entities: building
and loading entities cost more than the queries themselves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from workflow import approvals, gates
from workflow.model import Approval, Artefact, Benefit, Board, Collaboration, Handover, Lesson, Partner, User

_CID: BindParameter[int] = bindparam("cid")
_PARTNER_FACTS = (
    select(Partner.name, Partner.kind, Partner.risk_appetite, Partner.cost_share)
    .where(Partner.collaboration_id == _CID).order_by(Partner.id)
)
_ARTEFACT_KINDS = select(Artefact.kind).where(Artefact.collaboration_id == _CID)
_APPROVALS = select(Approval.gate, Approval.partner, Approval.role).where(Approval.collaboration_id == _CID)
_LESSONS = select(func.count()).select_from(Lesson).where(Lesson.collaboration_id == _CID)
_owner, _handed_to = aliased(User), aliased(User)
_current = aliased(Handover)
_current_handover = (  # a benefit's newest handover is its current one
    select(func.max(Handover.id)).where(Handover.benefit_id == Benefit.id).correlate(Benefit).scalar_subquery()
)
_BENEFIT_FACTS = (  # columns in the order of gates.BenefitFacts
    select(
        Benefit.code, Benefit.category, Benefit.measure, Benefit.baseline, Benefit.target, Benefit.target_date,
        _owner.name, Board.name, Benefit.retired_on.is_not(None), _current.status, _handed_to.name,
    )
    .outerjoin(_owner, _owner.id == Benefit.owner_id)
    .outerjoin(Board, Board.id == Benefit.board_id)
    .outerjoin(_current, _current.id == _current_handover)
    .outerjoin(_handed_to, _handed_to.id == _current.to_user_id)
    .where(Benefit.collaboration_id == _CID)
    .order_by(Benefit.id)
)


def gate_facts(session: Session, collaboration: Collaboration, needed: frozenset[str] = gates.QUERIED, *,
               reason: str | None = None, actor_role: str | None = None, actor_partner: str | None = None,
               stale: list[tuple[str, str, str, list[str]]] | None = None) -> gates.GateFacts:
    """The facts of `collaboration`, of the queried ones only those `needed` (the rest left empty); `stale`
    (approvals.stale) when the caller has it already, so it is not gathered twice."""
    cid = {"cid": collaboration.id}
    found: dict[str, Any] = {}
    if "partners" in needed:
        found["partners"] = tuple(gates.PartnerFacts(*row) for row in session.execute(_PARTNER_FACTS, cid))
    if "artefacts" in needed:
        found["artefacts"] = frozenset(session.scalars(_ARTEFACT_KINDS, cid))
    if "approvals" in needed:
        found["approvals"] = frozenset((gate, partner, role) for gate, partner, role in session.execute(_APPROVALS, cid))
    if "benefits" in needed:
        found["benefits"] = tuple(gates.BenefitFacts(*row) for row in session.execute(_BENEFIT_FACTS, cid))
    if "lessons" in needed:
        found["lessons"] = session.scalar(_LESSONS, cid) or 0
    if needed & {"stale", "variations"}:
        stale = approvals.stale(session, collaboration) if stale is None else stale
        found["variations"] = tuple(v.text for v in approvals.variations(session, collaboration, stale))
        found["stale"] = frozenset((gate, partner, role) for gate, partner, role, _ in stale)
    return gates.GateFacts(
        key=collaboration.key, objective=collaboration.objective, public_benefit=collaboration.public_benefit,
        rationale=collaboration.rationale, pir_due=collaboration.pir_due, reason=reason, actor_role=actor_role,
        actor_partner=actor_partner, **found,
    )
