"""A board's agenda before it is sent (`collab board agenda`): the reviews one meeting owes, each benefit's
latest figure against its target, its owner and status, and the board's reviews gone overdue.

It is the agenda `collab remind` sends the secretary: the same slots (reviews.py), the same template context
and text (reminders.py), read as of today.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from workflow import owed, reviews, validate
from workflow.context import Context
from workflow.errors import BadInput, reason
from workflow.lookups import open_board
from workflow.drafts import agenda_context, agenda_lines
from workflow.reminders import agenda_text

NEXT_WITHIN = timedelta(days=800)  # a board meets at least every two years (calendar.board_rule)


def board_agenda(ctx: Context, board: str, meeting: date | None = None) -> dict[str, Any]:
    """The agenda of the board's meeting on `meeting` (default: its next meeting from today)."""
    today = ctx.clock.today()
    day = None if meeting is None else validate.day(meeting, "the meeting date", not_after=validate.horizon(today))
    with ctx.reading() as session:
        (info,) = reviews.load_boards(session, open_board(session, board).id)
        held = reviews.board_meetings(info, day or today, day or today + NEXT_WITHIN)
        if not held:
            near = ", ".join(d.isoformat() for d in info.schedule.nearest(day or today))
            raise BadInput(reason("not-a-meeting", f"{info.name} does not meet on {day or 'any day ahead'} (its nearest "
                                  f"meetings: {near or 'none'})", board=info.name))
        chosen = held[0]
        ahead, behind = (chosen.day - today).days, (today - chosen.day).days
        snap = reviews.snapshot(session, today, ahead=max(ahead, 0), behind=None if behind <= 0 else behind,
                                board_id=info.id)
        slots = [s for s in snap.slots if s.meeting.day == chosen.day]
        context = agenda_context(chosen, agenda_lines(slots))
        text = agenda_text(context, info.secretary)
    overdue = [r.as_dict() for r in owed.statuses(snap, today, 0) if r.status == "overdue"]
    return {"board": info.name, "meeting": chosen.day.isoformat(), "starts": chosen.starts.isoformat(),
            "location": info.location, "secretary": info.secretary.name,
            "collaborations": context["collaborations"], "overdue": overdue, "text": text}

