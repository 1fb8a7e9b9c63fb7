"""The reviews still owed on a day, as `collab reviews`, the to-do list, agendas and reports list them: each
unsatisfied review whose reminder window is open or that falls due soon, and each meeting that went by without
the figure it needed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, NamedTuple

from workflow.reviews import Slot, Snapshot


class Review(NamedTuple):
    """One line of `collab reviews` (a named tuple: 100,000 of them at 100,000 benefits)."""

    collaboration: str
    benefit: str | None  # None for the PIR
    board: str | None
    due_on: date
    status: str
    title: str
    owner: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"collaboration": self.collaboration, "benefit": self.benefit, "board": self.board,
                "due_on": self.due_on.isoformat(), "status": self.status,
                "kind": "pir" if self.benefit is None else "benefit", "title": self.title, "owner": self.owner}


def _status(opens: date, due_on: date, at: date, within: int) -> str | None:
    """overdue: the day has passed; due: its reminder window is open; upcoming: due within `within` days."""
    if due_on < at:
        return "overdue"
    if opens <= at:
        return "due"
    if due_on <= at + timedelta(days=within):
        return "upcoming"
    return None


def statuses(snap: Snapshot, at: date, within: int) -> list[Review]:
    """The reviews still owed on `at`: every unsatisfied one due within `within` days or with its window open,
    and, per benefit and board, its last meeting before `at` if that went by without a satisfying figure.

    A benefit's slots at a board come together, in meeting order (reviews._slots): its last meeting gone by is the
    last of them before `at`, found in one pass without a table of them all."""
    found: list[Review] = []
    passed: Slot | None = None  # the current benefit's latest meeting before `at`
    for slot in snap.slots:
        if passed is not None and slot.benefit is not passed.benefit:
            found.extend(_benefit_review(passed, "overdue"))
            passed = None
        if slot.meeting.day < at:
            passed = slot
        elif not slot.satisfied:
            found.extend(_benefit_review(slot, _status(slot.opens, slot.meeting.day, at, within)))
    if passed is not None:
        found.extend(_benefit_review(passed, "overdue"))
    for pir in snap.pirs:
        status = _status(pir.opens, pir.pir_due, at, within)
        if status:
            found.append(Review(pir.collaboration, None, None, pir.pir_due, status,
                                f"post-implementation review of {pir.title}", pir.manager.name))
    return sorted(found, key=lambda r: (r.due_on, r.board or "", r.collaboration, r.benefit or ""))


def _benefit_review(slot: Slot, status: str | None) -> list[Review]:
    if status is None or status == "overdue" and slot.satisfied:
        return []
    b = slot.benefit
    return [Review(b.collaboration, b.code, slot.meeting.board.name, slot.meeting.day, status, b.title,
                   b.owner.name if b.owner else None)]
