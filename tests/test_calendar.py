"""Board meeting calendar: worked examples checked by hand against a printed 2026-2031 calendar.

England and Wales bank holidays used below: Christmas Day Fri 2026-12-25, Boxing Day
substitute Mon 2026-12-28, Good Friday 2027-03-26, Easter Monday 2027-03-29; Christmas and
Boxing Day 2027 (Sat, Sun) taken Mon 27 and Tue 28 Dec; New Year's Day 2028 (Sat) taken Mon 3 Jan.
"""

from datetime import date, datetime, timedelta

import pytest
from dateutil.rrule import rrule

from workflow.calendar import (
    LONDON,
    RecurrenceError,
    board_rule,
    is_working_day,
    meetings,
    next_meeting,
    next_working_day,
    parse_recurrence,
    previous_meeting,
)

MONTHLY_25TH = "FREQ=MONTHLY;BYMONTHDAY=25"
FIRST_TUESDAY = "FREQ=MONTHLY;BYDAY=1TU"
ANCHOR = date(2026, 1, 1)


def at_ten(*ymd: int) -> datetime:
    return datetime(*ymd, 10, 0, tzinfo=LONDON)


def test_christmas_friday_moves_past_weekend_and_boxing_day_substitute_to_tuesday():
    assert next_working_day(date(2026, 12, 25)) == date(2026, 12, 29)
    assert meetings(MONTHLY_25TH, ANCHOR, date(2026, 12, 1), date(2026, 12, 31)) == [at_ten(2026, 12, 29)]


def test_working_days():
    assert is_working_day(date(2026, 12, 29))  # Tuesday
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day substitute
    assert not is_working_day(date(2026, 7, 25))  # plain Saturday
    assert next_working_day(date(2026, 12, 29)) == date(2026, 12, 29)


def test_easter_monday_2027_moves_to_tuesday():
    # Last Mondays: 22 Feb, 29 Mar (Easter Monday), 26 Apr 2027.
    got = meetings("FREQ=MONTHLY;BYDAY=-1MO", ANCHOR, date(2027, 2, 1), date(2027, 4, 30))
    assert got == [at_ten(2027, 2, 22), at_ten(2027, 3, 30), at_ten(2027, 4, 26)]


def test_first_tuesday_jan_to_mar_2027():
    got = meetings(FIRST_TUESDAY, ANCHOR, date(2027, 1, 1), date(2027, 3, 31))
    assert got == [at_ten(2027, 1, 5), at_ten(2027, 2, 2), at_ten(2027, 3, 2)]


def test_saturday_asked_for_by_the_rule_is_not_moved():
    assert meetings(MONTHLY_25TH, ANCHOR, date(2026, 7, 1), date(2026, 7, 31)) == [at_ten(2026, 7, 25)]


def test_window_mid_year_years_after_anchor():
    got = meetings(FIRST_TUESDAY, date(2020, 1, 1), date(2031, 7, 1), date(2031, 9, 30))
    assert got == [at_ten(2031, 7, 1), at_ten(2031, 8, 5), at_ten(2031, 9, 2)]


def test_interval_stays_in_step_far_from_anchor():
    # Every other Thursday from Thu 2026-01-01: ... 2028-12-28, then 14-day steps to 8 Mar 2029,
    # 22 Mar, 5 Apr, 19 Apr (Easter 2029 is 1 Apr, so no Thursday is a bank holiday).
    fortnightly = meetings("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", ANCHOR, date(2029, 3, 12), date(2029, 4, 30))
    assert fortnightly == [at_ten(2029, 3, 22), at_ten(2029, 4, 5), at_ten(2029, 4, 19)]
    # Quarterly from February 2026: Feb, May, Aug, Nov.
    quarterly = meetings("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15", date(2026, 2, 1),
                         date(2030, 1, 1), date(2030, 6, 30))
    assert quarterly == [at_ten(2030, 2, 15), at_ten(2030, 5, 15)]


def test_rule_anchored_decades_ago_is_not_expanded_from_the_anchor(monkeypatch):
    produced = 0
    original = rrule._iter

    def counting(self):
        nonlocal produced
        for occurrence in original(self):
            produced += 1
            yield occurrence

    monkeypatch.setattr(rrule, "_iter", counting)
    got = meetings("FREQ=DAILY", date(2000, 1, 1), date(2040, 6, 5), date(2040, 6, 7))
    assert got == [at_ten(2040, 6, 5), at_ten(2040, 6, 6), at_ten(2040, 6, 7)]
    assert produced < 100  # from the anchor it would be about 14,700


def test_occurrence_moves_into_window_from_just_before_it():
    got = meetings(MONTHLY_25TH, ANCHOR, date(2026, 12, 27), date(2027, 1, 10))
    assert got == [at_ten(2026, 12, 29)]


def test_occurrence_moved_out_of_window_is_dropped():
    assert meetings(MONTHLY_25TH, ANCHOR, date(2026, 12, 20), date(2026, 12, 28)) == []


def test_occurrences_moved_onto_the_same_day_collapse_and_stay_sorted():
    # Good Friday 26 Mar and Easter Monday 29 Mar both move to Tue 30 Mar 2027;
    # the weekend between is asked for by the rule and stays.
    got = meetings("FREQ=DAILY", ANCHOR, date(2027, 3, 26), date(2027, 3, 30))
    assert got == [at_ten(2027, 3, 27), at_ten(2027, 3, 28), at_ten(2027, 3, 30)]


def test_previous_meeting():
    assert previous_meeting(MONTHLY_25TH, ANCHOR, date(2026, 12, 29)) == at_ten(2026, 11, 25)
    assert previous_meeting(MONTHLY_25TH, ANCHOR, date(2026, 12, 30)) == at_ten(2026, 12, 29)
    assert previous_meeting(MONTHLY_25TH, ANCHOR, date(2026, 1, 25)) is None  # nothing before the first


def test_previous_meeting_of_a_sparse_rule_years_back():
    # 1 June 2025 is a Sunday, not a bank holiday: kept.
    yearly = "FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=1"
    assert previous_meeting(yearly, date(2020, 1, 1), date(2026, 5, 1)) == datetime(2025, 6, 1, 10, tzinfo=LONDON)


def test_next_meeting():
    assert next_meeting(MONTHLY_25TH, ANCHOR, date(2026, 12, 26)) == at_ten(2026, 12, 29)
    assert next_meeting(MONTHLY_25TH, ANCHOR, date(2026, 12, 29)) == at_ten(2026, 12, 29)
    assert next_meeting(MONTHLY_25TH, ANCHOR, date(2026, 12, 30)) == at_ten(2027, 1, 25)


def test_next_meeting_after_the_rule_ends_is_none():
    assert next_meeting(MONTHLY_25TH + ";UNTIL=20260630", ANCHOR, date(2026, 7, 1)) is None
    assert next_meeting(MONTHLY_25TH + ";COUNT=2", ANCHOR, date(2026, 3, 1)) is None


def test_ten_o_clock_is_london_time_in_winter_and_summer():
    january, = meetings(FIRST_TUESDAY, ANCHOR, date(2027, 1, 1), date(2027, 1, 31))
    july, = meetings(FIRST_TUESDAY, ANCHOR, date(2027, 7, 1), date(2027, 7, 31))
    assert january.isoformat() == "2027-01-05T10:00:00+00:00"
    assert july.isoformat() == "2027-07-06T10:00:00+01:00"
    assert january.utcoffset() == timedelta(0)
    assert july.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize("text", [
    FIRST_TUESDAY,
    "RRULE:" + FIRST_TUESDAY,
    "DTSTART:20260106T100000\nRRULE:" + FIRST_TUESDAY,
])
def test_accepted_rule_forms(text):
    assert meetings(text, ANCHOR, date(2027, 1, 1), date(2027, 1, 31)) == [at_ten(2027, 1, 5)]


def test_dtstart_in_the_text_wins_over_anchor_and_default_time():
    text = "DTSTART:20260106T093000\nRRULE:" + FIRST_TUESDAY
    # The anchor (2030) would put the first meeting years later and at 10:00.
    assert meetings(text, date(2030, 1, 1), date(2026, 2, 1), date(2026, 2, 28)) == [
        datetime(2026, 2, 3, 9, 30, tzinfo=LONDON)]


def test_byhour_and_byminute_win_over_default_time():
    first = parse_recurrence("FREQ=WEEKLY;BYDAY=MO;BYHOUR=14;BYMINUTE=30", ANCHOR)[0]
    assert (first.date(), first.hour, first.minute) == (date(2026, 1, 5), 14, 30)


def test_until_in_utc_or_as_a_date_is_inclusive():
    utc = meetings(FIRST_TUESDAY + ";UNTIL=20270301T000000Z", ANCHOR, date(2027, 1, 1), date(2027, 3, 31))
    assert utc == [at_ten(2027, 1, 5), at_ten(2027, 2, 2)]
    day = meetings(FIRST_TUESDAY + ";UNTIL=20270302", ANCHOR, date(2027, 1, 1), date(2027, 3, 31))
    assert day == [at_ten(2027, 1, 5), at_ten(2027, 2, 2), at_ten(2027, 3, 2)]


@pytest.mark.parametrize(("text", "problem"), [
    ("FREQ=MONTLY;BYDAY=1TU", "unknown frequency"),
    ("FREQ=MONTHLY;BYDAY=XX", "BYDAY"),
    ("every first tuesday", "missing FREQ"),
    ("FREQ=HOURLY", "finer than DAILY"),
    ("FREQ=MINUTELY;INTERVAL=30", "finer than DAILY"),
    ("FREQ=MONTHLY;INTERVAL=0", "INTERVAL"),
    ("FREQ=MONTHLY;BYMONTHDAY=40", "BYMONTHDAY"),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never occurs"),
    ("RRULE:FREQ=DAILY\nRRULE:FREQ=WEEKLY", "single RRULE"),
])
def test_bad_rules_are_refused_naming_the_rule(text, problem):
    with pytest.raises(RecurrenceError) as caught:
        parse_recurrence(text, ANCHOR)
    message = str(caught.value)
    assert message.startswith(" ".join(text.split()) + ": ")
    assert problem in message


@pytest.mark.parametrize("text", ["", "   \n"])
def test_empty_rule_is_refused(text):
    with pytest.raises(RecurrenceError, match=r"^'.*': empty recurrence rule$"):
        meetings(text, ANCHOR, date(2027, 1, 1), date(2027, 1, 31))


# -- bank holidays are the days off, not the dates the holidays fall on ---------------------------


@pytest.mark.parametrize(("rule", "day"), [
    ("FREQ=MONTHLY;BYMONTHDAY=26", date(2026, 12, 26)),  # Boxing Day on a Saturday: the day off is Mon 28th
    ("FREQ=MONTHLY;BYMONTHDAY=25", date(2027, 12, 25)),  # Christmas on a Saturday: the day off is Mon 27th
    ("FREQ=MONTHLY;BYMONTHDAY=26", date(2027, 12, 26)),  # Boxing Day on a Sunday: the day off is Tue 28th
    ("FREQ=MONTHLY;BYMONTHDAY=1", date(2028, 1, 1)),  # New Year's Day on a Saturday: the day off is Mon 3rd
])
def test_a_weekend_meeting_on_a_holidays_date_stays(rule, day):
    assert meetings(rule, ANCHOR, day, day) == [at_ten(day.year, day.month, day.day)]
    assert is_working_day(day) is False  # a weekend all the same: a moved meeting never lands there


@pytest.mark.parametrize(("rule", "day", "moved_to"), [
    ("FREQ=MONTHLY;BYMONTHDAY=28", date(2026, 12, 28), date(2026, 12, 29)),  # Boxing Day substitute
    ("FREQ=MONTHLY;BYMONTHDAY=27", date(2027, 12, 27), date(2027, 12, 29)),  # Christmas substitute, then Boxing Day's
    ("FREQ=MONTHLY;BYMONTHDAY=3", date(2028, 1, 3), date(2028, 1, 4)),  # New Year's Day substitute
])
def test_a_meeting_on_a_substitute_day_moves(rule, day, moved_to):
    assert meetings(rule, ANCHOR, day, moved_to) == [at_ten(moved_to.year, moved_to.month, moved_to.day)]


# -- a board meets at most daily, and a new board's rule must meet within two years -----------------


@pytest.mark.parametrize("text", [
    "FREQ=DAILY;BYHOUR=9,14",
    "FREQ=WEEKLY;BYDAY=MO;BYMINUTE=0,30",
    "FREQ=MONTHLY;BYDAY=1TU;BYHOUR=10;BYSECOND=0,1",
])
def test_several_times_a_day_are_refused(text):
    with pytest.raises(RecurrenceError, match="a board meets at most daily"):
        parse_recurrence(text, ANCHOR)


@pytest.mark.parametrize("text", [
    FIRST_TUESDAY, "FREQ=DAILY;BYHOUR=9", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",  # 29 Feb 2028 is in the window
    "FREQ=MONTHLY;UNTIL=20261231", "DTSTART:20261201T100000\nRRULE:FREQ=WEEKLY;COUNT=3",
])
def test_board_rule_accepts_a_rule_that_meets_soon(text):
    assert isinstance(board_rule(text, date(2026, 11, 30)), rrule)


@pytest.mark.parametrize(("text", "why"), [
    ("FREQ=MONTHLY;UNTIL=20200101", "its UNTIL (2020-01-01) has passed"),
    ("DTSTART:20200106T100000\nRRULE:FREQ=WEEKLY;COUNT=10", "its COUNT of 10 meetings is used up before then"),
    ("FREQ=DAILY;BYMONTH=1;BYYEARDAY=366", "never coincide"),
    ("FREQ=YEARLY;INTERVAL=5;BYMONTH=1;BYMONTHDAY=1", "less often than every two years"),
    ("DTSTART:20400101T100000\nRRULE:FREQ=DAILY", "it starts on 2040-01-01"),
])
def test_board_rule_refuses_a_rule_that_does_not_meet_within_two_years(text, why):
    with pytest.raises(RecurrenceError) as caught:
        board_rule(text, date(2026, 11, 30))
    message = str(caught.value)
    assert message.startswith(f"{' '.join(text.split())}: no meeting between 2026-11-30 and 2028-11-30: ")
    assert why in message


def test_a_rule_that_never_occurs_is_refused_at_once():
    """dateutil alone looks for its first occurrence until the year 9999 (about 8 s)."""
    import time

    started = time.perf_counter()
    with pytest.raises(RecurrenceError, match="never coincide"):
        board_rule("FREQ=DAILY;BYMONTH=4;BYYEARDAY=1", date(2026, 11, 30))
    assert time.perf_counter() - started < 1


WALKED_RULES = [
    "FREQ=DAILY", "FREQ=DAILY;INTERVAL=10", "FREQ=WEEKLY;BYDAY=MO,WE", "FREQ=WEEKLY;INTERVAL=3;BYDAY=SA;BYHOUR=14",
    "FREQ=WEEKLY;BYDAY=SU;WKST=SU;BYSETPOS=1", "FREQ=MONTHLY;BYDAY=1TU", "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=FR", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO",
    "FREQ=YEARLY;BYYEARDAY=100,-1", "FREQ=YEARLY;BYEASTER=0", "FREQ=YEARLY;INTERVAL=2;BYMONTH=3;BYDAY=2WE",
    "FREQ=MONTHLY;UNTIL=20270115", "DTSTART:20200107T093000\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,FR;BYSETPOS=-1",
]


@pytest.mark.parametrize("text", WALKED_RULES)
def test_the_bounded_walk_finds_what_dateutil_finds(text):
    import random

    from workflow.periods import first_occurrence

    pick = random.Random(text)
    for _ in range(25):
        anchor = date(2025, 1, 1) + timedelta(days=pick.randrange(800))
        parsed = parse_recurrence(text, anchor)
        first = anchor + timedelta(days=pick.choice([0, 0, 1, pick.randrange(400)]))
        lo = datetime.combine(first, datetime.min.time())
        hi = datetime.combine(first + timedelta(days=pick.choice([1, 3, 10, 40, 400])), datetime.max.time())
        expected = next(iter(parsed.xafter(lo, inc=True)), None)
        assert first_occurrence(parsed, lo, hi) == (expected if expected is not None and expected <= hi else None)
