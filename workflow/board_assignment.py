"""Several boards per benefit: further boards that review a benefit besides its own.

A benefit's own board (its profile's, approved at the gate, whose secretary may record figures) reviews it as
before; a further board (e.g. the other force's Resource Control Board, or the Executive Board) gets it on its
agenda and reminders and owes its own reviews, from the day it took the benefit on (`since`) and no earlier.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workflow import stored, validate
from workflow.context import Actor, Context
from workflow.errors import BadInput, Refused, reason
from workflow.lookups import find_board, live_benefit, open_board
from workflow.model import Benefit, BenefitBoard, Board, Collaboration, DefinitionVersion


def further_boards(session: Session, benefit_ids: Iterable[int]) -> dict[int, list[str]]:
    """Benefit id -> the names of its further boards, in the order they took it on."""
    found: dict[int, list[str]] = {}
    ids = list(benefit_ids)
    if ids:
        query = (select(BenefitBoard.benefit_id, Board.name).join(Board, Board.id == BenefitBoard.board_id)
                 .where(BenefitBoard.benefit_id.in_(ids)).order_by(BenefitBoard.since, Board.name))
        for benefit_id, name in session.execute(query):
            found.setdefault(benefit_id, []).append(name)
    return found


def boards_of(benefit: Benefit, further: dict[int, list[str]]) -> list[str]:
    """Every board reviewing a benefit: its own first, then the further ones."""
    return [*([benefit.board.name] if benefit.board else []), *further.get(benefit.id, [])]


def require_board_type(session: Session, kind: str) -> None:
    """A board's type is one that a stored definition names (its `boards: types`)."""
    known = sorted({t for name, version in session.execute(select(DefinitionVersion.name, DefinitionVersion.version))
                    for t in stored.stored_definition(session, name, version).boards.types})
    if kind not in known:
        raise BadInput(reason("unknown-board-type", f"unknown board type '{kind}' (types: {', '.join(known) or 'none'})",
                              type=kind))


def promoted(session: Session, benefit: Benefit, board: Board) -> None:
    """A further board made the benefit's own board reviews it once, as its own: its further row goes (replay does
    the same from the `benefit-updated` event that names the new board)."""
    session.execute(delete(BenefitBoard).where(BenefitBoard.benefit_id == benefit.id, BenefitBoard.board_id == board.id))


def default_boards(session: Session, collaboration: Collaboration, category: str) -> list[Board]:
    """The partners' boards of the types the collaboration's definition gives the category, in its order of types."""
    kinds = stored.definition_of(session, collaboration).boards.for_category(category)
    partners = [p.name for p in collaboration.partners]
    if not kinds or not partners:
        return []
    found = session.scalars(select(Board).where(Board.type.in_(kinds), Board.partner.in_(partners),
                                                Board.retired_on.is_(None)).order_by(Board.name))
    return sorted(found, key=lambda board: kinds.index(board.type or ""))


def board_gaps(session: Session, collaboration: Collaboration) -> list[dict[str, Any]]:
    """Each tracked benefit lacking a board of a type its definition says reviews its category: {"benefit",
    "category", "missing": [TYPE]}."""
    live = [b for b in collaboration.benefits if b.retired_on is None]
    kinds = stored.definition_of(session, collaboration).boards
    if not live or not kinds.review:
        return []
    typed: dict[int, set[str | None]] = {}
    for benefit_id, kind in session.execute(select(BenefitBoard.benefit_id, Board.type).join(
            Board, Board.id == BenefitBoard.board_id).where(BenefitBoard.benefit_id.in_([b.id for b in live]))):
        typed.setdefault(benefit_id, set()).add(kind)
    gaps = []
    for b in live:
        held = typed.get(b.id, set()) | ({b.board.type} if b.board else set())
        missing = [kind for kind in kinds.for_category(b.category) if kind not in held]
        if missing:
            gaps.append({"benefit": b.code, "category": b.category, "missing": missing})
    return gaps


def add_further(ctx: Context, session: Session, actor: Actor, collaboration: Collaboration, benefit: Benefit,
                boards: list[Board], since: date) -> None:
    """Further boards take the benefit on from `since`, each with its `benefit-board-added` event."""
    session.flush()
    for board in boards:
        session.add(BenefitBoard(benefit_id=benefit.id, board_id=board.id, since=since))
        ctx.record(session, actor, "benefit-board-added", on=since, collaboration=collaboration, benefit=benefit.code,
                   board=board.name)


def unassign_removed(session: Session, benefit: Benefit) -> None:
    """A benefit removed by mistake leaves its further boards' agendas with it."""
    session.execute(delete(BenefitBoard).where(BenefitBoard.benefit_id == benefit.id))


class BoardAssignmentCases:
    ctx: Context

    def add_benefit_board(self, key: str, code: str, board: str, *, on: date | None = None,
                          expected_version: int | None = None) -> dict[str, Any]:
        """A further board reviews the benefit from `on` (default today): it owes reviews from that day only."""
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            benefit = live_benefit(collaboration, code)
            reviewing = open_board(session, board)
            since = self.ctx.effective(on, collaboration, in_stage=False)
            if since < benefit.start_on:
                raise BadInput(reason("board-before-start", f"benefit {benefit.code} was identified on {benefit.start_on}: "
                                      f"a board cannot take it on {since}", benefit=benefit.code))
            taken = set(boards_of(benefit, further_boards(session, [benefit.id])))
            if reviewing.name in taken:
                raise Refused(reason("board-already-reviews", f"{reviewing.name} already reviews benefit {benefit.code}",
                                     benefit=benefit.code, board=reviewing.name))
            add_further(self.ctx, session, actor, collaboration, benefit, [reviewing], since)
            return {"key": collaboration.key, "id": benefit.code, "board": reviewing.name, "since": since.isoformat()}

    def remove_benefit_board(self, key: str, code: str, board: str, *, reason: str,
                             expected_version: int | None = None) -> dict[str, Any]:
        """A further board stops reviewing the benefit; its own board is changed with `update_benefit`."""
        from workflow.errors import reason as because

        why = validate.text(reason, "the reason", multiline=True)
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            benefit = live_benefit(collaboration, code)
            leaving = find_board(session, board)
            row = session.scalar(select(BenefitBoard).where(BenefitBoard.benefit_id == benefit.id,
                                                            BenefitBoard.board_id == leaving.id))
            if row is None:
                own = " (it is the benefit's own board, changed with its profile)" \
                    if benefit.board is not None and benefit.board.id == leaving.id else ""
                raise Refused(because("board-not-reviewing", f"{leaving.name} is not a further board of benefit "
                                      f"{benefit.code}{own}", benefit=benefit.code, board=leaving.name))
            session.delete(row)
            self.ctx.record(session, actor, "benefit-board-removed", collaboration=collaboration, benefit=benefit.code,
                            board=leaving.name, reason=why)
            return {"key": collaboration.key, "id": benefit.code, "board": leaving.name, "reason": why}
