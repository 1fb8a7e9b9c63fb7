"""Use cases that correct mistakes: each is an event with a reason, and the history keeps what was corrected.

- A measurement is voided, never deleted: the row stays, marked with who voided it, when and why, and
  drops out of the benefit's current figures, its RAG status and the reviews it satisfied.
- A partner or benefit recorded by mistake is removed while no passed gate's approval covered it; its
  `partner-removed` / `benefit-removed` event carries everything it held. Once a gate's signatories
  approved it, removing a partner changes what they agreed: a variation, made only when asked for
  (`variation=True`), after which the next gate waits for them to re-approve; a benefit is retired instead.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, select

from workflow import approvals, validate
from workflow.benefits import require_measurer
from workflow.context import Context
from workflow.errors import BadInput, Refused, reason
from workflow.board_assignment import unassign_removed
from workflow.logicmap import unlink_removed
from workflow.lookups import find_benefit, find_partner
from workflow.model import BenefitReview, Handover, Measurement, Partner, PlanPoint
from workflow.register import keep_the_agreement


class CorrectionCases:
    ctx: Context

    def void_measurement(self, key: str, code: str, on: date, *, reason: str, value: float | None = None,
                         expected_version: int | None = None) -> dict[str, Any]:
        """Void the figure recorded for `on` (the newest of that day, or the one of `value`), by whoever may measure."""
        why = _reason(reason, "voiding a measurement")
        with self.ctx.changing(key, None, expected_version) as (session, actor, collaboration):
            benefit = find_benefit(collaboration, code)
            require_measurer(actor, benefit)
            standing = list(session.scalars(select(Measurement).where(
                Measurement.benefit_id == benefit.id, Measurement.on == on, Measurement.voided_on.is_(None))
                .order_by(Measurement.id.desc())))
            chosen = [m for m in standing if value is None or m.value == value]
            if not chosen:
                there = ", ".join(f"{m.value:g}" for m in standing)
                raise BadInput(_because("no-such-measurement", f"benefit {benefit.code} has no standing measurement "
                                        f"{'' if value is None else f'of {value:g} '}on {on}"
                                        + (f" (that day: {there})" if there else ""), key=collaboration.key,
                                        benefit=benefit.code))
            figure = chosen[0]
            figure.voided_on, figure.voided_reason = self.ctx.clock.today(), why
            figure.voided_by_id = actor.id
            self.ctx.record(session, actor, "measurement-voided", collaboration=collaboration, benefit=benefit.code,
                            measured_on=on.isoformat(), value=figure.value, reason=why)
            return {"key": collaboration.key, "id": benefit.code, "on": on.isoformat(), "value": figure.value,
                    "voided_on": figure.voided_on.isoformat(), "reason": why}

    def remove_partner(self, key: str, org: str, *, reason: str, variation: bool = False,
                       expected_version: int | None = None) -> dict[str, Any]:
        """Remove a partner recorded by mistake; once a passed gate approved it, only as a declared variation."""
        why = _reason(reason, "removing a partner")
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            partner = find_partner(collaboration, org)
            agreed = approvals.approved_at(session, collaboration, "partners", partner.name)
            if agreed and not variation:
                raise Refused(_because(
                    "removal-is-variation", f"{partner.name} was approved as a partner at the {', '.join(agreed)} "
                    "gate: removing it now is a variation of that agreement, which its signatories must re-approve",
                    key=collaboration.key, partner=partner.name, gates=agreed))
            held: dict[str, Any] = {"partner": partner.name, "kind": partner.kind, "risk_appetite": partner.risk_appetite,
                    "cost_share": partner.cost_share}
            session.execute(delete(Partner).where(Partner.id == partner.id))
            session.expire(collaboration, ["partners"])
            keep_the_agreement(session, collaboration)
            self.ctx.record(session, actor, "partner-removed", collaboration=collaboration, reason=why,
                            variation=bool(agreed), **held)
            return {"key": collaboration.key, **held, "variation": bool(agreed), "reason": why}

    def remove_benefit(self, key: str, code: str, *, reason: str, expected_version: int | None = None) -> dict[str, Any]:
        """Remove a benefit identified by mistake, with its plan, before any gate approved it and before any figure
        or handover was recorded for it; after that it is retired, which its approvers see as a variation."""
        why = _reason(reason, "removing a benefit")
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            benefit = find_benefit(collaboration, code)
            agreed = approvals.approved_at(session, collaboration, "benefits", benefit.code)
            if agreed:
                raise Refused(_because(
                    "removal-needs-retirement", f"benefit {benefit.code} was approved at the {', '.join(agreed)} gate: "
                    "it can no longer be removed, only retired by a chief officer (a variation its approvers re-approve)",
                    key=collaboration.key, benefit=benefit.code, gates=agreed))
            used = [what for what, table in (("measurements", Measurement), ("handovers", Handover),
                                             ("board reviews", BenefitReview))
                    if session.scalar(select(table.id).where(table.benefit_id == benefit.id).limit(1)) is not None]
            if used:
                raise Refused(_because(
                    "removal-needs-retirement", f"benefit {benefit.code} already has {' and '.join(used)}: retire it "
                    "instead, so that its record stays", key=collaboration.key, benefit=benefit.code, gates=[]))
            session.execute(delete(PlanPoint).where(PlanPoint.benefit_id == benefit.id))
            unlink_removed(session, benefit)
            unassign_removed(session, benefit)
            session.delete(benefit)
            session.flush()
            session.expire(collaboration, ["benefits"])
            self.ctx.record(session, actor, "benefit-removed", collaboration=collaboration, benefit=benefit.code,
                            title=benefit.title, category=benefit.category, reason=why)
            return {"key": collaboration.key, "id": benefit.code, "title": benefit.title, "reason": why}


def _reason(text: str | None, doing: str) -> str:
    if not (text and text.strip()):
        raise BadInput(_because("reason-missing", f"{doing} needs a reason"))
    return validate.text(text, "the reason", multiline=True)


_because = reason  # the use cases' `reason` argument shadows the module function
