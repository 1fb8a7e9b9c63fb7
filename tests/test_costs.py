"""The cost model: `collab cost set` keeps each partner's one-off and recurring cost per UK financial year and
category, in pounds to the penny; every change is a `cost-set` event with the figure before and after, replayed
by `audit verify`; a correction is a new figure with a reason, never a delete."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import DC, DORSET, connection, open_as, people, scoped
from conftest import collab
from tampering import tamper

NOW = {"COLLAB_NOW": "2020-01-06T12:00"}


def cost_events(db: str) -> list[dict[str, object]]:
    return [{"reason": e["reason"], **e["payload"]} for e in open_as(db, "audit").history("SA") if e["action"] == "cost-set"]


def set_cost(db: str, *extra: str, partner: str = DC, year: str = "2026-27", one_off: str = "1000",
             recurring: str = "250.5", check: int = 0, actor: str = "pm") -> object:
    return collab(db, "cost", "set", "SA", "--partner", partner, "--year", year, "--category", "staff",
                  "--one-off", one_off, "--recurring", recurring, *extra, actor=actor, env=NOW, check=check)


def test_a_cost_is_set_listed_and_replayed(db: str) -> None:
    people(db)
    scoped(db)
    done = set_cost(db, "--json", partner="devon & cornwall police").json()  # type: ignore[attr-defined]
    assert done == {"key": "SA", "partner": DC, "year": "2026-27", "category": "staff", "one_off": 1000.0,
                    "recurring": 250.5, "changed": True}
    assert collab(db, "cost", "list", "SA", "--json", actor="audit", check=0).json() == [
        {"partner": DC, "year": "2026-27", "category": "staff", "one_off": 1000.0, "recurring": 250.5}]
    assert collab(db, "cost", "list", "SA", "--csv", actor="audit", check=0).out.splitlines() == [
        "partner,year,category,one_off,recurring", f"{DC},2026-27,staff,1000.0,250.5"]
    assert cost_events(db) == [{"reason": None, "partner": DC, "year": "2026-27", "category": "staff", "before": None,
                                "after": {"one_off": "1000.00", "recurring": "250.50"}, **connection(db)}]
    assert open_as(db, "audit").verify().ok


def test_a_correction_needs_a_reason_and_keeps_the_figure_before(db: str) -> None:
    people(db)
    scoped(db)
    set_cost(db)
    refused = set_cost(db, one_off="1200", check=2)
    assert "already set (1000.00 one-off, 250.50 recurring): say why it changes" in refused.err  # type: ignore[attr-defined]
    assert set_cost(db, check=0).out.endswith("(unchanged)\n")  # type: ignore[attr-defined]
    set_cost(db, "--reason", "the business case counted one post twice", one_off="1200")
    assert [(e["reason"], e["before"], e["after"]) for e in cost_events(db)] == [
        (None, None, {"one_off": "1000.00", "recurring": "250.50"}),
        ("the business case counted one post twice", {"one_off": "1000.00", "recurring": "250.50"},
         {"one_off": "1200.00", "recurring": "250.50"})]
    assert open_as(db, "audit").costs("SA")[0]["one_off"] == 1200.0
    assert collab(db, "audit", "verify", actor="audit").code == 0


@pytest.mark.parametrize(("flag", "value", "said"), [
    ("--one-off", "12.345", "has more than two decimals"),
    ("--one-off", "-1", "is negative"),
    ("--recurring", "NaN", "is not an amount of pounds"),
    ("--recurring", "Infinity", "is not an amount of pounds"),
    ("--recurring", "1e13", "is too large"),
    ("--year", "2026-28", "does not run from one year into the next: write 2026-27"),
    ("--year", "2026/27", "is not a financial year: write it as 2026-27"),
    ("--partner", "Dorset Polce", "'Dorset Polce' is not a partner of SA (did you mean Dorset Police?)"),
])
def test_bad_amounts_years_and_partners_change_nothing(db: str, flag: str, value: str, said: str) -> None:
    people(db)
    scoped(db)
    given = {"--one-off": "1", "--recurring": "2", "--year": "2026-27", "--partner": DORSET, flag: value}
    refused = collab(db, "cost", "set", "SA", "--category", "ict", *(x for pair in given.items() for x in pair),
                     actor="pm", env=NOW, check=2)
    assert said in refused.err and "Traceback" not in refused.err
    assert cost_events(db) == []


def test_only_a_writer_of_the_collaboration_sets_costs(db: str) -> None:
    people(db)
    scoped(db)
    refused = set_cost(db, actor="owner", check=1)
    assert "owner" in refused.err  # type: ignore[attr-defined]
    assert cost_events(db) == []


def test_a_table_of_costs_is_set_in_one_go_or_not_at_all(db: str, tmp_path: Path) -> None:
    people(db)
    scoped(db)
    table = tmp_path / "costs.csv"
    table.write_text(f"partner,year,category,one_off,recurring\n{DC},2026-27,staff,100,20\n"
                     f"{DORSET},2026-27,estates,0.5,3\nNobody,2026-27,ict,1,1\n{DC},2027-28,travel,1,1\n"
                     f"{DC},2026-27,staff,1,1\n", encoding="utf-8")
    refused = collab(db, "cost", "set", "SA", "--from-csv", str(table), actor="pm", env=NOW, check=2)
    assert refused.err.splitlines() == [
        "row 5: unknown cost category 'travel' (categories: staff, estates, ict, other)",
    ]
    table.write_text(table.read_text().replace("travel", "other"), encoding="utf-8")
    refused = collab(db, "cost", "set", "SA", "--from-csv", str(table), actor="pm", env=NOW, check=2)
    assert refused.err.splitlines() == [
        "row 4: 'Nobody' is not a partner of SA (collab show SA lists its partners)",
        f"row 6: {DC}'s staff cost of 2026-27 is set twice",
    ]
    assert cost_events(db) == []
    table.write_text("\n".join(table.read_text().splitlines()[:3]) + "\n", encoding="utf-8")
    done = collab(db, "cost", "set", "SA", "--from-csv", str(table), actor="pm", env=NOW, check=0)
    assert done.out == "SA: 2 cost(s) set\n"
    assert [(e["partner"], e["after"]) for e in cost_events(db)] == [
        (DC, {"one_off": "100.00", "recurring": "20.00"}), (DORSET, {"one_off": "0.50", "recurring": "3.00"})]


def test_a_cost_edited_behind_the_engine_fails_verification(db: str) -> None:
    people(db)
    scoped(db)
    set_cost(db)
    tamper(db, "UPDATE costs SET recurring = 0")
    failed = collab(db, "audit", "verify", actor="audit", check=3)
    assert "table costs" in failed.err + failed.out and "recurring" in failed.err + failed.out
