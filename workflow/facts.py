"""The facts a gate decides on, gathered in the deciding transaction as plain columns.

Every gated move runs these statements, so they are built once and read no ORM entities: building
and loading entities cost more than the queries themselves.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import Dialect, Select, Text, cast, func, literal, literal_column, select
from sqlalchemy.orm import Session, aliased

from workflow import approvals, gates
from workflow.lookups import LINKS, CollaborationRead
from workflow.model import Approval, Artefact, Benefit, BenefitLink, Board, Collaboration, Handover, Lesson, Partner, User
from workflow.prepared import Prepared, connection_of

# Each statement reads every collaboration's facts, the collaboration's id first; approvals.one narrows it to one.
_PARTNER_FACTS = (
    select(Partner.collaboration_id, Partner.name, Partner.kind, Partner.risk_appetite, Partner.cost_share)
    .order_by(Partner.id)
)
_ARTEFACT_KINDS = select(Artefact.collaboration_id, Artefact.kind)
_APPROVALS = select(Approval.collaboration_id, Approval.gate, Approval.partner, Approval.role, Approval.signed)
_LESSONS = select(Lesson.collaboration_id, func.count()).group_by(Lesson.collaboration_id)
_owner, _handed_to = aliased(User), aliased(User)
_current = aliased(Handover)
_current_handover = (  # a benefit's newest handover is its current one
    select(func.max(Handover.id)).where(Handover.benefit_id == Benefit.id).correlate(Benefit).scalar_subquery()
)
_BENEFIT_FACTS = (  # columns in the order of gates.BenefitFacts
    select(
        Benefit.collaboration_id, Benefit.code, Benefit.category, Benefit.measure, Benefit.baseline, Benefit.target,
        Benefit.target_date, _owner.name, Board.name, Benefit.retired_on.is_not(None), _current.status, _handed_to.name,
    )
    .outerjoin(_owner, _owner.id == Benefit.owner_id)
    .outerjoin(Board, Board.id == Benefit.board_id)
    .outerjoin(_current, _current.id == _current_handover)
    .outerjoin(_handed_to, _handed_to.id == _current.to_user_id)
    .order_by(Benefit.id)
)
_QUERIES = {"partners": _PARTNER_FACTS, "artefacts": _ARTEFACT_KINDS, "approvals": _APPROVALS,
            "benefits": _BENEFIT_FACTS, "links": LINKS, "lessons": _LESSONS}
_OF_ONE = {name: Prepared(approvals.one(statement)) for name, statement in _QUERIES.items()}  # on the driver
_ORDER = {"partners": Partner.id, "benefits": Benefit.id, "links": BenefitLink.id}  # the order a fact's rows keep


def _json_rows(name: str, statement: Select[Any], dialect: str) -> Any:
    """One collaboration's rows of a fact's statement as one JSON array, each row led by its order: the
    statement's FROM (with its joins) and columns, aggregated (a statement grouped by collaboration is a count)."""
    columns, array = statement.selected_columns, func.json_build_array if dialect == "postgresql" else func.json_array
    if name == "lessons":  # a count, grouped by collaboration
        rows = array(array(0, func.count()))
    elif dialect == "postgresql":
        rows = func.coalesce(func.json_agg(array(_ORDER.get(name, literal(0)), *list(columns)[1:])),
                             literal_column("'[]'::json"))
    else:
        rows = func.json_group_array(array(_ORDER.get(name, literal(0)), *list(columns)[1:]))
    found = (select(rows).select_from(*statement.get_final_froms()).where(columns[0] == Collaboration.id)
             .correlate(Collaboration).scalar_subquery())
    return found if dialect == "postgresql" else func.json(found)


# A move that may pass a gate reads every queried fact with its collaboration (workflow.context), as one JSON
# object (text), by dialect, so that a gated advance stays within six statements; `gate_facts` takes them from it.
IN_JSON = {dialect: cast((func.json_build_object if dialect == "postgresql" else func.json_object)(
    *(part for name, statement in _QUERIES.items() for part in (literal(name), _json_rows(name, statement, dialect)))),
    Text) for dialect in ("sqlite", "postgresql")}
_TYPES = {name: [column.type for column in statement.selected_columns[1:]] for name, statement in _QUERIES.items()}
_FROM_JSON = {date: date.fromisoformat, float: float, Decimal: Decimal}  # PostgreSQL: what JSON text does not type
_CONVERTERS: dict[str, dict[str, list[Any]]] = {}  # by dialect


def _converters(dialect: Dialect) -> dict[str, list[Any]]:
    """Each fact column's conversion from JSON: SQLite's result processors (its values are JSON's already);
    on PostgreSQL from the column's Python type."""
    if dialect.name == "sqlite":
        return {name: [kind.dialect_impl(dialect).result_processor(dialect, None) for kind in kinds]
                for name, kinds in _TYPES.items()}
    return {name: [_FROM_JSON.get(kind.python_type) for kind in kinds] for name, kinds in _TYPES.items()}


def _prefetched(collaboration: CollaborationRead, dialect: Dialect) -> dict[str, list[tuple[Any, ...]]] | None:
    """The fact rows read with the collaboration, converted as their own statements' results are; None if none."""
    text = getattr(collaboration, "facts", None)
    if text is None:
        return None
    converters = _CONVERTERS.get(dialect.name) or _CONVERTERS.setdefault(dialect.name, _converters(dialect))
    found = {}
    for name, rows in json.loads(text, parse_float=Decimal if dialect.name == "postgresql" else float).items():
        found[name] = [tuple(value if to is None or value is None else to(value)
                             for to, value in zip(converters[name], row[1:]))
                       for row in sorted(rows, key=itemgetter(0))]
    return found


_READ_WITH = {"unsigned": "approvals"}  # facts taken from another fact's rows, not queried on their own
FACTS = (*_QUERIES, *_READ_WITH)


def _facts(name: str, rows: Sequence[Sequence[Any]]) -> Any:
    """A GateFacts field from its query's rows for one collaboration (without the collaboration's id)."""
    if name == "partners":
        return tuple(gates.PartnerFacts(*row) for row in rows)
    if name == "artefacts":
        return frozenset(kind for (kind,) in rows)
    if name == "approvals":
        return frozenset((gate, partner, role) for gate, partner, role, _ in rows)
    if name == "unsigned":
        return frozenset((gate, partner, role) for gate, partner, role, signed in rows if not signed)
    if name == "links":
        return tuple((code, kind, to) for code, kind, to in rows)
    if name == "benefits":
        return tuple(gates.BenefitFacts(*row) for row in rows)
    return rows[0][0] if rows else 0  # lessons


def gate_facts(session: Session, collaboration: CollaborationRead, needed: frozenset[str] = gates.QUERIED, *,
               reason: str | None = None, actor_roles: tuple[str, ...] = (), actor_partner: str | None = None,
               actor_manages: bool = False, stale: list[approvals.Stale] | None = None) -> gates.GateFacts:
    """The facts of `collaboration`, of the queried ones only those `needed` (the rest left empty); `stale`
    (approvals.stale) when the caller has it already, so it is not gathered twice."""
    cid = {"cid": collaboration.id}
    queried = {_READ_WITH.get(name, name) for name in needed}
    connection = connection_of(session)
    read = _prefetched(collaboration, connection.dialect)
    rows = {name: read[name] if read else [row[1:] for row in statement.all(connection, cid)]
            for name, statement in _OF_ONE.items() if name in queried}
    found = {name: _facts(name, rows[_READ_WITH.get(name, name)]) for name in FACTS if name in needed}
    if needed & {"stale", "variations"}:
        stale = approvals.stale(session, collaboration) if stale is None else stale
        found["variations"] = tuple(v.text for v in approvals.variations(session, collaboration, stale))
        found["stale"] = frozenset((gate, partner, role) for gate, partner, role, _ in stale)
    return _gate_facts(collaboration, found, reason=reason, actor_roles=actor_roles, actor_partner=actor_partner,
                       actor_manages=actor_manages)


def gate_facts_of_all(session: Session, collaborations: Sequence[Collaboration]) -> dict[int, tuple[
        gates.GateFacts, list[approvals.Variation]]]:
    """Every collaboration's facts (by id) and variations, in a fixed number of queries whatever their number."""
    rows = {name: approvals.grouped(session.execute(statement)) for name, statement in _QUERIES.items()}
    stale = approvals.stale_of_all(session, collaborations)
    varied = approvals.variations_of_all(session, {c.key: stale[c.id] for c in collaborations if c.id in stale})
    found = {}
    for c in collaborations:
        fields = {name: _facts(name, rows[_READ_WITH.get(name, name)].get(c.id, [])) for name in FACTS}
        fields["variations"] = tuple(v.text for v in varied.get(c.key, []))
        fields["stale"] = frozenset((gate, partner, role) for gate, partner, role, _ in stale.get(c.id, []))
        found[c.id] = _gate_facts(c, fields), varied.get(c.key, [])
    return found


def _gate_facts(collaboration: CollaborationRead, found: dict[str, Any], **move: Any) -> gates.GateFacts:
    return gates.GateFacts(
        key=collaboration.key, objective=collaboration.objective, public_benefit=collaboration.public_benefit,
        rationale=collaboration.rationale, pir_due=collaboration.pir_due, **move, **found,
    )
