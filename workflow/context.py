"""The context every use case runs in: a unit of work, the acting person and a clock.

It is public on purpose: the use-case modules, reminders and reports share it, and a second front
end (a web app, a notebook) builds one per request. It knows nothing of any front end: the clock is
given to it, never read from the environment.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from workflow import audit
from workflow.clock import Clock
from workflow.db import UnitOfWork, engine_for
from workflow.definition import Definition
from workflow.errors import BadInput, Conflict, Refused, reason
from workflow.facts import IN_JSON
from workflow.lookups import EXACT_KEY_FIRST, KEY_MATCHES, CollaborationRead, MovingRow, find_user, unknown_collaboration
from workflow.model import Approval, Artefact, ChainHead, Collaboration, Event, User
from workflow.permissions import WRITES, require, require_writer
from workflow.prepared import Prepared, connection_of
from workflow.stored import stored_definition


@dataclass(frozen=True)
class Actor:
    name: str
    role: str  # the primary role
    partner: str | None
    id: int | None = None  # the user's row, once registered
    roles: tuple[str, ...] = ()  # every role held, the primary first (filled in from `role` when not given)

    def __post_init__(self) -> None:
        if self.role not in self.roles:
            object.__setattr__(self, "roles", (self.role, *self.roles))

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.name, user.role, user.partner, user.id, user.roles)

    def holds(self, roles: Iterable[str]) -> bool:
        """Whether any of `roles` is one of the person's."""
        return not set(self.roles).isdisjoint(roles)

    def acting_as(self, roles: Iterable[str]) -> str | None:
        """The role the person acts in where one of `roles` is asked: the primary if asked, else the first held."""
        asked = set(roles)
        return next((role for role in self.roles if role in asked), None)


_USERS = select(func.count()).select_from(User)
_SESSION_USER = text("SELECT session_user")
_UNKNOWN: Any = object()  # not looked up yet
_COLUMNS = cast(Table, Collaboration.__table__)
# SET takes the columns given with each execution; WHERE the optimistic version check.
_SAVE = Prepared(update(_COLUMNS).where(_COLUMNS.c.id == bindparam("cid"), _COLUMNS.c.version == bindparam("read")))
# A write's one read: the collaboration, the chain head it will append to and the collaboration's newest event
# hash (both taken under the writer's lock), and its newest evidence (approval, artefact) for a move's gate.
_newest = (select(Event.hash).where(Event.collaboration == Collaboration.key).order_by(Event.seq.desc()).limit(1)
           .correlate(Collaboration).scalar_subquery())
_CHANGING = (select(Collaboration, ChainHead.seq, ChainHead.hash, _newest).join(ChainHead, ChainHead.id == 1)
             .where(KEY_MATCHES).order_by(EXACT_KEY_FIRST).limit(1))
# A move reads the same as plain columns, on the driver (a MovingRow): loading an ORM entity, even Core's
# execution, cost a move more than the statement. Its newest evidence dates come with it.
_moving = (
    select(*_COLUMNS.c, ChainHead.seq.label("head_seq"), ChainHead.hash.label("head_hash"), _newest.label("newest_hash"),
           select(func.max(Approval.approved_on)).where(Approval.collaboration_id == Collaboration.id)
           .correlate(Collaboration).scalar_subquery().label("newest_approval"),
           select(func.max(Artefact.recorded_on)).where(Artefact.collaboration_id == Collaboration.id)
           .correlate(Collaboration).scalar_subquery().label("newest_artefact"))
    .join(ChainHead, ChainHead.id == 1).where(KEY_MATCHES).order_by(EXACT_KEY_FIRST).limit(1))
assert tuple(_moving.selected_columns.keys()) == MovingRow._fields[:-1]
_MOVING = Prepared(_moving)
_GATED = {dialect: Prepared(_moving.add_columns(facts.label("facts"))) for dialect, facts in IN_JSON.items()}
_MANAGER = select(User.name).where(User.id == bindparam("id"))


def _read_changing(session: Session, key: str) -> Any:
    """The first read of `changing`: the ORM Collaboration, then the chain head and its newest event hash."""
    row = session.execute(_CHANGING, {"name": key}).first()
    return None if row is None else (row, *row[:4])


def _read_moving(session: Session, key: str, gated: bool = False) -> Any:
    """The first read of a move, on the driver: the row is the collaboration (with its gate facts if `gated`)."""
    connection = connection_of(session)
    found = (_GATED[connection.dialect.name] if gated else _MOVING).first(connection, {"name": key})
    if found is None:
        return None
    row = MovingRow(*found)
    return row, row, row.head_seq, row.head_hash, row.newest_hash


@dataclass
class Context:
    uow: UnitOfWork
    actor_name: str | None
    clock: Clock = field(default_factory=Clock)
    # Read once per context: a user's role and force change rarely (`collab user update` runs in a process of its
    # own), and a stored definition version never changes.
    _actor: Actor | None = field(default=None, init=False, repr=False)
    _definitions: dict[tuple[str, int], Definition] = field(default_factory=dict, init=False, repr=False)
    _login: Any = field(default=_UNKNOWN, init=False, repr=False)  # the database login, once looked up
    _login_user: Any = field(default=_UNKNOWN, init=False, repr=False)  # the user mapped to it, once looked up

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

        The user is looked up once per context (the one place that maps a login to a user); the check
        against `doing` runs every time. On PostgreSQL a login mapped to a person acts only as that person
        (who need not be named), and a person mapped to a login acts only through it: identity rests on the
        database's authentication.
        """
        actor = self._actor
        if actor is None:
            mapped = self._mapped_user(session)
            name = self.actor_name or mapped
            if name is None:
                if doing is None and session.scalar(_USERS) == 0:
                    return Actor("anonymous", "admin", None)
                raise BadInput(reason("actor-missing", "name the acting user"))
            user = find_user(session, name)
            login = self.login(session)
            if mapped is not None and user.name != mapped:
                raise Refused(reason("login-is-someone-else", f"connected as the database login {login}, which "
                                     f"belongs to {mapped}: only {mapped} can act through it, not {user.name}",
                                     login=login, name=user.name))
            if user.login is not None and user.login != login:
                raise Refused(reason("login-required", f"{user.name} acts only through the database login "
                                     f"{user.login} (connected as {login or 'no login'})", login=user.login,
                                     name=user.name))
            if user.deactivated_on is not None:
                raise Refused(reason("user-deactivated", f"{user.name} was deactivated on {user.deactivated_on} and "
                                     "can no longer act", name=user.name))
            actor = self._actor = Actor.of(user)
        if doing is not None:
            require(actor.name, actor.roles, doing)
        return actor

    def forget_actor(self) -> None:
        """Look the acting user up again at the next use case (after a change to their own record)."""
        self._actor = None

    def definition(self, session: Session, name: str, version: int) -> Definition:
        """A stored definition version, read once per context (a stored version never changes)."""
        found = self._definitions.get((name, version))
        if found is None:
            found = self._definitions[name, version] = stored_definition(session, name, version)
        return found

    @contextmanager
    def changing(self, key: str, doing: str | None,
                 expected_version: int | None) -> Iterator[tuple[Session, Actor, Collaboration]]:
        """A write transaction on one collaboration, refused (Conflict) if it changed since `expected_version`."""
        with self._writing(_read_changing, key, doing, expected_version) as (session, actor, row):
            yield session, actor, row[0]

    @contextmanager
    def moving(self, key: str, doing: str, expected_version: int | None, gated: bool = False
               ) -> Iterator[tuple[Session, Actor, MovingRow, date | None]]:
        """`changing` for a stage move, the collaboration a MovingRow of its columns; also the date of
        its newest approval or artefact (None if it has none), so that a move checks its gate's evidence by
        query only when that date is later. `gated`: the move may pass a gate that reads facts (an advance),
        which are then read with it."""
        read = functools.partial(_read_moving, gated=gated)
        with self._writing(read, key, doing, expected_version) as (session, actor, row):
            days = (row.newest_approval, row.newest_artefact)
            yield session, actor, row, max((day for day in days if day is not None), default=None)

    @contextmanager
    def _writing(self, read: Callable[[Session, str], Any], key: str, doing: str | None,
                 expected_version: int | None) -> Iterator[tuple[Session, Actor, Any]]:
        """`read` gives the use case's first read: (row, collaboration, chain head seq and hash, its newest event
        hash), or None if no collaboration matches `key`."""
        with self.uow.write() as session:
            actor = self.acting(session, doing)
            found = read(session, key)
            if found is None:
                raise BadInput(unknown_collaboration(session, key))
            row, collaboration, seq, digest, newest = found
            if doing in WRITES and collaboration.manager_id != actor.id:
                writers = self.definition(session, collaboration.definition_name, collaboration.definition_version).writers
                if not actor.holds(writers):  # only then is the manager's name needed, for the refusal
                    manager = session.execute(_MANAGER, {"id": collaboration.manager_id}).scalar_one()
                    require_writer(actor.name, actor.roles, doing, collaboration.key, manager, writers)
            if expected_version is not None and collaboration.version != expected_version:
                raise Conflict(reason(
                    "changed-meanwhile", f"{key} was changed by someone else meanwhile (version {expected_version} -> "
                    f"{collaboration.version}); nothing was changed, try again", key=key))
            audit.hold_head(session, seq, digest, {collaboration.key: newest})
            yield session, actor, row

    def record(self, session: Session, actor: Actor, action: str, *, on: date | None = None,
               collaboration: CollaborationRead | None = None, from_stage: str | None = None,
               to_stage: str | None = None, reason: str | None = None, saved: bool = False, **payload: Any) -> None:
        """Append the history event of a change; a change to a collaboration also bumps its version (unless
        `saved` wrote it already)."""
        self.record_all(session, actor, action, [(on or self.clock.today(), payload)], collaboration=collaboration,
                        from_stage=from_stage, to_stage=to_stage, reason=reason, saved=saved)

    def record_all(self, session: Session, actor: Actor, action: str, entries: Sequence[tuple[date, dict[str, Any]]], *,
                   collaboration: CollaborationRead | None = None, from_stage: str | None = None,
                   to_stage: str | None = None, reason: str | None = None, saved: bool = False) -> list[dict[str, Any]]:
        """`record` for several events of one kind, each (effective date, payload), written at once; returns
        their rows (an Event each would cost more than writing it). On PostgreSQL each payload also names the
        database login the change came through (`connected_as`)."""
        if isinstance(collaboration, Collaboration) and collaboration.id is not None and not saved:
            collaboration.version += len(entries)
        recorded_at = self.clock.now()
        login = self.login(session)
        connected = {} if login is None else {"connected_as": login}
        return audit.append_all(session, [
            {"actor": actor.name, "action": action, "recorded_at": recorded_at, "effective_on": on,
             "collaboration": collaboration.key if collaboration else None, "from_stage": from_stage,
             "to_stage": to_stage, "reason": reason, "payload": {**payload, **connected}}
            for on, payload in entries])

    def save(self, session: Session, collaboration: MovingRow, **columns: Any) -> None:
        """Write these columns of the collaboration (as `moving` read it) with its next version, in one UPDATE
        through Core with the optimistic version check (StaleDataError, a Conflict, if another writer changed it);
        the ORM's flush of one row costs more than the statement. Record its event with `saved=True`."""
        columns["version"] = collaboration.version + 1
        done = _SAVE.write(connection_of(session), [{**columns, "cid": collaboration.id, "read": collaboration.version}])
        if done != 1:
            raise StaleDataError(f"{collaboration.key} was changed by another writer")

    def effective(self, on: date | None, collaboration: CollaborationRead | None = None, *, in_stage: bool = True) -> date:
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
