"""Use cases of the register: collaborations, their partners, artefacts, approvals and lessons."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from workflow import stored, validate
from workflow.context import Context
from workflow.errors import BadInput, Refused, reason
from workflow.lookups import find_user
from workflow.model import Approval, Artefact, Collaboration, Lesson, Partner
from workflow.vocabulary import ORIGINS, PARTNER_KINDS, RISK_APPETITES

DEFAULT_DEFINITION = "police-collaboration"


class RegisterCases:
    ctx: Context

    def new(self, key: str, title: str, *, objective: str | None = None, public_benefit: str | None = None,
            definition: str = DEFAULT_DEFINITION, origin: str = "programme", manager: str | None = None,
            on: date | None = None) -> dict[str, Any]:
        """Register a collaboration at its definition's first stage (NAME, or NAME@VERSION)."""
        validate.key(key, "the key")
        validate.text(title, "the title")
        if origin not in ORIGINS:
            raise BadInput(reason("unknown-origin", f"unknown origin '{origin}' (origins: {', '.join(ORIGINS)})", origin=origin))
        with self.ctx.uow.write() as session:
            actor = self.ctx.acting(session, "register a collaboration")
            if session.scalar(select(Collaboration.id).where(Collaboration.key == key)) is not None:
                raise BadInput(reason("collaboration-exists", f"collaboration '{key}' already exists", key=key))
            chosen = stored.resolve(session, definition)
            day = self.ctx.effective(on)
            collaboration = Collaboration(
                key=key, title=title, objective=objective, public_benefit=public_benefit, origin=origin,
                manager=find_user(session, manager or actor.name),
                definition_name=chosen.name, definition_version=chosen.version, stage=chosen.initial,
                stage_since=day, created_on=day, version=0,
            )
            session.add(collaboration)
            session.flush()
            self.ctx.record(session, actor, "registered", on=day, collaboration=collaboration, to_stage=chosen.initial,
                            title=title, objective=objective, public_benefit=public_benefit, origin=origin,
                            manager=collaboration.manager.name, definition=chosen.label, digest=chosen.digest)
            return {"key": key, "stage": collaboration.stage, "definition": chosen.name, "version": chosen.version}

    def update(self, key: str, *, expected_version: int | None = None, **fields: str | None) -> dict[str, Any]:
        """Change the title, objective, public-benefit statement or rationale."""
        editable = ("title", "objective", "public_benefit", "rationale")
        wanted = {name: value for name, value in fields.items() if value is not None}
        if set(wanted) - set(editable) or not wanted:
            raise BadInput(reason("nothing-to-update", f"give at least one of: {', '.join(editable)}", fields=editable))
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            changes = {
                name: {"from": getattr(collaboration, name), "to": value}
                for name, value in wanted.items()
                if getattr(collaboration, name) != value
            }
            for name in changes:
                setattr(collaboration, name, wanted[name])
            if changes:
                self.ctx.record(session, actor, "updated", collaboration=collaboration, changes=changes)
            return {"key": key, "changed": sorted(changes)}

    def add_partner(self, key: str, org: str, *, kind: str | None = None, risk_appetite: str | None = None,
                    cost_share: str | None = None, expected_version: int | None = None) -> dict[str, Any]:
        """Record a partner, or change the facts given for one already recorded."""
        validate.text(org, "the partner's name")
        if kind is not None and kind not in PARTNER_KINDS:
            raise BadInput(reason("unknown-partner-kind", f"unknown partner kind '{kind}' (kinds: {', '.join(PARTNER_KINDS)})"))
        if risk_appetite is not None and risk_appetite not in RISK_APPETITES:
            raise BadInput(reason("unknown-risk-appetite", f"unknown risk appetite '{risk_appetite}' "
                                  f"(lowest first: {', '.join(RISK_APPETITES)})"))
        share = validate.percent(cost_share) if cost_share is not None else None
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
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
            self.ctx.record(session, actor, action, collaboration=collaboration, partner=org, kind=partner.kind,
                            risk_appetite=partner.risk_appetite, cost_share=partner.cost_share)
            return partner_dict(partner)

    def add_artefact(self, key: str, kind: str, ref: str, *, on: date | None = None,
                     expected_version: int | None = None) -> dict[str, Any]:
        validate.text(ref, "the artefact's reference")
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            known = stored.definition_of(session, collaboration).artefact_kinds
            if kind not in known:
                raise BadInput(reason("unknown-artefact-kind", f"unknown artefact kind '{kind}' (kinds: {', '.join(known)})",
                                      kind=kind))
            day = self.ctx.effective(on)
            session.add(Artefact(collaboration_id=collaboration.id, kind=kind, ref=ref, recorded_on=day,
                                 recorded_by_id=find_user(session, actor.name).id))
            self.ctx.record(session, actor, "artefact-added", on=day, collaboration=collaboration, kind=kind, ref=ref)
            return {"key": key, "kind": kind, "ref": ref, "on": day.isoformat()}

    def approve(self, key: str, gate: str, *, on: date | None = None, expected_version: int | None = None) -> dict[str, Any]:
        """The acting chief officer's or PCC's approval of a gate, for their force."""
        with self.ctx.changing(key, "approve a gate", expected_version) as (session, actor, collaboration):
            chosen = stored.definition_of(session, collaboration)
            if gate not in chosen.stage_names:
                raise BadInput(reason("unknown-gate", f"unknown gate '{gate}' (gates: {', '.join(chosen.gates)})", gate=gate))
            roles = {role for name, params in chosen.gate(gate) if name == "approved" for role in params["roles"]}
            if actor.role not in roles:
                needs = f" (it needs: {', '.join(sorted(roles))})" if roles else ""
                raise Refused(reason("approval-not-asked", f"the {gate} gate asks no approval of a {actor.role}{needs}",
                                     gate=gate, role=actor.role))
            if actor.partner not in {p.name for p in collaboration.partners}:
                raise Refused(reason("not-a-partner", f"{actor.name} acts for {actor.partner}, which is not a partner of {key}",
                                     actor=actor.name, partner=actor.partner))
            existing = session.scalar(select(Approval).where(
                Approval.collaboration_id == collaboration.id, Approval.gate == gate,
                Approval.partner == actor.partner, Approval.role == actor.role))
            if existing is not None:
                return {"key": key, "gate": gate, "partner": actor.partner, "role": actor.role,
                        "on": existing.approved_on.isoformat(), "already": True}
            day = self.ctx.effective(on)
            session.add(Approval(collaboration_id=collaboration.id, gate=gate, partner=actor.partner, role=actor.role,
                                 user_id=find_user(session, actor.name).id, approved_on=day))
            self.ctx.record(session, actor, "approved", on=day, collaboration=collaboration, gate=gate,
                            partner=actor.partner, role=actor.role)
            return {"key": key, "gate": gate, "partner": actor.partner, "role": actor.role, "on": day.isoformat(),
                    "already": False}

    def add_lesson(self, key: str, text: str, *, theme: str | None = None,
                   expected_version: int | None = None) -> dict[str, Any]:
        validate.text(text, "the lesson")
        with self.ctx.changing(key, "record a lesson", expected_version) as (session, actor, collaboration):
            session.add(Lesson(collaboration_id=collaboration.id, text=text, theme=theme, recorded_on=self.ctx.clock.today(),
                               recorded_by_id=find_user(session, actor.name).id))
            self.ctx.record(session, actor, "lesson-recorded", collaboration=collaboration, text=text, theme=theme)
            return {"key": key, "text": text, "theme": theme}


def partner_dict(partner: Partner) -> dict[str, Any]:
    share = partner.cost_share
    return {"name": partner.name, "kind": partner.kind, "risk_appetite": partner.risk_appetite,
            "cost_share": float(share) if share is not None else None}
