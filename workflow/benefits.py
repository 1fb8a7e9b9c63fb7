"""Use cases of the benefits register: profiles, plans, measurements, handover, acceptance and retirement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, delete, insert
from sqlalchemy.orm import Session

from workflow import signing, stored, validate
from workflow.board_assignment import add_further, default_boards, promoted
from workflow.context import Actor, Context
from workflow.keys import signed_decision
from workflow.errors import BadInput, CollabError, Reason, Refused, reason
from workflow.lookups import current_handovers, find_benefit, find_user, live_benefit, open_board, same_name
from workflow.model import Benefit, Board, Collaboration, Handover, Measurement, PlanPoint, User
from workflow.vocabulary import CATEGORIES

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

Figure = tuple[str, float, date, str | None]  # benefit, value, date, note


def _ended(session: Session, collaboration: Collaboration) -> bool:
    """Whether the collaboration's stage ends the tracking of its benefits (a final stage not reviewed)."""
    chosen = stored.definition_of(session, collaboration)
    return chosen.is_final(collaboration.stage) and not chosen.reviewed(collaboration.stage)


def _may_measure(actor: Actor, collaboration: Collaboration, ended: bool, figure: Figure) -> Figure:
    """The figure, with its benefit as spelled in the register; refused unless the benefit exists, the actor owns
    it or is its board's secretary, and it is still tracked."""
    code, value, day, note = figure
    benefit = find_benefit(collaboration, code)
    if day < benefit.start_on:
        raise BadInput(reason("measured-before-start", f"benefit {code} was identified on {benefit.start_on}: "
                              f"a measurement cannot be dated {day}", benefit=code))
    require_measurer(actor, benefit)
    if ended or benefit.retired_on is not None:
        why = "retired" if benefit.retired_on is not None else f"its collaboration is {collaboration.stage}"
        raise Refused(reason("benefit-not-tracked", f"benefit {code} is no longer tracked ({why})", benefit=code))
    return benefit.code, value, day, note


def refuse_rows(problems: Sequence[tuple[int, CollabError]]) -> None:
    """Every wrong row of a table at once, each reason named by its row: bad input (exit 2) if any row is
    malformed, else refused (1) by the rules."""
    if problems:
        kind = BadInput if any(isinstance(error, BadInput) for _, error in problems) else Refused
        raise kind(*(Reason(r.code, f"row {number}: {r.text}", {**r.params, "row": number})
                     for number, error in problems for r in error.reasons))


def _day(text: str | None) -> date | None:
    """An ISO date from a table's cell (None if empty)."""
    if not text or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"the date {text!r} is not a date: give YYYY-MM-DD") from None


_MEASUREMENTS, _PLAN_POINTS = cast(Table, Measurement.__table__), cast(Table, PlanPoint.__table__)  # Core: many rows
PROFILE = ("title", "category", "measure", "unit", "baseline", "target", "by", "owner", "board")


class BenefitCases:
    ctx: Context

    def add_benefit(self, key: str, code: str, *, title: str, category: str, measure: str | None = None,
                    baseline: float | None = None, target: float | None = None, by: date | None = None,
                    owner: str | None = None, board: str | None = None, unit: str = "", dis_benefit: bool = False,
                    on: date | None = None, expected_version: int | None = None) -> dict[str, Any]:
        validate.key(code, "the benefit ID")
        title = validate.text(title, "the title", max_length=300)
        if category not in CATEGORIES:
            raise BadInput(reason("unknown-category", f"unknown category '{category}' (categories: {', '.join(CATEGORIES)})"))
        measure, unit, baseline, target = _profile(measure=measure, unit=unit, baseline=baseline, target=target).values()
        _require_change(code, baseline, target)
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            clash = same_name(code, collaboration.benefits, lambda b: b.code)
            if clash is not None:
                raise BadInput(reason("benefit-exists", f"benefit {code} already exists in {key}"
                                      + ("" if clash.code == code else f" as {clash.code}"), benefit=code))
            reviewing = [open_board(session, board)] if board else default_boards(session, collaboration, category)
            benefit = Benefit(
                collaboration=collaboration, code=code, title=title, category=category, dis_benefit=dis_benefit,
                measure=measure, unit=unit, baseline=baseline, target=target, target_date=by,
                owner=find_user(session, owner) if owner else None, board=reviewing[0] if reviewing else None,
                start_on=self.ctx.effective(on, collaboration, in_stage=False),
            )
            _require_span(code, benefit.start_on, by, self.ctx.clock.today())
            session.add(benefit)
            self.ctx.record(session, actor, "benefit-added", on=benefit.start_on, collaboration=collaboration, benefit=code,
                            title=title, category=category, dis_benefit=dis_benefit, measure=measure, unit=unit,
                            baseline=baseline, target=target, target_date=by, owner=_named(benefit.owner),
                            board=_named(benefit.board))
            add_further(self.ctx, session, actor, collaboration, benefit, reviewing[1:], benefit.start_on)
            return {"key": collaboration.key, "id": code, "title": title, "category": category,
                    "boards": [b.name for b in reviewing]}

    def update_benefit(self, key: str, code: str, *, reason: str | None = None, expected_version: int | None = None,
                       **fields: Any) -> dict[str, Any]:
        """Complete or correct a benefit's profile (title, category, measure, unit, baseline, target, by, owner,
        board). A correction of its category, which its approvers never varied, says why (`reason`)."""
        from workflow.errors import reason as because

        wanted = {name: value for name, value in fields.items() if value is not None}
        if not wanted or set(wanted) - set(PROFILE):
            raise BadInput(because("nothing-to-update", f"give at least one of: {', '.join(PROFILE)}", fields=PROFILE))
        if "category" in wanted and wanted["category"] not in CATEGORIES:
            raise BadInput(because("unknown-category", f"unknown category '{wanted['category']}' (categories: "
                                   f"{', '.join(CATEGORIES)})"))
        if "category" in wanted and not (reason and reason.strip()):
            raise BadInput(because("reason-missing", f"correcting benefit {code}'s category needs a reason"))
        why = validate.text(reason, "the reason", multiline=True) if reason and reason.strip() else None
        wanted.update(_profile(**{k: v for k, v in wanted.items() if k in ("title", "measure", "unit", "baseline", "target")}))
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            benefit = find_benefit(collaboration, code)
            if "by" in wanted:
                _require_span(code, benefit.start_on, wanted["by"], self.ctx.clock.today())
            if "owner" in wanted:
                wanted["owner"] = find_user(session, wanted["owner"])
            if "board" in wanted:
                wanted["board"] = open_board(session, wanted["board"])
                promoted(session, benefit, wanted["board"])
            if "by" in wanted:
                wanted["target_date"] = wanted.pop("by")
            _require_change(code, wanted.get("baseline", benefit.baseline), wanted.get("target", benefit.target))
            changes = {}
            for name, value in wanted.items():
                before = getattr(benefit, name)
                if before != value:
                    changes[name] = {"from": _named(before), "to": _named(value)}
                    setattr(benefit, name, value)
            if changes:
                self.ctx.record(session, actor, "benefit-updated", collaboration=collaboration, benefit=benefit.code, changes=changes,
                                reason=why)
            return {"key": collaboration.key, "id": benefit.code, "changed": sorted(changes)}

    def plan(self, key: str, code: str, points: list[tuple[date, float]], *,
             expected_version: int | None = None) -> dict[str, Any]:
        """Replace a benefit's realisation plan (expected value by date)."""
        days = [day for day, _ in points]
        if not points:
            raise BadInput(reason("empty-plan", "give at least one plan point (a date and the value expected then)"))
        if len(set(days)) != len(days):
            raise BadInput(reason("plan-date-twice", "two plan points for one date"))
        points = [(day, validate.number(value, f"the plan point of {day}")) for day, value in points]
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            benefit = find_benefit(collaboration, code)
            self._in_span(benefit, days)
            self._replace_plan(session, actor, collaboration, benefit, dict(points))
            return {"key": collaboration.key, "id": benefit.code, "points": len(points)}

    def plan_rows(self, key: str, rows: Sequence[Mapping[str, str | None]], *, first: int = 1,
                  expected_version: int | None = None) -> dict[str, Any]:
        """Replace the plans of the benefits a table names, as read from it: each row a `benefit`, a date `on`
        and the `value` expected then. One unit of work, one `benefit-planned` event per benefit; if any row is
        wrong nothing changes and every wrong row is named by its number, counted from `first` (as measure_rows)."""
        if not rows:
            raise BadInput(reason("empty-plan", "give at least one plan point (a date and the value expected then)"))
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            plans: dict[str, dict[date, float]] = {}
            problems = []
            for number, row in enumerate(rows, first):
                try:
                    benefit, day = find_benefit(collaboration, row.get("benefit") or ""), _day(row.get("on"))
                    if day is None:
                        raise BadInput(reason("plan-date-missing", "a plan point needs its date (on)"))
                    value = validate.number(row.get("value") or "", f"the plan point of {day}")
                    self._in_span(benefit, [day])
                    if day in plans.setdefault(benefit.code, {}):
                        raise BadInput(reason("plan-date-twice", f"a second plan point of {benefit.code} for {day}"))
                    plans[benefit.code][day] = value
                except CollabError as error:
                    problems.append((number, error))
            refuse_rows(problems)
            for code, points in plans.items():
                self._replace_plan(session, actor, collaboration, find_benefit(collaboration, code), points)
            return {"key": collaboration.key, "benefits": len(plans), "points": sum(map(len, plans.values()))}

    def _in_span(self, benefit: Benefit, days: Sequence[date]) -> None:
        end = benefit.target_date or validate.horizon(self.ctx.clock.today())
        outside = [day.isoformat() for day in days if not benefit.start_on <= day <= end]
        if outside:
            raise BadInput(reason("plan-outside-span", f"plan points {', '.join(outside)} fall outside benefit "
                                  f"{benefit.code}'s span ({benefit.start_on} to {end})", benefit=benefit.code))

    def _replace_plan(self, session: Session, actor: Actor, collaboration: Collaboration, benefit: Benefit,
                      points: dict[date, float]) -> None:
        session.execute(delete(PlanPoint).where(PlanPoint.benefit_id == benefit.id))
        session.connection().execute(insert(_PLAN_POINTS), [{"benefit_id": benefit.id, "on": day, "value": value}
                                            for day, value in sorted(points.items())])
        self.ctx.record(session, actor, "benefit-planned", collaboration=collaboration, benefit=benefit.code,
                        points={day.isoformat(): value for day, value in sorted(points.items())})

    def measure(self, key: str, code: str, value: str | float, *, on: date | None = None, note: str | None = None,
                expected_version: int | None = None) -> dict[str, Any]:
        """Record a benefit's measured value; by its owner or the secretary of its reviewing board."""
        figure = self._figure(code, value, on, note)
        with self.ctx.changing(key, None, expected_version) as (session, actor, collaboration):
            figure = _may_measure(actor, collaboration, _ended(session, collaboration), figure)
            return self._record_figures(session, actor, collaboration, [figure])[0]

    def measure_rows(self, key: str, rows: Sequence[Mapping[str, str | None]], *, first: int = 1,
                     expected_version: int | None = None) -> dict[str, Any]:
        """Record many measurements at once, as read from a table: each row names its `benefit`, `value` and
        optionally `on` (ISO date, default today) and `note`. One unit of work with one `measured` event per
        figure; if any row is wrong nothing is recorded and every wrong row is named by its number, counted
        from `first` (2 for a table under a header row, as a spreadsheet numbers it)."""
        if not rows:
            raise BadInput(reason("no-figures", "the table has no figures: give a row per figure (benefit, value)"))
        with self.ctx.changing(key, None, expected_version) as (session, actor, collaboration):
            ended = _ended(session, collaboration)
            figures, problems = [], []
            for number, row in enumerate(rows, first):
                try:
                    figure = self._figure(row.get("benefit") or "", row.get("value") or "", _day(row.get("on")),
                                          row.get("note") or None)
                    figures.append(_may_measure(actor, collaboration, ended, figure))
                except CollabError as error:
                    problems.append((number, error))
            refuse_rows(problems)
            done = self._record_figures(session, actor, collaboration, figures)
            return {"key": collaboration.key, "measured": len(done), "figures": done}

    def _figure(self, code: str, value: str | float, on: date | None, note: str | None) -> Figure:
        """A figure checked on its own: (benefit, value, date, note)."""
        number = validate.number(value, "the value")
        note = validate.text(note, "the note", multiline=True) if note is not None else None
        today = self.ctx.clock.today()
        day = on or today
        if day > today:
            raise BadInput(reason("date-in-future", f"a measurement cannot be dated in the future ({day}; today is {today})"))
        return code, number, day, note

    def _record_figures(self, session: Session, actor: Actor, collaboration: Collaboration,
                        figures: Sequence[Figure]) -> list[dict[str, Any]]:
        """Insert checked figures and their `measured` events, each statement once for all of them."""
        ids, recorder = {b.code: b.id for b in collaboration.benefits}, actor.id
        session.connection().execute(insert(_MEASUREMENTS), [{"benefit_id": ids[code], "on": day, "value": value, "note": note,
                                               "recorded_by_id": recorder} for code, value, day, note in figures])
        self.ctx.record_all(session, actor, "measured", [
            (day, {"benefit": code, "value": value, "note": note, "stage": collaboration.stage})
            for code, value, day, note in figures], collaboration=collaboration)
        return [{"key": collaboration.key, "id": code, "value": value, "on": day.isoformat()}
                for code, value, day, _ in figures]

    def handover(self, key: str, code: str, *, business_area: str, to: str, board: str | None = None,
                 expected_version: int | None = None) -> dict[str, Any]:
        """Propose that a business area takes a benefit on; re-proposing replaces a pending or declined proposal.
        Without a `board`, the first of the partners' boards of the types that review its category is proposed."""
        business_area = validate.text(business_area, "the business area", max_length=200)
        with self.ctx.changing(key, "change a collaboration", expected_version) as (session, actor, collaboration):
            benefit = live_benefit(collaboration, code)
            current = current_handovers(session, [benefit.id]).get(benefit.id)
            if current is not None and current.status == "accepted":
                raise Refused(reason("handover-already-accepted", f"benefit {code} was already accepted by "
                                     f"{current.to_user.name} on {current.decided_on}", benefit=code))
            receiver = find_user(session, to)
            reviewing = open_board(session, board) if board else \
                next(iter(default_boards(session, collaboration, benefit.category)), None)
            session.add(Handover(benefit_id=benefit.id, business_area=business_area, to_user=receiver, board=reviewing,
                                 status="proposed", proposed_on=self.ctx.clock.today()))
            self.ctx.record(session, actor, "handover-proposed", collaboration=collaboration, benefit=benefit.code,
                            business_area=business_area, to=receiver.name, board=_named(reviewing))
            return {"key": collaboration.key, "id": benefit.code, "business_area": business_area, "to": receiver.name,
                    "board": _named(reviewing)}

    def accept(self, key: str, code: str, *, signing_key: Ed25519PrivateKey | None = None,
               expected_version: int | None = None) -> dict[str, Any]:
        """The named receiver takes the benefit on; someone who has registered a signing key signs with it."""
        return self._decide(key, code, "accepted", None, expected_version, signing_key)

    def decline(self, key: str, code: str, *, reason: str, expected_version: int | None = None) -> dict[str, Any]:
        return self._decide(key, code, "declined", validate.text(reason, "the reason", multiline=True), expected_version)

    def _decide(self, key: str, code: str, status: str, why: str | None, expected_version: int | None,
                signing_key: Ed25519PrivateKey | None = None) -> dict[str, Any]:
        """The named receiver, and nobody else, accepts or declines a proposed handover."""
        with self.ctx.changing(key, None, expected_version) as (session, actor, collaboration):
            benefit = live_benefit(collaboration, code)
            current = current_handovers(session, [benefit.id]).get(benefit.id)
            if current is None or current.status != "proposed":
                state = "no handover proposed" if current is None else f"its handover is already {current.status}"
                raise Refused(reason("no-handover-pending", f"benefit {code}: {state}", benefit=code))
            if current.to_user.name != actor.name:
                raise Refused(reason("not-the-receiver", f"only {current.to_user.name}, the named receiver, may accept "
                                     f"or decline benefit {code}", benefit=code, receiver=current.to_user.name))
            today = self.ctx.clock.today()
            taken = {"benefit": benefit.code, "business_area": current.business_area, "to": current.to_user.name,
                     "board": current.board.name if current.board else None}
            signature = signed_decision(session, actor, signing_key, signing.statement(
                "accept", collaboration.key, actor.name, today, taken, benefit=benefit.code)) if status == "accepted" else None
            current.status, current.reason, current.decided_on = status, why, today
            signed: dict[str, Any] = {"signature": signature} if signature else {}
            self.ctx.record(session, actor, f"handover-{status}", collaboration=collaboration, benefit=benefit.code, reason=why,
                            business_area=current.business_area, **signed)
            return {"key": collaboration.key, "id": benefit.code, "status": status, "signed": signature is not None}

    def retire(self, key: str, code: str, *, reason: str, expected_version: int | None = None) -> dict[str, Any]:
        """Stop tracking a benefit; its history stays. A chief officer of a partner approves it."""
        from workflow.errors import reason as because

        reason = validate.text(reason, "the reason", multiline=True)
        with self.ctx.changing(key, "retire a benefit", expected_version) as (session, actor, collaboration):
            if actor.partner not in {p.name for p in collaboration.partners}:
                raise Refused(because("not-a-partner", f"{actor.name} acts for {actor.partner}, which is not a partner "
                                      f"of {key}", actor=actor.name, partner=actor.partner))
            benefit = live_benefit(collaboration, code)
            benefit.retired_on, benefit.retired_reason = self.ctx.clock.today(), reason
            benefit.retired_by_id = actor.id
            self.ctx.record(session, actor, "benefit-retired", collaboration=collaboration, benefit=benefit.code, reason=reason)
            return {"key": collaboration.key, "id": benefit.code, "retired_on": benefit.retired_on.isoformat()}


def require_measurer(actor: Actor, benefit: Benefit) -> None:
    """Figures are recorded (and voided) by the benefit's owner or the secretary of its reviewing board."""
    secretary = benefit.board.secretary.name if benefit.board else None
    owner = benefit.owner.name if benefit.owner else None
    if actor.name not in (owner, secretary):
        raise Refused(reason("may-not-measure", f"{actor.name} may not measure benefit {benefit.code}: only its owner "
                             f"({owner or 'none named'}) or the secretary of its board ({secretary or 'no board named'})",
                             benefit=benefit.code, owner=owner, secretary=secretary))


def _profile(**given: Any) -> dict[str, Any]:
    """A profile's texts and figures as stored, each checked where it enters; None left as None."""
    checks = {"title": lambda v: validate.text(v, "the title", max_length=300),
              "measure": lambda v: validate.text(v, "the measure", multiline=True),
              "unit": lambda v: v if v == "" else validate.text(v, "the unit", max_length=40),
              "baseline": lambda v: validate.number(v, "the baseline"),
              "target": lambda v: validate.number(v, "the target")}
    return {name: None if value is None else checks[name](value) for name, value in given.items()}


def _require_span(code: str, start: date, by: date | None, today: date) -> None:
    """A target date after the day the benefit was identified, within the plausible horizon."""
    if by is not None:
        validate.day(by, "the target date", not_after=validate.horizon(today))
        if by <= start:
            raise BadInput(reason("target-before-start", f"benefit {code}'s target date {by} is not after the day it "
                                  f"was identified ({start})", benefit=code))


def _require_change(code: str, baseline: float | None, target: float | None) -> None:
    if baseline is not None and baseline == target:
        raise BadInput(reason("target-equals-baseline", f"benefit {code}: target equals baseline ({target}); a benefit "
                              "must change something", benefit=code))


def _named(value: Any) -> Any:
    """A user or board by its name, anything else as it is (for history payloads)."""
    return value.name if isinstance(value, (User, Board)) else value
