"""Two processes advancing one collaboration at once: exactly one wins, the other exits 4."""

import os
import sqlite3
import subprocess
import time
from pathlib import Path

from sqlalchemy import text

from builders import open_as, people, scoped
from conftest import COLLAB
from workflow.db import engine_for


def start_advance(db: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLAB_")}
    env.update(COLLAB_DB=db, COLLAB_USER="pm")
    return subprocess.Popen([COLLAB, "advance", "SA"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until(condition, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the two writers never both reached the write lock"
        time.sleep(0.05)


def race(db: str) -> list[subprocess.Popen[str]]:
    """Hold the writers' lock while both processes start and read, then let them go together."""
    if db.endswith(".db"):
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        racers = [start_advance(db), start_advance(db)]
        # Both read the collaboration's version before they queue for the write lock; SQLite shows no
        # waiters, so give both processes ample time to start and reach it.
        wait_until(lambda: all(_has_open(p.pid, db) for p in racers))
        time.sleep(2)
        holder.execute("ROLLBACK")
        holder.close()
        return racers
    engine = engine_for(db)
    with engine.connect() as holder:
        holder.execute(text("SELECT 1 FROM chain_head WHERE id = 1 FOR UPDATE"))
        racers = [start_advance(db), start_advance(db)]
        with engine.connect() as watcher:
            wait_until(lambda: watcher.execute(text(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()")).scalar() >= 2)
        holder.rollback()
    return racers


def _has_open(pid: int, db: str) -> bool:
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == str(Path(db).resolve()) for fd in os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_one_of_two_concurrent_advances_wins_and_the_other_exits_4(db: str) -> None:
    people(db)
    scoped(db)
    racers = race(db)
    outcomes = sorted((p.wait(timeout=120), p.stderr.read()) for p in racers)  # type: ignore[union-attr]
    assert [code for code, _ in outcomes] == [0, 4], outcomes
    assert "changed by someone else" in outcomes[1][1]
    assert "Traceback" not in outcomes[1][1]
    history = open_as(db, "audit").history("SA")
    assert [e["to_stage"] for e in history if e["action"] == "advance"] == ["pid"]
    assert open_as(db, "audit").verify().ok
