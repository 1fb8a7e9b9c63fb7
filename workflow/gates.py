"""Gate requirements: small named checks that return the reasons they are unmet.

A definition picks requirements by name and parametrises them; a check never
raises for an unmet rule, it explains it, so that a refusal can list everything
that is missing at once.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Callable, get_type_hints

from workflow.vocabulary import FINANCIAL, RISK_APPETITES

ROLE_TITLES = {"chief-officer": "chief officer", "pcc": "PCC", "programme-manager": "programme manager"}


@dataclass(frozen=True)
class PartnerFacts:
    name: str
    kind: str
    risk_appetite: str | None
    cost_share: Decimal | None


@dataclass(frozen=True)
class BenefitFacts:
    id: str
    category: str | None
    measure: str | None
    baseline: float | None
    target: float | None
    target_date: date | None
    owner: str | None
    board: str | None
    retired: bool = False
    handover: str | None = None  # None, "proposed", "accepted" or "declined"
    handover_to: str | None = None


@dataclass(frozen=True)
class GateFacts:
    """What the gates may read about one collaboration, taken in the transaction that decides."""

    key: str = "KEY"
    objective: str | None = None
    public_benefit: str | None = None
    rationale: str | None = None
    partners: tuple[PartnerFacts, ...] = ()
    artefacts: frozenset[str] = frozenset()
    approvals: frozenset[tuple[str, str, str]] = frozenset()  # (gate, partner, role)
    benefits: tuple[BenefitFacts, ...] = ()
    lessons: int = 0
    pir_due: date | None = None
    reason: str | None = None
    actor_role: str | None = None
    actor_partner: str | None = None


Check = Callable[..., list[str]]
REQUIREMENTS: dict[str, Check] = {}


def requirement(name: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        REQUIREMENTS[name] = check
        return check

    return register


def parameter_errors(name: str, params: dict[str, object]) -> list[str]:
    """Why `params` cannot parametrise requirement `name` ([] when they can)."""
    check = REQUIREMENTS.get(name)
    if check is None:
        return [f"unknown requirement '{name}' (known: {', '.join(sorted(REQUIREMENTS))})"]
    signature = inspect.signature(check)
    hints = get_type_hints(check)
    accepted = [p for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY and p.name != "gate"]
    errors = [
        f"requirement '{name}' has no parameter '{key}' (it takes: {', '.join(p.name for p in accepted) or 'none'})"
        for key in params
        if key not in {p.name for p in accepted}
    ]
    for parameter in accepted:
        if parameter.name not in params:
            if parameter.default is inspect.Parameter.empty:
                errors.append(f"requirement '{name}' needs parameter '{parameter.name}'")
            continue
        value, expected = params[parameter.name], hints[parameter.name]
        if expected is int and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            errors.append(f"requirement '{name}': '{parameter.name}' must be a whole number, not {value!r}")
        elif expected == tuple[str, ...] and not (
            isinstance(value, list) and value and all(isinstance(item, str) for item in value)
        ):
            errors.append(f"requirement '{name}': '{parameter.name}' must be a list of names, not {value!r}")
        elif expected is str and not isinstance(value, str):
            errors.append(f"requirement '{name}': '{parameter.name}' must be text, not {value!r}")
    return errors


def unmet(gate: str, requirements: tuple[tuple[str, dict[str, object]], ...], facts: GateFacts) -> list[str]:
    """Every reason the gate is unmet, in the order the definition lists its requirements."""
    reasons: list[str] = []
    for name, params in requirements:
        call_params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        reasons.extend(REQUIREMENTS[name](facts, gate=gate, **call_params))
    return reasons


def _missing(text: str | None) -> bool:
    return text is None or not text.strip()


@requirement("objective-recorded")
def objective_recorded(facts: GateFacts, *, gate: str) -> list[str]:
    return [f"no objective recorded (collab update {facts.key} --objective TEXT)"] if _missing(facts.objective) else []


@requirement("public-benefit-recorded")
def public_benefit_recorded(facts: GateFacts, *, gate: str) -> list[str]:
    if _missing(facts.public_benefit):
        return [f"no public-benefit statement recorded (collab update {facts.key} --public-benefit TEXT)"]
    return []


@requirement("rationale-recorded")
def rationale_recorded(facts: GateFacts, *, gate: str) -> list[str]:
    if _missing(facts.rationale):
        return [
            "no s.23HA rationale recorded: name the existing agreements considered and why this serves "
            f"efficiency or effectiveness (collab update {facts.key} --rationale TEXT)"
        ]
    return []


@requirement("partners")
def partners(facts: GateFacts, *, gate: str, at_least: int) -> list[str]:
    if len(facts.partners) < at_least:
        return [f"{len(facts.partners)} partner(s) recorded; at least {at_least} needed (collab partner add {facts.key} ORG)"]
    return []


@requirement("risk-appetites-recorded")
def risk_appetites_recorded(facts: GateFacts, *, gate: str) -> list[str]:
    return [
        f"{p.name} has no risk appetite recorded (collab partner add {facts.key} '{p.name}' --risk-appetite LEVEL)"
        for p in facts.partners
        if p.risk_appetite is None
    ]


@requirement("risk-appetites-aligned")
def risk_appetites_aligned(facts: GateFacts, *, gate: str, within: int) -> list[str]:
    levels = [(RISK_APPETITES.index(p.risk_appetite), p) for p in facts.partners if p.risk_appetite]
    if len(levels) < 2:
        return []
    (low, lowest), (high, highest) = min(levels, key=lambda x: x[0]), max(levels, key=lambda x: x[0])
    if high - low > within:
        return [
            f"risk appetites differ by more than {within} level(s): {lowest.name} is {lowest.risk_appetite}, "
            f"{highest.name} is {highest.risk_appetite}"
        ]
    return []


@requirement("benefits-identified")
def benefits_identified(facts: GateFacts, *, gate: str, at_least: int, non_financial: int = 0) -> list[str]:
    live = [b for b in facts.benefits if not b.retired]
    reasons = []
    if len(live) < at_least:
        reasons.append(f"{len(live)} benefit(s) identified; at least {at_least} needed (collab benefit add)")
    effective = [b for b in live if b.category not in FINANCIAL]
    if len(effective) < non_financial:
        reasons.append(
            f"{len(effective)} non-financial benefit(s) identified; at least {non_financial} needed "
            "(a benefit of category effectiveness)"
        )
    return reasons


@requirement("artefacts")
def artefacts(facts: GateFacts, *, gate: str, kinds: tuple[str, ...]) -> list[str]:
    return [f"artefact '{kind}' not recorded (collab artefact add {facts.key} {kind} --ref TEXT)" for kind in kinds if kind not in facts.artefacts]


@requirement("approved")
def approved(facts: GateFacts, *, gate: str, roles: tuple[str, ...], partner_kind: str = "police") -> list[str]:
    return [
        f"{p.name} {ROLE_TITLES.get(role, role)} has not approved the {gate} gate"
        for p in facts.partners
        if p.kind == partner_kind
        for role in roles
        if (gate, p.name, role) not in facts.approvals
    ]


@requirement("cost-shares-complete")
def cost_shares_complete(facts: GateFacts, *, gate: str) -> list[str]:
    reasons = [
        f"{p.name} has no cost share recorded (collab partner add {facts.key} '{p.name}' --cost-share PERCENT)"
        for p in facts.partners
        if p.cost_share is None
    ]
    total = sum((p.cost_share for p in facts.partners if p.cost_share is not None), Decimal(0))
    if not reasons and total != 100:
        reasons.append(f"cost shares sum to {total}%, not 100%")
    return reasons


PROFILE_FIELDS = ("category", "measure", "baseline", "target", "target_date", "owner", "board")


@requirement("benefit-profiles-complete")
def benefit_profiles_complete(facts: GateFacts, *, gate: str) -> list[str]:
    reasons = []
    for benefit in facts.benefits:
        if benefit.retired:
            continue
        missing = [name.replace("_", " ") for name in PROFILE_FIELDS if getattr(benefit, name) in (None, "")]
        if missing:
            reasons.append(f"benefit {benefit.id} profile incomplete: no {', no '.join(missing)}")
    return reasons


@requirement("handovers-proposed")
def handovers_proposed(facts: GateFacts, *, gate: str) -> list[str]:
    return [
        f"benefit {b.id} has no proposed handover to a business area (collab benefit handover {facts.key} {b.id})"
        for b in facts.benefits
        if not b.retired and b.handover in (None, "declined")
    ]


@requirement("handovers-accepted")
def handovers_accepted(facts: GateFacts, *, gate: str) -> list[str]:
    reasons = []
    for b in facts.benefits:
        if b.retired or b.handover == "accepted":
            continue
        if b.handover == "proposed":
            reasons.append(f"benefit {b.id} handover not yet accepted by {b.handover_to}")
        elif b.handover == "declined":
            reasons.append(f"benefit {b.id} handover was declined by {b.handover_to}; propose it again")
        else:
            reasons.append(f"benefit {b.id} has no handover to a business area")
    return reasons


@requirement("pir-scheduled")
def pir_scheduled(facts: GateFacts, *, gate: str) -> list[str]:
    return [] if facts.pir_due else ["the post-implementation review is not scheduled"]


@requirement("lessons-recorded")
def lessons_recorded(facts: GateFacts, *, gate: str, at_least: int) -> list[str]:
    if facts.lessons < at_least:
        return [f"{facts.lessons} lesson(s) learned recorded; at least {at_least} needed (collab lesson add {facts.key} TEXT)"]
    return []


@requirement("reason-recorded")
def reason_recorded(facts: GateFacts, *, gate: str) -> list[str]:
    return ["no reason given (--reason TEXT)"] if _missing(facts.reason) else []


@requirement("actor-of-partner")
def actor_of_partner(facts: GateFacts, *, gate: str, roles: tuple[str, ...]) -> list[str]:
    if facts.actor_role in roles and facts.actor_partner in {p.name for p in facts.partners}:
        return []
    titles = " or ".join(ROLE_TITLES.get(role, role) for role in roles)
    return [f"only a {titles} of a partner may move this collaboration to {gate}"]
