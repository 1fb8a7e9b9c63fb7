"""Use cases that move a collaboration through its definition: advance, hold, resume, withdraw, migrate."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflow import facts as gate_facts, stored, validate
from workflow.context import Context
from workflow.definition import Definition
from workflow.effects import Effected
from workflow.errors import BadInput, Reason, Refused, reason
from workflow.lookups import CollaborationRead, passed_gates
from workflow.machine import Subject, lifecycle
from workflow.model import Approval, Artefact, Collaboration


class LifecycleCases:
    ctx: Context

    def advance(self, key: str, *, to: str | None = None, on: date | None = None, reason: str | None = None,
                expected_version: int | None = None) -> dict[str, Any]:
        return self._move(key, "advance", "advance a collaboration", to=to, on=on, reason=reason,
                          expected_version=expected_version)

    def hold(self, key: str, *, reason: str, on: date | None = None, expected_version: int | None = None) -> dict[str, Any]:
        return self._move(key, "hold", "advance a collaboration", on=on, reason=reason, expected_version=expected_version)

    def resume(self, key: str, *, on: date | None = None, reason: str | None = None,
               expected_version: int | None = None) -> dict[str, Any]:
        return self._move(key, "resume", "advance a collaboration", on=on, reason=reason, expected_version=expected_version)

    def withdraw(self, key: str, *, reason: str, on: date | None = None, expected_version: int | None = None) -> dict[str, Any]:
        return self._move(key, "withdraw", "withdraw a collaboration", on=on, reason=reason, expected_version=expected_version)

    def _move(self, key: str, trigger: str, doing: str, *, to: str | None = None, on: date | None = None,
              reason: str | None = None, expected_version: int | None = None) -> dict[str, Any]:
        if reason and reason.strip():  # an empty one is for the gate to refuse, as a missing one is
            reason = validate.text(reason, "the reason", multiline=True)
        with self.ctx.moving(key, doing, expected_version, gated=trigger == "advance") as (
                session, actor, collaboration, evidence):
            chosen = self.ctx.definition(session, collaboration.definition_name, collaboration.definition_version)
            if to is not None and to not in chosen.stage_names:
                raise BadInput(_unknown_stage(to, chosen))
            day = self.ctx.effective(on, collaboration)
            effected = Effected(session, collaboration, chosen, day)
            subject = Subject(
                state=collaboration.stage, held_from=collaboration.held_from, wanted=to, effected=effected,
                facts=functools.partial(gate_facts.gate_facts, session, collaboration, reason=reason,
                                        actor_roles=actor.roles, actor_partner=actor.partner,
                                        actor_manages=actor.id == collaboration.manager_id,
                                        stale=[] if evidence is None else None),  # no approval yet: none is stale
            )
            before = collaboration.stage
            after = lifecycle(chosen).fire(trigger, subject)
            if evidence is not None and day < evidence:  # else no evidence of any gate is later than the move
                _not_before_evidence(session, collaboration, chosen, after, day)
            held_from = before if any(t.back for t in chosen.transitions_from(after, before)) else None
            self.ctx.save(session, collaboration, stage=after, stage_since=day, held_from=held_from, **effected.columns)
            self.ctx.record(session, actor, trigger, on=day, collaboration=collaboration, from_stage=before,
                            to_stage=after, reason=reason, held_from=held_from, saved=True, **effected.payload)
            return {"key": collaboration.key, "from": before, "to": after, "on": day.isoformat()}

    def migrate(self, key: str, to: str, *, stage_map: dict[str, str] | None = None, dry_run: bool = False,
                expected_version: int | None = None) -> dict[str, Any]:
        """Move an in-flight collaboration to another stored definition version (Camunda's instance migration).

        Its stage (and the stage it is held from) must exist in the new version, or be mapped to one. Gates
        already passed are not re-applied, but the result and the `migrated` event list those the new
        version would refuse today.
        """
        mapping = dict(stage_map or {})
        with self.ctx.changing(key, "migrate a collaboration", expected_version) as (session, actor, collaboration):
            old = stored.definition_of(session, collaboration)
            new = stored.resolve(session, to)
            if (new.name, new.version) == (old.name, old.version):
                raise BadInput(reason("same-definition", f"{key} already runs on {new.label}", key=key))
            unknown = [f"{a}={b}" for a, b in mapping.items() if a not in old.stage_names or b not in new.stage_names]
            if unknown:
                raise BadInput(reason("bad-stage-map", f"stage map {', '.join(unknown)}: map a stage of {old.label} to "
                                      f"one of {new.label} ({', '.join(new.stage_names)})", map=unknown))
            stage = _counterpart(collaboration.stage, mapping, old, new)
            held_from = _counterpart(collaboration.held_from, mapping, old, new) if collaboration.held_from else None
            passed = passed_gates(session, collaboration.key)
            facts = gate_facts.gate_facts(session, collaboration)
            refusing = {}
            for gate in passed:
                target = mapping.get(gate, gate)
                if target in new.stage_names:
                    unmet = lifecycle(new).check(stage, target, facts)
                    if unmet:
                        refusing[target] = [r.text for r in unmet]
            result = {"key": collaboration.key, "from": old.label, "to": new.label, "stage": {"from": collaboration.stage, "to": stage},
                      "held_from": held_from, "map": mapping, "would_refuse": refusing, "dry_run": dry_run}
            if dry_run:
                return result
            renamed = {a: b for a, b in mapping.items() if a != b}
            for was, now in renamed.items():
                session.execute(update(Approval).where(Approval.collaboration_id == collaboration.id, Approval.gate == was)
                                .values(gate=now))
            collaboration.definition_name, collaboration.definition_version = new.name, new.version
            from_stage = collaboration.stage
            collaboration.stage, collaboration.held_from = stage, held_from
            self.ctx.record(session, actor, "migrated", collaboration=collaboration, from_stage=from_stage, to_stage=stage,
                            definition={"from": old.label, "to": new.label}, digest=new.digest, map=mapping,
                            held_from=held_from, would_refuse=refusing)
            return result


def _not_before_evidence(session: Session, collaboration: CollaborationRead, chosen: Definition, gate: str, day: date) -> None:
    """A gate never passes on a day before the approvals and artefacts it rests on."""
    kinds = {kind for name, params in chosen.gate(gate) if name == "artefacts" for kind in params["kinds"]}
    dates = [*session.scalars(select(Approval.approved_on).where(Approval.collaboration_id == collaboration.id,
                                                                 Approval.gate == gate)),
             *session.scalars(select(Artefact.recorded_on).where(Artefact.collaboration_id == collaboration.id,
                                                                 Artefact.kind.in_(kinds)))]
    newest = max(dates, default=None)
    if newest is not None and day < newest:
        raise BadInput(reason("date-before-evidence", f"the {gate} gate cannot pass on {day}: its evidence is dated "
                              f"up to {newest}", gate=gate, on=day.isoformat()))


def _unknown_stage(stage: str, chosen: Definition) -> Reason:
    return reason("unknown-stage", f"unknown stage '{stage}' (stages: {', '.join(chosen.stage_names)})", stage=stage)


def _counterpart(stage: str, mapping: dict[str, str], old: Definition, new: Definition) -> str:
    found = mapping.get(stage, stage)
    if found not in new.stage_names:
        raise Refused(reason("no-counterpart", f"stage '{stage}' of {old.label} has no counterpart in {new.label}: "
                             f"map it to one of {', '.join(new.stage_names)}", stage=stage, options=new.stage_names))
    return found
