"""Board meeting dates: RFC 5545 recurrence rules, moved off England and Wales bank holidays.

Boards (e.g. a force's Resource Control Board) meet on a rule such as
``FREQ=MONTHLY;BYDAY=1TU``, in Europe/London wall-clock time. A meeting that lands on a
bank holiday slips to the next working day; a weekend the rule itself asks for is kept.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rrulestr, weekday

from workflow.periods import first_occurrence, period_base

if TYPE_CHECKING:
    from workflow.periods import _Rule
__all__ = [
    "DEFAULT_MEETING_TIME", "LONDON", "RecurrenceError", "board_rule", "is_working_day", "meetings",
    "next_meeting", "next_working_day", "parse_recurrence", "previous_meeting",
]

LONDON = ZoneInfo("Europe/London")
DEFAULT_MEETING_TIME = time(10, 0)

# The longest bank-holiday move is a few days (Christmas on a Friday: Fri -> Tue), so an
# occurrence further than this before a window can never be moved into it.
_MOVE_MARGIN = timedelta(days=10)
_FIRST_SEARCH_SPAN = timedelta(days=64)
BOARD_RULE_WINDOW = relativedelta(years=2)  # a new board's rule must meet at least once this soon
_LONGEST_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_BOARD_FREQS = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY")
_TOO_FINE_FREQS = ("HOURLY", "MINUTELY", "SECONDLY")
_FREQ_RE = re.compile(r"\bFREQ=([^;\s]*)", re.IGNORECASE)
# group 2 is the time part, group 3 the UTC marker.
_UNTIL_RE = re.compile(r"\bUNTIL=(\d{8})(T\d{6}(Z?))?", re.IGNORECASE)
_PART_RE = re.compile(r"\b(INTERVAL|COUNT|BYMONTH|BYMONTHDAY|BYYEARDAY|BYWEEKNO|BYHOUR|"
                      r"BYMINUTE|BYSECOND|BYDAY)=([^;\s]*)", re.IGNORECASE)
# dateutil silently accepts out-of-range values (BYMONTHDAY=40, INTERVAL=0) and then yields
# nothing or loops; (low, high, zero allowed) per part, None for no upper bound.
_PART_LIMITS: dict[str, tuple[int, int | None, bool]] = {
    "INTERVAL": (1, None, False),
    "COUNT": (1, None, False),
    "BYMONTH": (1, 12, False),
    "BYMONTHDAY": (-31, 31, False),
    "BYYEARDAY": (-366, 366, False),
    "BYWEEKNO": (-53, 53, False),
    "BYHOUR": (0, 23, True),
    "BYMINUTE": (0, 59, True),
    "BYSECOND": (0, 59, True),
}


class RecurrenceError(ValueError):
    """A board's recurrence rule cannot be used; the message names the rule so it can be fixed."""


def parse_recurrence(rule: str, anchor: date) -> _Rule:
    """Parse RRULE text. Accept with or without a leading 'RRULE:' and also a full 'DTSTART:...\\nRRULE:...' text.

    Without DTSTART the rule is anchored at `anchor` at DEFAULT_MEETING_TIME (BYHOUR/BYMINUTE in
    the rule win). Raise RecurrenceError for anything dateutil rejects, for an empty string, and
    for rules that meet more than once a day: FREQ finer than DAILY (HOURLY/MINUTELY/SECONDLY make
    no sense for a board) or several BYHOUR/BYMINUTE/BYSECOND values.
    A UTC UNTIL (the RFC 5545 form for zoned start times) anchors in London-aware time so
    dateutil accepts it; a date-only UNTIL includes that whole day, as RFC 5545 says it bounds
    inclusively.
    """
    text = rule.strip()
    shown = " ".join(text.split()) or repr(rule)

    def fail(problem: str) -> RecurrenceError:
        return RecurrenceError(f"{shown}: {problem}")

    if not text:
        raise fail("empty recurrence rule")
    freqs = _FREQ_RE.findall(text)
    if not freqs:
        raise fail("missing FREQ (expected one of " + ", ".join(_BOARD_FREQS) + ")")
    for freq in (f.upper() for f in freqs):
        if freq in _TOO_FINE_FREQS:
            raise fail(f"frequency {freq} is finer than DAILY; a board meets at most daily")
        if freq not in _BOARD_FREQS:
            raise fail(f"unknown frequency {freq!r} (expected one of " + ", ".join(_BOARD_FREQS) + ")")
    problem = _out_of_range(text, monthly=freqs[0].upper() == "MONTHLY")
    if problem:
        raise fail(problem)

    until = _UNTIL_RE.search(text)
    default_start = datetime.combine(
        anchor, DEFAULT_MEETING_TIME, tzinfo=LONDON if until and until.group(3) else None)
    try:
        parsed = rrulestr(text, dtstart=default_start)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise fail(str(exc) or type(exc).__name__) from exc
    if not isinstance(parsed, rrule):
        raise fail("only a single RRULE is supported (no RDATE, EXDATE, EXRULE or second RRULE)")
    parsed = cast("_Rule", parsed)
    if (parsed._bymonth and parsed._bymonthday and not parsed._bynmonthday
            and min(parsed._bymonthday) > max(_LONGEST_MONTH[m - 1] for m in parsed._bymonth)):
        raise fail("never occurs: no month in BYMONTH has that BYMONTHDAY")
    if len(parsed._timeset) > 1:
        raise fail(f"BYHOUR, BYMINUTE and BYSECOND give {len(parsed._timeset)} meeting times a day; "
                   "a board meets at most daily (give one time)")
    if until and not until.group(2) and parsed._until is not None:
        parsed = parsed.replace(until=parsed._until.replace(hour=23, minute=59, second=59))
    return parsed


def _out_of_range(text: str, monthly: bool) -> str | None:
    """Catch values dateutil accepts but cannot honour, before they produce an empty or endless rule."""
    high: int | None
    for name, raw in _PART_RE.findall(text):
        name = name.upper()
        for item in raw.split(","):
            if name == "BYDAY":
                # Only the ordinal ("-1" in "-1MO") needs checking; dateutil validates the day name.
                ordinal = item[:-2]
                if not ordinal.lstrip("+-").isdigit():
                    continue
                low, high, zero_ok = (-5, 5, False) if monthly else (-53, 53, False)
                value = int(ordinal)
            else:
                try:
                    value = int(item)
                except ValueError:
                    continue  # dateutil reports the malformed value itself
                low, high, zero_ok = _PART_LIMITS[name]
            if value < low or (high is not None and value > high) or (value == 0 and not zero_ok):
                return f"{name} value {item!r} is out of range"
    return None


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    """The days off work for a bank holiday in England and Wales that year.

    The holidays package lists each holiday on its own date, even a Saturday or Sunday, and adds
    the substitute ("Boxing Day (observed)", Monday 28 December 2026) on which the day off is
    actually taken; so only the weekdays among them are bank holidays, and a meeting the rule puts
    on Saturday 26 December 2026 is not moved.

    Building a holidays calendar is slow and every occurrence is checked, so build each year once;
    a frozenset rather than the HolidayBase, which grows itself when asked about other years.
    """
    import holidays  # on first use: commands that place no meeting never pay for it

    return frozenset(day for day in holidays.country_holidays("GB", subdiv="ENG", years=year) if day.weekday() < 5)


def _is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    """A moved meeting must land where people are at work: Monday to Friday, not a bank holiday."""
    return day.weekday() < 5 and not _is_bank_holiday(day)


def next_working_day(day: date) -> date:
    """Where a meeting displaced by a bank holiday goes; a working day stays put."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def _moved(day: date) -> date:
    # Only a bank holiday triggers a move; a weekend the rule asked for is the board's choice.
    return next_working_day(day) if _is_bank_holiday(day) else day


def _in_rule_time(parsed: _Rule, local: datetime) -> datetime:
    """Express a London wall-clock bound the way the rule's own datetimes are (naive or zoned)."""
    if parsed._tzinfo is None:
        return local
    return local.replace(tzinfo=LONDON).astimezone(parsed._tzinfo)


def _rebased_start(parsed: _Rule, target: datetime) -> datetime:
    """A later DTSTART, on a period boundary in step with INTERVAL, that yields the same occurrences from `target` on.

    dateutil's between() walks every occurrence from DTSTART, so a rule anchored years ago
    would be expanded one by one. COUNT must be counted from the real start, so it is left alone.
    """
    start = parsed._dtstart
    if parsed._count is not None or target <= start:
        return start
    rebased = datetime.combine(period_base(parsed, target), time(0), tzinfo=start.tzinfo)
    return rebased if rebased > start else start


def _rebased(parsed: _Rule, lo: datetime) -> rrule:
    """The same rule restarted just before `lo`, so a query costs the window, not the history.

    Built from dateutil's normalised parts because rrule.replace() would re-derive the day of
    month or weekday from the new start.
    """
    start = _rebased_start(parsed, lo)
    if start == parsed._dtstart:
        return parsed
    by_weekday = ([weekday(d) for d in parsed._byweekday or ()]
                  + [weekday(d, n) for d, n in parsed._bynweekday or ()])
    return rrule(
        parsed._freq,
        dtstart=start,
        interval=parsed._interval,
        wkst=parsed._wkst,
        until=parsed._until,
        bysetpos=parsed._bysetpos,
        bymonth=parsed._bymonth,
        bymonthday=(parsed._bymonthday + parsed._bynmonthday) or None,
        byyearday=parsed._byyearday,
        byweekno=parsed._byweekno,
        byweekday=by_weekday or None,
        byeaster=parsed._byeaster,
        byhour=parsed._byhour,
        byminute=parsed._byminute,
        bysecond=parsed._bysecond,
    )


def _to_london(moment: datetime) -> datetime:
    # A naive occurrence is London wall-clock time; a zoned one (DTSTART;TZID, UTC) is converted.
    return moment.astimezone(LONDON) if moment.tzinfo else moment.replace(tzinfo=LONDON)


def _scan(parsed: _Rule, start: date, end: date) -> tuple[list[datetime], bool]:
    """Meetings in [start, end], and whether the rule has occurrences after `end`.

    Walks the rule like rrule.between(inc=True) does, but by hand, because between() cannot
    say whether the rule has run out, which is what lets next_meeting stop.
    """
    lo = _in_rule_time(parsed, datetime.combine(start - _MOVE_MARGIN, time.min))
    hi = _in_rule_time(parsed, datetime.combine(end, time.max))
    found: set[datetime] = set()
    for occurrence in _rebased(parsed, lo):
        if occurrence > hi:
            return sorted(found), True
        if occurrence < lo:
            continue
        local = _to_london(occurrence)
        day = _moved(local.date())
        if start <= day <= end:
            found.add(datetime.combine(day, local.time(), tzinfo=LONDON))
    return sorted(found), False


def meetings(rule: str, anchor: date, start: date, end: date) -> list[datetime]:
    """Meetings whose (moved) date falls in [start, end] inclusive, as timezone-aware datetimes in Europe/London.

    Sorted, each moved off bank holidays (time of day kept), de-duplicated when two occurrences
    move onto the same day and time. Occurrences up to 10 days before `start` are expanded too,
    so one moved into the window is included, and the rule is restarted near the window so a
    rule anchored years ago stays cheap.
    """
    parsed = parse_recurrence(rule, anchor)
    return _scan(parsed, start, end)[0] if start <= end else []


def previous_meeting(rule: str, anchor: date, before: date) -> datetime | None:
    """Latest meeting strictly before `before` (after moves), e.g. whose minutes are due.

    Steps back in doubling windows so a sparse rule (yearly, long INTERVAL) is found without
    expanding the whole history.
    """
    parsed = parse_recurrence(rule, anchor)
    first = next(iter(parsed), None)
    if first is None:
        return None
    floor = _to_london(first).date()
    end = before - timedelta(days=1)
    span = _FIRST_SEARCH_SPAN
    while end >= floor:
        start = end - min(span, end - floor)
        found, _ = _scan(parsed, start, end)
        if found:
            return found[-1]
        end = start - timedelta(days=1)
        span *= 2
    return None


def next_meeting(rule: str, anchor: date, on_or_after: date) -> datetime | None:
    """First meeting on or after `on_or_after` (after moves), e.g. the board a paper must go to.

    Steps forward in doubling windows until a meeting is found or the rule runs out (UNTIL, COUNT).
    """
    parsed = parse_recurrence(rule, anchor)
    last_day = date.max - _MOVE_MARGIN
    start = on_or_after
    span = _FIRST_SEARCH_SPAN
    while start <= last_day:
        end = start + min(span, last_day - start)
        found, more = _scan(parsed, start, end)
        if found:
            return found[0]
        if not more:
            return None
        start = end + timedelta(days=1)
        span *= 2
    return None


def board_rule(rule: str, today: date) -> rrule:
    """The rule of a board registered `today`: parse_recurrence's checks, and at least one meeting in
    the two years from `today`, so that a rule whose UNTIL or COUNT has run out, or whose parts never
    coincide (BYMONTH=1 with BYYEARDAY=366), is refused when it is given rather than leaving a board
    that never meets."""
    parsed = parse_recurrence(rule, today)
    end = today + BOARD_RULE_WINDOW
    lo = _in_rule_time(parsed, datetime.combine(today, time.min))
    candidate = first_occurrence(parsed, lo, _in_rule_time(parsed, datetime.combine(end, time.max)))
    if candidate is not None and parsed._count is None:
        return parsed
    # COUNT is counted from DTSTART: the rule yields the candidate unless its COUNT ran out before.
    if candidate is not None and next((moment for moment in parsed if moment >= candidate), None) == candidate:
        return parsed
    if candidate is not None:
        why = f"its COUNT of {parsed._count} meetings is used up before then"
    elif parsed._dtstart.date() > end:
        why = f"it starts on {parsed._dtstart:%Y-%m-%d}"
    elif parsed._until is not None and parsed._until < lo:
        why = f"its UNTIL ({parsed._until:%Y-%m-%d}) has passed"
    else:
        why = "its parts never coincide in that time, or it meets less often than every two years"
    raise RecurrenceError(f"{' '.join(rule.split())}: no meeting between {today} and {end}: {why}")
