"""Gate requirements: small named checks that return the reasons they are unmet.

A definition picks requirements by name and parametrises them; a check never
raises for an unmet rule, it explains it, so that a refusal can list everything
that is missing at once.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import CodeType
from typing import Callable, get_type_hints

from workflow.errors import Reason, reason
from workflow.vocabulary import FINANCIAL, RISK_APPETITES, role_title


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
    links: tuple[tuple[str, str, str], ...] = ()  # the logic map: (benefit, kind, objective or benefit)
    lessons: int = 0
    pir_due: date | None = None
    reason: str | None = None
    actor_roles: tuple[str, ...] = ()  # every role the acting person holds
    actor_partner: str | None = None
    actor_manages: bool = False  # the acting person is the collaboration's programme manager
    variations: tuple[str, ...] = ()  # each passed gate whose approvals the facts no longer match
    stale: frozenset[tuple[str, str, str]] = frozenset()  # (gate, partner, role) approved on facts since changed
    unsigned: frozenset[tuple[str, str, str]] = frozenset()  # (gate, partner, role) approved without a signature


Check = Callable[..., list[Reason]]
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
        elif expected is bool and not isinstance(value, bool):
            errors.append(f"requirement '{name}': '{parameter.name}' must be true or false, not {value!r}")
    return errors


QUERIED = frozenset({"partners", "artefacts", "approvals", "unsigned", "benefits", "links", "lessons", "variations",
                     "stale"})  # GateFacts
# fields gathered by queries; the others come with the collaboration's row or the move itself.


def _names(code: CodeType) -> set[str]:
    """Every attribute and global name a function's code (its comprehensions included) refers to."""
    return set(code.co_names).union(*(_names(c) for c in code.co_consts if isinstance(c, CodeType)))


@functools.cache
def _reads(name: str) -> frozenset[str]:
    return QUERIED & _names(REQUIREMENTS[name].__code__)


def reads(requirements: tuple[tuple[str, dict[str, object]], ...]) -> frozenset[str]:
    """The queried facts these requirements read (as their code says), so that a gate gathers only those:
    a hold, whose gate wants only a reason, runs no query for facts."""
    return frozenset().union(*(_reads(name) for name, _ in requirements))


def unmet(gate: str, requirements: tuple[tuple[str, dict[str, object]], ...], facts: GateFacts) -> list[Reason]:
    """Every reason the gate is unmet, in the order the definition lists its requirements."""
    reasons: list[Reason] = []
    for name, params in requirements:
        call_params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        reasons.extend(REQUIREMENTS[name](facts, gate=gate, **call_params))
    return reasons


def _missing(text: str | None) -> bool:
    return text is None or not text.strip()


@requirement("objective-recorded")
def objective_recorded(facts: GateFacts, *, gate: str) -> list[Reason]:
    return [reason("objective-missing", "no objective recorded", key=facts.key)] if _missing(facts.objective) else []


@requirement("public-benefit-recorded")
def public_benefit_recorded(facts: GateFacts, *, gate: str) -> list[Reason]:
    if _missing(facts.public_benefit):
        return [reason("public-benefit-missing", "no public-benefit statement recorded", key=facts.key)]
    return []


@requirement("rationale-recorded")
def rationale_recorded(facts: GateFacts, *, gate: str) -> list[Reason]:
    if _missing(facts.rationale):
        return [reason("rationale-missing", "no s.23HA rationale recorded: name the existing agreements considered "
                       "and why this serves efficiency or effectiveness", key=facts.key)]
    return []


@requirement("partners")
def partners(facts: GateFacts, *, gate: str, at_least: int) -> list[Reason]:
    if len(facts.partners) < at_least:
        return [reason("too-few-partners", f"{len(facts.partners)} partner(s) recorded; at least {at_least} needed",
                       key=facts.key, count=len(facts.partners), at_least=at_least)]
    return []


@requirement("risk-appetites-recorded")
def risk_appetites_recorded(facts: GateFacts, *, gate: str) -> list[Reason]:
    return [
        reason("risk-appetite-missing", f"{p.name} has no risk appetite recorded", key=facts.key, partner=p.name)
        for p in facts.partners
        if p.risk_appetite is None
    ]


@requirement("risk-appetites-aligned")
def risk_appetites_aligned(facts: GateFacts, *, gate: str, within: int) -> list[Reason]:
    levels = [(RISK_APPETITES.index(p.risk_appetite), p) for p in facts.partners if p.risk_appetite]
    if len(levels) < 2:
        return []
    (low, lowest), (high, highest) = min(levels, key=lambda x: x[0]), max(levels, key=lambda x: x[0])
    if high - low > within:
        return [reason(
            "risk-appetites-apart", f"risk appetites differ by more than {within} level(s): {lowest.name} is "
            f"{lowest.risk_appetite}, {highest.name} is {highest.risk_appetite}",
            key=facts.key, within=within, lowest=lowest.name, highest=highest.name)]
    return []


@requirement("benefits-identified")
def benefits_identified(facts: GateFacts, *, gate: str, at_least: int, non_financial: int = 0) -> list[Reason]:
    live = [b for b in facts.benefits if not b.retired]
    reasons = []
    if len(live) < at_least:
        reasons.append(reason("too-few-benefits", f"{len(live)} benefit(s) identified; at least {at_least} needed",
                              key=facts.key, count=len(live), at_least=at_least))
    effective = [b for b in live if b.category not in FINANCIAL]
    if len(effective) < non_financial:
        reasons.append(reason(
            "too-few-non-financial-benefits", f"{len(effective)} non-financial benefit(s) identified; at least "
            f"{non_financial} needed (a benefit of category effectiveness)", key=facts.key, count=len(effective)))
    return reasons


@requirement("artefacts")
def artefacts(facts: GateFacts, *, gate: str, kinds: tuple[str, ...]) -> list[Reason]:
    return [reason("artefact-missing", f"artefact '{kind}' not recorded", key=facts.key, kind=kind)
            for kind in kinds if kind not in facts.artefacts]


@requirement("approved")
def approved(facts: GateFacts, *, gate: str, roles: tuple[str, ...], partner_kind: str = "police",
             signed: bool = False) -> list[Reason]:
    """Each partner of `partner_kind` approved by each of `roles`, on the facts as they are now and, where the
    definition says `signed: true`, with a signature (an approval signed by a registered key)."""
    def missing(partner: str, role: str) -> Reason | None:
        given = (gate, partner, role)
        if given not in facts.approvals:
            return reason("approval-missing", f"{partner} {role_title(role)} has not approved the {gate} gate",
                          key=facts.key, gate=gate, partner=partner, role=role)
        if given in facts.stale:
            return reason("approval-stale", f"{partner} {role_title(role)} approved the {gate} gate on facts that have "
                          "changed since: re-approve", key=facts.key, gate=gate, partner=partner, role=role)
        if signed and given in facts.unsigned:
            return reason("approval-unsigned", f"{partner} {role_title(role)} approved the {gate} gate without a "
                          "signature, and this gate needs signed approvals: re-approve with a signing key",
                          key=facts.key, gate=gate, partner=partner, role=role)
        return None
    found = (missing(p.name, role) for p in facts.partners if p.kind == partner_kind for role in roles)
    return [r for r in found if r is not None]


@requirement("cost-shares-complete")
def cost_shares_complete(facts: GateFacts, *, gate: str) -> list[Reason]:
    reasons = [
        reason("cost-share-missing", f"{p.name} has no cost share recorded", key=facts.key, partner=p.name)
        for p in facts.partners
        if p.cost_share is None
    ]
    total = sum((p.cost_share for p in facts.partners if p.cost_share is not None), Decimal(0))
    if not reasons and total != 100:
        reasons.append(reason("cost-shares-not-100", f"cost shares sum to {total}%, not 100%", key=facts.key, total=str(total)))
    return reasons


PROFILE_FIELDS = ("category", "measure", "baseline", "target", "target_date", "owner", "board")


@requirement("benefit-profiles-complete")
def benefit_profiles_complete(facts: GateFacts, *, gate: str) -> list[Reason]:
    reasons = []
    for benefit in facts.benefits:
        if benefit.retired:
            continue
        missing = [name.replace("_", " ") for name in PROFILE_FIELDS if getattr(benefit, name) in (None, "")]
        if missing:
            reasons.append(reason("benefit-profile-incomplete", f"benefit {benefit.id} profile incomplete: no {', no '.join(missing)}",
                                  key=facts.key, benefit=benefit.id, missing=missing))
    return reasons


@requirement("benefits-linked")
def benefits_linked(facts: GateFacts, *, gate: str) -> list[Reason]:
    """Every live benefit reaches an objective on the logic map: directly, through the benefits it contributes to,
    or (a dis-benefit) through the benefit that causes it."""
    up: dict[str, set[str]] = {}
    served = {code for code, kind, _ in facts.links if kind == "objective"}
    for code, kind, to in facts.links:
        if kind != "objective":
            up.setdefault(code, set()).add(to)
    while True:
        more = {code for code, above in up.items() if above & served} - served
        if not more:
            break
        served |= more
    return [reason("benefit-not-linked", f"benefit {b.id} is linked to no objective (directly or through the benefit "
                   "it contributes to or is caused by)", key=facts.key, benefit=b.id)
            for b in facts.benefits if not b.retired and b.id not in served]


@requirement("handovers-proposed")
def handovers_proposed(facts: GateFacts, *, gate: str) -> list[Reason]:
    return [
        reason("handover-not-proposed", f"benefit {b.id} has no proposed handover to a business area", key=facts.key, benefit=b.id)
        for b in facts.benefits
        if not b.retired and b.handover in (None, "declined")
    ]


@requirement("handovers-accepted")
def handovers_accepted(facts: GateFacts, *, gate: str) -> list[Reason]:
    reasons = []
    for b in facts.benefits:
        if b.retired or b.handover == "accepted":
            continue
        if b.handover == "proposed":
            text = f"benefit {b.id} handover not yet accepted by {b.handover_to}"
        elif b.handover == "declined":
            text = f"benefit {b.id} handover was declined by {b.handover_to}; propose it again"
        else:
            text = f"benefit {b.id} has no handover to a business area"
        reasons.append(reason(f"handover-{b.handover or 'missing'}", text, key=facts.key, benefit=b.id, to=b.handover_to))
    return reasons


@requirement("pir-scheduled")
def pir_scheduled(facts: GateFacts, *, gate: str) -> list[Reason]:
    return [] if facts.pir_due else [reason("pir-not-scheduled", "the post-implementation review is not scheduled", key=facts.key)]


@requirement("lessons-recorded")
def lessons_recorded(facts: GateFacts, *, gate: str, at_least: int) -> list[Reason]:
    if facts.lessons < at_least:
        return [reason("too-few-lessons", f"{facts.lessons} lesson(s) learned recorded; at least {at_least} needed",
                       key=facts.key, count=facts.lessons, at_least=at_least)]
    return []


@requirement("reason-recorded")
def reason_recorded(facts: GateFacts, *, gate: str) -> list[Reason]:
    return [reason("reason-missing", "no reason given")] if _missing(facts.reason) else []


@requirement("actor-of-partner")
def actor_of_partner(facts: GateFacts, *, gate: str, roles: tuple[str, ...]) -> list[Reason]:
    """A leader of a partner acts for the partnership; while there is no partner (say, one registered by mistake),
    nobody's leader can, and its programme manager may instead."""
    if not set(facts.actor_roles).isdisjoint(roles) and facts.actor_partner in {p.name for p in facts.partners}:
        return []
    if not facts.partners and facts.actor_manages:
        return []
    titles = " or ".join(role_title(role) for role in roles)
    alone = ", or its programme manager while it has no partner" if not facts.partners else ""
    return [reason("not-a-partners-leader", f"only a {titles} of a partner{alone} may move this collaboration to {gate}",
                   gate=gate)]


@requirement("no-open-variations")
def no_open_variations(facts: GateFacts, *, gate: str) -> list[Reason]:
    """A variation of a passed gate's agreement shuts the next gate until its signatories re-approve."""
    return [reason("open-variation", text, key=facts.key) for text in facts.variations]
