"""Finding things by the names people use, with a structured reason when there is no such thing.

Shared by every use-case module and read view; statements are built once, since building one
costs about as much as running it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import date
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from workflow.errors import BadInput, Reason, Refused, reason
from workflow.model import Benefit, BenefitLink, Board, Collaboration, Event, Handover, Objective, Partner, User

T = TypeVar("T")


class MovingRow(NamedTuple):
    """A stage move's one read (workflow.context): the collaboration's columns, then the chain head, the
    collaboration's newest event hash, the dates of its newest approval and artefact, and maybe its gate facts."""

    id: int
    key: str
    title: str
    objective: str | None
    public_benefit: str | None
    rationale: str | None
    origin: str
    manager_id: int
    definition_name: str
    definition_version: int
    stage: str
    held_from: str | None
    stage_since: date
    created_on: date
    closed_on: date | None
    pir_due: date | None
    version: int
    head_seq: int
    head_hash: str
    newest_hash: str | None
    newest_approval: date | None
    newest_artefact: date | None
    facts: str | None = None  # when the move may pass a gate: its gate facts as JSON (workflow.facts)


CollaborationRead = Collaboration | MovingRow  # a collaboration as a use case read it


def _nocase(column: Any) -> ColumnElement[bool]:
    """The column equals :name whatever the case; the exact spelling sorts first, for a database that kept two
    names differing only in case from before they were refused (migration 0007)."""
    return func.lower(column) == func.lower(bindparam("name"))


_USER_BY_NAME = select(User).where(_nocase(User.name)).order_by((User.name == bindparam("name")).desc()).limit(1)
KEY_MATCHES, EXACT_KEY_FIRST = _nocase(Collaboration.key), (Collaboration.key == bindparam("name")).desc()
_COLLABORATION_BY_KEY = select(Collaboration).where(KEY_MATCHES).order_by(EXACT_KEY_FIRST).limit(1)
_BOARD_BY_NAME = select(Board).where(_nocase(Board.name)).order_by((Board.name == bindparam("name")).desc()).limit(1)
_USER_NAMES, _KEYS, _BOARD_NAMES = select(User.name), select(Collaboration.key), select(Board.name)
_target = aliased(Benefit)
# Every collaboration's logic-map edges, the collaboration's id first (gate facts read them for all at once).
LINKS = (select(Benefit.collaboration_id, Benefit.code, BenefitLink.kind, func.coalesce(Objective.code, _target.code))
         .select_from(BenefitLink).join(Benefit, Benefit.id == BenefitLink.benefit_id)
         .outerjoin(Objective, Objective.id == BenefitLink.objective_id)
         .outerjoin(_target, _target.id == BenefitLink.target_id)
         .order_by(BenefitLink.id))
_LINKS_OF = LINKS.where(Benefit.collaboration_id == bindparam("cid"))


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """" (did you mean X?)" when `name` is close to one of `known`, else ""."""
    spelled = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(spelled), n=1, cutoff=0.6)
    return f" (did you mean {spelled[close[0]]}?)" if close else ""


def _found(session: Session, query: Any, typed: str, code: str, what: str, names: Any, **params: Any) -> Any:
    found = session.scalar(query, {"name": typed})
    if found is None:
        raise BadInput(reason(code, f"unknown {what} '{typed}'{did_you_mean(typed, session.scalars(names))}", **params))
    return found


def find_collaboration(session: Session, key: str) -> Collaboration:
    found: Collaboration | None = session.scalar(_COLLABORATION_BY_KEY, {"name": key})
    if found is None:
        raise BadInput(unknown_collaboration(session, key))
    return found


def unknown_collaboration(session: Session, key: str) -> Reason:
    return reason("unknown-collaboration", f"unknown collaboration '{key}'{did_you_mean(key, session.scalars(_KEYS))}",
                  key=key)


def find_user(session: Session, name: str) -> User:
    found: User = _found(session, _USER_BY_NAME, name, "unknown-user", "user", _USER_NAMES, name=name)
    return found


def find_board(session: Session, name: str) -> Board:
    found: Board = _found(session, _BOARD_BY_NAME, name, "unknown-board", "board", _BOARD_NAMES, name=name)
    return found


def open_board(session: Session, name: str) -> Board:
    """A board that can be given benefits: a retired one is refused."""
    board = find_board(session, name)
    if board.retired_on is not None:
        raise Refused(reason("board-retired", f"the board {board.name} was retired on {board.retired_on}: "
                             f"{board.retired_reason}", board=board.name))
    return board


def taken(session: Session, column: Any, new: str, what: str, code: str, **params: Any) -> None:
    """Refuse (BadInput) a new name that is already in `column` whatever its case, naming the spelling taken."""
    existing = session.scalar(select(column).where(func.lower(column) == new.lower()).limit(1))
    if existing is not None:
        spelled = "" if existing == new else f" as '{existing}'"
        raise BadInput(reason(code, f"{what} '{new}' already exists{spelled}", existing=existing, **params))


def same_name(name: str, known: Iterable[T], spelled: Any = str) -> T | None:
    """The one of `known` whose name (`spelled(item)`) equals `name` whatever the case, the exact spelling first."""
    matches = [item for item in known if spelled(item).lower() == name.lower()]
    return next((m for m in matches if spelled(m) == name), matches[0] if matches else None)


def find_benefit(collaboration: Collaboration, code: str) -> Benefit:
    found = same_name(code, collaboration.benefits, lambda b: b.code)
    if found is None:
        near = did_you_mean(code, (b.code for b in collaboration.benefits))
        raise BadInput(reason("unknown-benefit", f"unknown benefit '{code}' in {collaboration.key}{near}",
                              key=collaboration.key, benefit=code))
    return found


def live_benefit(collaboration: Collaboration, code: str) -> Benefit:
    """A benefit still tracked: a retired one refuses further change."""
    benefit = find_benefit(collaboration, code)
    if benefit.retired_on is not None:
        raise Refused(reason("benefit-retired", f"benefit {code} was retired on {benefit.retired_on}: "
                             f"{benefit.retired_reason}", benefit=code))
    return benefit


def current_handovers(session: Session, benefit_ids: list[int]) -> dict[int, Handover]:
    """Each benefit's newest handover, which is its current one."""
    if not benefit_ids:
        return {}
    newest = select(func.max(Handover.id)).where(Handover.benefit_id.in_(benefit_ids)).group_by(Handover.benefit_id)
    return {h.benefit_id: h for h in session.scalars(select(Handover).where(Handover.id.in_(newest)))}


def passed_gates(session: Session, key: str) -> list[str]:
    """The stages the collaboration entered by a gated move, in order: the gates it has passed."""
    entered = select(Event.to_stage).where(Event.collaboration == key, Event.action == "advance").order_by(Event.seq)
    return list(dict.fromkeys(stage for stage in session.scalars(entered) if stage))


def objectives_of(session: Session, collaboration: Collaboration) -> list[Objective]:
    return list(session.scalars(select(Objective).where(Objective.collaboration_id == collaboration.id)
                                .order_by(Objective.id)))


def find_objective(session: Session, collaboration: Collaboration, code: str) -> Objective:
    known = objectives_of(session, collaboration)
    found = same_name(code, known, lambda o: o.code)
    if found is None:
        near = did_you_mean(code, (o.code for o in known))
        raise BadInput(reason("unknown-objective", f"unknown objective '{code}' in {collaboration.key}{near}",
                              key=collaboration.key, objective=code))
    return found


def links_of(session: Session, collaboration: Collaboration) -> list[tuple[str, str, str]]:
    """The map's edges as (benefit ID, kind, objective or benefit ID), in the order they were made."""
    return [(code, kind, to) for _, code, kind, to in session.execute(_LINKS_OF, {"cid": collaboration.id})]


def find_force(session: Session, org: str) -> str:
    """A force (or other organisation) as registered as a partner of some collaboration, whatever its case."""
    known = list(session.scalars(select(Partner.name).distinct()))
    found = same_name(org, known)
    if found is None:
        raise BadInput(reason("unknown-partner-org", f"'{org}' is not a partner of any collaboration"
                              f"{did_you_mean(org, known)}", partner=org))
    return found


def find_partner(collaboration: Collaboration, org: str) -> Partner:
    """The collaboration's partner `org`, whatever the case it was typed in."""
    found = same_name(org, collaboration.partners, lambda p: p.name)
    if found is None:
        near = did_you_mean(org, (p.name for p in collaboration.partners))
        raise BadInput(reason("unknown-partner", f"'{org}' is not a partner of {collaboration.key}{near}",
                              key=collaboration.key, partner=org))
    return found


_COMPLETED = {"collaboration": Collaboration.key, "user": User.name, "board": Board.name}


def completions(target: str, kind: str, prefix: str, limit: int = 100) -> list[str]:
    """Keys or names of `kind` (collaboration, user, board) starting with `prefix` whatever the case, for shell
    completion: one indexed query; nothing for a database that is not there (completion never creates one) or
    cannot be read, since completion must never break the shell."""
    from workflow.db import UnitOfWork, engine_for, sqlite_path

    column = _COMPLETED[kind]
    query = (select(column).where(func.lower(column).startswith(prefix.lower(), autoescape=True))
             .order_by(column).limit(limit))
    try:
        engine = engine_for(target)
        path = sqlite_path(engine)
        if path is not None and not path.is_file():
            return []
        with UnitOfWork(engine).read() as session:
            return list(session.scalars(query))
    except Exception:  # noqa: BLE001 - no database, a bad URL, an old schema: simply no completions
        return []
