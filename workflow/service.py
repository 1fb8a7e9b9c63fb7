"""The use cases. Each public method is one unit of work: one transaction, one or more history events.

The CLI is a thin shell over this class; another front end (an HTTP API) calls
the same methods. Methods take and return plain values (str, date, dict).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select
from sqlalchemy.orm import Session, aliased

from workflow import audit, definition as definitions, gates
from workflow.clock import Clock
from workflow.db import UnitOfWork, engine_for
from workflow.definition import Definition
from workflow.errors import BadInput, Conflict, Refused
from workflow.machine import Subject, lifecycle
from workflow.model import (
    Approval, Artefact, Benefit, Board, Collaboration, DefinitionVersion, Event, Handover, Lesson, Measurement, Partner,
    PlanPoint, User,
)
from workflow.permissions import require
from workflow.realisation import STATUSES, Realisation, assess, share_savings
from workflow.vocabulary import CATEGORIES, ORIGINS, PARTNER_KINDS, RISK_APPETITES, ROLES


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    partner: str | None


class Collab:
    """The collab engine bound to one database and one acting user."""

    def __init__(self, uow: UnitOfWork, actor: str | None, clock: Clock | None = None) -> None:
        self.uow = uow
        self.actor_name = actor
        self.clock = clock or Clock.from_env()

    @classmethod
    def open(cls, db: str, actor: str | None = None, clock: Clock | None = None) -> Collab:
        return cls(UnitOfWork(engine_for(db)), actor, clock)

    # -- transactions and actors -------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with self.uow.read() as session:
            self._acting(session, None)
            yield session

    def _acting(self, session: Session, doing: str | None) -> Actor:
        """The acting user, checked against `doing`; anonymous reads only while no user exists."""
        if self.actor_name is None:
            if doing is None and session.scalar(select(func.count()).select_from(User)) == 0:
                return Actor("anonymous", "admin", None)
            raise BadInput("name the acting user with --as NAME (or COLLAB_USER)")
        user = session.scalar(_USER_BY_NAME, {"name": self.actor_name})
        if user is None:
            raise BadInput(f"unknown user '{self.actor_name}' (collab user list shows who is registered)")
        if doing is not None:
            require(user.name, user.role, doing)
        return Actor(user.name, user.role, user.partner)

    def _record(self, session: Session, actor: Actor, action: str, *, on: date | None = None,
                collaboration: Collaboration | None = None, from_stage: str | None = None,
                to_stage: str | None = None, reason: str | None = None, **payload: Any) -> Event:
        """Append the history event of a change; a change to a collaboration also bumps its version."""
        if collaboration is not None and collaboration.id is not None:
            collaboration.version += 1
        return audit.append(
            session, actor=actor.name, action=action, recorded_at=self.clock.now(),
            effective_on=on or self.clock.today(), collaboration=collaboration.key if collaboration else None,
            from_stage=from_stage, to_stage=to_stage, reason=reason, payload=payload,
        )

    def _effective(self, on: date | None, collaboration: Collaboration | None = None) -> date:
        day = on or self.clock.today()
        if day > self.clock.today():
            raise BadInput(f"--on {day}: a decision cannot take effect in the future (today is {self.clock.today()})")
        if collaboration is not None and day < collaboration.stage_since:
            raise BadInput(f"--on {day} is before {collaboration.key} entered {collaboration.stage} on {collaboration.stage_since}")
        return day

    # -- users and boards ---------------------------------------------------------------------

    def add_user(self, name: str, role: str, email: str | None = None, partner: str | None = None) -> dict[str, Any]:
        if role not in ROLES:
            raise BadInput(f"unknown role '{role}' (roles: {', '.join(ROLES)})")
        _require_text(name, "user name")
        with self.uow.write() as session:
            if session.scalar(select(func.count()).select_from(User)) == 0:
                if role != "admin":
                    raise Refused(f"the first user must be an admin (collab user add {name} --role admin)")
                actor = Actor(name, "admin", None)
            else:
                actor = self._acting(session, "register users")
            if session.scalar(select(User.id).where(User.name == name)) is not None:
                raise BadInput(f"user '{name}' already exists")
            if role in ("chief-officer", "pcc") and not partner:
                raise BadInput(f"a {role} acts for a force: give --partner ORG")
            user = User(name=name, role=role, email=email, partner=partner, created_on=self.clock.today())
            session.add(user)
            self._record(session, actor, "user-added", user=name, role=role, email=email, partner=partner)
            return _user_dict(user)

    def users(self) -> list[dict[str, Any]]:
        with self._reading() as session:
            return [_user_dict(u) for u in session.scalars(select(User).order_by(User.name))]

    def add_board(self, name: str, partner: str, meets: str, secretary: str) -> dict[str, Any]:
        from workflow.calendar import RecurrenceError, parse_recurrence

        _require_text(name, "board name")
        today = self.clock.today()
        try:
            parse_recurrence(meets, today)
        except RecurrenceError as error:
            raise BadInput(f"--meets: {error}") from None
        with self.uow.write() as session:
            actor = self._acting(session, "register boards")
            if session.scalar(select(Board.id).where(Board.name == name)) is not None:
                raise BadInput(f"board '{name}' already exists")
            clerk = _user(session, secretary)
            if clerk.role != "board-secretary":
                raise BadInput(f"{secretary} is a {clerk.role}; a board's secretary must have the role board-secretary")
            board = Board(name=name, partner=partner, meets=meets, anchor=today, secretary=clerk)
            session.add(board)
            self._record(session, actor, "board-added", board=name, partner=partner, meets=meets, secretary=secretary)
            return _board_dict(board)

    def boards(self) -> list[dict[str, Any]]:
        with self._reading() as session:
            return [_board_dict(b) for b in session.scalars(select(Board).order_by(Board.name))]

    # -- definitions ------------------------------------------------------------------------------

    def definitions(self) -> list[dict[str, Any]]:
        """Built-in definitions, and every older version still used by a collaboration."""
        listed = {}
        for name in definitions.builtin_files():
            found = definitions.find(name)
            listed[(found.name, found.version)] = {"name": found.name, "version": found.version, "title": found.title, "source": "built-in"}
        with self._reading() as session:
            for stored in session.scalars(select(DefinitionVersion)):
                listed.setdefault((stored.name, stored.version), {
                    "name": stored.name, "version": stored.version,
                    "title": definitions.parse(stored.source, stored.name).title, "source": "stored",
                })
        return [listed[k] for k in sorted(listed)]

    def _definition_of(self, session: Session, collaboration: Collaboration) -> Definition:
        stored = session.get(DefinitionVersion, (collaboration.definition_name, collaboration.definition_version))
        assert stored is not None, "a collaboration's definition version is stored when it is registered"
        return _parse_stored(stored.name, stored.version, stored.source)

    def _pin_definition(self, session: Session, name: str) -> Definition:
        """The current file of `name`, stored on first use; a changed file must carry a new version."""
        current = definitions.find(name)
        stored = session.get(DefinitionVersion, (current.name, current.version))
        if stored is None:
            session.add(DefinitionVersion(name=current.name, version=current.version, digest=current.digest, source=current.source))
        elif stored.digest != current.digest:
            raise BadInput(
                f"definition {name} version {current.version} has changed since collaborations started on it: "
                "give the changed file a new version number"
            )
        return current

    # -- collaborations ---------------------------------------------------------------------------

    def version_of(self, key: str) -> int:
        """The collaboration's version as the caller sees it now; pass it back as expected_version."""
        with self.uow.read() as session:
            return find_collaboration(session, key).version

    @contextmanager
    def _changing(self, key: str, doing: str | None, expected_version: int | None) -> Iterator[tuple[Session, Actor, Collaboration]]:
        with self.uow.write() as session:
            actor = self._acting(session, doing)
            collaboration = find_collaboration(session, key)
            if expected_version is not None and collaboration.version != expected_version:
                raise Conflict(
                    f"{key} was changed by someone else while this command ran "
                    f"(version {expected_version} -> {collaboration.version}); nothing was changed, try again"
                )
            yield session, actor, collaboration

    def new(self, key: str, title: str, *, objective: str | None = None, public_benefit: str | None = None,
            definition: str = "police-collaboration", origin: str = "programme", manager: str | None = None,
            on: date | None = None) -> dict[str, Any]:
        _require_key(key)
        _require_text(title, "--title")
        if origin not in ORIGINS:
            raise BadInput(f"unknown origin '{origin}' (origins: {', '.join(ORIGINS)})")
        with self.uow.write() as session:
            actor = self._acting(session, "register a collaboration")
            if session.scalar(select(Collaboration.id).where(Collaboration.key == key)) is not None:
                raise BadInput(f"collaboration '{key}' already exists")
            chosen = self._pin_definition(session, definition)
            day = self._effective(on)
            collaboration = Collaboration(
                key=key, title=title, objective=objective, public_benefit=public_benefit, origin=origin,
                manager=_user(session, manager) if manager else _user(session, actor.name),
                definition_name=chosen.name, definition_version=chosen.version, stage=chosen.initial,
                stage_since=day, created_on=day, version=0,
            )
            session.add(collaboration)
            session.flush()
            self._record(session, actor, "registered", on=day, collaboration=collaboration, to_stage=chosen.initial,
                         title=title, objective=objective, public_benefit=public_benefit, origin=origin,
                         manager=collaboration.manager.name, definition=f"{chosen.name} v{chosen.version}")
            return {"key": key, "stage": collaboration.stage, "definition": chosen.name, "version": chosen.version}

    def update(self, key: str, *, expected_version: int | None = None, **fields: str | None) -> dict[str, Any]:
        editable = {"title", "objective", "public_benefit", "rationale"}
        wanted = {name: value for name, value in fields.items() if value is not None}
        unknown = set(wanted) - editable
        if unknown or not wanted:
            raise BadInput("give at least one of --title, --objective, --public-benefit, --rationale")
        with self._changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            changes = {
                name: {"from": getattr(collaboration, name), "to": value}
                for name, value in wanted.items()
                if getattr(collaboration, name) != value
            }
            for name in changes:
                setattr(collaboration, name, wanted[name])
            if changes:
                self._record(session, actor, "updated", collaboration=collaboration, changes=changes)
            return {"key": key, "changed": sorted(changes)}

    def add_partner(self, key: str, org: str, *, kind: str | None = None, risk_appetite: str | None = None,
                    cost_share: str | None = None, expected_version: int | None = None) -> dict[str, Any]:
        """Record a partner, or change the facts given for one already recorded."""
        _require_text(org, "ORG")
        if kind is not None and kind not in PARTNER_KINDS:
            raise BadInput(f"unknown partner kind '{kind}' (kinds: {', '.join(PARTNER_KINDS)})")
        if risk_appetite is not None and risk_appetite not in RISK_APPETITES:
            raise BadInput(f"unknown risk appetite '{risk_appetite}' (lowest first: {', '.join(RISK_APPETITES)})")
        share = _percent(cost_share) if cost_share is not None else None
        with self._changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            partner = session.scalar(select(Partner).where(Partner.collaboration_id == collaboration.id, Partner.name == org))
            action = "partner-changed" if partner else "partner-added"
            if partner is None:
                partner = Partner(collaboration=collaboration, name=org, kind=kind or "police")
                session.add(partner)
            elif kind is not None:
                partner.kind = kind
            if risk_appetite is not None:
                partner.risk_appetite = risk_appetite
            if share is not None:
                partner.cost_share = share
            self._record(session, actor, action, collaboration=collaboration, partner=org, kind=partner.kind,
                         risk_appetite=partner.risk_appetite, cost_share=partner.cost_share)
            return _partner_dict(partner)

    def add_artefact(self, key: str, kind: str, ref: str, *, on: date | None = None,
                     expected_version: int | None = None) -> dict[str, Any]:
        _require_text(ref, "--ref")
        with self._changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            known = self._definition_of(session, collaboration).artefact_kinds
            if kind not in known:
                raise BadInput(f"unknown artefact kind '{kind}' (kinds: {', '.join(known)})")
            day = self._effective(on)
            session.add(Artefact(collaboration_id=collaboration.id, kind=kind, ref=ref, recorded_on=day,
                                 recorded_by_id=_user(session, actor.name).id))
            self._record(session, actor, "artefact-added", on=day, collaboration=collaboration, kind=kind, ref=ref)
            return {"key": key, "kind": kind, "ref": ref, "on": day.isoformat()}

    def approve(self, key: str, gate: str, *, on: date | None = None, expected_version: int | None = None) -> dict[str, Any]:
        with self._changing(key, "approve a gate", expected_version) as (session, actor, collaboration):
            chosen = self._definition_of(session, collaboration)
            if gate not in chosen.stage_names:
                raise BadInput(f"unknown gate '{gate}' (gates: {', '.join(chosen.gates)})")
            roles = {role for name, params in chosen.gate(gate) if name == "approved" for role in params["roles"]}
            if actor.role not in roles:
                raise Refused(f"the {gate} gate asks no approval of a {actor.role}" + (f" (it needs: {', '.join(sorted(roles))})" if roles else ""))
            if actor.partner not in {p.name for p in collaboration.partners}:
                raise Refused(f"{actor.name} acts for {actor.partner}, which is not a partner of {key}")
            existing = session.scalar(select(Approval).where(
                Approval.collaboration_id == collaboration.id, Approval.gate == gate,
                Approval.partner == actor.partner, Approval.role == actor.role))
            if existing is not None:
                return {"key": key, "gate": gate, "partner": actor.partner, "role": actor.role,
                        "on": existing.approved_on.isoformat(), "already": True}
            day = self._effective(on)
            session.add(Approval(collaboration_id=collaboration.id, gate=gate, partner=actor.partner, role=actor.role,
                                 user_id=_user(session, actor.name).id, approved_on=day))
            self._record(session, actor, "approved", on=day, collaboration=collaboration, gate=gate,
                         partner=actor.partner, role=actor.role)
            return {"key": key, "gate": gate, "partner": actor.partner, "role": actor.role, "on": day.isoformat(), "already": False}

    # -- stage moves --------------------------------------------------------------------------------

    def advance(self, key: str, *, to: str | None = None, on: date | None = None, reason: str | None = None,
                expected_version: int | None = None) -> dict[str, Any]:
        return self._move(key, "advance", "advance a collaboration", to=to, on=on, reason=reason, expected_version=expected_version)

    def hold(self, key: str, *, reason: str, on: date | None = None, expected_version: int | None = None) -> dict[str, Any]:
        return self._move(key, "hold", "advance a collaboration", on=on, reason=reason, expected_version=expected_version)

    def resume(self, key: str, *, on: date | None = None, reason: str | None = None, expected_version: int | None = None) -> dict[str, Any]:
        return self._move(key, "resume", "advance a collaboration", on=on, reason=reason, expected_version=expected_version)

    def withdraw(self, key: str, *, reason: str, on: date | None = None, expected_version: int | None = None) -> dict[str, Any]:
        return self._move(key, "withdraw", "withdraw a collaboration", on=on, reason=reason, expected_version=expected_version)

    def _move(self, key: str, trigger: str, doing: str, *, to: str | None = None, on: date | None = None,
              reason: str | None = None, expected_version: int | None = None) -> dict[str, Any]:
        with self._changing(key, doing, expected_version) as (session, actor, collaboration):
            chosen = self._definition_of(session, collaboration)
            if to is not None and to not in chosen.stage_names:
                raise BadInput(f"unknown stage '{to}' (stages: {', '.join(chosen.stage_names)})")
            day = self._effective(on, collaboration)
            subject = Subject(
                state=collaboration.stage, held_from=collaboration.held_from, wanted=to,
                facts=functools.partial(self._facts, session, collaboration, reason=reason, actor=actor),
            )
            before = collaboration.stage
            after = lifecycle(chosen).fire(trigger, subject)
            collaboration.held_from = before if trigger == "hold" else None
            collaboration.stage, collaboration.stage_since = after, day
            extra: dict[str, Any] = {}
            if after == "closure":
                collaboration.closed_on = day
                collaboration.pir_due = _add_months(day, chosen.reviews.pir_after_months)
                extra["pir_due"] = collaboration.pir_due
            if after == "pir" and before == "closure":
                extra["handed_over"] = _hand_over(session, collaboration)
            self._record(session, actor, trigger, on=day, collaboration=collaboration, from_stage=before,
                         to_stage=after, reason=reason, **extra)
            return {"key": key, "from": before, "to": after, "on": day.isoformat()}

    def check(self, key: str) -> dict[str, Any]:
        """For each stage reachable next, whether its gate is met and what is missing."""
        with self._reading() as session:
            collaboration = find_collaboration(session, key)
            chosen = self._definition_of(session, collaboration)
            facts = self._facts(session, collaboration)
            machine = lifecycle(chosen)
            moves = []
            for t in chosen.transitions_from(collaboration.stage, collaboration.held_from):
                if t.trigger in ("hold", "withdraw"):
                    continue  # always open, and their only requirement is a reason given at the time
                unmet = [] if t.back else machine.check(collaboration.stage, t.dest, facts)
                moves.append({"to": t.dest, "trigger": t.trigger, "ready": not unmet, "unmet": unmet})
            return {"key": key, "stage": collaboration.stage, "version": collaboration.version, "transitions": moves}

    def _facts(self, session: Session, collaboration: Collaboration, *, reason: str | None = None,
               actor: Actor | None = None) -> gates.GateFacts:
        cid = {"cid": collaboration.id}
        return gates.GateFacts(
            key=collaboration.key,
            objective=collaboration.objective,
            public_benefit=collaboration.public_benefit,
            rationale=collaboration.rationale,
            partners=tuple(gates.PartnerFacts(*row) for row in session.execute(_PARTNER_FACTS, cid)),
            artefacts=frozenset(session.scalars(_ARTEFACT_KINDS, cid)),
            approvals=frozenset(tuple(row) for row in session.execute(_APPROVALS, cid)),
            benefits=tuple(gates.BenefitFacts(*row) for row in session.execute(_BENEFIT_FACTS, cid)),
            lessons=session.scalar(_LESSONS, cid) or 0,
            pir_due=collaboration.pir_due,
            reason=reason,
            actor_role=actor.role if actor else None,
            actor_partner=actor.partner if actor else None,
        )

    # -- reading ------------------------------------------------------------------------------------

    def list(self, stage: str | None = None) -> list[dict[str, Any]]:
        with self._reading() as session:
            query = select(Collaboration).order_by(Collaboration.key)
            if stage:
                query = query.where(Collaboration.stage == stage)
            return [
                {"key": c.key, "title": c.title, "stage": c.stage, "since": c.stage_since.isoformat(),
                 "origin": c.origin, "manager": c.manager.name, "definition": c.definition_name}
                for c in session.scalars(query)
            ]

    def show(self, key: str) -> dict[str, Any]:
        with self._reading() as session:
            c = find_collaboration(session, key)
            rows = _benefit_rows(session, c, self.clock.today())
            return {
                "key": c.key, "title": c.title, "stage": c.stage, "since": c.stage_since.isoformat(),
                "definition": c.definition_name, "definition_version": c.definition_version,
                "objective": c.objective, "public_benefit": c.public_benefit, "rationale": c.rationale,
                "origin": c.origin, "manager": c.manager.name, "version": c.version,
                "held_from": c.held_from, "closed_on": _iso(c.closed_on), "pir_due": _iso(c.pir_due),
                "partners": [_partner_dict(p) for p in c.partners],
                "artefacts": [
                    {"kind": a.kind, "ref": a.ref, "on": a.recorded_on.isoformat()}
                    for a in session.scalars(select(Artefact).where(Artefact.collaboration_id == c.id).order_by(Artefact.id))
                ],
                "approvals": [
                    {"gate": a.gate, "partner": a.partner, "role": a.role, "on": a.approved_on.isoformat()}
                    for a in session.scalars(select(Approval).where(Approval.collaboration_id == c.id).order_by(Approval.id))
                ],
                "benefits": [
                    {name: row[name] for name in ("id", "title", "category", "dis_benefit", "owner", "board", "status",
                                                  "progress")}
                    for row in rows
                ],
                "realisation": _summary(rows),
            }

    def history(self, key: str | None = None, *, since: date | None = None, actor: str | None = None,
                action: str | None = None) -> list[dict[str, Any]]:
        """Events oldest first: of one collaboration, or of all when key is None; filters combine."""
        with self._reading() as session:
            query = select(Event).order_by(Event.seq)
            if key is not None:
                find_collaboration(session, key)
                query = query.where(Event.collaboration == key)
            if since is not None:
                query = query.where(Event.effective_on >= since.isoformat())
            if actor is not None:
                query = query.where(Event.actor == actor)
            if action is not None:
                query = query.where(Event.action == action)
            return [audit.as_record(e) for e in session.scalars(query)]

    def verify(self) -> audit.Verification:
        with self._reading() as session:
            return audit.verify(session)

    # -- benefits -----------------------------------------------------------------------------------

    def add_benefit(self, key: str, code: str, *, title: str, category: str, measure: str | None = None,
                    baseline: float | None = None, target: float | None = None, by: date | None = None,
                    owner: str | None = None, board: str | None = None, unit: str = "", dis_benefit: bool = False,
                    on: date | None = None, expected_version: int | None = None) -> dict[str, Any]:
        _require_key(code, "benefit ID")
        _require_text(title, "--title")
        if category not in CATEGORIES:
            raise BadInput(f"unknown category '{category}' (categories: {', '.join(CATEGORIES)})")
        if baseline is not None and target is not None and baseline == target:
            raise BadInput(f"benefit {code}: target equals baseline ({target}); a benefit must change something")
        with self._changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            if any(b.code == code for b in collaboration.benefits):
                raise BadInput(f"benefit {code} already exists in {key}")
            benefit = Benefit(
                collaboration=collaboration, code=code, title=title, category=category, dis_benefit=dis_benefit,
                measure=measure, unit=unit, baseline=baseline, target=target, target_date=by,
                owner=_user(session, owner) if owner else None, board=find_board(session, board) if board else None,
                start_on=self._effective(on),
            )
            session.add(benefit)
            self._record(session, actor, "benefit-added", on=benefit.start_on, collaboration=collaboration, benefit=code, title=title,
                         category=category, dis_benefit=dis_benefit, measure=measure, unit=unit, baseline=baseline,
                         target=target, target_date=by, owner=owner, board=board)
            return {"key": key, "id": code, "title": title, "category": category}

    def update_benefit(self, key: str, code: str, *, expected_version: int | None = None, **fields: Any) -> dict[str, Any]:
        """Complete or correct a benefit's profile (title, measure, unit, baseline, target, by, owner, board)."""
        wanted = {name: value for name, value in fields.items() if value is not None}
        if not wanted:
            raise BadInput("give at least one of --title, --measure, --unit, --baseline, --target, --by, --owner, --board")
        with self._changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            benefit = _benefit(collaboration, code)
            if "owner" in wanted:
                wanted["owner"] = _user(session, wanted["owner"])
            if "board" in wanted:
                wanted["board"] = find_board(session, wanted["board"])
            if "by" in wanted:
                wanted["target_date"] = wanted.pop("by")
            baseline, target = wanted.get("baseline", benefit.baseline), wanted.get("target", benefit.target)
            if baseline is not None and baseline == target:
                raise BadInput(f"benefit {code}: target equals baseline ({target}); a benefit must change something")
            changes = {}
            for name, value in wanted.items():
                before = getattr(benefit, name)
                if before != value:
                    changes[name] = {"from": _named(before), "to": _named(value)}
                    setattr(benefit, name, value)
            if changes:
                self._record(session, actor, "benefit-updated", collaboration=collaboration, benefit=code, changes=changes)
            return {"key": key, "id": code, "changed": sorted(changes)}

    def plan(self, key: str, code: str, points: list[tuple[date, float]], *,
             expected_version: int | None = None) -> dict[str, Any]:
        """Replace a benefit's realisation plan (expected value by date)."""
        days = [day for day, _ in points]
        if not points:
            raise BadInput("give at least one --point DATE=VALUE")
        if len(set(days)) != len(days):
            raise BadInput("two --point values for one date")
        with self._changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            benefit = _benefit(collaboration, code)
            session.execute(delete(PlanPoint).where(PlanPoint.benefit_id == benefit.id))
            session.add_all(PlanPoint(benefit_id=benefit.id, on=day, value=value) for day, value in sorted(points))
            self._record(session, actor, "benefit-planned", collaboration=collaboration, benefit=code,
                         points={day.isoformat(): value for day, value in sorted(points)})
            return {"key": key, "id": code, "points": len(points)}

    def measure(self, key: str, code: str, value: str | float, *, on: date | None = None, note: str | None = None,
                expected_version: int | None = None) -> dict[str, Any]:
        """Record a benefit's measured value; by its owner or the secretary of its reviewing board."""
        number = _number(value, "VALUE")
        day = on or self.clock.today()
        if day > self.clock.today():
            raise BadInput(f"--on {day}: a measurement cannot be dated in the future (today is {self.clock.today()})")
        with self._changing(key, None, expected_version) as (session, actor, collaboration):
            benefit = _benefit(collaboration, code)
            secretary = benefit.board.secretary.name if benefit.board else None
            owner = benefit.owner.name if benefit.owner else None
            if actor.name not in (owner, secretary):
                raise Refused(f"{actor.name} may not measure benefit {code}: only its owner ({owner or 'none named'}) "
                              f"or the secretary of its board ({secretary or 'no board named'})")
            if collaboration.stage == "withdrawn" or benefit.retired_on is not None:
                raise Refused(f"benefit {code} is no longer tracked ({'withdrawn' if benefit.retired_on is None else 'retired'})")
            session.add(Measurement(benefit_id=benefit.id, on=day, value=number, note=note,
                                    recorded_by_id=_user(session, actor.name).id))
            self._record(session, actor, "measured", on=day, collaboration=collaboration, benefit=code, value=number,
                         note=note, stage=collaboration.stage)
            return {"key": key, "id": code, "value": number, "on": day.isoformat()}

    def handover(self, key: str, code: str, *, business_area: str, to: str, board: str | None = None,
                 expected_version: int | None = None) -> dict[str, Any]:
        """Propose that a business area takes a benefit on; re-proposing replaces a pending or declined proposal."""
        _require_text(business_area, "--business-area")
        with self._changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            benefit = _live_benefit(collaboration, code)
            current = _current_handovers(session, [benefit.id]).get(benefit.id)
            if current is not None and current.status == "accepted":
                raise Refused(f"benefit {code} was already accepted by {current.to_user.name} on {current.decided_on}")
            receiver = _user(session, to)
            reviewing = find_board(session, board) if board else None
            session.add(Handover(benefit_id=benefit.id, business_area=business_area, to_user=receiver, board=reviewing,
                                 status="proposed", proposed_on=self.clock.today()))
            self._record(session, actor, "handover-proposed", collaboration=collaboration, benefit=code,
                         business_area=business_area, to=to, board=board)
            return {"key": key, "id": code, "business_area": business_area, "to": to, "board": board}

    def accept(self, key: str, code: str, *, expected_version: int | None = None) -> dict[str, Any]:
        return self._decide(key, code, "accepted", None, expected_version)

    def decline(self, key: str, code: str, *, reason: str, expected_version: int | None = None) -> dict[str, Any]:
        _require_text(reason, "--reason")
        return self._decide(key, code, "declined", reason, expected_version)

    def _decide(self, key: str, code: str, status: str, reason: str | None, expected_version: int | None) -> dict[str, Any]:
        """The named receiver, and nobody else, accepts or declines a proposed handover."""
        with self._changing(key, None, expected_version) as (session, actor, collaboration):
            benefit = _live_benefit(collaboration, code)
            current = _current_handovers(session, [benefit.id]).get(benefit.id)
            if current is None or current.status != "proposed":
                state = "no handover proposed" if current is None else f"its handover is already {current.status}"
                raise Refused(f"benefit {code}: {state}")
            if current.to_user.name != actor.name:
                raise Refused(f"only {current.to_user.name}, the named receiver, may accept or decline benefit {code}")
            current.status, current.reason, current.decided_on = status, reason, self.clock.today()
            self._record(session, actor, f"handover-{status}", collaboration=collaboration, benefit=code, reason=reason,
                         business_area=current.business_area)
            return {"key": key, "id": code, "status": status}

    def retire(self, key: str, code: str, *, reason: str, expected_version: int | None = None) -> dict[str, Any]:
        """Stop tracking a benefit; its history stays. A chief officer of a partner approves it."""
        _require_text(reason, "--reason")
        with self._changing(key, "retire a benefit", expected_version) as (session, actor, collaboration):
            if actor.partner not in {p.name for p in collaboration.partners}:
                raise Refused(f"{actor.name} acts for {actor.partner}, which is not a partner of {key}")
            benefit = _live_benefit(collaboration, code)
            benefit.retired_on, benefit.retired_reason = self.clock.today(), reason
            benefit.retired_by_id = _user(session, actor.name).id
            self._record(session, actor, "benefit-retired", collaboration=collaboration, benefit=code, reason=reason)
            return {"key": key, "id": code, "retired_on": benefit.retired_on.isoformat()}

    def benefits(self, key: str) -> list[dict[str, Any]]:
        """The register with realisation as at today (latest, progress, planned value, status)."""
        with self._reading() as session:
            collaboration = find_collaboration(session, key)
            return _benefit_rows(session, collaboration, self.clock.today())

    # -- lessons --------------------------------------------------------------------------------------

    def add_lesson(self, key: str, text: str, *, theme: str | None = None,
                   expected_version: int | None = None) -> dict[str, Any]:
        _require_text(text, "TEXT")
        with self._changing(key, "record a lesson", expected_version) as (session, actor, collaboration):
            session.add(Lesson(collaboration_id=collaboration.id, text=text, theme=theme, recorded_on=self.clock.today(),
                               recorded_by_id=_user(session, actor.name).id))
            self._record(session, actor, "lesson-recorded", collaboration=collaboration, text=text, theme=theme)
            return {"key": key, "text": text, "theme": theme}

    def lessons(self, search: str | None = None) -> list[dict[str, Any]]:
        """Lessons across every collaboration; `search` matches text, theme, key or title, any case."""
        with self._reading() as session:
            query = (
                select(Lesson, Collaboration.key, Collaboration.title, User.name)
                .join(Collaboration, Lesson.collaboration_id == Collaboration.id)
                .join(User, Lesson.recorded_by_id == User.id)
                .order_by(Lesson.recorded_on, Lesson.id)
            )
            if search:
                pattern = f"%{search.lower()}%"
                query = query.where(or_(*(func.lower(column).like(pattern) for column in
                                          (Lesson.text, Lesson.theme, Collaboration.key, Collaboration.title))))
            return [
                {"collaboration": ckey, "title": title, "text": lesson.text, "theme": lesson.theme,
                 "recorded_on": lesson.recorded_on.isoformat(), "by": by}
                for lesson, ckey, title, by in session.execute(query)
            ]


# Statements every use case runs, built once: building one costs about as much as running it.
_USER_BY_NAME = select(User).where(User.name == bindparam("name"))
_COLLABORATION_BY_KEY = select(Collaboration).where(Collaboration.key == bindparam("key"))

# The gate facts, read as plain columns (no ORM objects) by statements built once: every gated
# move runs them, and building and loading entities cost more than the queries themselves.
_CID = bindparam("cid")
_PARTNER_FACTS = (
    select(Partner.name, Partner.kind, Partner.risk_appetite, Partner.cost_share)
    .where(Partner.collaboration_id == _CID).order_by(Partner.id)
)
_ARTEFACT_KINDS = select(Artefact.kind).where(Artefact.collaboration_id == _CID)
_APPROVALS = select(Approval.gate, Approval.partner, Approval.role).where(Approval.collaboration_id == _CID)
_LESSONS = select(func.count()).select_from(Lesson).where(Lesson.collaboration_id == _CID)
_owner, _handover, _handed_to = aliased(User), aliased(Handover), aliased(User)
_current_handover = (  # a benefit's newest handover is its current one
    select(func.max(Handover.id)).where(Handover.benefit_id == Benefit.id).correlate(Benefit).scalar_subquery()
)
_BENEFIT_FACTS = (  # columns in the order of gates.BenefitFacts
    select(
        Benefit.code, Benefit.category, Benefit.measure, Benefit.baseline, Benefit.target, Benefit.target_date,
        _owner.name, Board.name, Benefit.retired_on.is_not(None), _handover.status, _handed_to.name,
    )
    .outerjoin(_owner, _owner.id == Benefit.owner_id)
    .outerjoin(Board, Board.id == Benefit.board_id)
    .outerjoin(_handover, _handover.id == _current_handover)
    .outerjoin(_handed_to, _handed_to.id == _handover.to_user_id)
    .where(Benefit.collaboration_id == _CID)
    .order_by(Benefit.id)
)


def _benefit(collaboration: Collaboration, code: str) -> Benefit:
    for benefit in collaboration.benefits:
        if benefit.code == code:
            return benefit
    raise BadInput(f"unknown benefit '{code}' in {collaboration.key} (collab benefit list {collaboration.key} shows them)")


def _named(value: Any) -> Any:
    """A user or board by its name, anything else as it is (for history payloads)."""
    return value.name if isinstance(value, (User, Board)) else value


def _hand_over(session: Session, collaboration: Collaboration) -> dict[str, dict[str, str | None]]:
    """On leaving closure, each accepted benefit's owner and reviewing board become the business area's."""
    accepted = _current_handovers(session, [b.id for b in collaboration.benefits])
    moved = {}
    for benefit in collaboration.benefits:
        handover = accepted.get(benefit.id)
        if benefit.retired_on is not None or handover is None or handover.status != "accepted":
            continue
        benefit.owner = handover.to_user
        if handover.board is not None:
            benefit.board = handover.board
        moved[benefit.code] = {"business_area": handover.business_area, "owner": benefit.owner.name,
                               "board": benefit.board.name if benefit.board else None}
    return moved


def _live_benefit(collaboration: Collaboration, code: str) -> Benefit:
    benefit = _benefit(collaboration, code)
    if benefit.retired_on is not None:
        raise Refused(f"benefit {code} was retired on {benefit.retired_on}: {benefit.retired_reason}")
    return benefit


def _benefit_rows(session: Session, collaboration: Collaboration, today: date) -> list[dict[str, Any]]:
    ids = [b.id for b in collaboration.benefits]
    plans: dict[int, list[tuple[date, float]]] = {i: [] for i in ids}
    measured: dict[int, list[tuple[date, float]]] = {i: [] for i in ids}
    if ids:
        for point in session.scalars(select(PlanPoint).where(PlanPoint.benefit_id.in_(ids))):
            plans[point.benefit_id].append((point.on, point.value))
        for m in session.scalars(select(Measurement).where(Measurement.benefit_id.in_(ids)).order_by(Measurement.id)):
            measured[m.benefit_id].append((m.on, m.value))
    handovers = _current_handovers(session, ids)
    shares = {p.name: p.cost_share for p in collaboration.partners}
    rows = []
    for b in collaboration.benefits:
        seen = _realisation(b, plans[b.id], measured[b.id], today)
        handover = handovers.get(b.id)
        row = {
            "id": b.code, "title": b.title, "category": b.category, "dis_benefit": b.dis_benefit,
            "owner": b.owner.name if b.owner else None, "board": b.board.name if b.board else None,
            "measure": b.measure, "unit": b.unit, "baseline": b.baseline, "target": b.target,
            "target_date": _iso(b.target_date),
            "latest": seen.latest if seen else None, "latest_on": _iso(seen.latest_on) if seen else None,
            "progress": seen.progress if seen else None, "planned": seen.planned if seen else None,
            "status": seen.status if seen else ("retired" if b.retired_on else "no-data"),
            "measurements": len(measured[b.id]),
            "handover": {"business_area": handover.business_area, "to": handover.to_user.name,
                         "board": handover.board.name if handover.board else None, "status": handover.status,
                         "reason": handover.reason} if handover else None,
            "retired": {"on": b.retired_on.isoformat(), "reason": b.retired_reason} if b.retired_on else None,
            "savings": None,
        }
        if b.category == "economic" and not b.dis_benefit and row["latest"] is not None and _shares_complete(shares):
            row["savings"] = share_savings(row["latest"], shares)  # type: ignore[arg-type]
        rows.append(row)
    return rows


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Benefits (not dis-benefits) by status, dis-benefits apart, and cashable savings per partner."""
    by_status = {status: 0 for status in STATUSES}
    dis_benefits = {status: 0 for status in STATUSES}
    savings: dict[str, float] = {}
    for row in rows:
        (dis_benefits if row["dis_benefit"] else by_status)[row["status"]] += 1
        for partner, amount in (row["savings"] or {}).items():
            savings[partner] = round(savings.get(partner, 0.0) + amount, 2)
    return {"benefits": by_status, "dis_benefits": dis_benefits, "savings": savings}


def _realisation(benefit: Benefit, plan: list[tuple[date, float]], measured: list[tuple[date, float]],
                 today: date) -> Realisation | None:
    """None while the profile lacks what realisation needs (baseline, target, target date)."""
    if benefit.baseline is None or benefit.target is None or benefit.target_date is None:
        return None
    return assess(baseline=benefit.baseline, target=benefit.target, start=benefit.start_on,
                  target_date=benefit.target_date, plan=plan, measurements=measured, today=today,
                  retired=benefit.retired_on is not None)


def _shares_complete(shares: dict[str, Decimal | None]) -> bool:
    return bool(shares) and all(s is not None for s in shares.values()) and sum(shares.values()) == 100  # type: ignore[misc]


def _number(text: str | float, what: str) -> float:
    try:
        number = float(text)
    except (TypeError, ValueError):
        raise BadInput(f"{what} {text!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise BadInput(f"{what} {text!r} is not a finite number")
    return number


def _add_months(day: date, months: int) -> date:
    from dateutil.relativedelta import relativedelta

    return day + relativedelta(months=months)


def _parse_stored(name: str, version: int, source: str) -> Definition:
    return definitions.parse(source, f"{name} v{version} (stored)")


def _current_handovers(session: Session, benefit_ids: list[int]) -> dict[int, Handover]:
    if not benefit_ids:
        return {}
    newest = (
        select(func.max(Handover.id)).where(Handover.benefit_id.in_(benefit_ids)).group_by(Handover.benefit_id)
    )
    return {h.benefit_id: h for h in session.scalars(select(Handover).where(Handover.id.in_(newest)))}


def find_collaboration(session: Session, key: str) -> Collaboration:
    """The collaboration named `key`, or BadInput naming it (shared with the other use-case modules)."""
    found = session.scalar(_COLLABORATION_BY_KEY, {"key": key})
    if found is None:
        raise BadInput(f"unknown collaboration '{key}' (collab list shows them)")
    return found


def _user(session: Session, name: str) -> User:
    found = session.scalar(_USER_BY_NAME, {"name": name})
    if found is None:
        raise BadInput(f"unknown user '{name}' (collab user list shows who is registered)")
    return found


def find_board(session: Session, name: str) -> Board:
    """The board named `name`, or BadInput naming it."""
    found = session.scalar(select(Board).where(Board.name == name))
    if found is None:
        raise BadInput(f"unknown board '{name}' (collab board list shows them)")
    return found


def _require_text(value: str | None, what: str) -> None:
    if value is None or not value.strip():
        raise BadInput(f"{what} must not be empty")


def _require_key(key: str, what: str = "KEY") -> None:
    if not key or not all(ch.isalnum() or ch in "-_." for ch in key) or len(key) > 40:
        raise BadInput(f"{what} {key!r}: use up to 40 letters, digits, '-', '_' or '.'")


def _percent(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().rstrip("%"))
    except InvalidOperation:
        raise BadInput(f"--cost-share {text!r} is not a number of percent (e.g. 60 or 37.5)") from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise BadInput(f"--cost-share {text}: a percentage from 0 to 100")
    return value


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _user_dict(user: User) -> dict[str, Any]:
    return {"name": user.name, "role": user.role, "email": user.email, "partner": user.partner}


def _board_dict(board: Board) -> dict[str, Any]:
    return {"name": board.name, "partner": board.partner, "meets": board.meets, "secretary": board.secretary.name}


def _partner_dict(partner: Partner) -> dict[str, Any]:
    share = partner.cost_share
    return {"name": partner.name, "kind": partner.kind, "risk_appetite": partner.risk_appetite,
            "cost_share": float(share) if share is not None else None}
