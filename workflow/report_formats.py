"""A report's facts (workflow.reports) as one self-contained HTML page, as JSON, or as one CSV table.

The HTML is rendered by jinja2 with autoescaping on and StrictUndefined: user text is never marked
safe, and a template that names a fact the report lacks fails instead of printing nothing. The page
carries its CSS and SVG inline and loads nothing: no script, font or image.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

import jinja2

from workflow.formatting import format_number, format_quantity, to_json
from workflow import charts
from workflow.audit import EXPORT_FIELDS
from workflow.inert import csv_cell

FORMATS = ("html", "json", "csv")
BAR_ORDER = ("realised", "on-track", "behind", "no-data")


def render(report: Mapping[str, Any], fmt: str) -> str:
    if fmt == "json":
        return to_json(report) + "\n"
    if fmt == "csv":
        return to_csv(report)
    if fmt == "html":
        return to_html(report)
    raise ValueError(f"unknown report format {fmt!r} (formats: {', '.join(FORMATS)})")


# -- HTML ---------------------------------------------------------------------------------------------------


def _missing(value: Any, show: str = "–") -> Any:
    return show if value is None or value == "" else value


def _day(iso: str | None) -> str:
    return charts.day_label(date.fromisoformat(iso)) if iso else "–"


def _quantity(value: float | None, unit: str = "") -> str:
    return "–" if value is None else format_quantity(value, unit)


def _money(value: float | str | None) -> str:
    """Pounds with their pence: `-£1,200.50` (a history's amounts come as text, exact)."""
    if value is None:
        return "–"
    amount = float(value)
    return f"{'-' if amount < 0 else ''}£{abs(amount):,.2f}"


def _percent(fraction: float | None) -> str:
    return "–" if fraction is None else f"{fraction:.0%}"


def _moment(iso: str) -> str:
    """`2017-07-03T12:00:00.5+01:00` -> `3 Jul 2017, 12:00:00 UTC+01:00`."""
    moment = datetime.fromisoformat(iso)
    zone = moment.strftime("%z")
    return f"{charts.day_label(moment.date())}, {moment:%H:%M:%S}" + (f" UTC{zone[:3]}:{zone[3:5]}" if zone else "")


def _details(payload: Mapping[str, Any]) -> str:
    """A history event's payload in words: `name: value` pairs, changes as `old → new`, empty values left out."""
    return "; ".join(f"{name.replace('_', ' ')}: {_plain(value)}" for name, value in payload.items()
                     if value not in (None, "", {}, []))


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        if set(value) == {"from", "to"}:
            return f"{_plain(value['from'])} → {_plain(value['to'])}"
        return ", ".join(f"{name.replace('_', ' ')} ({_plain(v)})" if isinstance(v, dict)
                         else f"{name.replace('_', ' ')} {_plain(v)}" for name, v in value.items())
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    if isinstance(value, float):
        return format_number(value, 6)
    return str(value)


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("workflow", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(number=format_number, quantity=_quantity, money=_money, day=_day, percent=_percent, details=_details,
                       moment=_moment, missing=_missing)
    env.globals.update(bar_order=BAR_ORDER)
    return env


def to_html(report: Mapping[str, Any]) -> str:
    if report["report"]["kind"] == "portfolio":
        bars = {row["key"]: charts.status_bar(row["benefits"], BAR_ORDER) for row in report["collaborations"]}
        return _environment().get_template("portfolio.html").render(r=report, bars=bars)
    as_of = date.fromisoformat(report["report"]["as_of"])
    pictures = {
        "timeline": charts.timeline(report["stages"], report["approvals"], as_of),
        "benefits": {b["id"]: charts.realisation(b, as_of) for b in report["benefits"]},
        "map": charts.logic_map(report["objectives"], report["benefits"]),
    }
    return _environment().get_template("report.html").render(r=report, pictures=pictures)


# -- CSV ----------------------------------------------------------------------------------------------------

# One table: each row is one fact of the report, its `section` naming which columns it fills (the same names
# as the JSON's keys), `collaboration` the key it belongs to.
SECTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "collaboration": {
        "collaboration": ("title", "stage", "since", "days_in_stage", "origin", "manager", "definition",
                          "definition_version", "objective", "public_benefit", "rationale", "held_from", "closed_on", "pir_due"),
        "partner": ("name", "kind", "risk_appetite", "cost_share"),
        "artefact": ("kind", "ref", "on", "sha256"),
        "stage": ("stage", "on", "until", "days", "by", "action", "reason"),
        "approval": ("gate", "partner", "role", "by", "on"),
        "gate": ("to", "ready", "unmet"),
        "objective": ("id", "title", "benefits"),
        "benefit": ("id", "title", "category", "dis_benefit", "measure", "unit", "baseline", "target", "target_date",
                    "start_on", "latest", "latest_on", "progress", "planned", "status", "owner", "board", "boards", "handover",
                    "retired", "objectives", "contributes_to", "caused_by"),
        "plan": ("benefit", "on", "value"),
        "measurement": ("benefit", "on", "value", "planned", "note"),
        "voided-measurement": ("benefit", "on", "value", "note", "voided_on", "reason"),
        "correction": ("seq", "on", "by", "action", "reason", "details"),
        "saving": ("benefit", "partner", "value"),
        "cost": ("partner", "year", "category", "one_off", "recurring"),
        "net-benefit": ("partner", "year", "savings", "costs", "net"),
        "cost-change": ("on", "by", "partner", "year", "category", "before", "after", "net_effect", "reason"),
        "review": ("benefit", "board", "due_on", "status"),
        "event": tuple(name for name in EXPORT_FIELDS if name != "collaboration"),
        "verification": ("ok", "events", "first_bad", "problem", "head"),
    },
    "portfolio": {
        "collaboration": ("title", "stage", "since", "days_in_stage", "origin", "manager", "objective",
                          "realised", "on-track", "behind", "no-data", "retired", "overdue_reviews"),
        "gate": ("to", "ready", "unmet"),
        "net-benefit": ("partner", "year", "savings", "costs", "net"),
        "review": ("benefit", "board", "due_on", "status"),
        "verification": ("ok", "events", "first_bad", "problem", "head"),
    },
}


def csv_columns(kind: str) -> list[str]:
    """`section`, `collaboration`, then every section's columns in order of first appearance."""
    columns = ["section", "collaboration"]
    for fields in SECTIONS[kind].values():
        columns += [name for name in fields if name not in columns]
    return columns


def to_csv(report: Mapping[str, Any]) -> str:
    kind = report["report"]["kind"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=csv_columns(kind), lineterminator="\n")
    writer.writeheader()
    for section, key, fact in (_collaboration_rows(report) if kind == "collaboration" else _portfolio_rows(report)):
        row = {"section": section, "collaboration": _cell(key)}
        row.update({name: _cell(fact[name]) for name in SECTIONS[kind][section]})
        writer.writerow(row)
    return out.getvalue()


def _cell(value: Any) -> Any:
    return csv_cell(json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, (dict, list)) else value)


Row = tuple[str, str | None, Mapping[str, Any]]


def _collaboration_rows(report: Mapping[str, Any]) -> Iterator[Row]:
    key = report["collaboration"]["key"]
    yield "collaboration", key, report["collaboration"]
    for section, facts in (("partner", "partners"), ("artefact", "artefacts"), ("stage", "stages"),
                           ("approval", "approvals"), ("gate", "gates"), ("objective", "objectives")):
        for fact in report[facts]:
            yield section, key, fact
    for b in report["benefits"]:
        yield "benefit", key, b
        for point in b["plan"]:
            yield "plan", key, {"benefit": b["id"], **point}
        for measured in b["measured"]:
            yield "measurement", key, {"benefit": b["id"], **measured}
        for voided in b["voided"]:
            yield "voided-measurement", key, {"benefit": b["id"], **voided}
        for partner, value in (b["savings"] or {}).items():
            yield "saving", key, {"benefit": b["id"], "partner": partner, "value": value}
    for section, facts in (("cost", "costs"), ("net-benefit", "net_benefit"), ("cost-change", "cost_changes")):
        for fact in report[facts]:
            yield section, key, fact
    for review in report["reviews"]:
        yield "review", review["collaboration"], review
    for correction in report["corrections"]:
        yield "correction", key, correction
    for event in report["history"]:
        yield "event", key, event
    yield "verification", None, report["verification"]


def _portfolio_rows(report: Mapping[str, Any]) -> Iterator[Row]:
    for c in report["collaborations"]:
        yield "collaboration", c["key"], {**c, **c["benefits"]}
        for move in c["gates"]:
            yield "gate", c["key"], move
        for net in c.get("share", {}).get("net_benefit", []):  # a force's portfolio: its own share only
            yield "net-benefit", c["key"], net
    for review in report["reviews"]:
        yield "review", review["collaboration"], review
    yield "verification", None, report["verification"]
