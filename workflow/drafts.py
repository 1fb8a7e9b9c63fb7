"""What each reminder says and to whom, before it is addressed: the drafts of agendas, measurement requests,
escalations, meeting cancellations and PIR reminders, and the contexts their templates receive (the variable
contract of notifications/render.py). `workflow.reminders` decides what is due, addresses and delivers them."""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from workflow import definition as definitions, reviews
from workflow.meetings import CANCELLED
from workflow.model import Collaboration, Partner, User, UserRole
from workflow.reviews import Meeting, PirDue, Person, ReviewedBenefit, Slot, Snapshot
from workflow.vocabulary import MANAGER


class Draft(NamedTuple):  # a named tuple, as Entry
    """An occurrence before it is addressed; it becomes one Occurrence per recipient."""

    kind: str
    collaboration: str | None
    item: str  # the benefit (BID@board-ID for a further board), the board (board-ID) or "pir"
    day: date  # the meeting's or the PIR's date
    due_on: date  # when it fell due
    template: str
    context: dict[str, Any]  # all but the recipient
    audience: tuple[Person | None, ...]
    leaders_of: int | None = None  # also to this collaboration's escalation audience
    meeting: Meeting | None = None
    fact: dict[str, Any] | None = None  # an escalation's event payload, but for "to"


class AgendaLine(NamedTuple):
    """A review owed at a meeting, as its agenda lists it (kept apart from the slot: an agenda gathers them from
    every batch of collaborations)."""

    collaboration: str
    code: str
    title: str  # the collaboration's
    line: dict[str, Any]


def agenda(meeting: Meeting, lines: list[AgendaLine], opens: date) -> Draft:
    """The agenda of `meeting`, whose reminder window opened on `opens` (the earliest of its reviews')."""
    return Draft("agenda", None, agenda_item(meeting), meeting.day, opens, "agenda",
                 agenda_context(meeting, lines), (meeting.board.secretary,), meeting=meeting)


def agenda_item(meeting: Meeting) -> str:
    return f"board-{meeting.board.id}"


def agenda_lines(slots: list[Slot]) -> list[AgendaLine]:
    return [AgendaLine(s.benefit.collaboration, s.benefit.code, s.benefit.collaboration_title, _agenda_line(s))
            for s in slots]


def agenda_context(meeting: Meeting, lines: list[AgendaLine]) -> dict[str, Any]:
    """What the agenda of `meeting` says of the reviews owed at it, grouped by collaboration: the secretary's
    reminder and `collab board agenda` alike."""
    groups: dict[str, list[AgendaLine]] = {}
    for line in sorted(lines, key=lambda a: (a.collaboration, a.code)):
        groups.setdefault(line.collaboration, []).append(line)
    collaborations = [{"key": key, "title": group[0].title, "reviews": [a.line for a in group]}
                      for key, group in groups.items()]
    return {"board": _board_ctx(meeting), "meeting": _meeting(meeting), "collaborations": collaborations}


def cancellations(session: Session, today: date) -> list[Draft]:
    """To each board's secretary, from the day a meeting still ahead was cancelled: its calendar event withdrawn."""
    drafts = []
    for board in reviews.load_boards(session):
        for change in board.changes:
            day, scheduled = change.moved_to or change.meeting, board.schedule.occurrence(change.meeting)
            if change.status != CANCELLED or scheduled is None or not (change.changed_on or day) <= today <= day:
                continue
            meeting = Meeting(board, board.schedule.at(scheduled, day), None, change.meeting, change.sequence, True)
            drafts.append(Draft("meeting-cancelled", None, f"board-{board.id}", change.meeting, change.changed_on or day,
                                 "meeting-cancelled", {"board": _board_ctx(meeting), "meeting": _meeting(meeting),
                                                       "reason": change.reason}, (board.secretary,), meeting=meeting))
    return drafts


def request(slot: Slot) -> Draft:
    b, meeting = slot.benefit, slot.meeting
    return Draft("measurement-request", b.collaboration, _reviewed(slot), meeting.day, slot.opens, "measurement-request",
                  {"board": _board_ctx(meeting), "meeting": _meeting(meeting), "collaboration": _collaboration_ctx(b),
                   "benefit": _benefit_ctx(b)}, (b.owner,))


def escalation(slot: Slot, today: date) -> Draft:
    b, meeting = slot.benefit, slot.meeting
    return Draft("escalation", b.collaboration, _reviewed(slot), meeting.day, slot.escalates, "escalation",
                  {"board": _board_ctx(meeting), "meeting": _meeting(meeting), "collaboration": _collaboration_ctx(b),
                   "benefit": _benefit_ctx(b), "days_overdue": (today - meeting.day).days},
                  _managers(b.settings, b.manager), leaders_of=b.collaboration_id,
                  fact={"kind": "escalation", "benefit": b.code, "board": meeting.board.name, "meeting": meeting.day})


def _reviewed(slot: Slot) -> str:
    """The item of a benefit's request or escalation: the benefit, and the board when it is a further one (whose
    meeting may fall on the day of its own board's)."""
    return slot.benefit.code if slot.benefit.own_board else f"{slot.benefit.code}@board-{slot.meeting.board.id}"


def pir(pir: PirDue, *, overdue: bool) -> Draft:
    """The reminder goes to the programme manager; the escalation to the definition's escalation audience."""
    kind = "pir-escalation" if overdue else "pir-reminder"
    return Draft(kind, pir.collaboration, "pir", pir.pir_due, pir.escalates if overdue else pir.opens, "pir-reminder",
                  {"collaboration": {"key": pir.collaboration, "title": pir.title}, "closed_on": pir.closed_on,
                   "pir_due": pir.pir_due, "overdue": overdue},
                  _managers(pir.settings, pir.manager) if overdue else (pir.manager,),
                  leaders_of=pir.collaboration_id if overdue else None,
                  fact={"kind": kind, "pir_due": pir.pir_due} if overdue else None)


def _managers(settings: definitions.Reviews, manager: Person) -> tuple[Person, ...]:
    """The programme manager, where the definition tells them of missed reviews."""
    return (manager,) if MANAGER in settings.escalate_to else ()


def person(person: Person) -> dict[str, Any]:
    return {"name": person.name, "email": person.email}


def _board_ctx(meeting: Meeting) -> dict[str, Any]:
    return {"name": meeting.board.name, "partner": meeting.board.partner}


def _meeting(meeting: Meeting) -> dict[str, Any]:
    return {"starts": meeting.starts, "date": meeting.day}


def _collaboration_ctx(b: ReviewedBenefit) -> dict[str, Any]:
    return {"key": b.collaboration, "title": b.collaboration_title}


def _benefit_ctx(b: ReviewedBenefit) -> dict[str, Any]:
    return {"id": b.code, "title": b.title, "measure": b.measure, "unit": b.unit, "baseline": b.baseline,
            "target": b.target, "latest": b.latest, "latest_on": b.latest_on}


def _agenda_line(slot: Slot) -> dict[str, Any]:
    b = slot.benefit
    return {"benefit_id": b.code, "title": b.title, "category": b.category, "owner": b.owner.name if b.owner else "nobody",
            "status": "figure received" if slot.satisfied else "awaiting figure", "last_measured_on": b.latest_on,
            "latest": b.latest, "unit": b.unit, "target": b.target}


def escalation_audience(session: Session, snap: Snapshot) -> dict[int, list[Person]]:
    """Collaboration id (of the snapshot's) -> the people of its partners whose roles its definition tells of a
    missed review (the programme manager, if named, is each collaboration's own and is added by the caller)."""
    settings = snap.settings
    roles = {role for s in settings.values() for role in s.escalate_to if role != MANAGER}
    query = (
        select(Partner.collaboration_id, Collaboration.definition_name, Collaboration.definition_version,
               UserRole.role, User.name, User.email)
        .join(User, User.partner == Partner.name).join(UserRole, and_(UserRole.user_id == User.id, UserRole.role.in_(roles)))
        .join(Collaboration, Collaboration.id == Partner.collaboration_id)
        .where(reviews.in_review(settings), *reviews.in_batch(snap.collaborations))
        .order_by(Partner.collaboration_id, User.name)
    )
    found: dict[int, list[Person]] = {}
    for cid, dname, dversion, role, name, email in session.execute(query):
        people = found.setdefault(cid, [])
        if role in settings[(dname, dversion)].escalate_to and Person(name, email) not in people:  # once, for any role
            people.append(Person(name, email))
    return found
