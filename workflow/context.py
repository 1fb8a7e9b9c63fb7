"""The context every use case runs in: a unit of work, the acting person and a clock.

It is public on purpose: the use-case modules, reminders and reports share it, and a second front
end (a web app, a notebook) builds one per request. It knows nothing of any front end: the clock is
given to it, never read from the environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from workflow import audit
from workflow.clock import Clock
from workflow.db import UnitOfWork, engine_for
from workflow.errors import BadInput, Conflict, Refused, reason
from workflow.lookups import find_collaboration, find_user
from workflow.model import Collaboration, Event, User
from workflow.permissions import WRITES, require, require_writer
from workflow.stored import definition_of


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    partner: str | None


_USERS = select(func.count()).select_from(User)
_SESSION_USER = text("SELECT session_user")
_UNKNOWN: Any = object()  # not looked up yet


@dataclass
class Context:
    uow: UnitOfWork
    actor_name: str | None
    clock: Clock = field(default_factory=Clock)
    _login: Any = field(default=_UNKNOWN, repr=False)  # the database login, once looked up
    _login_user: Any = field(default=_UNKNOWN, repr=False)  # the user mapped to it, once looked up

    @classmethod
    def open(cls, db: str, actor: str | None = None, clock: Clock | None = None) -> Context:
        return cls(UnitOfWork(engine_for(db)), actor, clock or Clock())

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read transaction by a registered user (anyone, while nobody is registered yet)."""
        with self.uow.read() as session:
            self.acting(session, None)
            yield session

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """One consistent read by the acting person: REPEATABLE READ on PostgreSQL (an SQLite read
        transaction is a snapshot already), so that a head hash and what it covers agree."""
        with self.uow.read() as session:
            if session.get_bind().dialect.name == "postgresql":
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            self.acting(session, None)
            yield session

    def login(self, session: Session) -> str | None:
        """The database login this connection authenticated as: PostgreSQL's session_user; None on SQLite,
        which has no logins (whoever can open the file is trusted)."""
        if self._login is _UNKNOWN:
            self._login = session.scalar(_SESSION_USER) if session.get_bind().dialect.name == "postgresql" else None
        return self._login  # type: ignore[no-any-return]

    def _mapped_user(self, session: Session) -> str | None:
        """The user the connected login is mapped to (`users.login`), if any."""
        if self._login_user is _UNKNOWN:
            login = self.login(session)
            self._login_user = None if login is None else session.scalar(select(User.name).where(User.login == login))
        return self._login_user  # type: ignore[no-any-return]

    def acting(self, session: Session, doing: str | None) -> Actor:
        """The acting user, checked against `doing` (a permissions.MAY entry); None: any registered user.

        On PostgreSQL a login mapped to a person acts only as that person (who need not be named), and a
        person mapped to a login acts only through it: identity rests on the database's authentication.
        """
        mapped = self._mapped_user(session)
        name = self.actor_name or mapped
        if name is None:
            if doing is None and session.scalar(_USERS) == 0:
                return Actor("anonymous", "admin", None)
            raise BadInput(reason("actor-missing", "name the acting user"))
        user = find_user(session, name)
        login = self.login(session)
        if mapped is not None and user.name != mapped:
            raise Refused(reason("login-is-someone-else", f"connected as the database login {login}, which belongs "
                                 f"to {mapped}: only {mapped} can act through it, not {user.name}", login=login,
                                 name=user.name))
        if user.login is not None and user.login != login:
            raise Refused(reason("login-required", f"{user.name} acts only through the database login {user.login} "
                                 f"(connected as {login or 'no login'})", login=user.login, name=user.name))
        if user.deactivated_on is not None:
            raise Refused(reason("user-deactivated", f"{user.name} was deactivated on {user.deactivated_on} and can "
                                 "no longer act", name=user.name))
        if doing is not None:
            require(user.name, user.role, doing)
        return Actor(user.name, user.role, user.partner)

    @contextmanager
    def changing(self, key: str, doing: str | None,
                 expected_version: int | None) -> Iterator[tuple[Session, Actor, Collaboration]]:
        """A write transaction on one collaboration, refused (Conflict) if it changed since `expected_version`."""
        with self.uow.write() as session:
            actor = self.acting(session, doing)
            collaboration = find_collaboration(session, key)
            if doing in WRITES and actor.name != collaboration.manager.name:
                require_writer(actor.name, actor.role, doing, key, collaboration.manager.name,
                               definition_of(session, collaboration).writers)
            if expected_version is not None and collaboration.version != expected_version:
                raise Conflict(reason(
                    "changed-meanwhile", f"{key} was changed by someone else meanwhile (version {expected_version} -> "
                    f"{collaboration.version}); nothing was changed, try again", key=key))
            yield session, actor, collaboration

    def record(self, session: Session, actor: Actor, action: str, *, on: date | None = None,
               collaboration: Collaboration | None = None, from_stage: str | None = None,
               to_stage: str | None = None, reason: str | None = None, **payload: Any) -> Event:
        """Append the history event of a change; a change to a collaboration also bumps its version."""
        if collaboration is not None and collaboration.id is not None:
            collaboration.version += 1
        login = self.login(session)
        if login is not None:
            payload["connected_as"] = login
        return audit.append(
            session, actor=actor.name, action=action, recorded_at=self.clock.now(),
            effective_on=on or self.clock.today(), collaboration=collaboration.key if collaboration else None,
            from_stage=from_stage, to_stage=to_stage, reason=reason, payload=payload,
        )

    def effective(self, on: date | None, collaboration: Collaboration | None = None, *, in_stage: bool = True) -> date:
        """The day a decision takes effect: never in the future, never before the collaboration was registered
        and, for a decision of its current stage (`in_stage`), never before it entered that stage."""
        today = self.clock.today()
        day = on or today
        if day > today:
            raise BadInput(reason("date-in-future", f"the effective date {day} is in the future (today is {today})",
                                  on=day.isoformat()))
        if collaboration is None:
            return day
        if day < collaboration.created_on:
            raise BadInput(reason("date-before-registration", f"the effective date {day} is before {collaboration.key} "
                                  f"was registered on {collaboration.created_on}", on=day.isoformat()))
        if in_stage and day < collaboration.stage_since:
            raise BadInput(reason(
                "date-before-stage", f"the effective date {day} is before {collaboration.key} entered "
                f"{collaboration.stage} on {collaboration.stage_since}", on=day.isoformat()))
        return day
