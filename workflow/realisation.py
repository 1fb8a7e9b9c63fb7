"""Benefit realisation: how far a benefit has moved from baseline towards target, and whether that is
keeping pace with its plan. Pure functions, no database, so boards' figures can be tested and reproduced.

Targets may lie above the baseline (crimes solved 100 -> 150) or below it (annual cost 10 -> 8); every
comparison is made on *progress* (a fraction of the way from baseline to target) so direction never matters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from math import floor

__all__ = ["STATUSES", "Realisation", "progress", "plan_line", "planned_value", "assess", "share_savings", "shares_complete",
           "split_pennies"]

STATUSES = ("on-track", "behind", "realised", "no-data", "retired")

# Float arithmetic on values such as 9.4 yields 0.29999999999999982 and the like; a benefit exactly on
# plan (or exactly at target) must not be reported as behind because of that.
_TOLERANCE = 1e-9
PENNY = Decimal("0.01")


@dataclass(frozen=True)
class Realisation:
    """One benefit's position on a given day, as shown to a board."""

    latest: float | None
    latest_on: date | None
    progress: float | None  # fraction baseline -> target for `latest`, 4 dp; None without data
    planned: float | None  # the plan's value at `today`, 6 dp
    planned_progress: float | None  # fraction baseline -> target for `planned`, 4 dp
    status: str


def progress(baseline: float, target: float, value: float) -> float:
    """(value - baseline) / (target - baseline): 0.5 = half way, whichever direction the target lies.

    Can be negative (moved the wrong way) or > 1 (beyond target); not clamped, because boards need to see both.
    ValueError if target == baseline (such a benefit cannot be registered).
    """
    if target == baseline:
        raise ValueError("target equals baseline: progress is undefined")
    return (value - baseline) / (target - baseline)


def plan_line(
    start: date,
    baseline: float,
    target: float,
    target_date: date,
    plan: Sequence[tuple[date, float]],
) -> list[tuple[date, float]]:
    """The points the plan runs through, in date order: (start, baseline), then the plan's points.

    With no points, the plan is the straight line (start, baseline) -> (target_date, target). Points may come
    unsorted. ValueError if two points fall on one day -- including a plan point on `start`, which would clash
    with the anchor -- or if a point (or, without points, `target_date`) is before `start`, since it could not
    lie behind the anchor.
    """
    if plan:
        points = sorted((d, float(v)) for d, v in plan)
    else:
        points = [(target_date, float(target))]
    for (d0, _), (d1, _) in zip(points, points[1:]):
        if d0 == d1:
            raise ValueError(f"two plan points on {d1.isoformat()}")
    if points[0][0] <= start:
        raise ValueError(
            f"plan point {points[0][0].isoformat()} is not after the start {start.isoformat()}"
        )
    return [(start, float(baseline)), *points]


def planned_value(
    start: date,
    baseline: float,
    target: float,
    target_date: date,
    plan: Sequence[tuple[date, float]],
    on: date,
) -> float:
    """The value the plan expects on `on`: linear (by day count) between the points of `plan_line`; before the
    first point the anchor value; after the last point the last point's value. ValueError as `plan_line`.
    """
    points = plan_line(start, baseline, target, target_date, plan)
    if on <= points[0][0]:
        return points[0][1]
    if on >= points[-1][0]:
        return points[-1][1]
    for (d0, v0), (d1, v1) in zip(points, points[1:]):
        if d0 <= on <= d1:
            return v0 + (v1 - v0) * (on - d0).days / (d1 - d0).days
    raise AssertionError("unreachable: `on` lies within the plan's span")  # pragma: no cover


def assess(
    *,
    baseline: float,
    target: float,
    start: date,
    target_date: date,
    plan: Sequence[tuple[date, float]],
    measurements: Sequence[tuple[date, float]],
    today: date,
    retired: bool = False,
    dis_benefit: bool = False,
) -> Realisation:
    """A benefit's latest value, progress, planned value and status as at `today`.

    Status: 'retired' if retired (other fields still computed, for the record); 'no-data' if no measurement on
    or before today; 'realised' if progress(latest) >= 1; else 'on-track' if progress(latest) >=
    progress(planned), else 'behind' (comparisons with a 1e-9 tolerance, on unrounded values).
    A dis-benefit's target is the harm expected, so it reads the other way round: 'on-track' while the harm is
    no worse than planned, 'behind' once it is worse; it is never 'realised'.
    Latest = the measurement with the latest date on or before today (measurements dated later are ignored, so
    a report can be re-run as at a past day); for equal dates the last in the sequence wins, as the correction.
    """
    planned_raw = planned_value(start, baseline, target, target_date, plan, today)
    planned_prog_raw = progress(baseline, target, planned_raw)

    latest: float | None = None
    latest_on: date | None = None
    for on, value in measurements:
        if on <= today and (latest_on is None or on >= latest_on):
            latest_on, latest = on, float(value)

    prog_raw = None if latest is None else progress(baseline, target, latest)

    if retired:
        status = "retired"
    elif prog_raw is None:
        status = "no-data"
    elif dis_benefit:
        status = "behind" if prog_raw > planned_prog_raw + _TOLERANCE else "on-track"
    elif prog_raw >= 1 - _TOLERANCE:
        status = "realised"
    elif prog_raw >= planned_prog_raw - _TOLERANCE:
        status = "on-track"
    else:
        status = "behind"

    return Realisation(
        latest=latest,
        latest_on=latest_on,
        progress=None if prog_raw is None else round(prog_raw, 4),
        planned=round(planned_raw, 6),
        planned_progress=round(planned_prog_raw, 4),
        status=status,
    )


def _to_decimal(x: Decimal | float, what: str) -> Decimal:
    # str() first: Decimal(0.1) is 0.1000000000000000055..., Decimal(str(0.1)) is 0.1 as the user typed it.
    d = x if isinstance(x, Decimal) else Decimal(str(x))
    if not d.is_finite():
        raise ValueError(f"{what} must be a finite number, got {x!r}")
    return d


def shares_complete(shares: Mapping[str, Decimal | None]) -> bool:
    """Every partner's cost share is recorded and they total 100: only then can savings be split between them."""
    return bool(shares) and all(s is not None for s in shares.values()) and sum(s for s in shares.values() if s is not None) == 100


def share_savings(amount: float, shares: Mapping[str, Decimal | float]) -> dict[str, float]:
    """`split_pennies` of a saving typed as a float, the parts as floats (as a register row shows them)."""
    return {name: float(part) for name, part in split_pennies(_to_decimal(amount, "amount"), shares).items()}


def split_pennies(amount: Decimal, shares: Mapping[str, Decimal | float]) -> dict[str, Decimal]:
    """Split an amount of money between partners by cost share (percent, summing to 100).

    The amount is rounded to pennies (ROUND_HALF_EVEN) and the parts add up EXACTLY to it, so a finance
    report never shows a penny appearing or vanishing. Each partner gets the whole pennies of its exact share;
    the few remainder pennies go by the largest-remainder method: largest fractional remainder first, ties to
    the larger share, then to the earlier partner. Shares are normalised by their actual sum (which may be off
    100 by up to 0.001). A negative amount is split the same way with its sign. Order = order of `shares`.
    ValueError if shares do not sum to 100 (within 0.001) or any share is negative.
    """
    total = _to_decimal(amount, "amount").quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    pcts = {name: _to_decimal(s, f"share of {name!r}") for name, s in shares.items()}
    for name, pct in pcts.items():
        if pct < 0:
            raise ValueError(f"share of {name!r} is negative: {pct}")
    pct_sum = sum(pcts.values(), Decimal(0))
    if abs(pct_sum - 100) > Decimal("0.001"):
        raise ValueError(f"shares sum to {pct_sum}, not 100")

    pennies = int(total.scaleb(2))
    sign, whole = (-1 if pennies < 0 else 1), abs(pennies)
    # Exact rational arithmetic, so the floors can never overshoot `whole` nor the remainder exceed len(shares).
    exact = {name: Fraction(whole) * Fraction(pct) / Fraction(pct_sum) for name, pct in pcts.items()}
    parts = {name: floor(x) for name, x in exact.items()}
    left = whole - sum(parts.values())
    position = {name: i for i, name in enumerate(pcts)}
    ranked = sorted(pcts, key=lambda n: (-(exact[n] - parts[n]), -pcts[n], position[n]))
    for name in ranked[:left]:
        parts[name] += 1

    return {name: Decimal(sign * p).scaleb(-2).quantize(PENNY) for name, p in parts.items()}
