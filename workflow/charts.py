"""Geometry of the report's pictures: the stage timeline and each benefit's realisation chart.

Pure functions from a report's facts to coordinates, paths and labels. The templates only place
what is computed here, so the markup stays declarative and every coordinate is testable without
a browser. Sizes are SVG user units (CSS pixels at 100 %); an A4 page holds 680 across.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from math import ceil, floor, log10
from typing import Any

from workflow.formatting import format_number, format_quantity
from workflow.realisation import plan_line

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PALETTE_SIZE = 8  # stage colours .c0 .. .c7 in the stylesheet, by order of first appearance


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Scale:
    """A linear map from a domain (day ordinals or values) onto a span of the picture."""

    lo: float
    hi: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        return round(self.start + (value - self.lo) * (self.end - self.start) / (self.hi - self.lo), 1)


def day_label(day: date) -> str:
    """`3 Feb 2014`: unambiguous on both sides of the Atlantic, shorter than ISO in a picture."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _month_starts(first: date, last: date, step: int) -> list[date]:
    index = first.year * 12 + first.month - 1 + (first.day > 1)
    index = ceil(index / step) * step
    days = []
    while (day := date(index // 12, index % 12 + 1, 1)) <= last:
        days.append(day)
        index += step
    return days


def date_ticks(first: date, last: date, scale: Scale, most: int) -> list[Tick]:
    """Month starts every 1, 3, 6, 12, 24 or 60 months: the finest step with at most `most` ticks."""
    for step in (1, 3, 6, 12, 24, 60, 120):
        days = _month_starts(first, last, step)
        if len(days) <= most:
            break
    return [Tick(scale(d.toordinal()), str(d.year) if step >= 12 else f"{MONTHS[d.month - 1]} {d.year}") for d in days]


def nice_range(lo: float, hi: float, most: int = 5) -> tuple[float, float, float]:
    """(low, high, step): the span widened to whole steps of 1, 2, 2.5 or 5 x 10^k, at most `most` steps."""
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    magnitude = 10 ** floor(log10((hi - lo) / most))
    for multiple in (1, 2, 2.5, 5, 10, 20):
        step = multiple * magnitude
        low, high = floor(lo / step) * step, ceil(hi / step) * step
        if (high - low) / step <= most:
            return low, high, step
    raise AssertionError("unreachable: a 20x step always fits")  # pragma: no cover


# -- the stage timeline ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    """One stay in a stage: a row with its label on the left and a bar over the time axis."""

    stage: str
    dates: str
    y: float  # top of the row: the label's first line sits here
    bar_y: float
    x: float
    width: float
    colour: int
    current: bool
    gate: str  # how the stage was entered, for the bar's start mark


@dataclass(frozen=True)
class Mark:
    """Approvals given on one day, drawn as a diamond on the row of the stage they were given in."""

    x: float
    y: float
    path: str
    count: int
    title: str


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    label_right: float
    left: float
    right: float
    axis_y: float
    bar_height: int
    ticks: list[Tick]
    bands: list[Band]
    marks: list[Mark]
    today: float


def timeline(stages: Sequence[Mapping[str, Any]], approvals: Sequence[Mapping[str, Any]], as_of: date,
             width: int = 680) -> Timeline:
    """Stages as rows of bars against dates; the bar of the current stage runs to `as_of`.

    `stages`: {"stage", "on", "until", "days", "by", "action", "reason"}, oldest first (dates ISO);
    `approvals`: {"gate", "partner", "role", "by", "on"}. Each approval sits on the row of the stage that
    was current on its day (before the gate, if that was passed the same day), so a gate's approvals appear
    just before the bar of the stage it opened.
    """
    row_height, bar_height, axis_y, label_right = 34, 20, 26, 205
    left, right = label_right + 12, width - 16
    entered = [date.fromisoformat(s["on"]) for s in stages]
    first, last = entered[0], max(as_of, entered[-1])
    if last == first:
        last = date.fromordinal(first.toordinal() + 1)
    scale = Scale(first.toordinal(), last.toordinal(), left, right)
    colours: dict[str, int] = {}
    bands = []
    for i, stage in enumerate(stages):
        until = date.fromisoformat(stage["until"]) if stage["until"] else as_of
        x0, x1 = scale(entered[i].toordinal()), scale(until.toordinal())
        colour = colours.setdefault(stage["stage"], len(colours) % PALETTE_SIZE)
        ends = day_label(until) if stage["until"] else "now"
        gate = f"{stage['action']} by {stage['by']} on {day_label(entered[i])}" + (
            f": {stage['reason']}" if stage["reason"] else "")
        top = axis_y + 8 + i * row_height
        bands.append(Band(stage["stage"], f"{day_label(entered[i])} – {ends} · {_days(stage['days'])}",
                          top, top + 2, x0, max(x1 - x0, 2.0), colour, not stage["until"], gate))
    marks = []
    by_day: dict[tuple[int, str], list[Mapping[str, Any]]] = {}
    for approval in approvals:
        day = approval["on"]
        row = max((i for i, d in enumerate(entered) if d.isoformat() < day
                   or (d.isoformat() == day and stages[i]["stage"] != approval["gate"])), default=0)
        by_day.setdefault((row, day), []).append(approval)
    for (row, day), given in sorted(by_day.items()):
        x, y = scale(date.fromisoformat(day).toordinal()), bands[row].bar_y + bar_height / 2
        who = "; ".join(f"{a['gate']} gate: {a['by']} ({a['partner']} {a['role']})" for a in given)
        marks.append(Mark(x, y, f"M{x},{y - 6} l6,6 l-6,6 l-6,-6 z", len(given),
                          f"{day_label(date.fromisoformat(day))}: {who}"))
    return Timeline(width, int(axis_y + 8 + len(stages) * row_height), label_right, left, right, axis_y,
                    bar_height, date_ticks(first, last, scale, 8), bands, marks, scale(as_of.toordinal()))


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{format_number(days)} days"


# -- benefit realisation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str
    latest: bool


@dataclass(frozen=True)
class RealisationChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    y_title: str
    baseline_y: float
    target_y: float
    baseline_label: str
    target_label: str
    target: Point
    plan: str
    measured: str
    points: list[Point]
    today: float


def realisation(benefit: Mapping[str, Any], as_of: date, width: int = 330, height: int = 210) -> RealisationChart | None:
    """Measurements against the plan line, the baseline and the target; None while the profile lacks a
    baseline, target or target date (there is nothing to draw against).

    `benefit`: a row of the benefits register with "start_on", "plan" and "measured" ({"on", "value"}).
    """
    if benefit["baseline"] is None or benefit["target"] is None or benefit["target_date"] is None:
        return None
    baseline, target, unit = benefit["baseline"], benefit["target"], benefit["unit"]
    target_date = date.fromisoformat(benefit["target_date"])
    line = plan_line(date.fromisoformat(benefit["start_on"]), baseline, target, target_date,
                     [(date.fromisoformat(p["on"]), p["value"]) for p in benefit["plan"]])
    measured = [(date.fromisoformat(m["on"]), m["value"]) for m in benefit["measured"]]
    days = [d for d, _ in line] + [d for d, _ in measured] + [target_date, as_of]
    first, last = min(days), max(days)
    values = [v for _, v in line] + [v for _, v in measured] + [baseline, target]
    low, high, step = nice_range(min(values), max(values))
    left, right, top, bottom = 46.0, width - 12.0, 24.0, height - 26.0
    x = Scale(first.toordinal(), last.toordinal(), left, right)
    y = Scale(low, high, bottom, top)
    if line[-1][0] < last:
        line.append((last, line[-1][1]))
    y_ticks = [Tick(y(low + i * step), format_number(low + i * step)) for i in range(round((high - low) / step) + 1)]
    points = [Point(x(d.toordinal()), y(v), f"{day_label(d)}: {format_quantity(v, unit)}",
                    (d.isoformat(), v) == (benefit["latest_on"], benefit["latest"]))
              for d, v in measured]
    return RealisationChart(
        width, height, left, right, top, bottom,
        x_ticks=date_ticks(first, last, x, 5), y_ticks=y_ticks,
        y_title=_fit(benefit["measure"] or "value", 56) + (f" ({unit})" if unit else ""),
        baseline_y=y(baseline), target_y=y(target),
        baseline_label=f"baseline {format_quantity(baseline, unit)}",
        target_label=f"target {format_quantity(target, unit)}",
        target=Point(x(target_date.toordinal()), y(target),
                     f"target {format_quantity(target, unit)} by {day_label(target_date)}", False),
        plan=_path((x(d.toordinal()), y(v)) for d, v in line),
        measured=_path((p.x, p.y) for p in points),
        points=points, today=x(as_of.toordinal()),
    )


def _fit(text: str, most: int) -> str:
    """SVG text does not wrap: a long measure is cut (the chart's description and table carry it whole)."""
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


def _path(points: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{px},{py}" for px, py in points)


# -- portfolio ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    status: str
    x: float
    width: float
    count: int


def status_bar(counts: Mapping[str, int], order: Sequence[str], width: float = 120) -> list[Segment]:
    """A stacked bar of benefit counts by status, in `order`; empty when there are no benefits."""
    total = sum(counts.get(status, 0) for status in order)
    segments, x = [], 0.0
    for status in order:
        count = counts.get(status, 0)
        if count:
            share = round(width * count / total, 1)
            segments.append(Segment(status, x, share, count))
            x = round(x + share, 1)
    return segments


@dataclass(frozen=True)
class MapNode:
    id: str
    label: str
    kind: str  # "objective", "benefit", "dis-benefit" or "unlinked" (a benefit the map does not reach)
    x: float
    y: float


@dataclass(frozen=True)
class LogicMap:
    width: int
    height: int
    box_width: float
    box_height: float
    nodes: list[MapNode]
    edges: list[str]  # one path per link, from the box it leads from to the box it serves
    columns: list[tuple[float, str]]  # each column's x and heading


MAP_COLUMNS = ("Objectives", "Programme benefits", "Business-area benefits")


def logic_map(objectives: Sequence[Mapping[str, Any]], benefits: Sequence[Mapping[str, Any]],
              width: int = 680) -> LogicMap | None:
    """Objectives in the first column, the benefits serving them next, those contributing to a benefit (or caused
    by one) a column further on; a benefit reaching no objective sits in the benefits column, marked unlinked."""
    if not objectives and not benefits:
        return None
    level = {o["id"]: 0 for o in objectives}
    up = {b["id"]: [*b["objectives"], *b["contributes_to"], *b["caused_by"]] for b in benefits}
    while True:  # a benefit one column right of the leftmost thing it serves
        found = {code: 1 + min(level[t] for t in targets if t in level) for code, targets in up.items()
                 if code not in level and any(t in level for t in targets)}
        if not found:
            break
        level.update(found)
    columns = max([len(MAP_COLUMNS) - 1, *level.values()]) + 1
    step, box_height, gap, top = width / columns, 30.0, 8.0, 22.0
    placed: dict[int, int] = {}
    nodes = []
    for item, kind in [*((o, "objective") for o in objectives),
                       *((b, "dis-benefit" if b["dis_benefit"] else "benefit") for b in benefits)]:
        column = level.get(item["id"], 1)
        row = placed[column] = placed.get(column, -1) + 1
        nodes.append(MapNode(item["id"], _fit(f"{item['id']} {item['title']}", int(step / 6.2)),
                             kind if item["id"] in level else "unlinked", round(column * step, 1),
                             top + row * (box_height + gap)))
    box_width = round(step - 24, 1)
    at = {n.id: n for n in nodes}
    edges = [_path([(at[t].x + box_width, at[t].y + box_height / 2),
                    (at[code].x, at[code].y + box_height / 2)])
             for code, targets in up.items() for t in targets if t in at and code in level]
    headings = [MAP_COLUMNS[min(n, len(MAP_COLUMNS) - 1)] for n in range(columns)]
    return LogicMap(width, int(top + max(placed.values()) * (box_height + gap) + box_height + 2), box_width,
                    box_height, nodes, edges, [(round(n * step, 1), h) for n, h in enumerate(headings)])
