"""Approvals bound to what they approve, and the variations a later change makes.

An approval is consent to the facts its gate checks at that moment: the purpose, the partners with
their kinds, cost shares and risk appetites, the benefit profiles and the artefacts. Those facts are
stored with the approval (and in its history event) as canonical JSON with their SHA-256. A later
change to any of them makes the approval stale; stale approvals of a gate already passed are a
variation of the agreement, and the next gate stays shut until the same signatories re-approve.

A benefit's owner and board moved to its business area by an accepted handover are the agreed
process, not a variation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, select
from sqlalchemy.orm import Session, aliased

from workflow.audit import canonical_json
from workflow.lookups import CollaborationRead, passed_gates
from workflow.model import Approval, Artefact, Benefit, Board, Collaboration, Event, Handover, Partner, User
from workflow.vocabulary import role_title

_CID: BindParameter[int] = bindparam("cid")
# Each statement reads every collaboration's rows, the collaboration's id first; `one` narrows it to one.
_PARTNERS = select(Partner.collaboration_id, Partner.name, Partner.kind, Partner.risk_appetite, Partner.cost_share)
_ARTEFACTS = select(Artefact.collaboration_id, Artefact.kind, Artefact.ref, Artefact.sha256).order_by(Artefact.id)
_owner, _current = aliased(User), aliased(Handover)
_newest = select(Handover.id).where(Handover.benefit_id == Benefit.id).order_by(Handover.id.desc()).limit(1)
_BENEFITS = (
    select(Benefit.collaboration_id, Benefit.code, Benefit.category, Benefit.measure, Benefit.baseline, Benefit.target,
           Benefit.target_date, _owner.name, Board.name, Benefit.retired_on.is_not(None), _current.status)
    .outerjoin(_owner, _owner.id == Benefit.owner_id)
    .outerjoin(Board, Board.id == Benefit.board_id)
    .outerjoin(_current, _current.id == _newest.correlate(Benefit).scalar_subquery())
)
_APPROVALS = select(Approval.collaboration_id, Approval.gate, Approval.partner, Approval.role, Approval.facts).where(
    Approval.facts.is_not(None))
_PASSED = select(Event.collaboration, Event.to_stage).where(Event.action == "advance").order_by(Event.seq)

Row = Sequence[Any]
Stale = tuple[str, str, str, list[str]]  # gate, partner, role, what changed


def one(statement: Select[Any]) -> Select[Any]:
    """The statement narrowed to the collaboration whose id is bound as `cid`."""
    return statement.where(statement.selected_columns[0] == _CID)


_PARTNERS_OF, _ARTEFACTS_OF, _BENEFITS_OF, _APPROVALS_OF = map(one, (_PARTNERS, _ARTEFACTS, _BENEFITS, _APPROVALS))


def grouped(rows: Iterable[Row]) -> dict[Any, list[Row]]:
    """Rows whose first column names their collaboration, by collaboration, without that column."""
    found: dict[Any, list[Row]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(row[1:])
    return found


def approved_facts(session: Session, collaboration: CollaborationRead) -> dict[str, Any]:
    """What an approval of `collaboration` consents to, as plain JSON values."""
    cid = {"cid": collaboration.id}
    return _consented(collaboration, *([row[1:] for row in session.execute(statement, cid)]
                                       for statement in (_PARTNERS_OF, _BENEFITS_OF, _ARTEFACTS_OF)))


def _consented(collaboration: Any, partners: Iterable[Row], benefits: Iterable[Row], artefacts: Iterable[Row]) -> dict[str, Any]:
    return {
        "purpose": {"objective": collaboration.objective, "public_benefit": collaboration.public_benefit,
                    "rationale": collaboration.rationale},
        "partners": {name: {"kind": kind, "risk_appetite": appetite, "cost_share": None if share is None else str(share)}
                     for name, kind, appetite, share in partners},
        "benefits": {code: {"category": category, "measure": measure, "baseline": baseline, "target": target,
                            "target_date": None if by is None else by.isoformat(), "owner": owner, "board": board,
                            "retired": retired, "handed_over": status == "accepted"}
                     for code, category, measure, baseline, target, by, owner, board, retired, status in benefits},
        # The newest of each kind, with its content's SHA-256 when known (only then: approvals given before
        # artefacts carried one stay valid), so that a new version of the document is a variation.
        "artefacts": {kind: ref if sha is None else f"{ref} (sha256 {sha})" for kind, ref, sha in artefacts},
    }


def digest(facts: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(facts).encode()).hexdigest()


@dataclass(frozen=True)
class Variation:
    gate: str
    changed: list[str]
    awaiting: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"gate": self.gate, "changed": self.changed, "awaiting": self.awaiting}

    @property
    def text(self) -> str:
        return (f"variation of the {self.gate} gate ({'; '.join(self.changed)}): awaiting re-approval by "
                f"{', '.join(self.awaiting)}")


def stale(session: Session, collaboration: CollaborationRead) -> list[Stale]:
    """Every approval that no longer matches the facts: (gate, partner, role, what changed)."""
    given = [row[1:] for row in session.execute(_APPROVALS_OF, {"cid": collaboration.id})]
    current = approved_facts(session, collaboration) if given else {}  # no approval, nothing to compare
    return _stale(given, current)


def stale_of_all(session: Session, collaborations: Iterable[Any]) -> dict[int, list[Stale]]:
    """`stale` for every collaboration given (by id), in a fixed number of queries."""
    given = grouped(session.execute(_APPROVALS))
    if not given:
        return {}
    partners, benefits, artefacts = (grouped(session.execute(s)) for s in (_PARTNERS, _BENEFITS, _ARTEFACTS))
    return {c.id: _stale(given[c.id], _consented(c, partners.get(c.id, []), benefits.get(c.id, []),
                                                 artefacts.get(c.id, [])))
            for c in collaborations if c.id in given}


def _stale(given: Iterable[Row], current: dict[str, Any]) -> list[Stale]:
    found = []
    for gate, partner, role, stored in given:
        changed = changes(json.loads(stored), current) if stored is not None else []
        if changed:
            found.append((gate, partner, role, changed))
    return found


def variations(session: Session, collaboration: CollaborationRead, stale_approvals: list[Stale] | None = None) -> list[Variation]:
    """Each passed gate whose approvals no longer match the facts, with what changed and whose approval is stale."""
    stale_approvals = stale(session, collaboration) if stale_approvals is None else stale_approvals
    passed = set(passed_gates(session, collaboration.key)) if stale_approvals else set()
    return _variations(stale_approvals, passed)


def variations_of_all(session: Session, stale: dict[str, list[Stale]]) -> dict[str, list[Variation]]:
    """`variations` for the collaborations (by key) with stale approvals, in one query."""
    if not stale:
        return {}
    passed = grouped(session.execute(_PASSED.where(Event.collaboration.in_(list(stale)))))
    return {key: _variations(found, {stage for (stage,) in passed.get(key, []) if stage}) for key, found in stale.items()}


def _variations(stale_approvals: list[Stale], passed: set[str]) -> list[Variation]:
    found: dict[str, Variation] = {}
    for gate, partner, role, changed in stale_approvals:
        if gate in passed:
            seen = found.setdefault(gate, Variation(gate, [], []))
            seen.changed.extend(c for c in changed if c not in seen.changed)
            seen.awaiting.append(f"{partner} {role_title(role)}")
    return list(found.values())


def approved_at(session: Session, collaboration: Collaboration, section: str, name: str) -> list[str]:
    """The passed gates whose approvals covered `name` among the approved facts' `section` (partners, benefits):
    what those gates' signatories agreed to, which only a variation changes."""
    passed = passed_gates(session, collaboration.key)
    covered = {gate for _, gate, _, _, stored in session.execute(_APPROVALS_OF, {"cid": collaboration.id})
               if gate in passed and stored is not None and name in json.loads(stored)[section]}
    return [gate for gate in passed if gate in covered]


def is_stale(stored: str | None, current: dict[str, Any]) -> bool:
    return stored is not None and bool(changes(json.loads(stored), current))


# What varies an agreement (domain.md, "Approvals bind"): everything else an approval recorded is context.
PURPOSE = ("objective", "public_benefit")
PARTNER_TERMS = ("kind", "cost_share", "risk_appetite")
BENEFIT_TERMS = ("baseline", "target", "target_date", "owner", "retired")


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The variations from the approved facts `old` to `new`, one plain sentence each (old -> new): a partner
    added, removed or re-kinded, a share or appetite changed, the purpose changed, a benefit's baseline, target,
    date or owner changed (unless by an accepted handover) or the benefit retired, an artefact replaced."""
    said = [f"{name.replace('_', ' ')} changed" for name in PURPOSE if old["purpose"].get(name) != new["purpose"][name]]
    said += [f"partner {name} added" for name in sorted(set(new["partners"]) - set(old["partners"]))]
    said += [f"{what} {name} removed" for what in ("partner", "benefit")
             for name in sorted(set(old[what + "s"]) - set(new[what + "s"]))]
    said += _terms("partner", old["partners"], new["partners"], PARTNER_TERMS)
    for code, facts in new["benefits"].items():
        terms = tuple(t for t in BENEFIT_TERMS if not (facts["handed_over"] and t == "owner"))
        said += _terms("benefit", {code: old["benefits"].get(code, facts)}, {code: facts}, terms)
    for kind in sorted(old["artefacts"]):
        before, after = old["artefacts"][kind], new["artefacts"].get(kind)
        if before != after:
            said.append(f"artefact {kind}: {before} -> {after or 'none'}")
    return said


def _terms(what: str, old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], terms: tuple[str, ...]) -> list[str]:
    return [f"{what} {name} {term.replace('_', ' ')}: {old[name].get(term)} -> {new[name][term]}"
            for name in sorted(set(old) & set(new)) for term in terms if old[name].get(term) != new[name][term]]
