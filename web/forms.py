"""The actions a person takes, as data: each is a form (its fields) and the use case it calls.

The same specs serve the HTML forms and the JSON API's POSTs, so both call the use case exactly as the
CLI command of the same name does. A value arrives as text; `parse` turns it into what the use case takes,
refusing it (BadInput, as the CLI exits 2) with the field's label when it is not what the field needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from workflow.errors import BadInput, reason
from workflow.vocabulary import CATEGORIES, COST_CATEGORIES, LINK_KINDS, ORIGINS, OUTCOMES, PARTNER_KINDS, RISK_APPETITES

Choices = tuple[str, ...]


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text, textarea, date, number, select, checkbox, password, file
    required: bool = False
    choices: Choices | str = ()  # a fixed vocabulary, or the name of a list the page fills in (benefits, boards, ...)
    help: str = ""


@dataclass(frozen=True)
class Action:
    name: str
    title: str
    fields: tuple[Field, ...]
    call: Callable[..., dict[str, Any]]
    done: Callable[[dict[str, Any]], str]
    signs: bool = False  # a signed decision once the person has a key: asks for the password and the key again
    on_collaboration: bool = True
    submit: str = "Save"


def parse(spec: Field, raw: Any) -> Any:
    """A submitted value as the use case takes it; None for a blank optional field."""
    if spec.kind == "checkbox":
        return raw not in (None, "", False, "0", "false", "off")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if spec.required:
            raise BadInput(reason("field-missing", f"{spec.label} is needed", field=spec.name))
        return None
    text = str(raw).strip()
    if spec.kind == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise BadInput(reason("bad-date", f"{spec.label}: {text!r} is not a date (e.g. 2026-11-25)",
                                  field=spec.name)) from None
    if spec.kind == "number":
        try:
            return float(text)
        except ValueError:
            raise BadInput(reason("bad-number", f"{spec.label}: {text!r} is not a number", field=spec.name)) from None
    if isinstance(spec.choices, tuple) and spec.choices and text not in spec.choices:
        raise BadInput(reason("bad-choice", f"{spec.label}: {text!r} is not one of {', '.join(spec.choices)}",
                              field=spec.name))
    return text


ON = Field("on", "Effective date", "date", help="Default today; never in the future.")
REASON = Field("reason", "Reason", "textarea")
BENEFIT = Field("benefit", "Benefit", "select", True, "benefits")


def _move(trigger: str) -> Callable[..., dict[str, Any]]:
    return lambda app, key, v, **kw: getattr(app, trigger)(key, on=v["on"], reason=v["reason"], **kw)


def _moved(done: dict[str, Any]) -> str:
    return f"{done['key']}: {done['from']} -> {done['to']} (effective {done['on']})"


def _optional(values: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {n: values[n] for n in names if values.get(n) is not None}


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("new", "Register a collaboration", (
        Field("key", "Key", required=True, help="A short name, e.g. SA."),
        Field("title", "Title", required=True),
        Field("objective", "Objective", "textarea"),
        Field("public_benefit", "Public benefit", "textarea"),
        Field("origin", "Origin", "select", True, ORIGINS,
              help="operational: started outside the formal change process, registered so that it is sighted."),
        Field("on", "Registered on", "date"),
        Field("definition", "Definition", help="NAME or NAME@VERSION of a stored definition; default the latest."),),
        lambda app, _key, v, **_: app.new(v["key"], v["title"], objective=v["objective"],
                                          public_benefit=v["public_benefit"], origin=v["origin"], on=v["on"],
                                          **({"definition": v["definition"]} if v.get("definition") else {})),
        lambda d: f"registered {d['key']} at {d['stage']} ({d['definition']} v{d['version']})",
        on_collaboration=False, submit="Register"),
    Action("update", "Purpose and rationale", (
        Field("title", "Title"), Field("objective", "Objective", "textarea"),
        Field("public_benefit", "Public benefit", "textarea"),
        Field("rationale", "Rationale (s.23HA)", "textarea",
              help="The existing agreements considered and why this serves efficiency or effectiveness.")),
        lambda app, key, v, **kw: app.update(key, **v, **kw),
        lambda d: f"updated {', '.join(d['changed'])}" if d["changed"] else "nothing changed"),
    Action("partner", "Record a partner", (
        Field("org", "Organisation", required=True), Field("kind", "Kind", "select", False, PARTNER_KINDS),
        Field("risk_appetite", "Risk appetite", "select", False, RISK_APPETITES),
        Field("cost_share", "Cost share (percent)")),
        lambda app, key, v, **kw: app.add_partner(key, v["org"], kind=v["kind"], risk_appetite=v["risk_appetite"],
                                                  cost_share=v["cost_share"], **kw),
        lambda d: f"{d['name']} ({d['kind']}), risk appetite {d['risk_appetite'] or '-'}, cost share "
                  f"{d['cost_share'] if d['cost_share'] is not None else '-'}%"),
    Action("advance", "Advance to the next stage", (
        Field("to", "To stage", "select", False, "next_stages", help="Needed only where more than one stage follows."),
        ON, REASON),
        lambda app, key, v, **kw: app.advance(key, to=v["to"], on=v["on"], reason=v["reason"], **kw), _moved,
        submit="Advance"),
    Action("hold", "Put on hold", (ON, Field("reason", "Reason", "textarea", True)), _move("hold"), _moved,
           submit="Hold"),
    Action("resume", "Resume", (ON, REASON), _move("resume"), _moved, submit="Resume"),
    Action("approve", "Approve a gate", (Field("gate", "Gate", "select", True, "gates"), ON),
           lambda app, key, v, **kw: app.approve(key, v["gate"], on=v["on"], **kw),
           lambda d: f"{d['partner']} {d['role']} {'had already approved' if d['already'] else 'approved'} the "
                     f"{d['gate']} gate ({d['on']}{', signed' if d.get('signed') else ''})",
           signs=True, submit="Approve"),
    Action("artefact", "Record an artefact", (
        Field("kind", "Kind", "select", True, "artefact_kinds"),
        Field("ref", "Reference", required=True, help="Where the document is (a reference, path or URL)."), ON),
        lambda app, key, v, **kw: app.add_artefact(key, v["kind"], v["ref"], on=v["on"], **kw),
        lambda d: f"artefact {d['kind']} recorded ({d['ref']}, {d['on']})"),
    Action("benefit-add", "Identify a benefit", (
        Field("benefit", "Benefit id", required=True, help="e.g. B1"), Field("title", "Title", required=True),
        Field("category", "Category", "select", True, CATEGORIES), Field("measure", "Measure"), Field("unit", "Unit"),
        Field("baseline", "Baseline", "number"), Field("target", "Target", "number"), Field("by", "Target date", "date"),
        Field("owner", "Owner (user)", "select", False, "users"), Field("board", "Board", "select", False, "boards"),
        Field("dis_benefit", "A dis-benefit (a negative consequence)", "checkbox"),
        Field("on", "Identified on", "date")),
        lambda app, key, v, **kw: app.add_benefit(key, v["benefit"], title=v["title"], category=v["category"],
                                                  **_optional(v, "measure", "baseline", "target", "by", "owner", "board",
                                                              "unit", "on"), dis_benefit=v["dis_benefit"], **kw),
        lambda d: f"benefit {d['id']} ({d['category']}) {d['title']}"),
    Action("benefit-update", "Complete a benefit's profile", (
        BENEFIT, Field("title", "Title"), Field("measure", "Measure"), Field("unit", "Unit"),
        Field("baseline", "Baseline", "number"), Field("target", "Target", "number"), Field("by", "Target date", "date"),
        Field("owner", "Owner (user)", "select", False, "users"), Field("board", "Board", "select", False, "boards")),
        lambda app, key, v, **kw: app.update_benefit(key, v["benefit"], **_optional(
            v, "title", "measure", "unit", "baseline", "target", "by", "owner", "board"), **kw),
        lambda d: f"benefit updated: {', '.join(d['changed']) or 'nothing'}"),
    Action("measure", "Enter a figure", (
        BENEFIT, Field("value", "Value", "number", True), Field("on", "True on", "date"), Field("note", "Note")),
        lambda app, key, v, **kw: app.measure(key, v["benefit"], v["value"], on=v["on"], note=v["note"], **kw),
        lambda d: f"measured {d['value']:g} on {d['on']}"),
    Action("handover", "Propose a handover", (
        BENEFIT, Field("business_area", "Business area", required=True),
        Field("to", "Receiving owner (user)", "select", True, "users"),
        Field("board", "Reviewing board after closure", "select", False, "boards")),
        lambda app, key, v, **kw: app.handover(key, v["benefit"], business_area=v["business_area"], to=v["to"],
                                               board=v["board"], **kw),
        lambda d: "handover proposed; awaiting acceptance", submit="Propose"),
    Action("accept", "Accept a handover", (BENEFIT,),
           lambda app, key, v, **kw: app.accept(key, v["benefit"], **kw),
           lambda d: "handover accepted" + (", signed" if d.get("signed") else ""), signs=True, submit="Accept"),
    Action("decline", "Decline a handover", (BENEFIT, Field("reason", "Reason", "textarea", True)),
           lambda app, key, v, **kw: app.decline(key, v["benefit"], reason=v["reason"], **kw),
           lambda d: "handover declined", submit="Decline"),
    Action("objective", "Add an objective", (
        Field("objective", "Objective id", required=True, help="e.g. O1"), Field("title", "Title", required=True), ON),
        lambda app, key, v, **kw: app.add_objective(key, v["objective"], title=v["title"], on=v["on"], **kw),
        lambda d: f"objective {d['id']} added"),
    Action("link", "Place a benefit on the logic map", (
        BENEFIT, Field("kind", "Link", "select", True, LINK_KINDS,
                       help="objective: it serves one; contributes-to: a benefit it feeds; caused-by: a dis-benefit's "
                            "cause."),
        Field("to", "To (objective or benefit id)", required=True)),
        lambda app, key, v, **kw: app.link_benefit(key, v["benefit"], kind=v["kind"], to=v["to"], **kw),
        lambda d: f"benefit {d['id']} linked ({d['link']} {d['to']})"),
    Action("benefit-board", "Add a reviewing board", (
        BENEFIT, Field("board", "Further board", "select", True, "boards"), Field("on", "From", "date")),
        lambda app, key, v, **kw: app.add_benefit_board(key, v["benefit"], v["board"], on=v["on"], **kw),
        lambda d: f"{d['board']} reviews benefit {d['id']} from {d['since']}"),
    Action("cost", "Set a cost", (
        Field("partner", "Partner", required=True), Field("year", "Financial year", required=True, help="e.g. 2026-27"),
        Field("category", "Category", "select", True, COST_CATEGORIES),
        Field("one_off", "One-off (pounds)", required=True), Field("recurring", "Recurring (pounds)", required=True),
        Field("reason", "Reason", "textarea", help="Needed to change a figure already set.")),
        lambda app, key, v, **kw: app.set_cost(key, partner=v["partner"], year=v["year"], category=v["category"],
                                               one_off=v["one_off"], recurring=v["recurring"], reason=v["reason"], **kw),
        lambda d: f"{d['partner']} {d['year']} {d['category']}: one-off £{d['one_off']:,.2f}, "
                  f"recurring £{d['recurring']:,.2f}"),
    Action("review", "Record a board's review of a benefit", (
        BENEFIT, Field("board", "Board", "select", True, "boards"), Field("meeting", "Meeting", "date", True),
        Field("outcome", "Outcome", "select", True, OUTCOMES), Field("note", "Note", "textarea", True),
        Field("evidence_source", "Evidence source", help="e.g. a focus group or staff survey"),
        Field("evidence_on", "Evidence dated", "date")),
        lambda app, key, v, **kw: app.review_benefit(key, v["benefit"], board=v["board"], meeting=v["meeting"],
                                                     outcome=v["outcome"], note=v["note"],
                                                     evidence_source=v["evidence_source"],
                                                     evidence_on=v["evidence_on"], **kw),
        lambda d: f"{d['board']}'s review of benefit {d['id']} at its {d['meeting']} meeting: {d['outcome']}"),
    Action("lesson", "Record a lesson learned", (Field("text", "Lesson", "textarea", True), Field("theme", "Theme")),
           lambda app, key, v, **kw: app.add_lesson(key, v["text"], theme=v["theme"], **kw),
           lambda d: "lesson recorded"),
)}
