"""Item 1 (and its PostgreSQL half, item 6): audited stage transitions per second against the raw commit rate.

What is timed, in the same run and on the same disk:

- raw commit: one single-row INSERT and COMMIT per iteration on the driver's own connection
  (sqlite3, psycopg), taken from an engine made by `workflow.db.engine_for` (so SQLite has the
  engine's own settings: WAL, synchronous=FULL; PostgreSQL its defaults, synchronous_commit=on).
  The row is the size of a history event. This is the ceiling any audited write can reach, and
  the issue's shares are of it. The same loop through SQLAlchemy Core is printed beside it.
- hold/resume: `Collab.hold(key, reason=...)` and `Collab.resume(key)` alternately on one
  collaboration. Each call is a full use case in its own transaction: the acting user is looked
  up and their role checked, the collaboration read, its definition version loaded, the move
  checked by the shared machine (hold: the on-hold gate; resume: the return-to-held guard),
  the stage changed with the optimistic version check, a history event hashed onto the chain
  (chain head read and updated), and the transaction committed.
- advance: `Collab.advance(key)` from scoping to pid over collaborations prepared to meet the
  pid gate, so each move evaluates all seven requirements of that gate against the
  collaboration's partners, benefits, artefacts, approvals and lessons before it commits.

Data: people go through the API; the collaborations to advance are bulk-inserted (see
benchmarks/common.py) after one is registered through the API to store the definition. Rounds
interleave raw, hold/resume and advance so that background load falls on all three alike;
the figures are the medians of the rounds.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.common import (
    bulk_ready_collaborations, emit, median, people, postgres_database, ready_for_pid, sqlite_database, temp_dir,
    verdict,
)

PEERS = "Camunda 7: >1,000 instances/s on a cluster; Flowable: 1,089 instances/s on 8 CPUs, PostgreSQL, history off"
TARGET_SHARE = {"sqlite": 0.5, "postgresql": 0.25}  # issue 14: of the raw commit rate measured in the same run
TARGET_STATEMENTS = 6  # per move on SQLite, BEGIN and COMMIT included


def statements_per_move(target: str, key: str, advance_key: str) -> dict[str, int]:
    """Statements each kind of move sends (BEGIN and COMMIT included), counted with SQLAlchemy's events
    once the Collab has made a first move (its user and definition are then read)."""
    from sqlalchemy import event

    from workflow.db import engine_for
    from workflow.service import Collab

    pm, sent = Collab.open(target, "pm"), []
    pm.hold(key, reason="budget review")
    pm.resume(key)
    engine = engine_for(target)

    def executed(*_args: object) -> None:
        sent.append(1)

    counts = {}
    event.listen(engine, "before_cursor_execute", executed)
    event.listen(engine, "commit", executed)
    try:
        for name, move in (("hold", lambda: pm.hold(key, reason="budget review")), ("resume", lambda: pm.resume(key)),
                           ("advance", lambda: pm.advance(advance_key))):
            sent.clear()
            move()
            counts[name] = len(sent)
    finally:
        event.remove(engine, "before_cursor_execute", executed)
        event.remove(engine, "commit", executed)
    return counts


def raw_commit_rate(target: str, commits: int) -> float:
    """Single-row INSERT + COMMIT through Core on the engine's own settings; commits per second."""
    from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert

    from workflow.db import engine_for

    engine = engine_for(target)
    table = Table("bench_raw", MetaData(), Column("id", Integer, primary_key=True),
                  Column("collaboration", String(60)), Column("body", Text))
    table.create(engine, checkfirst=True)
    writer = engine.execution_options(collab_write=True)
    statement = insert(table)
    row = {"collaboration": "RAW", "body": "x" * 400}
    started = time.perf_counter()
    for _ in range(commits):
        with writer.begin() as connection:
            connection.execute(statement, row)
    return commits / (time.perf_counter() - started)


def driver_commit_rate(target: str, commits: int) -> float:
    """The same row inserted and committed on the driver's own connection (sqlite3, psycopg), nothing in
    between: the issue's ceiling. The connection comes from the engine, so it has the same durability settings."""
    from workflow.db import engine_for

    engine = engine_for(target)
    marker = "%s" if engine.dialect.paramstyle in ("format", "pyformat") else "?"
    statement = f"INSERT INTO bench_raw (collaboration, body) VALUES ({marker}, {marker})"
    sqlite = engine.dialect.name == "sqlite"  # its connection is in autocommit mode: the engine sends BEGIN itself
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        started = time.perf_counter()
        for _ in range(commits):
            if sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(statement, ("RAW", "x" * 400))
            if sqlite:
                cursor.execute("COMMIT")
            else:
                connection.commit()
        return commits / (time.perf_counter() - started)
    finally:
        connection.close()


def hold_resume_rate(target: str, key: str, transitions: int) -> tuple[float, float]:
    """Transitions per second, and the process's CPU milliseconds per transition."""
    from workflow.service import Collab

    pm = Collab.open(target, "pm")
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(transitions // 2):
        pm.hold(key, reason="budget review")
        pm.resume(key)
    done = transitions // 2 * 2
    return done / (time.perf_counter() - started), (time.process_time() - cpu) * 1000 / done


def advance_rate(target: str, keys: list[str]) -> float:
    from workflow.service import Collab

    pm = Collab.open(target, "pm")
    started = time.perf_counter()
    for key in keys:
        pm.advance(key)
    return len(keys) / (time.perf_counter() - started)


def measure(backend: str, target: str, raw_target: str, transitions: int, advances: int, rounds: int) -> None:
    people(target)
    ready_for_pid(target, "HR")  # through the API: stores the definition version, hold/resume runs on it
    batches = [[f"A{r}-{n:05d}" for n in range(advances)] for r in range(rounds)]
    bulk_ready_collaborations(target, [key for batch in batches for key in batch] + ["COUNTED"])
    counted = statements_per_move(target, "HR", "COUNTED")
    hold_resume_rate(target, "HR", min(transitions, 200))  # warm up: imports, caches, the machine
    raw_commit_rate(raw_target, min(transitions, 200))  # also creates the table the driver's raw writes
    core, raw, moves, cpu, advanced = [], [], [], [], []
    for r in range(rounds):
        core.append(raw_commit_rate(raw_target, transitions))
        raw.append(driver_commit_rate(raw_target, transitions))
        rate, cpu_ms = hold_resume_rate(target, "HR", transitions)
        moves.append(rate)
        cpu.append(cpu_ms)
        advanced.append(advance_rate(target, batches[r]))
    raw_rate, move_rate, advance = median(raw), median(moves), median(advanced)
    share = TARGET_SHARE[backend]
    emit(f"transitions.{backend}.raw_commit", raw_rate, "commits/s",
         "the limit: single-row INSERT+COMMIT on the driver's connection, the engine's durability settings")
    emit(f"transitions.{backend}.raw_commit_core", median(core), "commits/s",
         f"the same through SQLAlchemy Core: {median(core) / raw_rate:.2f} of the limit")
    emit(f"transitions.{backend}.hold_resume", move_rate, "transitions/s",
         f"target >= {share:.2f} of raw = {share * raw_rate:,.0f}/s: {verdict(move_rate >= share * raw_rate)}; {PEERS}")
    emit(f"transitions.{backend}.hold_resume_share_of_raw", move_rate / raw_rate, "",
         f"target >= {share:.2f}: {verdict(move_rate / raw_rate >= share)}")
    emit(f"transitions.{backend}.advance_pid_gate", advance, "transitions/s",
         f"seven-requirement gate each; target >= {share:.2f} of raw = {share * raw_rate:,.0f}/s: "
         f"{verdict(advance >= share * raw_rate)}")
    emit(f"transitions.{backend}.advance_share_of_raw", advance / raw_rate, "",
         f"target >= {share:.2f}: {verdict(advance / raw_rate >= share)}")
    emit(f"transitions.{backend}.hold_resume_latency", 1000 / move_rate, "ms/transition",
         f"of which {median(cpu):.2f} ms is this process's CPU (Python, SQLAlchemy, the driver)")
    limit = TARGET_STATEMENTS  # PostgreSQL sends no BEGIN, and locks the chain head first instead
    emit(f"transitions.{backend}.statements_per_move", " / ".join(str(counted[m]) for m in ("hold", "resume", "advance")),
         "hold / resume / advance", f"target <= {limit}, BEGIN and COMMIT included: "
         f"{verdict(max(counted['hold'], counted['resume']) <= limit)} for hold and resume, "
         f"{verdict(counted['advance'] <= limit)} for advance (its gate's facts read with the collaboration)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    transitions, advances, rounds = (300, 150, 3) if args.quick else (2000, 1000, 5)
    with temp_dir("throughput") as folder, sqlite_database(folder) as target, \
            sqlite_database(folder, "raw.db") as raw_target:
        measure("sqlite", target, raw_target, transitions, advances, rounds)
    if args.no_postgres:
        return
    with postgres_database() as target:
        if target is not None:
            measure("postgresql", target, target, transitions, advances, rounds)


if __name__ == "__main__":
    main()
