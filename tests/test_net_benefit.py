"""Net cashable benefit: the measured savings of cashable benefits, split between partners by cost share to the
penny (largest remainder), less each partner's own costs, per UK financial year."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

from hypothesis import given, strategies as st

from builders import DC, DORSET, as_of, in_delivery, open_as, people
from conftest import collab
from workflow.netbenefit import financial_year, net_benefit, yearly_savings
from workflow.realisation import split_pennies

NOW = {"COLLAB_NOW": "2020-01-08T12:00"}

pennies = st.integers(min_value=-10**13, max_value=10**13).map(lambda p: Decimal(p).scaleb(-2))
shares = st.lists(st.integers(min_value=0, max_value=10**5), min_size=1, max_size=7).filter(any).map(
    lambda weights: [Decimal(w) * 100 / sum(weights) for w in weights])


@given(amount=pennies, weights=shares)
def test_the_partners_parts_sum_exactly_to_the_total_and_each_is_within_a_penny(amount: Decimal,
                                                                                weights: list[Decimal]) -> None:
    parts = split_pennies(amount, {f"P{n}": share for n, share in enumerate(weights)})
    assert sum(parts.values()) == amount
    for n, share in enumerate(weights):
        assert parts[f"P{n}"].as_tuple().exponent == -2
        assert abs(parts[f"P{n}"] - amount * share / 100) < Decimal("0.01")


def test_a_financial_year_runs_from_april_to_march() -> None:
    assert financial_year(date(2026, 3, 31)) == "2025-26"
    assert financial_year(date(2026, 4, 1)) == "2026-27"
    assert financial_year(date(1999, 12, 31)) == "1999-00"


def test_a_years_saving_is_its_newest_figure_moved_towards_the_target_in_pounds() -> None:
    measured = [(date(2026, 6, 30), 1.5), (date(2027, 3, 31), 2.25), (date(2027, 3, 31), 2.5), (date(2027, 4, 1), 3)]
    assert yearly_savings("£m", 0, 12, measured) == {"2026-27": Decimal("2500000.00"), "2027-28": Decimal("3000000.00")}
    assert yearly_savings("£", 10_000, 8_000, [(date(2026, 5, 1), 9_000.004)]) == {"2026-27": Decimal("1000.00")}


def test_savings_are_split_costs_stay_with_their_partner_and_nothing_splits_without_full_shares() -> None:
    costs = [{"partner": "A", "year": "2026-27", "one_off": 100, "recurring": 0.01},
             {"partner": "A", "year": "2026-27", "one_off": 0, "recurring": 50},
             {"partner": "B", "year": "2027-28", "one_off": 0, "recurring": 10}]
    rows = net_benefit({"2026-27": Decimal("100.00")}, {"A": Decimal("33.333"), "B": Decimal("66.667")}, costs)
    assert rows == [
        {"partner": "A", "year": "2026-27", "savings": 33.33, "costs": 150.01, "net": -116.68},
        {"partner": "A", "year": "2027-28", "savings": 0.0, "costs": 0.0, "net": 0.0},
        {"partner": "B", "year": "2026-27", "savings": 66.67, "costs": 0.0, "net": 66.67},
        {"partner": "B", "year": "2027-28", "savings": 0.0, "costs": 10.0, "net": -10.0},
    ]
    unsplit = net_benefit({"2026-27": Decimal("100.00")}, {"A": Decimal("60"), "B": None}, costs)
    assert {(r["savings"], r["net"]) for r in unsplit} == {(None, None)}
    assert [r["costs"] for r in unsplit] == [150.01, 0.0, 0.0, 10.0]


def test_the_net_benefit_follows_the_register_and_the_costs(db: str) -> None:
    people(db)
    with as_of("2020-01-06T12:00"):
        pm = in_delivery(db)  # B1 economic 0 -> 12; cost shares 70 / 30
        pm.update_benefit("SA", "B1", unit="£k")
        pm.set_cost("SA", partner=DC, year="2019-20", category="staff", one_off="1000", recurring="200.50")
        pm.set_cost("SA", partner=DORSET, year="2020-21", category="ict", one_off="0", recurring="99.99")
        open_as(db, "owner").measure("SA", "B1", 3.3, on=date(2020, 1, 2))
    assert open_as(db, "audit").net_benefit("SA") == [
        {"partner": DC, "year": "2019-20", "savings": 2310.0, "costs": 1200.5, "net": 1109.5},
        {"partner": DC, "year": "2020-21", "savings": 0.0, "costs": 0.0, "net": 0.0},
        {"partner": DORSET, "year": "2019-20", "savings": 990.0, "costs": 0.0, "net": 990.0},
        {"partner": DORSET, "year": "2020-21", "savings": 0.0, "costs": 99.99, "net": -99.99},
    ]
    with as_of("2020-01-07T12:00"):
        pm.set_cost("SA", partner=DC, year="2019-20", category="staff", one_off="900", recurring="200.50",
                    reason="one post was counted twice")
    assert open_as(db, "audit").net_benefit("SA")[0]["net"] == 1209.5


def test_the_report_shows_costs_the_net_benefit_and_how_it_changed(db: str, tmp_path: Path) -> None:
    people(db)
    with as_of("2020-01-06T12:00"):
        pm = in_delivery(db)
        pm.update_benefit("SA", "B1", unit="£k")
        pm.set_cost("SA", partner=DORSET, year="2019-20", category="estates", one_off="1000", recurring="200.50")
        open_as(db, "owner").measure("SA", "B1", 3.3, on=date(2020, 1, 2))
    with as_of("2020-01-07T12:00"):
        open_as(db, "pm").set_cost("SA", partner=DORSET, year="2019-20", category="estates", one_off="900", recurring="200.50",
                    reason="the <b>lease</b> was cheaper")
    facts = collab(db, "report", "SA", "--format", "json", actor="audit", env=NOW, check=0).json()
    assert facts["costs"] == [  # type: ignore[index]
        {"partner": DORSET, "year": "2019-20", "category": "estates", "one_off": 900.0, "recurring": 200.5}]
    assert facts["net_benefit"] == [  # type: ignore[index]
        {"partner": DC, "year": "2019-20", "savings": 2310.0, "costs": 0.0, "net": 2310.0},
        {"partner": DORSET, "year": "2019-20", "savings": 990.0, "costs": 1100.5, "net": -110.5}]
    assert [(c["on"], c["before"], c["net_effect"], c["reason"]) for c in facts["cost_changes"]] == [  # type: ignore[index]
        ("2020-01-06", None, -1200.5, None),
        ("2020-01-07", {"one_off": "1000.00", "recurring": "200.50"}, 100.0, "the <b>lease</b> was cheaper")]
    page = tmp_path / "sa.html"
    collab(db, "report", "SA", "--out", str(page), actor="audit", env=NOW, check=0)
    html = page.read_text()
    net = html[html.index('<section id="net-benefit">'):]
    net = net[:net.index("</section>")]
    assert "<td>Dorset Police</td><td class=\"nowrap\">2019-20</td><td class=\"num\">£990.00</td>" in net
    assert '<td class="num">£1,100.50</td><td class="num">-£110.50</td>' in net
    assert "the &lt;b&gt;lease&lt;/b&gt; was cheaper" in net and "£1,000.00 + £200.50" in net
    table = collab(db, "report", "SA", "--format", "csv", actor="audit", env=NOW, check=0).out
    rows = list(csv.DictReader(io.StringIO(table)))
    assert [(r["partner"], r["year"], r["savings"], r["costs"], r["net"]) for r in rows if r["section"] == "net-benefit"] == [
        (DC, "2019-20", "2310.0", "0.0", "2310.0"), (DORSET, "2019-20", "990.0", "1100.5", "-110.5")]
    assert [r["reason"] for r in rows if r["section"] == "cost-change"] == ["", "the <b>lease</b> was cheaper"]


def test_a_forces_portfolio_report_shows_only_its_share(db: str, tmp_path: Path) -> None:
    with as_of("2020-01-06T12:00"):
        people(db)  # RCB meets from here: FREQ=MONTHLY;BYDAY=1TU
        pm = in_delivery(db)
        pm.update_benefit("SA", "B1", unit="£k")
        pm.set_cost("SA", partner=DC, year="2019-20", category="staff", one_off="777.77", recurring="0")
        pm.set_cost("SA", partner=DORSET, year="2019-20", category="ict", one_off="100", recurring="23.45")
        pm.new("NW", "Regional procurement", on=date(2020, 1, 6))
        pm.add_partner("NW", "Avon and Somerset Police", kind="police")
        open_as(db, "owner").measure("SA", "B1", 3.3, on=date(2020, 1, 2))
    done = collab(db, "report", "--all", "--partner", "dorset police", "--format", "json", actor="audit", env=NOW,
                  check=0)
    facts = done.json()
    assert facts["report"]["partner"] == DORSET  # type: ignore[index]
    assert [c["key"] for c in facts["collaborations"]] == ["SA"]  # type: ignore[index]
    assert facts["collaborations"][0]["share"] == {  # type: ignore[index]
        "cost_share": 30.0,
        "costs": [{"partner": DORSET, "year": "2019-20", "category": "ict", "one_off": 100.0, "recurring": 23.45}],
        "net_benefit": [{"partner": DORSET, "year": "2019-20", "savings": 990.0, "costs": 123.45, "net": 866.55}]}
    assert "777.77" not in done.out and "2310" not in done.out and "Devon" not in done.out
    # RCB is D&C's board: once its 4 Feb review went by without a figure, everyone's portfolio lists it, Dorset's not
    later = {"COLLAB_NOW": "2020-02-10T09:00"}
    owed = collab(db, "report", "--all", "--format", "json", actor="audit", env=later, check=0).json()["reviews"]
    assert {(r["board"], r["status"]) for r in owed} >= {("RCB", "overdue")}  # type: ignore[index, union-attr]
    theirs = collab(db, "report", "--all", "--partner", DORSET, "--format", "json", actor="audit", env=later, check=0)
    assert [r["board"] for r in theirs.json()["reviews"]] == []  # type: ignore[index]
    page = tmp_path / "dorset.html"
    collab(db, "report", "--all", "--partner", DORSET, "--out", str(page), actor="audit", env=NOW, check=0)
    html = page.read_text()
    assert "<h2>Dorset Police's share</h2>" in html and "£866.55" in html and "777.77" not in html and "NW" not in html
    everyone = collab(db, "report", "--all", "--format", "json", actor="audit", env=NOW, check=0).json()
    assert [c["key"] for c in everyone["collaborations"]] == ["NW", "SA"]  # type: ignore[index]
    assert "share" not in everyone["collaborations"][0]  # type: ignore[index]
    unknown = collab(db, "report", "--all", "--partner", "Dorset Polce", "--format", "json", actor="audit", env=NOW,
                     check=2)
    assert "'Dorset Polce' is not a partner of any collaboration (did you mean Dorset Police?)" in unknown.err
    alone = collab(db, "report", "SA", "--partner", DORSET, actor="audit", env=NOW, check=2)
    assert "--partner ORG goes with --all" in alone.err
