"""Use cases of people and boards: who acts, and which boards review benefits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from workflow.board_assignment import require_board_type
from workflow.context import Actor, Context
from workflow.errors import BadInput, Refused, reason
from workflow.grants import existing_login
from workflow.lookups import find_user, taken
from workflow.model import Benefit, Board, Collaboration, Handover, User
from workflow import validate
from workflow.vocabulary import PARTNER_ROLES, ROLES


class PeopleCases:
    ctx: Context

    def add_user(self, name: str, role: str, email: str | None = None, partner: str | None = None,
                 login: str | None = None) -> dict[str, Any]:
        if role not in ROLES:
            raise BadInput(reason("unknown-role", f"unknown role '{role}' (roles: {', '.join(ROLES)})", role=role))
        validate.key(name, "the user name", max_length=120)
        partner = validate.text(partner, "the force", max_length=200) if partner is not None else None
        email = validate.email(email) if email is not None else None
        with self.ctx.uow.write() as session:
            if session.scalar(select(func.count()).select_from(User)) == 0:
                if role != "admin":
                    raise Refused(reason("first-user-admin", "the first user must be an admin", name=name))
                actor = Actor(name, "admin", None)
            else:
                actor = self.ctx.acting(session, "register users")
            taken(session, User.name, name, "user", "user-exists", name=name)
            if role in PARTNER_ROLES and not partner:
                raise BadInput(reason("partner-needed", f"a {role} acts for a force: name the force", role=role))
            if login is not None:
                self._free_login(session, login, name)
            user = User(name=name, role=role, email=email, partner=partner, created_on=self.ctx.clock.today(),
                        login=login)
            session.add(user)
            self.ctx.record(session, actor, "user-added", user=name, role=role, email=email, partner=partner,
                            login=login)
            return user_dict(user)

    def update_user(self, name: str, *, email: str | None = None, partner: str | None = None,
                    role: str | None = None, login: str | None = None) -> dict[str, Any]:
        """Correct a user's email address, force, role or database login; the event records each change (from, to)."""
        if role is not None and role not in ROLES:
            raise BadInput(reason("unknown-role", f"unknown role '{role}' (roles: {', '.join(ROLES)})", role=role))
        wanted: dict[str, str] = {}
        if email is not None:
            wanted["email"] = validate.email(email)
        if partner is not None:
            wanted["partner"] = validate.text(partner, "the force")
        if role is not None:
            wanted["role"] = role
        if not wanted and login is None:
            raise BadInput(reason("nothing-to-update", f"nothing to change for {name}: give an email address, "
                                  "a force, a role or a login", name=name))
        with self.ctx.uow.write() as session:
            actor = self.ctx.acting(session, "register users")
            user = find_user(session, name)
            if login is not None and login != user.login:
                wanted["login"] = self._free_login(session, login, user.name)
            changes = {field: {"from": getattr(user, field), "to": value}
                       for field, value in wanted.items() if getattr(user, field) != value}
            for field, change in changes.items():
                setattr(user, field, change["to"])
            if user.role in PARTNER_ROLES and not user.partner:
                raise BadInput(reason("partner-needed", f"a {user.role} acts for a force: name the force", role=user.role))
            runs = session.scalars(select(Board.name).where(Board.secretary_id == user.id)).all()
            if user.role != "board-secretary" and runs:
                raise Refused(reason("still-a-secretary", f"{name} is the secretary of {', '.join(runs)}; a board's "
                                     "secretary must have the role board-secretary", name=name))
            if changes:
                self.ctx.record(session, actor, "user-updated", user=user.name, changes=changes)
            if user.name == actor.name:
                self.ctx.forget_actor()  # their own role or force changed
            return {**user_dict(user), "changes": changes}

    def deactivate_user(self, name: str, reassign_to: str | None = None) -> dict[str, Any]:
        """Mark a user inactive; the benefits they own, the boards they are secretary of and the handovers
        proposed to them move to `reassign_to` in the same unit of work."""
        with self.ctx.uow.write() as session:
            actor = self.ctx.acting(session, "register users")
            user = find_user(session, name)
            if user.deactivated_on is not None:
                raise Refused(reason("user-deactivated-already", f"{name} was deactivated on {user.deactivated_on}",
                                     name=name))
            if user.name == actor.name:
                raise Refused(reason("self-deactivation", f"{name} may not deactivate themselves: another admin must",
                                     name=name))
            benefits = session.execute(
                select(Benefit, Collaboration.key).join(Collaboration, Collaboration.id == Benefit.collaboration_id)
                .where(Benefit.owner_id == user.id, Benefit.retired_on.is_(None))
                .order_by(Collaboration.key, Benefit.code)).tuples().all()
            boards = session.scalars(select(Board).where(Board.secretary_id == user.id).order_by(Board.name)).all()
            handovers = session.execute(
                select(Handover, Benefit.code, Collaboration.key).join(Benefit, Benefit.id == Handover.benefit_id)
                .join(Collaboration, Collaboration.id == Benefit.collaboration_id)
                .where(Handover.to_user_id == user.id, Handover.status == "proposed")
                .order_by(Collaboration.key, Benefit.code)).tuples().all()
            held = len(benefits) + len(boards) + len(handovers)
            if held and reassign_to is None:
                raise Refused(reason("reassignment-needed", f"{name} still holds {len(benefits)} benefit(s), "
                                     f"{len(boards)} board(s) and {len(handovers)} proposed handover(s): name who "
                                     "takes them over", name=name))
            successor = None if reassign_to is None else self._successor(session, user, reassign_to, bool(boards))
            for benefit, _ in benefits:
                benefit.owner = successor
            for board in boards:
                board.secretary = successor  # type: ignore[assignment]
            for handover, _, _ in handovers:
                handover.to_user = successor  # type: ignore[assignment]
            user.deactivated_on = self.ctx.clock.today()
            moved: dict[str, Any] = {
                "benefits": [{"collaboration": key, "benefit": b.code} for b, key in benefits],
                "boards": [b.name for b in boards],
                "handovers": [{"collaboration": key, "benefit": code} for _, code, key in handovers]}
            taker = successor.name if successor else None
            self.ctx.record(session, actor, "user-deactivated", user=user.name, reassigned_to=taker,
                            benefits=moved["benefits"], boards=moved["boards"], handovers=moved["handovers"])
            return {"name": user.name, "deactivated_on": user.deactivated_on.isoformat(), "reassigned_to": taker, **moved}

    @staticmethod
    def _free_login(session: Any, login: str, name: str) -> str:
        """`login`, checked: a PostgreSQL role that exists and is no one else's."""
        existing_login(session, login)
        holder = session.scalar(select(User.name).where(User.login == login, User.name != name))
        if holder is not None:
            raise BadInput(reason("login-taken", f"the database login {login} is already {holder}'s", login=login))
        return login

    @staticmethod
    def _successor(session: Any, user: User, name: str, boards: bool) -> User:
        successor = find_user(session, name)
        if successor.id == user.id or successor.deactivated_on is not None:
            raise BadInput(reason("bad-successor", f"{name} cannot take over from {user.name}: "
                                  f"{'the same person' if successor.id == user.id else 'deactivated'}", name=name))
        if boards and successor.role != "board-secretary":
            raise BadInput(reason("not-a-secretary", f"{name} is a {successor.role}; a board's secretary must have "
                                  "the role board-secretary", name=name))
        return successor

    def users(self) -> list[dict[str, Any]]:
        with self.ctx.reading() as session:
            return [user_dict(u) for u in session.scalars(select(User).order_by(User.name))]

    def add_board(self, name: str, partner: str, meets: str, secretary: str, type: str | None = None) -> dict[str, Any]:
        """A board; its `type` (if given) is one the stored definitions name, so that it reviews their categories."""
        from workflow.calendar import RecurrenceError, board_rule

        validate.text(name, "the board name")
        validate.text(partner, "the board's force", max_length=200)
        today = self.ctx.clock.today()
        try:
            board_rule(meets, today)
        except RecurrenceError as error:
            raise BadInput(reason("bad-recurrence", f"the board's recurrence: {error}", meets=meets)) from None
        with self.ctx.uow.write() as session:
            actor = self.ctx.acting(session, "register boards")
            taken(session, Board.name, name, "board", "board-exists", name=name)
            clerk = find_user(session, secretary)
            if clerk.role != "board-secretary":
                raise BadInput(reason("not-a-secretary", f"{secretary} is a {clerk.role}; a board's secretary must have "
                                      "the role board-secretary", name=secretary))
            if type is not None:
                require_board_type(session, type)
            board = Board(name=name, partner=partner, meets=meets, anchor=today, secretary=clerk, type=type)
            session.add(board)
            self.ctx.record(session, actor, "board-added", board=name, partner=partner, meets=meets, secretary=clerk.name,
                            type=type)
            return board_dict(board)

    def boards(self) -> list[dict[str, Any]]:
        with self.ctx.reading() as session:
            return [board_dict(b) for b in session.scalars(select(Board).order_by(Board.name))]


def user_dict(user: User) -> dict[str, Any]:
    return {"name": user.name, "role": user.role, "email": user.email, "partner": user.partner,
            "deactivated_on": user.deactivated_on.isoformat() if user.deactivated_on else None, "login": user.login}


def board_dict(board: Board) -> dict[str, Any]:
    return {"name": board.name, "partner": board.partner, "meets": board.meets, "secretary": board.secretary.name,
            "type": board.type}
