"""Use cases of people: who acts, in which role and for which force (boards are in boards.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from workflow.boards import must_be_secretary
from workflow.context import Actor, Context
from workflow.errors import BadInput, Refused, reason
from workflow.grants import existing_login
from workflow.lookups import find_user, taken
from workflow.model import Benefit, Board, Collaboration, Handover, User, UserRole
from workflow import validate
from workflow.vocabulary import PARTNER_ROLES, ROLES


class PeopleCases:
    ctx: Context

    def add_user(self, name: str, role: str, email: str | None = None, partner: str | None = None,
                 login: str | None = None) -> dict[str, Any]:
        _known_roles(role)
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
                        login=login, held=[UserRole(role=role)])
            session.add(user)
            self.ctx.record(session, actor, "user-added", user=name, role=role, email=email, partner=partner,
                            login=login)
            return user_dict(user)

    def update_user(self, name: str, *, email: str | None = None, partner: str | None = None,
                    role: str | None = None, login: str | None = None, add_roles: Sequence[str] = (),
                    remove_roles: Sequence[str] = ()) -> dict[str, Any]:
        """Correct a user's email address, force, primary role or database login, and add or remove further roles;
        the event records each change (from, to), the roles as the whole set they hold before and after."""
        _known_roles(*([role] if role else []), *add_roles, *remove_roles)
        both = sorted(set(add_roles) & set(remove_roles))
        if both:
            raise BadInput(reason("role-added-and-removed", f"{', '.join(both)}: either add a role or remove it, not both",
                                  role=both[0]))
        wanted: dict[str, Any] = {}
        if email is not None:
            wanted["email"] = validate.email(email)
        if partner is not None:
            wanted["partner"] = validate.text(partner, "the force")
        if role is not None:
            wanted["role"] = role
        if not wanted and login is None and not add_roles and not remove_roles:
            raise BadInput(reason("nothing-to-update", f"nothing to change for {name}: give an email address, "
                                  "a force, a role, a role to add or remove or a login", name=name))
        with self.ctx.uow.write() as session:
            actor = self.ctx.acting(session, "register users")
            user = find_user(session, name)
            if login is not None and login != user.login:
                wanted["login"] = self._free_login(session, login, user.name)
            roles = _roles_after(user, role, add_roles, remove_roles)
            wanted["role"] = roles[0]
            changes = {field: {"from": getattr(user, field), "to": value}
                       for field, value in wanted.items() if getattr(user, field) != value}
            if "role" in changes or set(roles) != set(user.roles):
                changes["roles"] = {"from": sorted(user.roles), "to": sorted(roles)}
            for field, change in changes.items():
                if field != "roles":
                    setattr(user, field, change["to"])
            user.held = [r for r in user.held if r.role in roles] + [
                UserRole(role=r) for r in roles if r not in {h.role for h in user.held}]
            leading = next((r for r in roles if r in PARTNER_ROLES), None)
            if leading and not user.partner:
                raise BadInput(reason("partner-needed", f"a {leading} acts for a force: name the force", role=leading))
            runs = session.scalars(select(Board.name).where(Board.secretary_id == user.id)).all()
            if "board-secretary" not in roles and runs:
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
        if boards:
            must_be_secretary(successor)
        return successor

    def users(self) -> list[dict[str, Any]]:
        with self.ctx.reading() as session:
            return [user_dict(u) for u in session.scalars(select(User).options(selectinload(User.held))
                                                          .order_by(User.name))]


def _known_roles(*roles: str) -> None:
    for role in roles:
        if role not in ROLES:
            raise BadInput(reason("unknown-role", f"unknown role '{role}' (roles: {', '.join(ROLES)})", role=role))


def _roles_after(user: User, primary: str | None, add: Sequence[str], remove: Sequence[str]) -> list[str]:
    """The roles the user will hold, the primary first: a new primary replaces the old one; removing the primary
    makes the next role held the primary. Removing a role not held is bad input; removing the last, refused."""
    roles = list(user.roles)
    if primary is not None:
        roles = [primary, *(r for r in roles[1:] if r != primary)]
    roles += [r for r in dict.fromkeys(add) if r not in roles]
    for role in remove:
        if role not in roles:
            raise BadInput(reason("role-not-held", f"{user.name} does not hold the role {role} (roles: "
                                  f"{', '.join(roles)})", name=user.name, role=role))
        roles.remove(role)
    if not roles:
        raise Refused(reason("last-role", f"{user.name} must keep at least one role: add another before removing "
                             f"{', '.join(remove)}", name=user.name))
    return roles


def user_dict(user: User) -> dict[str, Any]:
    return {"name": user.name, "role": user.role, "roles": list(user.roles), "email": user.email, "partner": user.partner,
            "deactivated_on": user.deactivated_on.isoformat() if user.deactivated_on else None, "login": user.login}

