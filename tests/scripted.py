"""A scripted timeline for the reminder tests: a collaboration in delivery from a chosen day, then figures,
handovers and closure on chosen days.

Measurements and handovers are written straight to their tables, as their use cases would write them,
so that these tests depend only on the rows reviews are computed from.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import select

from builders import people, ready_for_delivery
from workflow.db import UnitOfWork, engine_for
from workflow.model import Benefit, Board, Collaboration, Handover, Measurement, User
from workflow.service import Collab


@contextmanager
def as_of(moment: str) -> Iterator[None]:
    """Run use cases as of `moment` (the engine reads COLLAB_NOW when it opens)."""
    before = os.environ.get("COLLAB_NOW")
    os.environ["COLLAB_NOW"] = moment
    try:
        yield
    finally:
        if before is None:
            del os.environ["COLLAB_NOW"]
        else:
            os.environ["COLLAB_NOW"] = before


def in_delivery(db: str, on: date, key: str = "SA", *, registered: date | None = None) -> None:
    """builders.people (board RCB, FREQ=MONTHLY;BYDAY=1TU, registered on `registered`, default `on`) and `key`
    entering delivery on `on`, with B1 (economic, 0 -> 12) owned by `owner` and B2 (effectiveness, 74 -> 78)
    by `owner2`, both reviewed by RCB."""
    with as_of(f"{(registered or on).isoformat()}T09:00"):
        people(db)
        pm = ready_for_delivery(db, key)
        pm.update_benefit(key, "B2", owner="owner2")
    with as_of(f"{on.isoformat()}T09:00"):
        Collab.open(db, "pm").advance(key, on=on)


def _session(db: str):  # type: ignore[no-untyped-def]
    return UnitOfWork(engine_for(db)).write(history=False)


def measure(db: str, code: str, value: float, on: date, key: str = "SA") -> None:
    with _session(db) as session:
        benefit = _benefit(session, key, code)
        session.add(Measurement(benefit_id=benefit.id, on=on, value=value, recorded_by_id=benefit.owner_id))


def hand_over(db: str, code: str, *, to: str, status: str, on: date, board: str | None = None, key: str = "SA") -> None:
    with _session(db) as session:
        benefit = _benefit(session, key, code)
        session.add(Handover(
            benefit_id=benefit.id, business_area="Business support", status=status, proposed_on=on,
            to_user_id=session.scalar(select(User.id).where(User.name == to)),
            board_id=session.scalar(select(Board.id).where(Board.name == board)) if board else None,
            decided_on=on if status != "proposed" else None,
        ))


def close(db: str, on: date, key: str = "SA") -> None:
    """Propose every benefit's handover and advance to closure on `on` (PIR due six months later)."""
    for code in ("B1", "B2"):
        hand_over(db, code, to="owner", status="proposed", on=on, key=key)
    with as_of(f"{on.isoformat()}T09:00"):
        Collab.open(db, "pm").advance(key, on=on)


def _benefit(session, key: str, code: str) -> Benefit:  # type: ignore[no-untyped-def]
    return session.scalar(select(Benefit).join(Collaboration).where(Collaboration.key == key, Benefit.code == code))
