"""The report's picture geometry (workflow.charts): pure functions, checked without a browser."""

from datetime import date

from workflow.charts import Scale, date_ticks, nice_range, realisation, status_bar, timeline

STAGES = [
    {"stage": "scoping", "on": "2019-01-02", "until": "2019-06-03", "days": 152, "by": "pm", "action": "registered", "reason": None},
    {"stage": "pid", "on": "2019-06-03", "until": "2020-01-06", "days": 217, "by": "pm", "action": "advance", "reason": None},
    {"stage": "delivery", "on": "2020-01-06", "until": None, "days": 542, "by": "pm", "action": "advance", "reason": "approved"},
]


def test_value_axes_run_over_whole_steps_of_1_2_2_5_or_5() -> None:
    assert nice_range(0, 12) == (0, 12.5, 2.5)
    assert nice_range(74, 78) == (74, 78, 1)
    assert nice_range(5.0, 9) == (5, 9, 1)
    assert nice_range(0, 60000) == (0, 60000, 20000)


def test_date_axes_take_the_finest_month_step_that_fits() -> None:
    scale = Scale(date(2014, 2, 3).toordinal(), date(2017, 7, 3).toordinal(), 0, 100)
    ticks = date_ticks(date(2014, 2, 3), date(2017, 7, 3), scale, 8)
    assert [t.label for t in ticks] == ["Jul 2014", "Jan 2015", "Jul 2015", "Jan 2016", "Jul 2016", "Jan 2017", "Jul 2017"]
    assert [t.label for t in date_ticks(date(2014, 2, 3), date(2017, 7, 3), scale, 4)] == ["2015", "2016", "2017"]
    assert 0 < ticks[0].at < ticks[-1].at <= 100


def test_the_timeline_has_a_row_per_stay_and_approvals_before_the_gate_they_opened() -> None:
    approvals = [{"gate": "delivery", "partner": f"Force {n}", "role": "pcc", "by": f"pcc{n}", "on": "2020-01-06"} for n in (1, 2)]
    drawn = timeline(STAGES, approvals, date(2021, 7, 1))
    assert [b.stage for b in drawn.bands] == ["scoping", "pid", "delivery"]
    assert [b.current for b in drawn.bands] == [False, False, True]
    assert drawn.bands[0].x == drawn.left and drawn.bands[-1].x + drawn.bands[-1].width == drawn.today == drawn.right
    assert drawn.bands[1].dates == "3 Jun 2019 – 6 Jan 2020 · 217 days"
    assert drawn.bands[2].gate == "advance by pm on 6 Jan 2020: approved"
    [mark] = drawn.marks  # two approvals on one day: one mark, on the pid row, at the pid bar's end
    assert (mark.count, mark.x) == (2, drawn.bands[2].x)
    assert mark.y == drawn.bands[1].bar_y + drawn.bar_height / 2
    assert "delivery gate: pcc1 (Force 1 pcc); delivery gate: pcc2 (Force 2 pcc)" in mark.title


BENEFIT = {"id": "B1", "baseline": 10.0, "target": 8.0, "target_date": "2021-01-06", "unit": "£m", "measure": "annual cost",
           "start_on": "2020-01-06", "plan": [{"on": "2020-07-06", "value": 9.0}],
           "measured": [{"on": "2020-04-01", "value": 9.8}, {"on": "2020-07-01", "value": 9.5}],
           "latest": 9.5, "latest_on": "2020-07-01"}


def test_a_realisation_chart_draws_measurements_against_plan_baseline_and_target() -> None:
    chart = realisation(BENEFIT, date(2021, 6, 1))
    assert chart is not None
    assert chart.y_title == "annual cost (£m)"
    assert [t.label for t in chart.y_ticks] == ["8", "8.5", "9", "9.5", "10"]
    assert chart.baseline_y == chart.top  # 10 is the top tick
    assert chart.target_y > chart.baseline_y  # a falling target is drawn below the baseline
    assert (chart.baseline_label, chart.target_label) == ("baseline 10 £m", "target 8 £m")
    plan = [tuple(map(float, p.split(","))) for p in chart.plan.split()]
    assert plan[0] == (chart.left, chart.baseline_y) and plan[-1][0] == chart.right == chart.today
    assert plan[-1][1] == plan[-2][1]  # after its last point the plan holds its value to the end of the axis
    assert [p.latest for p in chart.points] == [False, True]
    assert chart.points[1].title == "1 Jul 2020: 9.5 £m"


def test_no_chart_without_a_target_and_bars_of_counts() -> None:
    assert realisation({**BENEFIT, "target": None}, date(2021, 6, 1)) is None
    bars = status_bar({"realised": 1, "on-track": 2, "behind": 1, "no-data": 0}, ("realised", "on-track", "behind", "no-data"), 120)
    assert [(s.status, s.x, s.width) for s in bars] == [("realised", 0, 30), ("on-track", 30, 60), ("behind", 90, 30)]
    assert status_bar({"realised": 0}, ("realised",)) == []
