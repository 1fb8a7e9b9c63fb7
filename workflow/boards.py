"""Use cases of boards: register one, change its schedule, secretary, meeting time or place, retire it.

A board is a force's standing body (domain.md: "Boards"); its admin registers and changes it. Each change is one
`board-*` event that names every field changed (from, to), so that replay rebuilds the row.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, aliased

from workflow import validate
from workflow.board_assignment import require_board_type
from workflow.context import Context
from workflow.errors import BadInput, Refused, reason
from workflow.lookups import find_user, open_board, taken
from workflow.model import Benefit, BenefitBoard, Board, Collaboration, Handover, User
from workflow.permissions import described

_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


class BoardCases:
    ctx: Context

    def add_board(self, name: str, partner: str, meets: str, secretary: str, type: str | None = None) -> dict[str, Any]:
        """A board; its `type` (if given) is one the stored definitions name, so that it reviews their categories."""
        validate.text(name, "the board name")
        validate.text(partner, "the board's force", max_length=200)
        _rule(meets, self.ctx, "bad-recurrence")
        with self.ctx.uow.write() as session:
            actor = self.ctx.acting(session, "register boards")
            taken(session, Board.name, name, "board", "board-exists", name=name)
            clerk = _secretary(session, secretary)
            if type is not None:
                require_board_type(session, type)
            board = Board(name=name, partner=partner, meets=meets, anchor=self.ctx.clock.today(), secretary=clerk,
                          type=type)
            session.add(board)
            self.ctx.record(session, actor, "board-added", board=name, partner=partner, meets=meets, secretary=clerk.name,
                            type=type)
            return board_dict(board)

    def boards(self, every: bool = False) -> list[dict[str, Any]]:
        """The boards still meeting; `every`: the retired ones too."""
        query = select(Board).order_by(Board.name)
        with self.ctx.reading() as session:
            return [board_dict(b) for b in session.scalars(query if every else query.where(Board.retired_on.is_(None)))]

    def update_board(self, name: str, *, rule: str | None = None, secretary: str | None = None,
                     time: str | None = None, location: str | None = None) -> dict[str, Any]:
        """Change a board's meeting rule, secretary, time of day or place. A new rule takes effect from today (its
        anchor): the meetings from today follow it, and the ones before are no longer computed, so the old rule's
        meetings do not reappear under the new one. A reminder already delivered for a meeting the new rule keeps
        is not sent again: the delivery log keys it by the meeting's date."""
        if rule is None and secretary is None and time is None and location is None:
            raise BadInput(reason("nothing-to-update", f"nothing to change for the board {name}: give a rule, a "
                                  "secretary, a time or a location", board=name))
        today = self.ctx.clock.today()
        wanted: dict[str, Any] = {}
        if rule is not None:
            _rule(rule, self.ctx, "bad-new-recurrence")
            wanted["meets"] = rule
        if time is not None:
            if not _CLOCK.fullmatch(time.strip()):
                raise BadInput(reason("bad-time", f"the meeting time {time!r} is not HH:MM (e.g. 09:30)", time=time))
            wanted["meets_at"] = time.strip()
        if location is not None:
            wanted["location"] = validate.text(location, "the location", max_length=500)
        with self.ctx.uow.write() as session:
            actor = self.ctx.acting(session, "register boards")
            board = open_board(session, name)
            if secretary is not None:
                wanted["secretary"] = _secretary(session, secretary).name
            if "meets" in wanted and wanted["meets"] != board.meets:
                wanted["anchor"] = today
            changes = {field: {"from": _shown(_value(board, field)), "to": _shown(value)}
                       for field, value in wanted.items() if _value(board, field) != value}
            for field, change in changes.items():
                if field == "secretary":
                    board.secretary = find_user(session, change["to"])
                else:
                    setattr(board, field, wanted[field])
            if changes:
                self.ctx.record(session, actor, "board-updated", board=board.name, changes=changes)
            return {**board_dict(board), "changes": changes}

    def retire_board(self, name: str, *, reason_text: str) -> dict[str, Any]:
        """Retire a board: it meets no more, gets no reminders and takes no benefits. Refused while a benefit that is
        not retired is still reviewed by it (its own board, or the board of its handover unless declined): each is
        named, to be moved to another board first."""
        why = validate.text(reason_text, "the reason", multiline=True)
        with self.ctx.uow.write() as session:
            actor = self.ctx.acting(session, "register boards")
            board = open_board(session, name)
            still = _reviewed_by(session, board)
            if still:
                raise Refused(*(reason("board-still-reviews", f"benefit {code} of {key} is still reviewed by "
                                       f"{board.name}: move it to another board first", board=board.name, key=key,
                                       benefit=code) for key, code in still))
            board.retired_on, board.retired_reason = self.ctx.clock.today(), why
            self.ctx.record(session, actor, "board-retired", board=board.name, reason=why)
            return board_dict(board)


def _reviewed_by(session: Session, board: Board) -> list[tuple[str, str]]:
    """(collaboration, benefit) of every benefit not retired whose own board is `board`, which has it as a further
    board, or whose current handover (proposed or accepted) names it."""
    current, newer = aliased(Handover), aliased(Handover)
    handed = exists().where(current.benefit_id == Benefit.id, current.board_id == board.id, current.status != "declined",
                            ~exists().where(newer.benefit_id == current.benefit_id, newer.id > current.id))
    further = exists().where(BenefitBoard.benefit_id == Benefit.id, BenefitBoard.board_id == board.id)
    query = (select(Collaboration.key, Benefit.code).join(Collaboration, Collaboration.id == Benefit.collaboration_id)
             .where(Benefit.retired_on.is_(None), or_(Benefit.board_id == board.id, handed, further))
             .order_by(Collaboration.key, Benefit.code))
    return [(key, code) for key, code in session.execute(query)]


def _rule(meets: str, ctx: Context, code: str) -> None:
    """The same checks as a new board's rule: parseable, and meeting within two years from today."""
    from workflow.calendar import RecurrenceError, board_rule

    try:
        board_rule(meets, ctx.clock.today())
    except RecurrenceError as error:
        raise BadInput(reason(code, f"the board's recurrence: {error}", meets=meets)) from None


def _secretary(session: Session, name: str) -> User:
    clerk = find_user(session, name)
    must_be_secretary(clerk)
    if clerk.deactivated_on is not None:
        raise BadInput(reason("user-deactivated", f"{clerk.name} was deactivated on {clerk.deactivated_on}",
                              name=clerk.name))
    return clerk


def must_be_secretary(user: User) -> None:
    if "board-secretary" not in user.roles:
        raise BadInput(reason("not-a-secretary", f"{user.name} is {described(user.roles)}; a board's secretary must "
                              "have the role board-secretary", name=user.name))


def _value(board: Board, field: str) -> Any:
    return board.secretary.name if field == "secretary" else getattr(board, field)


def _shown(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def board_dict(board: Board) -> dict[str, Any]:
    return {"name": board.name, "partner": board.partner, "meets": board.meets, "secretary": board.secretary.name,
            "time": board.meets_at, "location": board.location,
            "retired_on": board.retired_on.isoformat() if board.retired_on else None, "type": board.type}
