"""A corpus of bad input over every command: each case exits with its code, prints no traceback and changes nothing.

"Nothing" is checked on a logical dump (every row of every table) taken before and after each case. The cases run
in this process through click's CliRunner on the real command group, against one database (SQLite, and PostgreSQL
when COLLAB_TEST_DATABASE_URL is set) holding a collaboration in delivery; a handful also run as real subprocesses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

import cli
from builders import DC, DORSET, in_delivery, people
from conftest import collab, database
from workflow.db import engine_for
from workflow.model import Base

LONG = "x" * 5000
# (acting user, arguments, exit code): bad input is 2, a refusal by a rule 1.
CASES: list[tuple[str | None, list[str], int]] = [
    # costs
    ("pm", ["cost", "set", "NOPE", "--partner", DC, "--year", "2026-27", "--category", "staff", "--one-off", "1",
            "--recurring", "1"], 2),
    ("pm", ["cost", "set", "SA", "--partner", DC, "--year", "2026-27", "--category", "staff", "--one-off", "0.001",
            "--recurring", "1"], 2),
    ("pm", ["cost", "set", "SA", "--partner", DC, "--year", "2026-27", "--category", "staff", "--one-off", "-5",
            "--recurring", "1"], 2),
    ("pm", ["cost", "set", "SA", "--partner", DC, "--year", "2026-27", "--category", "staff", "--one-off", "1",
            "--recurring", "sNaN"], 2),
    ("pm", ["cost", "set", "SA", "--partner", DC, "--year", "2026", "--category", "staff", "--one-off", "1",
            "--recurring", "1"], 2),
    ("pm", ["cost", "set", "SA", "--partner", "Nowhere Police", "--year", "2026-27", "--category", "staff",
            "--one-off", "1", "--recurring", "1"], 2),
    ("pm", ["cost", "set", "SA", "--partner", DC, "--year", "2026-27", "--category", "travel", "--one-off", "1",
            "--recurring", "1"], 2),
    ("pm", ["cost", "set", "SA", "--partner", DC, "--year", "2026-27"], 2),
    ("owner", ["cost", "set", "SA", "--partner", DC, "--year", "2026-27", "--category", "staff", "--one-off", "1",
               "--recurring", "1"], 1),
    ("pm", ["cost", "list", "NOPE"], 2),
    ("audit", ["report", "--all", "--partner", "Nowhere Police", "--format", "json"], 2),
    ("audit", ["report", "SA", "--partner", DC, "--format", "json"], 2),
    ("pm", ["artefact", "add", "SA", "pid", "--ref", "x", "--sha256", "not-hex"], 2),
    ("pm", ["artefact", "add", "SA", "pid", "--ref", "x", "--file", "/nonexistent/pid.pdf"], 2),
    # corrections, the logic map, logins, passwords and the web server
    ("pm", ["benefit", "void", "NOPE", "B1", "2020-01-01", "--reason", "typo"], 2),
    ("pm", ["benefit", "remove", "NOPE", "B1", "--reason", "mistake"], 2),
    ("pm", ["partner", "remove", "NOPE", "Dorset Police", "--reason", "mistake"], 2),
    ("pm", ["objective", "add", "NOPE", "O1", "--title", "x"], 2),
    ("pm", ["objective", "list", "NOPE"], 2),
    ("pm", ["benefit", "link", "NOPE", "B1", "--objective", "O1"], 2),
    ("root", ["grant", "auditors", "--kind", "reader"], 2),  # SQLite has no logins
    ("root", ["user", "password", "nobody", "--password-stdin"], 2),
    ("root", ["serve", "--port", "not-a-port"], 2),
    # users
    ("root", ["user", "add", "eve", "--role", "wizard"], 2),
    ("root", ["user", "add", "pm", "--role", "programme-manager"], 2),
    ("root", ["user", "add", "eve", "--role", "admin", "--email", "a@example.org, b@example.org"], 2),
    ("root", ["user", "add", "eve", "--role", "admin", "--email", "not-an-address"], 2),
    ("root", ["user", "add", "ev\u0435", "--role", "admin"], 2),  # Cyrillic 'е'
    ("root", ["user", "add", "eve\nroot", "--role", "admin"], 2),
    ("root", ["user", "add", "--eve", "--role", "admin"], 2),
    ("root", ["user", "add", "eve", "--role", "chief-officer", "--partner", "Nowhere\x1b[31m Police"], 2),
    ("pm", ["user", "add", "eve", "--role", "admin"], 1),
    (None, ["user", "add", "eve", "--role", "admin"], 2),
    ("nobody", ["user", "list"], 2),
    ("root", ["user", "update", "ghost", "--email", "g@example.org"], 2),
    ("root", ["user", "update", "pm", "--email", "x@@example.org"], 2),
    ("root", ["user", "update", "pm", "--add-role", "wizard"], 2),
    ("root", ["user", "update", "pm", "--remove-role", "auditor"], 2),
    ("root", ["user", "update", "pm", "--add-role", "auditor", "--remove-role", "auditor"], 2),
    ("root", ["user", "update", "pm", "--remove-role", "programme-manager"], 1),
    ("pm", ["user", "update", "pm", "--add-role", "admin"], 1),
    ("root", ["user", "deactivate", "ghost"], 2),
    ("root", ["user", "deactivate", "owner", "--reassign-to", "ghost"], 2),
    # boards
    ("root", ["board", "add", "PB", "--partner", DC, "--meets", "FREQ=SECONDLY", "--secretary", "sec"], 2),
    ("root", ["board", "add", "PB", "--partner", DC, "--meets", "FREQ=MINUTELY;INTERVAL=5", "--secretary", "sec"], 2),
    ("root", ["board", "add", "PB", "--partner", DC, "--meets", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "--secretary", "sec"], 2),
    ("root", ["board", "add", "PB", "--partner", DC, "--meets", "every tuesday", "--secretary", "sec"], 2),
    ("root", ["board", "add", "PB", "--partner", DC, "--meets", "FREQ=MONTHLY;BYDAY=1TU", "--secretary", "ghost"], 2),
    ("root", ["board", "add", "RCB", "--partner", DC, "--meets", "FREQ=MONTHLY;BYDAY=1TU", "--secretary", "sec"], 2),
    ("pm", ["board", "add", "PB", "--partner", DC, "--meets", "FREQ=MONTHLY;BYDAY=1TU", "--secretary", "sec"], 1),
    # definitions
    ("audit", ["definition", "show", "no-such-definition"], 2),
    ("audit", ["definition", "show", "police-collaboration@99"], 2),
    ("audit", ["definition", "show", "police-collaboration@two"], 2),
    ("audit", ["definition", "show", "police-collaboration", "--format", "pdf"], 2),
    ("audit", ["definition", "validate", "/no/such/file.yaml"], 2),
    ("root", ["definition", "add", "/no/such/file.yaml"], 2),
    # collaborations
    ("pm", ["new", "SA", "--title", "Again"], 2),
    ("pm", ["new", "S A", "--title", "Spaced"], 2),
    ("pm", ["new", "-SB", "--title", "Dashed"], 2),
    ("pm", ["new", "\u0405B", "--title", "Cyrillic"], 2),
    ("pm", ["new", "SB", "--title", ""], 2),
    ("pm", ["new", "SB", "--title", LONG], 2),
    ("pm", ["new", "SB", "--title", "Two\nlines"], 2),
    ("pm", ["new", "SB", "--title", "Bell\x07"], 2),
    ("pm", ["new", "SB", "--title", "Ok", "--definition", "nothing-like-it"], 2),
    ("pm", ["new", "SB", "--title", "Ok", "--origin", "accidental"], 2),
    ("pm", ["new", "SB", "--title", "Ok", "--manager", "ghost"], 2),
    ("audit", ["new", "SB", "--title", "Ok"], 1),
    ("pm", ["update", "NOPE", "--title", "x"], 2),
    ("pm", ["update", "SA", "--objective", "a\rb"], 2),
    ("pm", ["update", "SA", "--title", "\u202eevil"], 2),
    ("owner", ["update", "SA", "--title", "Not mine"], 1),
    ("pm", ["migrate", "SA", "--to", "police-collaboration"], 2),
    ("pm", ["migrate", "SA", "--to", "police-collaboration@9"], 2),
    ("pm", ["migrate", "SA", "--to", "police-collaboration@1", "--map", "nonsense"], 2),
    # partners
    ("pm", ["partner", "add", "SA", DC, "--kind", "army"], 2),
    ("pm", ["partner", "add", "SA", DC, "--risk-appetite", "reckless"], 2),
    ("pm", ["partner", "add", "SA", DC, "--cost-share", "abc"], 2),
    ("pm", ["partner", "add", "SA", DC, "--cost-share", "nan"], 2),
    ("pm", ["partner", "add", "SA", DC, "--cost-share", "-5"], 2),
    ("pm", ["partner", "add", "SA", DC, "--cost-share", "1e400"], 2),
    ("pm", ["partner", "add", "SA", "Hampshire\x00Police"], 2),
    ("pm", ["partner", "add", "SA", DORSET, "--kind", "other"], 1),
    ("pm", ["partner", "shares", "SA", "Nowhere=100"], 2),
    ("pm", ["partner", "shares", "SA", f"{DC}=lots"], 2),
    ("pm", ["partner", "shares", "SA"], 2),
    # reading
    ("audit", ["show", "NOPE"], 2),
    ("audit", ["check", "NOPE"], 2),
    ("audit", ["list", "--stage", "nowhere"], 2),
    ("audit", ["history", "NOPE"], 2),
    ("audit", ["history"], 2),
    ("audit", ["history", "--all", "--since", "yesterday"], 2),
    ("audit", ["history", "--all", "--actor", "ghost"], 2),
    ("audit", ["history", "--all", "--json", "--csv"], 2),
    ("audit", ["lessons", "--json", "--csv"], 2),
    ("audit", ["reviews", "--at", "9999-12-31"], 2),
    ("audit", ["reviews", "--within", "99999999999"], 2),
    ("audit", ["reviews", "--within", "-1"], 2),
    ("audit", ["reviews", "--board", "ghost"], 2),
    ("audit", ["report"], 2),
    ("audit", ["report", "NOPE", "--format", "json"], 2),
    ("audit", ["report", "SA", "--format", "docx"], 2),
    ("audit", ["audit", "verify", "--expect", "nonsense"], 2),
    ("audit", ["audit", "export", "NOPE"], 2),
    # moves and approvals
    ("pm", ["advance", "SA", "--to", "nowhere"], 2),
    ("pm", ["advance", "SA", "--on", "2019-13-01"], 2),
    ("pm", ["advance", "SA", "--on", "2099-01-01"], 2),
    ("pm", ["advance", "SA"], 1),
    ("pm", ["hold", "SA"], 2),
    ("pm", ["hold", "SA", "--reason", "clear\x1b[2Jscreen"], 2),
    ("pm", ["resume", "SA"], 1),
    ("pm", ["withdraw", "SA", "--reason", "no"], 1),
    ("pm", ["artefact", "add", "SA", "treaty", "--ref", "x"], 2),
    ("pm", ["artefact", "add", "SA", "pid", "--ref", ""], 2),
    ("pm", ["artefact", "add", "SA", "pid", "--ref", "x", "--on", "1900-01-01"], 2),
    ("cc.dc", ["approve", "SA", "--gate", "nowhere"], 2),
    ("cc.dc", ["approve", "SA", "--gate", "bau"], 1),
    ("cc.dc", ["approve", "SA", "--gate", "delivery", "--on", "2030-01-01"], 2),
    ("pm", ["approve", "SA", "--gate", "closure"], 1),
    # benefits
    ("pm", ["benefit", "add", "SA", "B1", "--title", "Dup", "--category", "economic"], 2),
    ("pm", ["benefit", "add", "SA", "B9", "--title", "x", "--category", "joy"], 2),
    ("pm", ["benefit", "add", "SA", "B9", "--title", "x", "--category", "economic", "--baseline", "inf"], 2),
    ("pm", ["benefit", "add", "SA", "B9", "--title", "x", "--category", "economic", "--target", "1e27"], 2),
    ("pm", ["benefit", "add", "SA", "B9", "--title", "x", "--category", "economic", "--by", "1999-01-01"], 2),
    ("pm", ["benefit", "add", "SA", "B9", "--title", "x", "--category", "economic", "--owner", "ghost"], 2),
    ("pm", ["benefit", "add", "SA", "B9", "--title", "x", "--category", "economic", "--unit", "u" * 100], 2),
    ("pm", ["benefit", "update", "SA", "B1", "--target", "nan"], 2),
    ("pm", ["benefit", "update", "SA", "B1", "--by", "2019-01-01"], 2),
    ("pm", ["benefit", "update", "SA", "B404", "--target", "3"], 2),
    ("pm", ["benefit", "plan", "SA", "B1", "--point", "2021-01-01=nan"], 2),
    ("pm", ["benefit", "plan", "SA", "B1", "--point", "1990-01-01=3"], 2),
    ("pm", ["benefit", "plan", "SA", "B1", "--point", "2021-01-01"], 2),
    ("pm", ["benefit", "plan", "SA", "B1", "--point", "soon=3"], 2),
    ("owner", ["benefit", "measure", "SA", "B1", "1e27"], 2),
    ("owner", ["benefit", "measure", "SA", "B1", "many"], 2),
    ("owner", ["benefit", "measure", "SA", "B1", "-inf"], 2),
    ("owner", ["benefit", "measure", "SA", "B1", "3", "--on", "2099-01-01"], 2),
    ("owner", ["benefit", "measure", "SA", "B1", "3", "--on", "1999-01-01"], 2),
    ("owner2", ["benefit", "measure", "SA", "B1", "3"], 1),
    ("pm", ["benefit", "handover", "SA", "B1", "--business-area", "Finance", "--to", "ghost"], 2),
    ("pm", ["benefit", "handover", "SA", "B1", "--business-area", "", "--to", "owner2"], 2),
    ("owner2", ["benefit", "accept", "SA", "B1"], 1),
    ("owner2", ["benefit", "decline", "SA", "B1", "--reason", "no"], 1),
    ("pm", ["benefit", "retire", "SA", "B1", "--reason", "done"], 1),
    ("cc.dc", ["benefit", "retire", "SA", "B404", "--reason", "done"], 2),
    ("audit", ["benefit", "list", "NOPE"], 2),
    # lessons, keys, todo
    ("pm", ["lesson", "add", "NOPE", "text"], 2),
    ("pm", ["lesson", "add", "SA", ""], 2),
    ("audit", ["lesson", "add", "SA", "auditors change nothing"], 1),
    ("nobody", ["todo"], 2),
    # reminders, worker, backup, demo
    ("owner", ["remind"], 1),
    ("root", ["remind", "--at", "next tuesday"], 2),
    ("owner", ["digest"], 1),
    ("root", ["digest", "--at", "next tuesday"], 2),
    ("root", ["worker", "--every", "inf"], 2),
    ("root", ["worker", "--every", "nan"], 2),
    ("root", ["worker", "--every", "1e308"], 2),
    ("root", ["worker", "--every", "0"], 2),
    ("root", ["backup", "/no/such/folder/copy.db"], 2),
    ("root", ["demo", "--db", "{db}"], 2),
    ("root", ["no-such-command"], 2),
    # board changes
    ("root", ["board", "update", "RCB"], 2),
    ("root", ["board", "update", "RCB", "--rule", "FREQ=HOURLY"], 2),
    ("root", ["board", "update", "RCB", "--time", "9am"], 2),
    ("root", ["board", "update", "RCB", "--secretary", "pm"], 2),
    ("root", ["board", "update", "ghost", "--time", "09:00"], 2),
    ("sec", ["board", "update", "RCB", "--time", "09:00"], 1),
    ("root", ["board", "retire", "RCB", "--reason", "merged"], 1),
    ("root", ["board", "retire", "RCB", "--reason", ""], 2),
    ("root", ["board", "retire", "ghost", "--reason", "merged"], 2),
    ("sec", ["board", "meeting", "move", "RCB", "2027-01-06", "--to", "2027-01-07"], 2),  # not a meeting of RCB
    ("sec", ["board", "meeting", "move", "RCB", "someday", "--to", "2027-01-07"], 2),
    ("sec", ["board", "meeting", "move", "RCB", "2027-01-05", "--to", "1999-01-02"], 2),
    ("owner", ["board", "meeting", "move", "RCB", "2027-01-05", "--to", "2027-01-07"], 1),
    ("sec", ["board", "meeting", "cancel", "RCB", "2027-01-05"], 2),
    ("sec", ["board", "meeting", "cancel", "RCB", "2027-01-07", "--reason", "x"], 2),
    ("sec", ["board", "meeting", "cancel", "ghost", "2027-01-05", "--reason", "x"], 2),
    ("audit", ["board", "agenda", "ghost"], 2),
    ("audit", ["board", "agenda", "RCB", "--meeting", "2027-01-06"], 2),
    ("audit", ["board", "agenda", "RCB", "--meeting", "soon"], 2),
    ("nobody", ["board", "agenda", "RCB"], 2),
    ("sec", ["benefit", "review", "SA", "B1", "--board", "RCB", "--meeting", "2020-01-08", "--outcome", "noted",
             "--note", "x"], 2),  # not a meeting of RCB
    ("sec", ["benefit", "review", "SA", "B1", "--board", "RCB", "--meeting", "2099-01-06", "--outcome", "noted",
             "--note", "x"], 2),
    ("sec", ["benefit", "review", "SA", "B1", "--board", "RCB", "--meeting", "2027-01-05", "--outcome", "fine",
             "--note", "x"], 2),
    ("sec", ["benefit", "review", "SA", "B1", "--board", "RCB", "--meeting", "2026-12-01", "--outcome", "noted",
             "--note", "x", "--evidence-date", "2026-11-30"], 2),
    ("pm", ["benefit", "review", "SA", "B1", "--board", "RCB", "--meeting", "2026-12-01", "--outcome", "noted",
            "--note", "x"], 1),
    ("sec", ["benefit", "review", "NOPE", "B1", "--board", "RCB", "--meeting", "2026-12-01", "--outcome", "noted",
             "--note", "x"], 2),
    # several boards per benefit
    ("pm", ["benefit", "board", "add", "NOPE", "B1", "RCB"], 2),
    ("pm", ["benefit", "board", "add", "SA", "B9", "RCB"], 2),
    ("pm", ["benefit", "board", "add", "SA", "B1", "Nope"], 2),
    ("pm", ["benefit", "board", "add", "SA", "B1", "RCB"], 1),  # its own board already reviews it
    ("pm", ["benefit", "board", "add", "SA", "B1", "RCB", "--on", "2999-01-01"], 2),
    ("pm", ["benefit", "board", "add", "SA", "B1"], 2),
    ("pm", ["benefit", "board", "remove", "SA", "B1", "RCB", "--reason", "x"], 1),  # not a further board
    ("pm", ["benefit", "board", "remove", "SA", "B1", "RCB"], 2),
    ("pm", ["benefit", "board", "remove", "SA", "B1", "RCB", "--reason", ""], 2),
    ("root", ["board", "add", "PB", "--partner", DC, "--meets", "FREQ=MONTHLY;BYDAY=1TU", "--secretary", "sec",
              "--type", "wizardry"], 2),
]
SUBPROCESS_CASES = [0, 29, 70, 101, 127]  # a few of the above, also run as real processes


def dump(db: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: the logical content of the database."""
    with engine_for(db).connect() as connection:
        return {table.name: sorted(map(tuple, connection.execute(select(table))), key=repr)
                for table in Base.metadata.sorted_tables}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def populated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with database(request.param, tmp_path_factory.mktemp("corpus")) as db:
        people(db)
        in_delivery(db)
        yield db


def test_the_corpus_covers_every_command() -> None:
    def leaves(group: Any, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
        found: set[tuple[str, ...]] = set()
        for name, command in group.commands.items():
            found |= leaves(command, (*path, name)) if hasattr(command, "commands") else {(*path, name)}
        return found

    covered = {tuple(args[:depth]) for _, args, _ in CASES for depth in (1, 2, 3)}
    safe = {("init",), ("user", "list"), ("board", "list"), ("definition", "list"), ("audit", "head"), ("key", "new")}
    assert leaves(cli.cli) - covered - safe == set()
    assert len(CASES) >= 80


@pytest.mark.parametrize("n", range(len(CASES)), ids=[" ".join(a)[:60] for _, a, _ in CASES])
def test_bad_input_changes_nothing(populated: str, n: int) -> None:
    actor, args, code = CASES[n]
    args = [a.replace("{db}", populated) for a in args]
    env = {"COLLAB_DB": populated, "COLLAB_USER": actor, "COLLAB_OUTBOX": os.devnull}
    before = dump(populated)
    result = CliRunner().invoke(cli.cli, args, env=env, prog_name="collab")
    shown = f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert result.exception is None or isinstance(result.exception, SystemExit), shown
    assert "Traceback" not in result.output + result.stderr, shown
    assert result.exit_code == code, shown
    assert result.stderr.strip(), shown  # it says what is wrong
    assert dump(populated) == before
    if n in SUBPROCESS_CASES:
        assert collab(populated, *args, actor=actor, check=code).err == result.stderr
        assert dump(populated) == before
