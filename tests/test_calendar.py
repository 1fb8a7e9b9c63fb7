"""Board meeting calendar: worked examples checked by hand against a printed 2026-2031 calendar.

England and Wales bank holidays used below: Christmas Day Fri 2026-12-25, Boxing Day
substitute Mon 2026-12-28, Good Friday 2027-03-26, Easter Monday 2027-03-29.
"""

from datetime import date, datetime, timedelta

import pytest
from dateutil.rrule import rrule

from workflow.calendar import (
    LONDON,
    RecurrenceError,
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
