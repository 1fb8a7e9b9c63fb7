"""Tests for workflow.realisation. Every expected value is worked out by hand in the comment above it."""

from dataclasses import FrozenInstanceError
from datetime import date
from decimal import Decimal

import pytest

from workflow.realisation import (
    STATUSES,
    Realisation,
    assess,
    plan_line,
    planned_value,
    progress,
    share_savings,
)

# Shared calendar: 2025-01-01 -> 2025-12-27 is 360 days
#   (Jan 31 + Feb 28 + Mar 31 + Apr 30 + May 31 + Jun 30 + Jul 31 + Aug 31 + Sep 30 + Oct 31 + Nov 30 = 334
#    days to Dec 1, + 26 = 360); 2025-04-01 is day 90 (31 + 28 + 31), i.e. a quarter of the way.
START = date(2025, 1, 1)
TARGET_DATE = date(2025, 12, 27)
TODAY = date(2025, 4, 1)


def rising(measurements, *, plan=(), today=TODAY, retired=False):
    """Crimes solved: baseline 100 -> target 150; straight-line plan expects 100 + 50 * 90/360 = 112.5 today."""
    return assess(baseline=100, target=150, start=START, target_date=TARGET_DATE, plan=plan,
                  measurements=measurements, today=today, retired=retired)


def falling(measurements, *, plan=(), today=TODAY, retired=False):
    """Annual cost £m: baseline 10 -> target 8; straight-line plan expects 10 + (8 - 10) * 90/360 = 9.5 today."""
    return assess(baseline=10, target=8, start=START, target_date=TARGET_DATE, plan=plan,
                  measurements=measurements, today=today, retired=retired)


# --- progress -------------------------------------------------------------------------------------------------

def test_progress_rising_target():
    # (125 - 100) / (150 - 100) = 25 / 50 = 0.5
    assert progress(100, 150, 125) == 0.5


def test_progress_falling_target():
    # (9.5 - 10) / (8 - 10) = -0.5 / -2 = 0.25
    assert progress(10, 8, 9.5) == 0.25


def test_progress_is_not_clamped():
    # beyond target: (7.5 - 10) / (8 - 10) = -2.5 / -2 = 1.25; wrong way: (10.5 - 10) / (8 - 10) = 0.5 / -2 = -0.25
    assert progress(10, 8, 7.5) == 1.25
    assert progress(10, 8, 10.5) == -0.25


def test_progress_target_equal_to_baseline_is_rejected():
    with pytest.raises(ValueError):
        progress(5, 5, 6)


# --- planned_value ------------------------------------------------------------------------------------------

def test_planned_value_straight_line_without_plan_points():
    # 0 -> 120 over 360 days = 1/3 a day; day 90 -> 90 / 3 = 30.0
    assert planned_value(START, 0, 120, TARGET_DATE, [], date(2025, 4, 1)) == 30.0


def test_planned_value_straight_line_ends():
    # before the start: the anchor (baseline) 0; on and after the target date: the target 120
    assert planned_value(START, 0, 120, TARGET_DATE, [], date(2024, 12, 1)) == 0
    assert planned_value(START, 0, 120, TARGET_DATE, [], START) == 0
    assert planned_value(START, 0, 120, TARGET_DATE, [], TARGET_DATE) == 120
    assert planned_value(START, 0, 120, TARGET_DATE, [], date(2026, 6, 1)) == 120


def test_planned_value_straight_line_for_falling_target():
    # 10 -> 8 over 360 days; day 180 (2025-06-30: 90 + Apr 30 + May 31 + 29 = 180) is half way: 10 - 1 = 9.0
    assert planned_value(START, 10, 8, TARGET_DATE, [], date(2025, 6, 30)) == 9.0


# Plan for the next tests (given unsorted): anchor (2025-01-01, 100), (2025-01-31, 120), (2025-03-02, 130).
# 2025-01-01 -> 01-31 is 30 days; 01-31 -> 03-02 is 30 days (28 to Feb 28, +2).
PLAN = [(date(2025, 3, 2), 130.0), (date(2025, 1, 31), 120.0)]


def test_plan_line_is_the_anchor_then_the_points_in_date_order():
    # the line a report draws is the one planned_value interpolates
    assert plan_line(START, 100, 150, TARGET_DATE, PLAN) == [(START, 100.0), (date(2025, 1, 31), 120.0), (date(2025, 3, 2), 130.0)]
    assert plan_line(START, 100, 150, TARGET_DATE, []) == [(START, 100.0), (TARGET_DATE, 150.0)]


def test_planned_value_between_anchor_and_first_point():
    # 2025-01-16 is 15 of 30 days from the anchor: 100 + (120 - 100) * 15/30 = 110
    assert planned_value(START, 100, 150, TARGET_DATE, PLAN, date(2025, 1, 16)) == 110


def test_planned_value_between_two_points():
    # 2025-02-15 is 15 of 30 days after 01-31: 120 + (130 - 120) * 15/30 = 125
    assert planned_value(START, 100, 150, TARGET_DATE, PLAN, date(2025, 2, 15)) == 125


def test_planned_value_on_a_point():
    assert planned_value(START, 100, 150, TARGET_DATE, PLAN, date(2025, 1, 31)) == 120


def test_planned_value_before_first_point_is_anchor_value():
    # before the start the plan has not begun: the anchor value, the baseline 100
    assert planned_value(START, 100, 150, TARGET_DATE, PLAN, date(2024, 12, 1)) == 100


def test_planned_value_after_last_point_is_last_value():
    # after 2025-03-02 the plan stays at its last value 130 -- not the target 150, not extrapolated
    assert planned_value(START, 100, 150, TARGET_DATE, PLAN, date(2025, 6, 1)) == 130
    assert planned_value(START, 100, 150, TARGET_DATE, PLAN, date(2026, 6, 1)) == 130


def test_planned_value_two_points_on_one_day_is_rejected():
    plan = [(date(2025, 2, 1), 110.0), (date(2025, 2, 1), 120.0)]
    with pytest.raises(ValueError):
        planned_value(START, 100, 150, TARGET_DATE, plan, TODAY)


def test_planned_value_point_on_start_day_clashes_with_anchor():
    with pytest.raises(ValueError):
        planned_value(START, 100, 150, TARGET_DATE, [(START, 100.0)], TODAY)


# --- assess ---------------------------------------------------------------------------------------------------

def test_assess_rising_target_half_way():
    # progress (125 - 100) / 50 = 0.5; planned 112.5 -> planned progress 12.5 / 50 = 0.25; 0.5 >= 0.25: on-track
    r = rising([(date(2025, 3, 1), 125.0)])
    assert r == Realisation(latest=125.0, latest_on=date(2025, 3, 1), progress=0.5,
                            planned=112.5, planned_progress=0.25, status="on-track")


def test_assess_rising_target_behind():
    # latest 110: progress 10 / 50 = 0.2 < planned progress 0.25: behind
    r = rising([(date(2025, 3, 1), 110.0)])
    assert (r.progress, r.status) == (0.2, "behind")


def test_assess_falling_target_quarter_way_exactly_on_plan():
    # latest 9.5: progress 0.25 equals planned progress (9.5 - 10) / (8 - 10) = 0.25: on-track
    r = falling([(date(2025, 3, 1), 9.5)])
    assert r == Realisation(latest=9.5, latest_on=date(2025, 3, 1), progress=0.25,
                            planned=9.5, planned_progress=0.25, status="on-track")


def test_assess_falling_target_reaching_target_is_realised():
    # latest 8: (8 - 10) / (8 - 10) = 1.0 >= 1: realised
    r = falling([(date(2025, 3, 1), 8.0)])
    assert (r.progress, r.status) == (1.0, "realised")


def test_assess_falling_target_beyond_target_is_realised():
    # latest 7.5: (7.5 - 10) / (8 - 10) = 1.25: realised, progress shown unclamped
    r = falling([(date(2025, 3, 1), 7.5)])
    assert (r.progress, r.status) == (1.25, "realised")


def test_assess_falling_target_wrong_way_is_behind():
    # latest 10.5: cost went up; (10.5 - 10) / (8 - 10) = -0.25 < 0.25: behind
    r = falling([(date(2025, 3, 1), 10.5)])
    assert (r.progress, r.status) == (-0.25, "behind")


def test_assess_falling_target_on_track_vs_behind_against_plan():
    # Plan expects 9.5 today (progress 0.25). A LOWER cost is ahead, a HIGHER cost behind -- the opposite of
    # comparing raw values as for a rising target.
    # 9.4: (9.4 - 10) / -2 = 0.3 >= 0.25: on-track.  9.6: (9.6 - 10) / -2 = 0.2 < 0.25: behind.
    ahead = falling([(date(2025, 3, 1), 9.4)])
    assert (ahead.progress, ahead.planned, ahead.status) == (0.3, 9.5, "on-track")
    lagging = falling([(date(2025, 3, 1), 9.6)])
    assert (lagging.progress, lagging.planned, lagging.status) == (0.2, 9.5, "behind")


def test_assess_falling_target_with_plan_points():
    # Plan (unsorted): anchor (01-01, 10), (2025-01-31, 9.8), (2025-03-02, 9.0). Today 2025-02-15 is 15 of the
    # 30 days from 01-31 to 03-02: planned = 9.8 + (9.0 - 9.8) * 15/30 = 9.4; planned progress (9.4 - 10) / -2 = 0.3.
    plan = [(date(2025, 3, 2), 9.0), (date(2025, 1, 31), 9.8)]
    # latest 9.3: progress 0.35 >= 0.3: on-track;  latest 9.5: progress 0.25 < 0.3: behind
    good = falling([(date(2025, 2, 10), 9.3)], plan=plan, today=date(2025, 2, 15))
    assert (good.planned, good.planned_progress, good.progress, good.status) == (9.4, 0.3, 0.35, "on-track")
    bad = falling([(date(2025, 2, 10), 9.5)], plan=plan, today=date(2025, 2, 15))
    assert (bad.planned, bad.planned_progress, bad.progress, bad.status) == (9.4, 0.3, 0.25, "behind")


def test_assess_exactly_on_plan_is_on_track_despite_float_error():
    # Baseline 0.1 -> target 0.7, straight line over 360 days; day 120 (2025-05-01: 90 + 30) planned
    # 0.1 + 0.6 * 120/360 = 0.3. Latest 0.3 is exactly on plan (progress 1/3 both), but in binary floating point
    # the two progress figures differ in the last bit; the 1e-9 tolerance must call it on-track.
    r = assess(baseline=0.1, target=0.7, start=START, target_date=TARGET_DATE, plan=[],
               measurements=[(date(2025, 4, 15), 0.3)], today=date(2025, 5, 1))
    assert (r.planned, r.progress, r.planned_progress, r.status) == (0.3, 0.3333, 0.3333, "on-track")


def test_assess_rounds_planned_to_6dp_and_progress_to_4dp():
    # 0 -> 100 over 360 days, today 2025-01-02 (day 1): planned 100/360 = 0.2777... -> 0.277778;
    # planned progress 0.002777... -> 0.0028. Latest 1/3 (day 1): progress 0.003333... -> 0.0033.
    r = assess(baseline=0, target=100, start=START, target_date=TARGET_DATE, plan=[],
               measurements=[(date(2025, 1, 2), 1 / 3)], today=date(2025, 1, 2))
    assert (r.planned, r.planned_progress, r.progress) == (0.277778, 0.0028, 0.0033)


def test_assess_no_measurements_is_no_data_but_plan_still_shown():
    # no measurements: latest/progress None; planned still 112.5 (progress 0.25) for the board to see
    r = rising([])
    assert r == Realisation(latest=None, latest_on=None, progress=None,
                            planned=112.5, planned_progress=0.25, status="no-data")


def test_assess_measurement_after_today_is_ignored():
    # 2025-05-01 is after today (2025-04-01), so latest is 110 from 03-01: progress 0.2 < 0.25: behind
    r = rising([(date(2025, 3, 1), 110.0), (date(2025, 5, 1), 150.0)])
    assert (r.latest, r.latest_on, r.progress, r.status) == (110.0, date(2025, 3, 1), 0.2, "behind")


def test_assess_only_future_measurements_is_no_data():
    r = rising([(date(2025, 5, 1), 150.0)])
    assert (r.latest, r.progress, r.status) == (None, None, "no-data")


def test_assess_measurement_on_today_counts():
    # measured today, 150: progress 1.0: realised
    r = rising([(TODAY, 150.0)])
    assert (r.latest_on, r.status) == (TODAY, "realised")


def test_assess_latest_is_by_date_not_by_position():
    # 03-15 is later than 03-01 even though listed first: latest 130, progress 30 / 50 = 0.6
    r = rising([(date(2025, 3, 15), 130.0), (date(2025, 3, 1), 110.0)])
    assert (r.latest, r.latest_on, r.progress) == (130.0, date(2025, 3, 15), 0.6)


def test_assess_equal_dates_last_in_sequence_wins():
    # both dated 03-01: the later entry (125, e.g. a correction) wins: progress 0.5
    r = rising([(date(2025, 3, 1), 120.0), (date(2025, 3, 1), 125.0), (date(2025, 2, 1), 140.0)])
    assert (r.latest, r.latest_on, r.progress) == (125.0, date(2025, 3, 1), 0.5)


def test_assess_retired_keeps_figures():
    # retired overrides status; other fields as for an active benefit: latest 125, progress 0.5, planned 112.5
    r = rising([(date(2025, 3, 1), 125.0)], retired=True)
    assert r == Realisation(latest=125.0, latest_on=date(2025, 3, 1), progress=0.5,
                            planned=112.5, planned_progress=0.25, status="retired")


def test_assess_retired_without_data_is_retired():
    r = rising([], retired=True)
    assert (r.latest, r.status) == (None, "retired")


def test_assess_target_equal_to_baseline_is_rejected():
    with pytest.raises(ValueError):
        assess(baseline=5, target=5, start=START, target_date=TARGET_DATE, plan=[],
               measurements=[], today=TODAY)


def test_statuses_and_frozen_result():
    assert STATUSES == ("on-track", "behind", "realised", "no-data", "retired")
    r = rising([])
    assert r.status in STATUSES
    with pytest.raises(FrozenInstanceError):
        r.status = "behind"  # type: ignore[misc]


# --- share_savings --------------------------------------------------------------------------------------------

def pennies_total(parts: dict[str, float]) -> Decimal:
    """Sum as exact pennies, so the test does not depend on float addition."""
    return sum((Decimal(str(v)) for v in parts.values()), Decimal(0))


def test_share_savings_60_40():
    # 100,000 * 60% = 60,000.00; * 40% = 40,000.00
    assert share_savings(100_000, {"Kent": 60, "Essex": 40}) == {"Kent": 60_000.00, "Essex": 40_000.00}


def test_share_savings_three_ways_sums_exactly():
    # 100.00 at 33.34% / 33.33% / 33.33% = 33.34 + 33.33 + 33.33 = 100.00, no remainder
    parts = share_savings(100.00, {"A": 33.34, "B": 33.33, "C": 33.33})
    assert parts == {"A": 33.34, "B": 33.33, "C": 33.33}
    assert pennies_total(parts) == Decimal("100.00")


def test_share_savings_equal_thirds_remainder_penny():
    # 100.00 in equal thirds: 10,000 pennies / 3 = 3,333.33 each; floors 3 x 3,333 = 9,999; 1 penny left.
    # Equal remainders and equal shares: it goes to the first listed. 33.34 + 33.33 + 33.33 = 100.00.
    third = Decimal(100) / 3
    parts = share_savings(100.00, {"A": third, "B": third, "C": third})
    assert parts == {"A": 33.34, "B": 33.33, "C": 33.33}
    assert pennies_total(parts) == Decimal("100.00")


def test_share_savings_one_penny_fifty_fifty():
    # 1 penny at 50/50: 0.5 each; floors 0 + 0; 1 penny left, tie -> first listed: 0.01 + 0.00 = 0.01
    parts = share_savings(0.01, {"A": 50, "B": 50})
    assert parts == {"A": 0.01, "B": 0.00}
    assert pennies_total(parts) == Decimal("0.01")


def test_share_savings_largest_remainder_first():
    # 11 pennies at 40/35/25: exact 4.40, 3.85, 2.75; floors 4 + 3 + 2 = 9; 2 pennies left go to the largest
    # remainders .85 (B) and .75 (C), not to the largest share A: 0.04 + 0.04 + 0.03 = 0.11
    parts = share_savings(0.11, {"A": 40, "B": 35, "C": 25})
    assert parts == {"A": 0.04, "B": 0.04, "C": 0.03}
    assert pennies_total(parts) == Decimal("0.11")


def test_share_savings_tied_remainders_go_to_larger_share():
    # 10 pennies at 35/45/20: exact 3.5, 4.5, 2.0; floors 3 + 4 + 2 = 9; 1 penny left; A and B tie on .5,
    # B has the larger share (45 > 35) and gets it even though listed second: 0.03 + 0.05 + 0.02 = 0.10
    assert share_savings(0.10, {"A": 35, "B": 45, "C": 20}) == {"A": 0.03, "B": 0.05, "C": 0.02}


def test_share_savings_amount_rounded_half_even():
    # 0.125 -> 0.12 (2 is even); 0.135 -> 0.14 (3 is odd, rounds to even 4); all to the single partner
    assert share_savings(0.125, {"A": 100}) == {"A": 0.12}
    assert share_savings(0.135, {"A": 100}) == {"A": 0.14}


def test_share_savings_keeps_order_of_shares():
    assert list(share_savings(100, {"Zulu": 40, "Alpha": 60})) == ["Zulu", "Alpha"]


def test_share_savings_accepts_decimal_shares():
    # 250.00 at 12.5% = 31.25; at 87.5% = 218.75
    assert share_savings(250, {"A": Decimal("12.5"), "B": Decimal("87.5")}) == {"A": 31.25, "B": 218.75}


def test_share_savings_shares_within_tolerance_are_normalised():
    # 33.333 x 3 = 99.999, within 0.001 of 100: accepted, and split by the actual sum, so 1.00 is 100/3
    # pennies each; floors 33 x 3 = 99; 1 penny left to the first: 0.34 + 0.33 + 0.33 = 1.00
    parts = share_savings(1.00, {"A": 33.333, "B": 33.333, "C": 33.333})
    assert parts == {"A": 0.34, "B": 0.33, "C": 0.33}
    assert pennies_total(parts) == Decimal("1.00")


def test_share_savings_negative_amount_split_with_sign():
    # -0.11 at 40/35/25: as for 0.11 (0.04, 0.04, 0.03), negated
    assert share_savings(-0.11, {"A": 40, "B": 35, "C": 25}) == {"A": -0.04, "B": -0.04, "C": -0.03}


@pytest.mark.parametrize("shares", [
    {"A": 60, "B": 30},            # 90
    {"A": 60, "B": 50},            # 110
    {"A": 50, "B": 49.998},        # 99.998: 0.002 off, outside the 0.001 tolerance
    {},                            # 0
])
def test_share_savings_shares_not_summing_to_100_rejected(shares):
    with pytest.raises(ValueError):
        share_savings(100, shares)


def test_share_savings_negative_share_rejected():
    # sums to 100, but a partner cannot have a negative cost share
    with pytest.raises(ValueError):
        share_savings(100, {"A": 110, "B": -10})


def test_share_savings_non_finite_rejected():
    with pytest.raises(ValueError):
        share_savings(float("nan"), {"A": 100})
    with pytest.raises(ValueError):
        share_savings(100, {"A": float("inf")})
