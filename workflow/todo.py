"""What the acting person owes now: approvals and re-approvals asked of their force and role, handovers
proposed to them, figures for the reviews of the benefits they own, and reviews at the boards they run.

A read view over one session, like `workflow.views`; `TodoCases.todo` runs it for the use-case API.
Each item is {"kind", "collaboration", "item", "due_on"}: kinds approval (item: the gate), variation
(the passed gate to re-approve), handover and figure (the benefit) and review (the benefit, at a board
the person is secretary of); due_on is the meeting day for figures and reviews, else None. An admin also
sees each reminder due today that cannot go out (kind address, item: the person without an email address).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import approvals, stored
from workflow.context import Actor, Context
from workflow.lookups import passed_gates
from workflow.model import Approval, Benefit, Board, Collaboration, Handover, Partner, User

if TYPE_CHECKING:
    from workflow.owed import Review

KINDS = ("approval", "variation", "handover", "figure", "review", "address")
OWED = ("due", "overdue")  # a review whose reminder window is open, or whose meeting went by without a figure


class TodoCases:
    ctx: Context

    def todo(self) -> list[dict[str, Any]]:
        """What the acting user owes now, oldest due first within each kind."""
        with self.ctx.reading() as session:
            return todo(session, self.ctx.acting(session, None), self.ctx.clock.today())


def todo(session: Session, actor: Actor, today: date, owed_reviews: Sequence[Review] | None = None) -> list[dict[str, Any]]:
    """`owed_reviews`: the reviews owed today (owed.statuses), when already worked out for many people at once."""
    items = _approvals(session, actor) + _handovers(session, actor) + _reviews(session, actor, today, owed_reviews)
    if "admin" in actor.roles:  # who registers users, and so can give them an address
        from workflow import reminders  # with templates and mail: only for the to-do list, never for a write
        items += [_item("address", u.collaboration or "", u.recipient, today)
                  for u in reminders.unreachable(session, today)]
    return sorted(items, key=lambda i: (KINDS.index(i["kind"]), i["due_on"] or "", i["collaboration"], i["item"]))


def _item(kind: str, collaboration: str, item: str, due_on: date | None = None) -> dict[str, Any]:
    return {"kind": kind, "collaboration": collaboration, "item": item, "due_on": due_on.isoformat() if due_on else None}


def _approvals(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Next gates asking an approval of the actor's role from their force, and passed gates where it went stale."""
    if actor.partner is None:
        return []
    found = []
    query = (select(Collaboration, Partner.kind).join(Partner, Partner.collaboration_id == Collaboration.id)
             .where(Partner.name == actor.partner))
    for collaboration, kind in session.execute(query).tuples().all():
        definition = stored.definition_of(session, collaboration)
        given = {a.gate: a for a in session.scalars(select(Approval).where(
            Approval.collaboration_id == collaboration.id, Approval.partner == actor.partner, Approval.role.in_(actor.roles)))}
        facts: dict[str, Any] | None = None

        def stale(approval: Approval) -> bool:
            nonlocal facts
            facts = facts if facts is not None else approvals.approved_facts(session, collaboration)
            return approvals.is_stale(approval.facts, facts)

        for t in definition.transitions_from(collaboration.stage, collaboration.held_from):
            asked = any(name == "approved" and actor.holds(params["roles"])
                        and kind == params.get("partner_kind", "police") for name, params in definition.gate(t.dest))
            if asked and not t.back and (t.dest not in given or stale(given[t.dest])):
                found.append(_item("approval", collaboration.key, t.dest))
        for gate in passed_gates(session, collaboration.key):
            if gate in given and stale(given[gate]):
                found.append(_item("variation", collaboration.key, gate))
    return found


def _handovers(session: Session, actor: Actor) -> list[dict[str, Any]]:
    query = (select(Collaboration.key, Benefit.code).join(Benefit, Benefit.collaboration_id == Collaboration.id)
             .join(Handover, Handover.benefit_id == Benefit.id).join(User, User.id == Handover.to_user_id)
             .where(User.name == actor.name, Handover.status == "proposed"))
    return [_item("handover", key, code) for key, code in session.execute(query)]


def owed_today(session: Session, today: date) -> list[Review]:
    """Every review owed today, for the to-do lists of everyone."""
    from workflow import owed, reviews  # with its calendar (holidays, rrule): only for the commands that need it

    return owed.statuses(reviews.snapshot(session, today, ahead=0, behind=None), today, 0)


def _reviews(session: Session, actor: Actor, today: date, owed_reviews: Sequence[Review] | None) -> list[dict[str, Any]]:
    """Reviews due or overdue today: as a figure for the benefits the actor owns, as a review at their boards."""
    boards = set(session.scalars(select(Board.name).join(User, User.id == Board.secretary_id).where(User.name == actor.name)))
    found = []
    for r in owed_today(session, today) if owed_reviews is None else owed_reviews:
        if r.benefit is None or r.status not in OWED:
            continue
        if r.owner == actor.name:
            found.append(_item("figure", r.collaboration, r.benefit, r.due_on))
        if r.board in boards:
            found.append(_item("review", r.collaboration, r.benefit, r.due_on))
    return found
