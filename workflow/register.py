"""Use cases of the register: collaborations, their partners, artefacts, approvals and lessons."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import approvals, errors, gates, signing, stored, validate
from workflow.audit import canonical_json
from workflow.context import Context
from workflow.errors import BadInput, Refused, reason
from workflow.facts import gate_facts
from workflow.keys import signed_decision
from workflow.lookups import did_you_mean, find_user, passed_gates, same_name, taken
from workflow.model import Approval, Artefact, Collaboration, Lesson, Partner
from workflow.permissions import described
from workflow.vocabulary import ORIGINS, PARTNER_KINDS, RISK_APPETITES

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

DEFAULT_DEFINITION = "police-collaboration"


class RegisterCases:
    ctx: Context

    def new(self, key: str, title: str, *, objective: str | None = None, public_benefit: str | None = None,
            definition: str = DEFAULT_DEFINITION, origin: str = "programme", manager: str | None = None,
            on: date | None = None) -> dict[str, Any]:
        """Register a collaboration at its definition's first stage (NAME, or NAME@VERSION)."""
        validate.key(key, "the key")
        title = validate.text(title, "the title", max_length=TITLE)
        objective, public_benefit = _texts(objective=objective, public_benefit=public_benefit).values()
        if origin not in ORIGINS:
            raise BadInput(reason("unknown-origin", f"unknown origin '{origin}' (origins: {', '.join(ORIGINS)})", origin=origin))
        with self.ctx.uow.write() as session:
            actor = self.ctx.acting(session, "register a collaboration")
            taken(session, Collaboration.key, key, "collaboration", "collaboration-exists", key=key)
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

    def update(self, key: str, *, reason: str | None = None, expected_version: int | None = None,
               **fields: str | None) -> dict[str, Any]:
        """Change the title, objective, public-benefit statement or rationale; `reason` says why (a correction of
        a title registered by mistake, say) and shows in the history."""
        editable = ("title", "objective", "public_benefit", "rationale")
        given = {name: value for name, value in fields.items() if value is not None}
        why = validate.text(reason, "the reason", multiline=True) if reason and reason.strip() else None
        if set(given) - set(editable) or not given:
            raise BadInput(errors.reason("nothing-to-update", f"give at least one of: {', '.join(editable)}", fields=editable))
        wanted = _texts(**given)
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            changes = {
                name: {"from": getattr(collaboration, name), "to": value}
                for name, value in wanted.items()
                if getattr(collaboration, name) != value
            }
            for name in changes:
                setattr(collaboration, name, wanted[name])
            if changes:
                self.ctx.record(session, actor, "updated", collaboration=collaboration, changes=changes, reason=why)
            return {"key": collaboration.key, "changed": sorted(changes)}

    def add_partner(self, key: str, org: str, *, kind: str | None = None, risk_appetite: str | None = None,
                    cost_share: str | None = None, expected_version: int | None = None) -> dict[str, Any]:
        """Record a partner, or change the facts given for one already recorded."""
        org = validate.text(org, "the partner's name", max_length=200)
        if kind is not None and kind not in PARTNER_KINDS:
            raise BadInput(reason("unknown-partner-kind", f"unknown partner kind '{kind}' (kinds: {', '.join(PARTNER_KINDS)})"))
        if risk_appetite is not None and risk_appetite not in RISK_APPETITES:
            raise BadInput(reason("unknown-risk-appetite", f"unknown risk appetite '{risk_appetite}' "
                                  f"(lowest first: {', '.join(RISK_APPETITES)})"))
        share = validate.percent(cost_share) if cost_share is not None else None
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            partner = same_name(org, collaboration.partners, lambda p: p.name)
            if partner is not None and partner.name != org:
                raise BadInput(reason("partner-exists", f"'{org}' is already a partner of {collaboration.key} as "
                                      f"'{partner.name}' (names match whatever their case)", key=collaboration.key,
                                      partner=partner.name))
            action = "partner-changed" if partner else "partner-added"
            if partner is None:
                partner = Partner(collaboration=collaboration, name=org, kind=kind or "police")
                session.add(partner)
            elif kind is not None and kind != partner.kind:
                _refuse_rekinding_a_signatory(session, collaboration, partner, kind)
                partner.kind = kind
            if risk_appetite is not None:
                partner.risk_appetite = risk_appetite
            if share is not None:
                partner.cost_share = share
            keep_the_agreement(session, collaboration)
            self.ctx.record(session, actor, action, collaboration=collaboration, partner=org, kind=partner.kind,
                            risk_appetite=partner.risk_appetite, cost_share=partner.cost_share)
            return {"key": collaboration.key, **partner_dict(partner)}

    def set_cost_shares(self, key: str, shares: dict[str, str], *, expected_version: int | None = None) -> dict[str, Any]:
        """Change several partners' cost shares at once, so that an agreed total of 100% holds throughout."""
        if not shares:
            raise BadInput(reason("no-shares", "name at least one partner and its cost share"))
        parsed = {org: validate.percent(value) for org, value in shares.items()}
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            partners = {p.name: p for p in collaboration.partners}
            parsed = {(same_name(org, partners) or org): value for org, value in parsed.items()}
            unknown = sorted(set(parsed) - set(partners))
            if unknown:
                near = "".join(did_you_mean(org, partners) for org in unknown)
                raise BadInput(reason("unknown-partner", f"{', '.join(unknown)}: not a partner of {key} "
                                      f"(partners: {', '.join(partners) or 'none'}){near}", key=key))
            changed = {org: {"from": partners[org].cost_share, "to": value} for org, value in parsed.items()
                       if partners[org].cost_share != value}
            for org, value in parsed.items():
                partners[org].cost_share = value
            keep_the_agreement(session, collaboration)
            if changed:
                self.ctx.record(session, actor, "cost-shares-set", collaboration=collaboration, changes=changed)
            return {"key": collaboration.key, "partners": [partner_dict(p) for p in collaboration.partners], "changed": sorted(changed)}

    def add_artefact(self, key: str, kind: str, ref: str, *, on: date | None = None, sha256: str | None = None,
                     expected_version: int | None = None) -> dict[str, Any]:
        """Record a document of a kind the definition names; with the SHA-256 of its content, when known, a
        report proves which version was approved, and a new version of it is a variation of their approvals."""
        ref = validate.text(ref, "the artefact's reference")
        digest: dict[str, Any] = {} if sha256 is None else {"sha256": validate.sha256(sha256, "the document's SHA-256")}
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            known = stored.definition_of(session, collaboration).artefact_kinds
            if kind not in known:
                raise BadInput(reason("unknown-artefact-kind", f"unknown artefact kind '{kind}' (kinds: {', '.join(known)})",
                                      kind=kind))
            day = self.ctx.effective(on, collaboration, in_stage=False)
            session.add(Artefact(collaboration_id=collaboration.id, kind=kind, ref=ref, recorded_on=day,
                                 recorded_by_id=actor.id, **digest))
            self.ctx.record(session, actor, "artefact-added", on=day, collaboration=collaboration, kind=kind, ref=ref,
                            **digest)
            return {"key": collaboration.key, "kind": kind, "ref": ref, "on": day.isoformat(), "sha256": digest.get("sha256")}

    def approve(self, key: str, gate: str, *, on: date | None = None, signing_key: Ed25519PrivateKey | None = None,
                expected_version: int | None = None) -> dict[str, Any]:
        """The acting chief officer's or PCC's approval of a gate for their force, bound to the facts it checks now.

        Only the next gate can be approved, or a passed gate whose approval by this person's force and role
        is stale (a variation); an approval that still matches the facts is not given twice. Someone who has
        registered a signing key signs with it (`signing_key`).
        """
        with self.ctx.changing(key, "approve a gate", expected_version) as (session, actor, collaboration):
            chosen = stored.definition_of(session, collaboration)
            if gate not in chosen.stage_names:
                raise BadInput(reason("unknown-gate", f"unknown gate '{gate}' (gates: {', '.join(chosen.gates)})", gate=gate))
            asked = [params for name, params in chosen.gate(gate) if name == "approved"]
            roles = {role for params in asked for role in params["roles"]}
            role = actor.acting_as(roles)  # who holds two asked roles approves in the primary, or the first
            if role is None:
                needs = f" (it needs: {', '.join(sorted(roles))})" if roles else ""
                raise Refused(reason("approval-not-asked", f"the {gate} gate asks no approval of "
                                     f"{described(actor.roles)}{needs}", gate=gate, role=actor.role))
            if actor.partner not in {p.name for p in collaboration.partners}:
                raise Refused(reason("not-a-partner", f"{actor.name} acts for {actor.partner}, which is not a partner of {key}",
                                     actor=actor.name, partner=actor.partner))
            day = self.ctx.effective(on, collaboration)  # a bad date is bad input even for an approval given already
            facts = approvals.approved_facts(session, collaboration)
            existing = session.scalar(select(Approval).where(
                Approval.collaboration_id == collaboration.id, Approval.gate == gate,
                Approval.partner == actor.partner, Approval.role == role))
            stale = existing is not None and approvals.is_stale(existing.facts, facts)
            if existing is not None and not stale:
                return {"key": collaboration.key, "gate": gate, "partner": actor.partner, "role": role,
                        "on": existing.approved_on.isoformat(), "already": True, "digest": existing.digest}
            nexts = {t.dest for t in chosen.transitions_from(collaboration.stage, collaboration.held_from) if not t.back}
            varied = stale and gate not in nexts  # re-approving a passed gate; before it passes, a refresh
            if gate not in nexts and not stale:
                raise Refused(reason("approval-not-open", f"the {gate} gate is neither the next gate of {key} (at "
                                     f"{collaboration.stage}) nor a passed gate under variation", gate=gate, key=key))
            signature = signed_decision(session, actor, signing_key, signing.statement(
                "approve", collaboration.key, actor.name, day, facts, gate=gate))
            if signature is None and any(params.get("signed") and role in params["roles"] for params in asked):
                raise Refused(reason("signature-required", f"the {gate} gate of {collaboration.key} needs signed approvals: "
                                     f"{actor.name} must register a signing key and sign with it", key=collaboration.key,
                                     gate=gate, actor=actor.name))
            signed: dict[str, Any] = {"signature": signature} if signature else {}
            text, digest = canonical_json(facts), approvals.digest(facts)
            approval = existing or Approval(collaboration_id=collaboration.id, gate=gate, partner=actor.partner,
                                            role=role)
            approval.user_id, approval.approved_on = find_user(session, actor.name).id, day
            approval.facts, approval.digest, approval.signed = text, digest, signature is not None
            session.add(approval)
            self.ctx.record(session, actor, "approved", on=day, collaboration=collaboration, gate=gate,
                            partner=actor.partner, role=role, digest=digest, facts=facts, variation=varied,
                            **signed)
            return {"key": collaboration.key, "gate": gate, "partner": actor.partner, "role": role, "on": day.isoformat(),
                    "already": False, "digest": digest, "variation": varied, "signed": signature is not None}

    def add_lesson(self, key: str, text: str, *, theme: str | None = None,
                   expected_version: int | None = None) -> dict[str, Any]:
        text = validate.text(text, "the lesson", multiline=True)
        theme = validate.text(theme, "the theme", max_length=200) if theme is not None else None
        with self.ctx.changing(key, "record a lesson", expected_version) as (session, actor, collaboration):
            session.add(Lesson(collaboration_id=collaboration.id, text=text, theme=theme, recorded_on=self.ctx.clock.today(),
                               recorded_by_id=actor.id))
            self.ctx.record(session, actor, "lesson-recorded", collaboration=collaboration, text=text, theme=theme)
            return {"key": collaboration.key, "text": text, "theme": theme}


TITLE = 300  # the length of a collaboration's or benefit's title column


def _texts(**given: str | None) -> dict[str, str | None]:
    """Purpose texts as stored: a title on one line, the rest free text; each checked, None left as None."""
    return {name: None if value is None else
            validate.text(value, f"the {name.replace('_', ' ')}", **({"max_length": TITLE} if name == "title" else
                                                                    {"multiline": True}))
            for name, value in given.items()}


# Requirements of a passed gate that go on holding at every stage: what was agreed stays agreed.
INVARIANTS = ("cost-shares-complete", "risk-appetites-aligned")


def keep_the_agreement(session: Session, collaboration: Collaboration) -> None:
    """Cost shares never exceed 100%; once a gate that checks them is passed, they total 100% and risk appetites
    stay aligned. Refused (nothing is written) when a change would break that."""
    session.flush()
    shares = sum((p.cost_share for p in collaboration.partners if p.cost_share is not None), Decimal(0))
    if shares > 100:
        raise Refused(reason("cost-shares-over-100", f"cost shares would total {shares}%, more than 100%",
                             key=collaboration.key, total=str(shares)))
    chosen = stored.definition_of(session, collaboration)
    agreed = tuple((name, params) for gate in passed_gates(session, collaboration.key)
                   for name, params in chosen.gate(gate) if name in INVARIANTS)
    broken = [r for r in gates.unmet("agreed", tuple(dict(agreed).items()), gate_facts(session, collaboration))
              if r.code != "cost-share-missing"] if agreed else []  # a partner added later gets its share next
    if broken:
        raise Refused(*(reason(f"agreed-{r.code}", f"{r.text}, but what was agreed must go on holding", **r.params)
                        for r in broken))


def _refuse_rekinding_a_signatory(session: Session, collaboration: Collaboration, partner: Partner, kind: str) -> None:
    """A partner whose signatories approved a gate keeps its kind: a new kind could drop their signatures from
    the gate (a police partner relabelled `other` owes none). Such a change is a variation of the agreement,
    which a relabelling cannot make."""
    gates = sorted(set(session.scalars(select(Approval.gate).where(
        Approval.collaboration_id == collaboration.id, Approval.partner == partner.name))))
    if gates:
        raise Refused(reason(
            "kind-fixed-after-approval", f"{partner.name} stays {partner.kind}, not {kind}: its signatories approved "
            f"the {', '.join(gates)} gate of {collaboration.key} as a {partner.kind} partner; a new kind would drop "
            "their signatures from the gate, a variation of the agreement that a relabelling cannot make",
            key=collaboration.key, partner=partner.name))


def partner_dict(partner: Partner) -> dict[str, Any]:
    share = partner.cost_share
    return {"name": partner.name, "kind": partner.kind, "risk_appetite": partner.risk_appetite,
            "cost_share": float(share) if share is not None else None}
