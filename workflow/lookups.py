"""Finding things by the names people use, with a structured reason when there is no such thing.

Shared by every use-case module and read view; statements are built once, since building one
costs about as much as running it.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from workflow.errors import BadInput, Reason, Refused, reason
from workflow.model import Benefit, Board, Collaboration, Event, Handover, User

_USER_BY_NAME = select(User).where(User.name == bindparam("name"))
_COLLABORATION_BY_KEY = select(Collaboration).where(Collaboration.key == bindparam("key"))
_BOARD_BY_NAME = select(Board).where(Board.name == bindparam("name"))


def find_collaboration(session: Session, key: str) -> Collaboration:
    found = session.scalar(_COLLABORATION_BY_KEY, {"key": key})
    if found is None:
        raise BadInput(unknown_collaboration(key))
    return found


def unknown_collaboration(key: str) -> Reason:
    return reason("unknown-collaboration", f"unknown collaboration '{key}'", key=key)


def find_user(session: Session, name: str) -> User:
    found = session.scalar(_USER_BY_NAME, {"name": name})
    if found is None:
        raise BadInput(reason("unknown-user", f"unknown user '{name}'", name=name))
    return found


def find_board(session: Session, name: str) -> Board:
    found = session.scalar(_BOARD_BY_NAME, {"name": name})
    if found is None:
        raise BadInput(reason("unknown-board", f"unknown board '{name}'", name=name))
    return found


def find_benefit(collaboration: Collaboration, code: str) -> Benefit:
    for benefit in collaboration.benefits:
        if benefit.code == code:
            return benefit
    raise BadInput(reason("unknown-benefit", f"unknown benefit '{code}' in {collaboration.key}",
                          key=collaboration.key, benefit=code))


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
