"""Net cashable benefit: cashable savings less costs, per partner and UK financial year. Pure functions.

Which figure counts as a saving: the *measured* figures of cashable benefits, never the planned ones. A plan is
a forecast; a board weighing a net benefit against money it has spent must not be shown savings that have not
been made, so a year without a measurement shows its costs against no savings. A cashable benefit is an
`economic` benefit (not a dis-benefit) whose unit is money (£, £k or £m) and whose profile has a baseline and
target; its measure is an annual figure, so a financial year's saving is how far the newest measurement dated
in that year has moved from the baseline towards the target (a cost falling from 10 to 9 saves 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from workflow.realisation import PENNY, shares_complete, split_pennies

# Pounds per unit of a benefit's measure, for the units that are money.
POUNDS_PER_UNIT = {"£": Decimal(1), "GBP": Decimal(1), "£k": Decimal(1000), "£m": Decimal(1_000_000)}


def financial_year(day: date) -> str:
    """The UK financial year a day falls in (1 April to 31 March), written 2026-27."""
    first = day.year if day.month >= 4 else day.year - 1
    return f"{first}-{(first + 1) % 100:02d}"


def is_cashable(category: str, dis_benefit: bool, unit: str | None) -> bool:
    return category == "economic" and not dis_benefit and (unit or "").strip() in POUNDS_PER_UNIT


def yearly_savings(unit: str, baseline: float, target: float,
                   measured: Iterable[tuple[date, float]]) -> dict[str, Decimal]:
    """A cashable benefit's saving in pounds per financial year, from its measurements (not voided), in order of
    recording: the newest-dated figure of each year counts (for one day, the later recorded)."""
    newest: dict[str, tuple[date, float]] = {}
    for on, value in measured:
        year = financial_year(on)
        if year not in newest or on >= newest[year][0]:
            newest[year] = (on, value)
    direction = 1 if target >= baseline else -1
    pounds = POUNDS_PER_UNIT[unit.strip()]
    return {year: ((Decimal(str(value)) - Decimal(str(baseline))) * direction * pounds).quantize(PENNY)
            for year, (_, value) in newest.items()}


def net_benefit(savings: Mapping[str, Decimal], shares: Mapping[str, Decimal | None],
                costs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per partner and year: its share of the savings (split to the penny by cost share), its costs (one-off and
    recurring, every category) and the net. While the cost shares do not total 100 the savings cannot be split:
    `savings` and `net` are None. Amounts are numbers of pounds, as other money in reports."""
    splittable = shares_complete(shares)
    parts = {year: split_pennies(amount, shares) if splittable else {} for year, amount in savings.items()}  # type: ignore[arg-type]
    spent: dict[tuple[str, str], Decimal] = {}
    for cost in costs:
        at = (cost["partner"], cost["year"])
        spent[at] = spent.get(at, Decimal(0)) + Decimal(str(cost["one_off"])) + Decimal(str(cost["recurring"]))
    partners = list(dict.fromkeys([*shares, *(partner for partner, _ in spent)]))
    years = sorted({*savings, *(year for _, year in spent)})
    rows = []
    for partner in partners:
        for year in years:
            saved = parts[year].get(partner, Decimal(0)) if year in parts else Decimal(0)
            paid = spent.get((partner, year), Decimal(0)).quantize(PENNY)
            rows.append({"partner": partner, "year": year, "savings": float(saved) if splittable else None,
                         "costs": float(paid), "net": float(saved - paid) if splittable else None})
    return rows
