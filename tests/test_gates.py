"""Gate requirements explain themselves; worked examples from domain.md's gate table."""

from datetime import date
from decimal import Decimal

from workflow import gates
from workflow.gates import BenefitFacts, GateFacts, PartnerFacts

DC = PartnerFacts("Devon & Cornwall Police", "police", "cautious", Decimal(70))
DORSET = PartnerFacts("Dorset Police", "police", "open", Decimal(30))
FIRE = PartnerFacts("Dorset Fire", "fire", "cautious", None)


def benefit(id: str, category: str = "effectiveness", **kw: object) -> BenefitFacts:
    profile = dict(measure="m", baseline=1.0, target=2.0, target_date=date(2030, 1, 1), owner="o", board="b")
    return BenefitFacts(id=id, category=category, **{**profile, **kw})  # type: ignore[arg-type]


def test_risk_appetites_two_levels_apart_are_refused() -> None:
    eager = PartnerFacts("Dorset Police", "police", "eager", None)
    assert gates.risk_appetites_aligned(GateFacts(partners=(DC, eager)), gate="pid", within=1) == [
        "risk appetites differ by more than 1 level(s): Devon & Cornwall Police is cautious, Dorset Police is eager"
    ]
    assert gates.risk_appetites_aligned(GateFacts(partners=(DC, DORSET)), gate="pid", within=1) == []


def test_missing_risk_appetite_names_the_partner() -> None:
    silent = PartnerFacts("Dorset Police", "police", None, None)
    reasons = gates.risk_appetites_recorded(GateFacts(key="SA", partners=(DC, silent)), gate="pid")
    assert reasons == ["Dorset Police has no risk appetite recorded"]


def test_benefits_need_one_non_financial() -> None:
    only_money = GateFacts(benefits=(benefit("B1", "economic"), benefit("B2", "efficiency")))
    assert gates.benefits_identified(only_money, gate="pid", at_least=1, non_financial=1) == [
        "0 non-financial benefit(s) identified; at least 1 needed (a benefit of category effectiveness)"
    ]


def test_approvals_needed_from_chief_officer_and_pcc_of_every_police_partner_only() -> None:
    facts = GateFacts(partners=(DC, DORSET, FIRE), approvals=frozenset({
        ("delivery", DC.name, "chief-officer"), ("delivery", DC.name, "pcc"), ("delivery", DORSET.name, "chief-officer"),
        ("pid", DORSET.name, "pcc"),  # an approval of another gate does not count
    }))
    assert gates.approved(facts, gate="delivery", roles=("chief-officer", "pcc")) == [
        "Dorset Police PCC has not approved the delivery gate"
    ]


def test_cost_shares_must_sum_to_100() -> None:
    assert gates.cost_shares_complete(GateFacts(partners=(DC, DORSET)), gate="delivery") == []
    low = PartnerFacts("Dorset Police", "police", "open", Decimal("29.5"))
    assert gates.cost_shares_complete(GateFacts(partners=(DC, low)), gate="delivery") == ["cost shares sum to 99.5%, not 100%"]
    assert gates.cost_shares_complete(GateFacts(key="SA", partners=(DC, FIRE)), gate="delivery") == [
        "Dorset Fire has no cost share recorded"
    ]


def test_profile_lists_each_missing_field() -> None:
    facts = GateFacts(benefits=(benefit("B1"), benefit("B3", owner=None, board=None, target_date=None)))
    assert gates.benefit_profiles_complete(facts, gate="delivery") == ["benefit B3 profile incomplete: no target date, no owner, no board"]


def test_handovers_accepted_names_each_benefit_and_what_it_lacks() -> None:
    facts = GateFacts(benefits=(
        benefit("B1", handover="accepted", handover_to="fin"),
        benefit("B2", handover="proposed", handover_to="ops"),
        benefit("B3", handover="declined", handover_to="hr"),
        benefit("B4"),
        benefit("B5", retired=True),
    ))
    assert gates.handovers_accepted(facts, gate="pir") == [
        "benefit B2 handover not yet accepted by ops",
        "benefit B3 handover was declined by hr; propose it again",
        "benefit B4 has no handover to a business area",
    ]


def test_withdrawal_only_by_chief_officer_or_pcc_of_a_partner() -> None:
    roles = ("chief-officer", "pcc")
    assert gates.actor_of_partner(GateFacts(partners=(DC,), actor_roles=("pcc",), actor_partner=DC.name), gate="withdrawn", roles=roles) == []
    assert gates.actor_of_partner(GateFacts(partners=(DC,), actor_roles=("pcc",), actor_partner="Avon Police"), gate="withdrawn", roles=roles) == [
        "only a chief officer or PCC of a partner may move this collaboration to withdrawn"
    ]


def test_parameter_errors_name_the_problem() -> None:
    assert gates.parameter_errors("partners", {}) == ["requirement 'partners' needs parameter 'at_least'"]
    assert gates.parameter_errors("partners", {"at_least": 2, "most": 3}) == ["requirement 'partners' has no parameter 'most' (it takes: at_least)"]
    assert gates.parameter_errors("artefacts", {"kinds": "pid"}) == ["requirement 'artefacts': 'kinds' must be a list of names, not 'pid'"]
