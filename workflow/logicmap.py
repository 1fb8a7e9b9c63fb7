"""Use cases of the benefits logic map: a collaboration's objectives, and the links that align its benefits to them.

A programme benefit serves an objective; a business-area benefit contributes to a programme benefit (so the
map is a tree of benefits under each objective); a dis-benefit is caused by a benefit. Each change is a history
event that names both ends by the IDs people use, so that replay rebuilds the map.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from workflow import validate
from workflow.context import Context
from workflow.errors import BadInput, reason
from workflow.lookups import (
    find_benefit, find_collaboration, find_objective, links_of, live_benefit, objectives_of, same_name,
)
from workflow.model import Benefit, BenefitLink, Collaboration, Objective
from workflow.vocabulary import LINK_KINDS


class LogicMapCases:
    ctx: Context

    def add_objective(self, key: str, code: str, *, title: str, on: date | None = None,
                      expected_version: int | None = None) -> dict[str, Any]:
        validate.key(code, "the objective ID")
        title = validate.text(title, "the title", max_length=300)
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            known = objectives_of(session, collaboration)
            clash = same_name(code, known, lambda o: o.code)
            if clash is not None:
                raise BadInput(reason("objective-exists", f"objective {code} already exists in {collaboration.key}"
                                      + ("" if clash.code == code else f" as {clash.code}"), objective=code))
            day = self.ctx.effective(on, collaboration, in_stage=False)
            session.add(Objective(collaboration_id=collaboration.id, code=code, title=title, added_on=day))
            self.ctx.record(session, actor, "objective-added", on=day, collaboration=collaboration, objective=code,
                            title=title)
            return {"key": collaboration.key, "id": code, "title": title}

    def objectives(self, key: str) -> list[dict[str, Any]]:
        """Each objective with the benefits linked to it directly."""
        with self.ctx.reading() as session:
            return objective_rows(session, find_collaboration(session, key))

    def link_benefit(self, key: str, code: str, *, kind: str, to: str,
                     expected_version: int | None = None) -> dict[str, Any]:
        """Link a benefit to an objective, to a benefit it contributes to, or (a dis-benefit) to its cause."""
        if kind not in LINK_KINDS:
            raise BadInput(reason("unknown-link", f"unknown link '{kind}' (links: {', '.join(LINK_KINDS)})", kind=kind))
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            benefit = live_benefit(collaboration, code)
            link = BenefitLink(benefit_id=benefit.id, kind=kind)
            if kind == "objective":
                objective = find_objective(session, collaboration, to)
                link.objective_id, target = objective.id, objective.code
            else:
                other = find_benefit(collaboration, to)
                _require_benefit_link(session, collaboration, benefit, kind, other)
                link.target_id, target = other.id, other.code
            if (benefit.code, kind, target) in links_of(session, collaboration):
                raise BadInput(reason("link-exists", f"benefit {benefit.code} is already linked ({kind}) to {target}",
                                      benefit=benefit.code, kind=kind, to=target))
            session.add(link)
            self.ctx.record(session, actor, "benefit-linked", collaboration=collaboration, benefit=benefit.code,
                            link=kind, to=target)
            return {"key": collaboration.key, "id": benefit.code, "link": kind, "to": target}


def _require_benefit_link(session: Session, collaboration: Collaboration, benefit: Benefit, kind: str,
                          other: Benefit) -> None:
    """A benefit contributes to another benefit, never to itself nor round a loop; a dis-benefit is caused by a benefit."""
    if kind == "caused-by" and (not benefit.dis_benefit or other.dis_benefit):
        raise BadInput(reason("cause-not-a-benefit", f"only a dis-benefit is caused by a benefit: {benefit.code} is "
                              f"{'a dis-benefit' if benefit.dis_benefit else 'a benefit'}, {other.code} "
                              f"{'a dis-benefit' if other.dis_benefit else 'a benefit'}", benefit=benefit.code))
    if kind == "contributes-to" and (benefit.dis_benefit or other.dis_benefit):
        raise BadInput(reason("dis-benefit-contributes", f"a dis-benefit neither contributes nor is contributed to "
                              f"({benefit.code} to {other.code}): link a dis-benefit to its cause", benefit=benefit.code))
    above = {other.code}
    edges = [(source, target) for source, each, target in links_of(session, collaboration) if each == "contributes-to"]
    while True:  # everything `other` contributes to, directly or through others
        more = {target for source, target in edges if source in above} - above
        if not more:
            break
        above |= more
    if kind == "contributes-to" and benefit.code in above:
        raise BadInput(reason("link-loop", f"benefit {benefit.code} cannot contribute to {other.code}: "
                              f"{other.code} already contributes to {benefit.code}", benefit=benefit.code, to=other.code))


def objective_rows(session: Session, collaboration: Collaboration) -> list[dict[str, Any]]:
    """The `objectives` of a report: each objective's ID, title and the benefits linked to it directly."""
    links = links_of(session, collaboration)
    return [{"id": o.code, "title": o.title,
             "benefits": [code for code, kind, to in links if kind == "objective" and to == o.code]}
            for o in objectives_of(session, collaboration)]


def unlink_removed(session: Session, benefit: Benefit) -> None:
    """A benefit removed by mistake takes its links, from it and to it, with it."""
    session.execute(delete(BenefitLink).where(or_(BenefitLink.benefit_id == benefit.id,
                                                  BenefitLink.target_id == benefit.id)))
