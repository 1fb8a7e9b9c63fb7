"""Effects: what a stage move does besides moving, named in the definition like gate requirements.

A transition lists its effects (``effects: [close-programme, schedule-pir]``); the machine runs them
as `transitions` callbacks once the move is made, inside the use case's transaction. Each effect
changes state and says what it changed in the move's history event, so the event still describes
the whole change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from workflow.lookups import current_handovers
from workflow.model import Collaboration

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from workflow.definition import Definition
    from workflow.lookups import CollaborationRead


@dataclass
class Effected:
    """What an effect may touch: the collaboration in the deciding transaction (its own columns through
    `columns`, written with the move's stage; as the move read it, a MovingRow), and the event's payload."""

    session: Session
    collaboration: CollaborationRead
    definition: Definition
    day: date
    payload: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, Any] = field(default_factory=dict)


Effect = Callable[[Effected], None]
EFFECTS: dict[str, Effect] = {}


def effect(name: str) -> Callable[[Effect], Effect]:
    def register(run: Effect) -> Effect:
        EFFECTS[name] = run
        return run

    return register


@effect("close-programme")
def close_programme(done: Effected) -> None:
    """The programme closes: benefits go on being reviewed, now by their business areas."""
    done.columns["closed_on"] = done.day
    done.payload["closed_on"] = done.day


@effect("schedule-pir")
def schedule_pir(done: Effected) -> None:
    """The post-implementation review falls due the definition's months after this move."""
    from dateutil.relativedelta import relativedelta

    due = done.day + relativedelta(months=done.definition.reviews.pir_after_months)
    done.columns["pir_due"] = due
    done.payload["pir_due"] = due


@effect("hand-over-benefits")
def hand_over_benefits(done: Effected) -> None:
    """Each accepted benefit's owner and reviewing board become the business area's."""
    collaboration = done.session.get(Collaboration, done.collaboration.id)  # the entity, for its benefits' relations
    assert collaboration is not None  # the move holds the writer's lock on it
    benefits = collaboration.benefits
    accepted = current_handovers(done.session, [b.id for b in benefits])
    moved = {}
    for benefit in benefits:
        handover = accepted.get(benefit.id)
        if benefit.retired_on is not None or handover is None or handover.status != "accepted":
            continue
        benefit.owner = handover.to_user
        if handover.board is not None:
            benefit.board = handover.board
        moved[benefit.code] = {"business_area": handover.business_area, "owner": handover.to_user.name,
                               "board": benefit.board.name if benefit.board else None}
    done.payload["handed_over"] = moved
