"""Use cases of people and boards: who acts, and which boards review benefits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from workflow.context import Actor, Context
from workflow.errors import BadInput, Refused, reason
from workflow.lookups import find_user
from workflow.model import Board, User
from workflow import validate
from workflow.vocabulary import PARTNER_ROLES, ROLES


class PeopleCases:
    ctx: Context

    def add_user(self, name: str, role: str, email: str | None = None, partner: str | None = None) -> dict[str, Any]:
        if role not in ROLES:
            raise BadInput(reason("unknown-role", f"unknown role '{role}' (roles: {', '.join(ROLES)})", role=role))
        validate.text(name, "the user name")
        with self.ctx.uow.write() as session:
            if session.scalar(select(func.count()).select_from(User)) == 0:
                if role != "admin":
                    raise Refused(reason("first-user-admin", "the first user must be an admin", name=name))
                actor = Actor(name, "admin", None)
            else:
                actor = self.ctx.acting(session, "register users")
            if session.scalar(select(User.id).where(User.name == name)) is not None:
                raise BadInput(reason("user-exists", f"user '{name}' already exists", name=name))
            if role in PARTNER_ROLES and not partner:
                raise BadInput(reason("partner-needed", f"a {role} acts for a force: name the force", role=role))
            user = User(name=name, role=role, email=email, partner=partner, created_on=self.ctx.clock.today())
            session.add(user)
            self.ctx.record(session, actor, "user-added", user=name, role=role, email=email, partner=partner)
            return user_dict(user)

    def users(self) -> list[dict[str, Any]]:
        with self.ctx.reading() as session:
            return [user_dict(u) for u in session.scalars(select(User).order_by(User.name))]

    def add_board(self, name: str, partner: str, meets: str, secretary: str) -> dict[str, Any]:
        from workflow.calendar import RecurrenceError, board_rule

        validate.text(name, "the board name")
        today = self.ctx.clock.today()
        try:
            board_rule(meets, today)
        except RecurrenceError as error:
            raise BadInput(reason("bad-recurrence", f"the board's recurrence: {error}", meets=meets)) from None
        with self.ctx.uow.write() as session:
            actor = self.ctx.acting(session, "register boards")
            if session.scalar(select(Board.id).where(Board.name == name)) is not None:
                raise BadInput(reason("board-exists", f"board '{name}' already exists", name=name))
            clerk = find_user(session, secretary)
            if clerk.role != "board-secretary":
                raise BadInput(reason("not-a-secretary", f"{secretary} is a {clerk.role}; a board's secretary must have "
                                      "the role board-secretary", name=secretary))
            board = Board(name=name, partner=partner, meets=meets, anchor=today, secretary=clerk)
            session.add(board)
            self.ctx.record(session, actor, "board-added", board=name, partner=partner, meets=meets, secretary=secretary)
            return board_dict(board)

    def boards(self) -> list[dict[str, Any]]:
        with self.ctx.reading() as session:
            return [board_dict(b) for b in session.scalars(select(Board).order_by(Board.name))]


def user_dict(user: User) -> dict[str, Any]:
    return {"name": user.name, "role": user.role, "email": user.email, "partner": user.partner}


def board_dict(board: Board) -> dict[str, Any]:
    return {"name": board.name, "partner": board.partner, "meets": board.meets, "secretary": board.secretary.name}
