"""Use cases of one meeting: move it to another day, or cancel it (`collab board meeting move|cancel`).

The secretary who runs the board (domain.md: People), or an admin, changes its meetings. A change is kept against
the occurrence of the board's schedule it changes (meetings.py), so the meeting keeps its iCalendar UID: the
next agenda of a moved meeting updates the event (a higher SEQUENCE, the new DTSTART) and a cancelled one is
withdrawn (METHOD:CANCEL) by `collab remind`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import meetings, validate
from workflow.context import Actor, Context
from workflow.errors import BadInput, Refused, reason
from workflow.lookups import open_board
from workflow.model import Board, MeetingChange


class MeetingCases:
    ctx: Context

    def move_meeting(self, board: str, day: date, *, to: date, reason_text: str | None = None) -> dict[str, Any]:
        """Hold one meeting on another day; the reviews owed at it are owed then."""
        why = None if reason_text is None else validate.text(reason_text, "the reason", multiline=True)
        today = self.ctx.clock.today()
        to = validate.day(to, "the new date", not_before=today, not_after=validate.horizon(today))
        with self.ctx.uow.write() as session:
            actor, found, schedule = self._board(session, board)
            occurrence, was_on, change = _meeting(session, found, schedule, day, today)
            if to == was_on:
                raise BadInput(reason("meeting-not-moved", f"the meeting is already on {to}", board=found.name))
            if schedule.held(to, to):
                raise BadInput(reason("meeting-clash", f"{found.name} already meets on {to}: choose another day",
                                      board=found.name, on=to.isoformat()))
            row = _changed(session, found, occurrence, change, meetings.MOVED, to, why, today)
            self.ctx.record(session, actor, "meeting-moved", board=found.name, meeting=occurrence.isoformat(),
                            was_on=was_on.isoformat(), to=to.isoformat(), reason=why, sequence=row.sequence)
            return _result(found, row, was_on)

    def cancel_meeting(self, board: str, day: date, *, reason_text: str) -> dict[str, Any]:
        """Cancel one meeting: the reviews owed at it are owed no more, and its calendar event is withdrawn."""
        why = validate.text(reason_text, "the reason", multiline=True)
        today = self.ctx.clock.today()
        with self.ctx.uow.write() as session:
            actor, found, schedule = self._board(session, board)
            occurrence, was_on, change = _meeting(session, found, schedule, day, today)
            row = _changed(session, found, occurrence, change, meetings.CANCELLED,
                           change.moved_to if change else None, why, today)
            self.ctx.record(session, actor, "meeting-cancelled", board=found.name, meeting=occurrence.isoformat(),
                            was_on=was_on.isoformat(), reason=why, sequence=row.sequence)
            return _result(found, row, was_on)

    def _board(self, session: Session, name: str) -> tuple[Actor, Board, meetings.Schedule]:
        """The acting person, who must run the board (its secretary) or be an admin, and the board's schedule."""
        actor = self.ctx.acting(session, "change a board's meetings")
        found = open_board(session, name)
        if "admin" not in actor.roles and found.secretary_id != actor.id:
            raise Refused(reason("not-the-secretary", f"{actor.name} is not the secretary of {found.name} "
                                 f"({found.secretary.name} is)", board=found.name, name=actor.name))
        return actor, found, meetings.schedule_of(session, found)


def _meeting(session: Session, board: Board, schedule: meetings.Schedule, day: date,
             today: date) -> tuple[date, date, meetings.Change | None]:
    """The meeting held on `day`: (its occurrence in the schedule, the day it is held, its change so far). `day`
    is a meeting of the schedule, or the day a moved meeting was moved to; it may not have been held already."""
    moved = next((c for c in schedule.changes if c.status == meetings.MOVED and c.moved_to == day), None)
    change = moved or schedule.by_meeting.get(day)
    if moved is None and schedule.occurrence(day) is None:
        near = ", ".join(d.isoformat() for d in schedule.nearest(day))
        raise BadInput(reason("not-a-meeting", f"{board.name} does not meet on {day} (its nearest meetings: "
                              f"{near or 'none'})", board=board.name, on=day.isoformat()))
    if change is not None and change.status == meetings.CANCELLED:
        raise Refused(reason("meeting-cancelled", f"the {board.name} meeting of {day} was cancelled on "
                             f"{change.changed_on}", board=board.name, on=day.isoformat()))
    if moved is None and change is not None:
        raise BadInput(reason("meeting-moved", f"the {board.name} meeting of {day} was moved to {change.moved_to}: "
                              f"name that day", board=board.name, on=day.isoformat()))
    if day < today:
        raise BadInput(reason("meeting-past", f"the {board.name} meeting of {day} has been held (today is {today})",
                              board=board.name, on=day.isoformat()))
    return (change.meeting if change else day), day, change


def _changed(session: Session, board: Board, occurrence: date, change: meetings.Change | None, status: str,
             moved_to: date | None, why: str | None, today: date) -> MeetingChange:
    """The meeting's change row, written: a first change is added, a further one replaces it with the next sequence."""
    row = session.scalar(select(MeetingChange).where(MeetingChange.board_id == board.id,
                                                     MeetingChange.meeting == occurrence)) if change else None
    if row is None:
        row = MeetingChange(board_id=board.id, meeting=occurrence, sequence=0)
        session.add(row)
    row.status, row.moved_to, row.reason, row.changed_on = status, moved_to, why, today
    row.sequence += 1
    return row


def _result(board: Board, row: MeetingChange, was_on: date) -> dict[str, Any]:
    return {"board": board.name, "meeting": row.meeting.isoformat(), "was_on": was_on.isoformat(), "status": row.status,
            "to": row.moved_to.isoformat() if row.status == meetings.MOVED and row.moved_to else None,
            "reason": row.reason, "sequence": row.sequence}
