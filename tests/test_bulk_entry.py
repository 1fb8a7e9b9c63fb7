"""Figures in bulk: `collab benefit measure KEY --from-csv FILE` records every row in one unit of work, one
`measured` event each, or nothing with every wrong row named (exit 2); `collab benefit plan KEY --from-csv FILE`
likewise replaces the plans of the benefits it names, one `benefit-planned` event each."""

from __future__ import annotations

from pathlib import Path

from builders import in_delivery, open_as, people
from conftest import collab

JAN_6 = {"COLLAB_NOW": "2020-01-06T12:00"}


def table(tmp_path: Path, text: str) -> str:
    path = tmp_path / "figures.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def measured(db: str) -> list[dict[str, object]]:
    return [e["payload"] for e in open_as(db, "audit").history("SA") if e["action"] == "measured"]


def test_a_table_of_figures_is_recorded_in_one_go_one_event_each(db: str, tmp_path: Path) -> None:
    people(db)
    in_delivery(db)
    before = open_as(db, "pm").version_of("SA")
    csv = table(tmp_path, "\ufeffbenefit,value,on,note\nB1,3,2020-01-02,first quarter\nB2,75.5,,\nB1,-1,2020-01-03,\n")
    done = collab(db, "benefit", "measure", "SA", "--from-csv", csv, actor="owner", env=JAN_6, check=0)
    assert done.out == "SA: 3 figure(s) measured\n"
    assert [(p["benefit"], p["value"], p["note"]) for p in measured(db)] == [
        ("B1", 3.0, "first quarter"), ("B2", 75.5, None), ("B1", -1.0, None)]
    assert open_as(db, "pm").version_of("SA") == before + 3
    history = [e for e in open_as(db, "audit").history("SA") if e["action"] == "measured"]
    assert [e["effective_on"] for e in history] == ["2020-01-02", "2020-01-06", "2020-01-03"]
    assert open_as(db, "audit").verify().ok


def test_a_table_with_wrong_rows_records_nothing_and_names_each_row(db: str, tmp_path: Path) -> None:
    people(db)
    in_delivery(db)
    csv = table(tmp_path, "benefit,value,on\nB1,3,2020-01-02\nB1,three,\nB9,4,\nB2,5,2030-01-01\nB2,6,2 Jan\n")
    refused = collab(db, "benefit", "measure", "SA", "--from-csv", csv, actor="owner", env=JAN_6, check=2)
    assert refused.err.splitlines() == [
        "row 3: the value 'three' is not a number (e.g. 12.5 or -3)",
        "row 4: unknown benefit 'B9' in SA (collab benefit list SA shows them)",
        "row 5: a measurement cannot be dated in the future (2030-01-01; today is 2020-01-06)",
        "row 6: the date '2 Jan' is not a date: give YYYY-MM-DD",
    ]
    assert measured(db) == []
    not_theirs = collab(db, "benefit", "measure", "SA", "--from-csv", table(tmp_path, "benefit,value\nB1,3\n"),
                        actor="owner2", env=JAN_6, check=1)
    assert not_theirs.err.startswith("row 2: owner2 may not measure benefit B1")
    assert measured(db) == []


def test_a_table_needs_its_columns_and_excludes_a_single_figure(db: str, tmp_path: Path) -> None:
    people(db)
    in_delivery(db)
    wrong = collab(db, "benefit", "measure", "SA", "--from-csv", table(tmp_path, "code,figure\nB1,3\n"),
                   actor="owner", env=JAN_6, check=2)
    assert "the header row must name the columns benefit, value and optionally on, note (missing: benefit, value)" in wrong.err
    both = collab(db, "benefit", "measure", "SA", "B1", "3", "--from-csv", table(tmp_path, "benefit,value\nB1,3\n"),
                  actor="owner", env=JAN_6, check=2)
    assert "not both" in both.err
    empty = collab(db, "benefit", "measure", "SA", "--from-csv", table(tmp_path, "benefit,value\n"), actor="owner",
                   env=JAN_6, check=2)
    assert "the table has no figures" in empty.err
    assert measured(db) == []


def test_ten_thousand_figures_are_one_unit_of_work(db: str) -> None:
    people(db)
    in_delivery(db)
    owner = open_as(db, "owner")
    rows = [{"benefit": f"B{1 + n % 2}", "value": str(n), "on": "2020-01-06"} for n in range(10_000)]
    done = owner.measure_rows("SA", rows)
    assert done["measured"] == 10_000
    assert len(measured(db)) == 10_000
    assert open_as(db, "audit").verify().ok


def planned(db: str) -> list[dict[str, object]]:
    return [{k: v for k, v in e["payload"].items() if k != "connected_as"}  # the login, on PostgreSQL
            for e in open_as(db, "audit").history("SA") if e["action"] == "benefit-planned"]


def test_plans_from_a_table_replace_each_named_benefit_plan_in_one_go(db: str, tmp_path: Path) -> None:
    people(db)
    in_delivery(db)
    csv = table(tmp_path, "benefit,on,value\nB1,2021-03-31,4\nB2,2022-03-31,78\nB1,2020-03-31,1\n")
    done = collab(db, "benefit", "plan", "SA", "--from-csv", csv, actor="pm", env=JAN_6, check=0)
    assert done.out == "SA: plans set for 2 benefit(s) (3 points)\n"
    assert planned(db) == [{"benefit": "B1", "points": {"2020-03-31": 1.0, "2021-03-31": 4.0}},
                           {"benefit": "B2", "points": {"2022-03-31": 78.0}}]
    assert open_as(db, "audit").verify().ok


def test_plans_from_a_table_with_wrong_rows_change_nothing(db: str, tmp_path: Path) -> None:
    people(db)
    in_delivery(db)
    csv = table(tmp_path, "benefit,on,value\nB1,2021-03-31,4\nB1,2021-03-31,5\nB2,,7\nB2,2040-01-01,7\nB3,2021-01-01,1\n")
    refused = collab(db, "benefit", "plan", "SA", "--from-csv", csv, actor="pm", env=JAN_6, check=2)
    assert refused.err.splitlines() == [
        "row 3: a second plan point of B1 for 2021-03-31",
        "row 4: a plan point needs its date (on)",
        "row 5: plan points 2040-01-01 fall outside benefit B2's span (2019-01-02 to 2030-03-31)",
        "row 6: unknown benefit 'B3' in SA (collab benefit list SA shows them)",
    ]
    assert planned(db) == []
