"""Walking a dateutil rule period by period (years, months, weeks or days, in step with its INTERVAL).

workflow.calendar restarts a rule near the window it is asked about (period_base) and checks a new
board's rule over a bounded window (first_occurrence). Both lean on dateutil's normalised rule
(`_freq`, `_byweekday`, ...) and on the per-year masks it builds (`_iterinfo`), which are private:
pinned by tests/test_calendar.py, which compares the walk with dateutil's own iteration.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta
from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, _iterinfo, rrule

if TYPE_CHECKING:
    from datetime import tzinfo
    from typing import Literal

    class _Rule(rrule):
        """The normalised parts dateutil keeps on a parsed rrule: private, so not in its stubs, but
        what the checks and the restart below read."""

        _dtstart: datetime
        _tzinfo: tzinfo | None
        _freq: Literal[0, 1, 2, 3, 4, 5, 6]
        _interval: int
        _count: int | None
        _until: datetime | None
        _wkst: int
        _bysetpos: tuple[int, ...] | None
        _bymonth: tuple[int, ...] | None
        _bymonthday: tuple[int, ...]
        _bynmonthday: tuple[int, ...]
        _byyearday: tuple[int, ...] | None
        _byeaster: tuple[int, ...] | None
        _byweekno: tuple[int, ...] | None
        _byweekday: tuple[int, ...] | None
        _bynweekday: tuple[tuple[int, int], ...] | None
        _byhour: tuple[int, ...] | None
        _byminute: tuple[int, ...] | None
        _bysecond: tuple[int, ...] | None
        _timeset: list[Any]


__all__ = ["first_occurrence", "period_base"]


def period_base(parsed: _Rule, target: datetime) -> date:
    """The first day of the rule's period (year, month, week or day, in step with INTERVAL from
    DTSTART) that contains `target`, or the last such period before it."""
    start = parsed._dtstart
    step = parsed._interval
    if parsed._freq == YEARLY:
        base = date(start.year + (target.year - start.year) // step * step, 1, 1)
    elif parsed._freq == MONTHLY:
        months = (target.year - start.year) * 12 + target.month - start.month
        base = date(start.year, start.month, 1) + relativedelta(months=months // step * step)
    elif parsed._freq == WEEKLY:
        first = _week_of(parsed, start.date())
        weeks = (_week_of(parsed, target.date()) - first).days // 7
        base = first + timedelta(weeks=weeks // step * step)
    else:  # DAILY: parse_recurrence admits nothing finer
        days = (target.date() - start.date()).days
        base = start.date() + timedelta(days=days // step * step)
    return base


def _week_of(parsed: _Rule, day: date) -> date:
    return day - timedelta(days=(day.weekday() - parsed._wkst) % 7)


def first_occurrence(parsed: _Rule, lo: datetime, hi: datetime) -> datetime | None:
    """The rule's first occurrence in [lo, hi] by its pattern, DTSTART and UNTIL (COUNT aside),
    visiting only the periods (years, months, weeks or days) that meet the window.

    dateutil's own iterator cannot be bounded like this: looking for the next occurrence it walks
    period after period up to the year 9999, some 8 s for a DAILY rule whose parts never coincide.
    This mirrors its per-period filter on the masks it builds (rrule._iter), for the one time a day
    parse_recurrence allows.
    """
    info: Any = _iterinfo(parsed)  # private, untyped in the stubs: its masks are filled by rebuild()
    dayset = {YEARLY: info.ydayset, MONTHLY: info.mdayset, WEEKLY: info.wdayset, DAILY: info.ddayset}[parsed._freq]
    from_ = max(lo, parsed._dtstart)
    period = max(period_base(parsed, from_), parsed._dtstart.date())  # dateutil's first week starts at DTSTART
    moment = parsed._timeset[0]
    while period <= hi.date():
        info.rebuild(period.year, period.month)
        days, start, stop = dayset(period.year, period.month, period.day)
        kept = [i for i in days[start:stop] if i is not None and _kept(parsed, info, i)]
        if parsed._bysetpos:
            kept = sorted({kept[p - 1 if p > 0 else p] for p in parsed._bysetpos if -len(kept) <= p <= len(kept)})
        for i in kept:
            found = datetime.combine(date.fromordinal(info.yearordinal + i), moment)
            if found < from_:
                continue
            return found if found <= hi and (parsed._until is None or found <= parsed._until) else None
        period = _next_period(parsed, period)
    return None


def _kept(r: Any, info: Any, i: int) -> bool:
    """Whether day `i` of the year passes the rule's BY* filters (dateutil's test, inverted)."""
    byyearday = r._byyearday
    return not (
        (r._bymonth and info.mmask[i] not in r._bymonth)
        or (r._byweekno and not info.wnomask[i])
        or (r._byweekday and info.wdaymask[i] not in r._byweekday)
        or (info.nwdaymask and not info.nwdaymask[i])
        or (r._byeaster and not info.eastermask[i])
        or ((r._bymonthday or r._bynmonthday) and info.mdaymask[i] not in r._bymonthday
            and info.nmdaymask[i] not in r._bynmonthday)
        or (byyearday and ((i < info.yearlen and i + 1 not in byyearday and -info.yearlen + i not in byyearday)
                           or (i >= info.yearlen and i + 1 - info.yearlen not in byyearday
                               and -info.nextyearlen + i - info.yearlen not in byyearday)))
    )


def _next_period(parsed: _Rule, period: date) -> date:
    step = parsed._interval
    if parsed._freq == YEARLY:
        return date(period.year + step, 1, 1)
    if parsed._freq == MONTHLY:
        return date(period.year, period.month, 1) + relativedelta(months=step)
    if parsed._freq == WEEKLY:
        return _week_of(parsed, period) + timedelta(weeks=step)
    return period + timedelta(days=step)
