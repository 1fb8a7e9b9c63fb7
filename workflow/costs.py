"""Use cases of the cost model: each partner's one-off and recurring costs per UK financial year and category.

A figure is set, never deleted: putting one right is a new figure with a reason, and each `cost-set` event
carries the figure before and after, so the history shows how the costs, and with them the net benefit, moved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import validate
from workflow.benefits import refuse_rows
from workflow.context import Actor, Context
from workflow.errors import BadInput, CollabError, reason
from workflow.lookups import find_collaboration, find_partner
from workflow.model import Collaboration, Cost, Measurement
from workflow.netbenefit import is_cashable, net_benefit, yearly_savings
from workflow.vocabulary import COST_CATEGORIES

COST_FIELDS = ("partner", "year", "category", "one_off", "recurring")
Figure = tuple[str, str, str, Decimal, Decimal, str | None]  # partner, year, category, one-off, recurring, reason


def amounts(one_off: Decimal, recurring: Decimal) -> dict[str, str]:
    """A cost's amounts as the history keeps them: exact pounds and pence, as text."""
    return {"one_off": f"{one_off:.2f}", "recurring": f"{recurring:.2f}"}


def cost_rows(session: Session, collaboration: Collaboration) -> list[dict[str, Any]]:
    """The collaboration's costs by partner, year and category (amounts as numbers, as other money in reports)."""
    found = session.scalars(select(Cost).where(Cost.collaboration_id == collaboration.id)
                            .order_by(Cost.partner, Cost.year, Cost.category))
    return [{"partner": c.partner, "year": c.year, "category": c.category, "one_off": float(c.one_off),
             "recurring": float(c.recurring)} for c in found]


def savings_by_year(session: Session, collaboration: Collaboration) -> dict[str, Decimal]:
    """The collaboration's cashable savings per financial year, from the measurements of its cashable benefits."""
    cashable = {b.id: b for b in collaboration.benefits if is_cashable(b.category, b.dis_benefit, b.unit)
                and b.baseline is not None and b.target is not None}
    measured: dict[int, list[tuple[Any, float]]] = {i: [] for i in cashable}
    if cashable:
        for benefit_id, on, value in session.execute(
                select(Measurement.benefit_id, Measurement.on, Measurement.value)
                .where(Measurement.benefit_id.in_(cashable), Measurement.voided_on.is_(None)).order_by(Measurement.id)):
            measured[benefit_id].append((on, value))
    total: dict[str, Decimal] = {}
    for benefit_id, b in cashable.items():
        for year, saved in yearly_savings(b.unit, b.baseline, b.target, measured[benefit_id]).items():  # type: ignore[arg-type]
            total[year] = total.get(year, Decimal(0)) + saved
    return total


def net_benefit_rows(session: Session, collaboration: Collaboration,
                     costs: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """{"partner", "year", "savings", "costs", "net"} for each partner and financial year (see workflow.netbenefit)."""
    shares = {p.name: p.cost_share for p in collaboration.partners}
    return net_benefit(savings_by_year(session, collaboration), shares,
                       cost_rows(session, collaboration) if costs is None else costs)


def _checked(partner: str, year: str, category: str, one_off: str, recurring: str, why: str | None,
             today: date) -> Figure:
    """A figure checked on its own, before the collaboration is read."""
    if category not in COST_CATEGORIES:
        raise BadInput(reason("unknown-cost-category", f"unknown cost category '{category}' (categories: "
                              f"{', '.join(COST_CATEGORIES)})", category=category))
    return (partner, validate.financial_year(year, today), category, validate.money(one_off, "the one-off cost"),
            validate.money(recurring, "the recurring cost"),
            validate.text(why, "the reason", multiline=True) if why and why.strip() else None)


class CostCases:
    ctx: Context

    def set_cost(self, key: str, *, partner: str, year: str, category: str, one_off: str, recurring: str,
                 reason: str | None = None, expected_version: int | None = None) -> dict[str, Any]:
        """Set one partner's cost of a category in a financial year; changing a figure already set needs a reason."""
        figure = _checked(partner, year, category, one_off, recurring, reason, self.ctx.clock.today())
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            return {"key": collaboration.key, **self._set(session, actor, collaboration, [figure])[0]}

    def set_cost_rows(self, key: str, rows: Sequence[Mapping[str, str | None]], *, first: int = 1,
                      expected_version: int | None = None) -> dict[str, Any]:
        """Set many costs at once, as read from a table (columns partner, year, category, one_off, recurring and
        optionally reason): all in one unit of work, or none with every wrong row named by its number."""
        if not rows:
            raise BadInput(reason("no-costs", "the table has no costs: give a row per partner, year and category"))
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            figures, problems = [], []
            for number, row in enumerate(rows, first):
                try:
                    cell = {name: row.get(name) or "" for name in COST_FIELDS}
                    figures.append(_checked(cell["partner"], cell["year"], cell["category"], cell["one_off"],
                                            cell["recurring"], row.get("reason"), self.ctx.clock.today()))
                except CollabError as error:
                    problems.append((number, error))
            refuse_rows(problems)
            done = self._set(session, actor, collaboration, figures, first)
            return {"key": collaboration.key, "set": sum(d["changed"] for d in done), "costs": done}

    def costs(self, key: str) -> list[dict[str, Any]]:
        with self.ctx.reading() as session:
            return cost_rows(session, find_collaboration(session, key))

    def net_benefit(self, key: str) -> list[dict[str, Any]]:
        with self.ctx.reading() as session:
            return net_benefit_rows(session, find_collaboration(session, key))

    def _set(self, session: Session, actor: Actor, collaboration: Collaboration, figures: Sequence[Figure],
             first: int | None = None) -> list[dict[str, Any]]:
        """Write the figures that change something, one `cost-set` event each; a figure set twice in one table,
        or a change without a reason, is refused (with its row number, counted from `first`, for a table)."""
        held = {(c.partner, c.year, c.category): c for c in
                session.scalars(select(Cost).where(Cost.collaboration_id == collaboration.id))}
        done, problems, seen = [], [], set()
        events: list[tuple[str | None, dict[str, Any]]] = []
        for number, (typed, year, category, one_off, recurring, why) in enumerate(figures, first or 1):
            try:
                partner = find_partner(collaboration, typed).name
                if (partner, year, category) in seen:
                    raise BadInput(reason("cost-set-twice", f"{partner}'s {category} cost of {year} is set twice"))
                seen.add((partner, year, category))
                cost = held.get((partner, year, category))
                before = amounts(cost.one_off, cost.recurring) if cost else None
                after = amounts(one_off, recurring)
                if before is not None and before != after and why is None:
                    raise BadInput(reason("reason-missing", f"{partner}'s {category} cost of {year} is already set "
                                          f"({before['one_off']} one-off, {before['recurring']} recurring): say why it "
                                          "changes", partner=partner, year=year))
            except CollabError as error:
                if first is None:
                    raise
                problems.append((number, error))
                continue
            if before != after:
                if cost is None:
                    cost = held[partner, year, category] = Cost(collaboration_id=collaboration.id, partner=partner,
                                                                year=year, category=category)
                    session.add(cost)
                cost.one_off, cost.recurring = one_off, recurring
                events.append((why, {"partner": partner, "year": year, "category": category, "before": before,
                                     "after": after}))
            done.append({"partner": partner, "year": year, "category": category, "one_off": float(one_off),
                         "recurring": float(recurring), "changed": before != after})
        refuse_rows(problems)
        for why, payload in events:  # one event each, its reason in the event's own column
            self.ctx.record(session, actor, "cost-set", collaboration=collaboration, reason=why, **payload)
        return done
