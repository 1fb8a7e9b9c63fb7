"""The board's outcome of its review of one benefit at one meeting (`collab benefit review`), with any evidence.

The secretary of the board records it: domain.md makes the secretary the person who runs the board and receives
its agenda, so its minutes (what the board concluded) are theirs to record; chief officers approve gates and
agreements, not a board's business. The outcome does not satisfy the review (reviews.py): domain.md owes a
review until the benefit's measurement is in ("a benefit whose measurement is missing at a meeting is overdue"),
so the board's conclusion sits beside the figure and does not stand in for it. Evidence (issue 13: "a dated note
with a source", e.g. a focus group or staff survey) is the note, its source and its date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from workflow import meetings, validate
from workflow.board_assignment import further_boards
from workflow.context import Context
from workflow.errors import BadInput, Refused, reason
from workflow.lookups import current_handovers, find_board, live_benefit
from workflow.model import BenefitReview
from workflow.vocabulary import OUTCOMES


class OutcomeCases:
    ctx: Context

    def review_benefit(self, key: str, code: str, *, board: str, meeting: date, outcome: str, note: str,
                       evidence_source: str | None = None, evidence_on: date | None = None,
                       expected_version: int | None = None) -> dict[str, Any]:
        """Record what `board` concluded about benefit `code` at its meeting of `meeting` (held, not ahead)."""
        if outcome not in OUTCOMES:
            raise BadInput(reason("unknown-outcome", f"unknown outcome '{outcome}' (outcomes: {', '.join(OUTCOMES)})",
                                  outcome=outcome))
        today = self.ctx.clock.today()
        note = validate.text(note, "the note", multiline=True)
        meeting = validate.day(meeting, "the meeting date", not_after=today)
        if (evidence_source is None) != (evidence_on is None):
            raise BadInput(reason("evidence-incomplete", "evidence needs both its source and its date"))
        source = None if evidence_source is None else validate.text(evidence_source, "the evidence's source")
        dated = None if evidence_on is None else validate.day(evidence_on, "the evidence's date", not_after=today)
        with self.ctx.changing(key, "record a board's review", expected_version) as (session, actor, collaboration):
            benefit = live_benefit(collaboration, code)
            found = find_board(session, board)
            if found.secretary_id != actor.id:
                raise Refused(reason("not-the-secretary", f"{actor.name} is not the secretary of {found.name} "
                                     f"({found.secretary.name} is)", board=found.name, name=actor.name))
            handover = current_handovers(session, [benefit.id]).get(benefit.id)
            accepted = handover.board if handover and handover.status == "accepted" else None
            reviewing = {board.name for board in (benefit.board, accepted) if board}
            reviewing.update(further_boards(session, [benefit.id]).get(benefit.id, []))
            if found.name not in reviewing:
                raise BadInput(reason("not-its-board", f"benefit {benefit.code} of {collaboration.key} is not reviewed "
                                      f"by {found.name}", board=found.name, benefit=benefit.code))
            schedule = meetings.schedule_of(session, found)
            if not schedule.held(meeting, meeting):
                near = ", ".join(d.isoformat() for d in schedule.nearest(meeting))
                raise BadInput(reason("not-a-meeting", f"{found.name} did not meet on {meeting} (its nearest meetings: "
                                      f"{near or 'none'})", board=found.name, on=meeting.isoformat()))
            session.add(BenefitReview(benefit_id=benefit.id, board_id=found.id, meeting=meeting, outcome=outcome,
                                      note=note, evidence_source=source, evidence_on=dated, recorded_by_id=actor.id,
                                      recorded_on=today))
            evidence = [] if source is None or dated is None else [{"note": note, "source": source, "on": dated.isoformat()}]
            self.ctx.record(session, actor, "benefit-reviewed", collaboration=collaboration, benefit=benefit.code,
                            board=found.name, meeting=meeting.isoformat(), outcome=outcome, note=note, evidence=evidence)
            return {"key": collaboration.key, "id": benefit.code, "board": found.name, "meeting": meeting.isoformat(),
                    "outcome": outcome, "note": note, "evidence": evidence}
