"""Item 3 (and its PostgreSQL half, item 6): `collab reviews` and `collab remind --dry-run` on a large programme.

What is timed: the real commands in a subprocess, start-up included, as a user runs them:

- `collab --db DB --as admin reviews --at 2026-03-10 --within 30 --json`
- `collab --db DB --as admin remind --at 2026-03-10T09:00 --dry-run --json`

each the median of 3 runs (the two commands interleaved), on N and 10 N collaborations with
10 benefits each (N = 10,000, so 100,000 and 1,000,000 benefits; --quick: N = 1,000), on SQLite
and on PostgreSQL. The output (JSON, several MB at 10 N) is read through a pipe by this script,
which counts the reviews and messages in it so that the reader sees the work done.

Data: the admin, 30 board secretaries and 30 boards go through the API (anchored on 6 Jan 2025),
as does one collaboration in scoping (which stores the definition version). The rest is
bulk-inserted with SQLAlchemy Core (executemany, about 50,000 rows a statement) on SQLite and with
COPY on PostgreSQL: one benefit owner per ten collaborations, a chief officer for each of ten
forces, and per collaboration two partner forces, ten benefits with complete profiles (measure,
unit, baseline, target, owner, a board among the 30) and the history event that moved it into
delivery (between Feb and Nov 2025), linked into the hash chain. Stages, by collaboration number:
84 % delivery, 2 % on hold from delivery, 6 % closure, 4 % pir, 2 % bau (these closed between Sep
2025 and Jan 2026, with `pir_due` six months later, a closure event, and every benefit handed over
and accepted, a third of them to another board; half the bau ones have a `pir-report`) and 2 %
withdrawn. Measurements: 60 % of benefits have a recent figure (Jan to Mar 2026) after an older
one (Dec 2025), 20 % only the older one, 20 % none; about 1 % have reached their target.
Boards meet monthly on BYDAY variations (1TU, 2WE, -1FR, ...), plus a few bi-monthly,
four-weekly, BYMONTHDAY and BYSETPOS rules. PostgreSQL is ANALYZEd after the load (as autovacuum
would do); SQLite is left as the engine leaves it.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, datetime, timedelta
from typing import Any

from benchmarks.common import (
    COLLAB, Chain, emit, median, postgres_database, run, sqlite_database, temp_dir, verdict,
)

TARGET_SECONDS = {"reviews": 2.0, "remind": 5.0}  # issue 14, item 5: at N = 10,000 collaborations
TARGET_PEAK_MB = 300  # at 10 N
TARGET_RATIO = 12.0
AT_DAY = "2026-03-10"
AT_MOMENT = "2026-03-10T09:00"
RUNS = 3
SLOW = 30.0  # seconds: a command that slow is run once, not three times
BATCH_COLLABORATIONS = 5_000  # 50,000 benefits a batch
BENEFITS_EACH = 10
FORCES = [f"Force {n:02d} Police" for n in range(10)]
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR")
RULES = [f"FREQ=MONTHLY;BYDAY={n}{d}" for n in (1, 2, 3, 4, -1) for d in WEEKDAYS][:25] + [
    "FREQ=MONTHLY;INTERVAL=2;BYDAY=1WE",
    "FREQ=WEEKLY;INTERVAL=4;BYDAY=TH",
    "FREQ=MONTHLY;BYMONTHDAY=15",
    "FREQ=MONTHLY;BYDAY=2TU;BYHOUR=14;BYMINUTE=30",
    "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR",
]
ANCHOR = datetime(2025, 1, 6, 9, 0)


def base(target: str) -> None:
    """Admin, secretaries and boards through the API; one collaboration stores the definition."""
    from workflow.clock import LONDON, Clock
    from workflow.service import Collab

    Collab.open(target).add_user("admin", "admin", email="admin@example.org")
    clock = Clock(ANCHOR.replace(tzinfo=LONDON))
    admin = Collab.open(target, "admin", clock)
    admin.add_user("pm", "programme-manager", email="pm@example.org")
    for n, rule in enumerate(RULES):
        admin.add_user(f"sec{n:02d}", "board-secretary", email=f"sec{n:02d}@example.org")
        admin.add_board(f"Board {n:02d}", FORCES[n % len(FORCES)], rule, f"sec{n:02d}")
    Collab.open(target, "pm", clock).new("SEED", "Seed collaboration", objective="Store the definition",
                                         public_benefit="None", on=ANCHOR.date())


def _copy(connection: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL COPY FROM STDIN of dict rows (psycopg 3)."""
    if not rows:
        return
    names = list(rows[0])
    quote = connection.dialect.identifier_preparer.quote
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {table.name} ({', '.join(quote(n) for n in names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[n] for n in names])


def _insert(connection: Any, model: Any, rows: list[dict[str, Any]], batch: int = 50_000) -> None:
    from sqlalchemy import insert

    if connection.dialect.name == "postgresql":
        _copy(connection, model.__table__, rows)
        return
    for start in range(0, len(rows), batch):
        connection.execute(insert(model), rows[start:start + batch])


def bulk(target: str, count: int) -> dict[str, int]:
    """Insert `count` collaborations and their benefits, measurements, handovers and events; returns row counts."""
    from sqlalchemy import func, select, text

    from workflow.db import engine_for
    from workflow.model import (
        Artefact, Benefit, Board, Collaboration, DefinitionVersion, Event, Handover, Measurement, Partner, User,
    )

    engine = engine_for(target).execution_options(collab_write=True)
    with engine.begin() as connection:
        pm = connection.execute(select(User.id).where(User.name == "pm")).scalar_one()
        admin = connection.execute(select(User.id).where(User.name == "admin")).scalar_one()
        boards = connection.execute(select(Board.id).order_by(Board.id)).scalars().all()
        dname, dversion = connection.execute(select(DefinitionVersion.name, DefinitionVersion.version)).first()
        user_id = connection.execute(select(func.max(User.id))).scalar_one() + 1
        cid0 = (connection.execute(select(func.max(Collaboration.id))).scalar() or 0) + 1
        bid0 = (connection.execute(select(func.max(Benefit.id))).scalar() or 0) + 1
        owners_n = max(count // 10, 1)
        users = [{"id": user_id + n, "name": f"owner{n:06d}", "role": "benefit-owner",
                  "email": f"owner{n:06d}@example.org", "partner": None, "created_on": ANCHOR.date()}
                 for n in range(owners_n)]
        users += [{"id": user_id + owners_n + n, "name": f"cc{n:02d}", "role": "chief-officer",
                   "email": f"cc{n:02d}@example.org", "partner": force, "created_on": ANCHOR.date()}
                  for n, force in enumerate(FORCES)]
        _insert(connection, User, users)
    owners = [user_id + n for n in range(owners_n)]
    counts = {"collaborations": 0, "benefits": 0, "measurements": 0, "handovers": 0, "events": 0}
    at = date.fromisoformat(AT_DAY)
    mid = 0
    hid = 1
    chain = Chain(target)
    for first in range(0, count, BATCH_COLLABORATIONS):
        collaborations, partners, benefits, measurements, handovers, artefacts, events = [], [], [], [], [], [], []
        with engine.begin() as connection:
            for i in range(first, min(first + BATCH_COLLABORATIONS, count)):
                cid, key = cid0 + i, f"C{i:07d}"
                kind = i % 50
                entered = date(2025, 2, 1) + timedelta(days=(i * 7) % 300)
                stage, held, closed, pir_due = "delivery", None, None, None
                if kind == 0:
                    stage = "withdrawn"
                elif kind == 1:
                    stage, held = "on-hold", "delivery"
                elif kind <= 8:
                    stage = ("closure", "closure", "closure", "pir", "pir", "bau", "bau")[kind - 2]
                    closed = date(2025, 9, 1) + timedelta(days=(i * 11) % 150)
                    entered = min(entered, closed - timedelta(days=60))
                    month = closed.month + 6
                    pir_due = closed.replace(year=closed.year + (month - 1) // 12, month=(month - 1) % 12 + 1,
                                             day=min(closed.day, 28))
                collaborations.append({
                    "id": cid, "key": key, "title": f"Collaboration {key}", "objective": "Share services",
                    "public_benefit": "Protect the front line", "rationale": "s.22A agreements considered",
                    "origin": "programme", "manager_id": pm, "definition_name": dname,
                    "definition_version": dversion, "stage": stage, "held_from": held, "stage_since": closed or entered,
                    "created_on": entered - timedelta(days=90), "closed_on": closed, "pir_due": pir_due, "version": 3,
                })
                for force in (FORCES[i % 10], FORCES[(i + 3) % 10]):
                    partners.append({"collaboration_id": cid, "name": force, "kind": "police",
                                     "risk_appetite": "cautious", "cost_share": None})
                moves = [("pid", "delivery", entered)] + ([("delivery", "closure", closed)] if closed else [])
                for n, (source, dest, on) in enumerate(moves):
                    events.append(chain.link({
                        "collaboration": key,
                        "recorded_at": datetime.combine(on, datetime.min.time()).replace(hour=9, minute=n).isoformat(
                            timespec="microseconds"),
                        "effective_on": on.isoformat(), "actor": "pm", "action": "advance", "from_stage": source,
                        "to_stage": dest, "reason": "gate approved", "payload": {},
                    }))
                if stage == "bau" and i % 4 == 0:
                    artefacts.append({"collaboration_id": cid, "kind": "pir-report", "ref": f"pir/{key}.pdf",
                                      "recorded_on": pir_due - timedelta(days=200), "recorded_by_id": admin})
                for j in range(BENEFITS_EACH):
                    bid = bid0 + i * BENEFITS_EACH + j
                    n = i * BENEFITS_EACH + j
                    owner = owners[(n * 7) % owners_n]
                    rising = j % 2 == 0
                    baseline, goal = (100.0, 150.0) if rising else (100.0, 70.0)
                    benefits.append({
                        "id": bid, "collaboration_id": cid, "code": f"B{j + 1:02d}", "title": f"Benefit {j + 1} of {key}",
                        "category": ("economic", "effectiveness", "efficiency")[j % 3], "dis_benefit": False,
                        "measure": "Officer hours released per month", "unit": "hours", "baseline": baseline,
                        "target": goal, "target_date": date(2027, 3, 31), "start_on": entered - timedelta(days=30),
                        "owner_id": owner, "board_id": boards[(n * 13 + i) % len(boards)], "retired_on": None,
                        "retired_reason": None, "retired_by_id": None,
                    })
                    share = n % 10
                    if share < 8:  # an older figure
                        mid += 1
                        measurements.append({"id": mid, "benefit_id": bid, "on": date(2025, 12, 1) + timedelta(days=n % 20),
                                             "value": 110.0 if rising else 95.0, "note": None, "recorded_by_id": owner})
                    if share < 6:  # a recent one; 1 % of benefits have reached the target
                        reached = n % 100 == 0
                        value = (goal if reached else 120.0) if rising else (goal if reached else 90.0)
                        mid += 1
                        measurements.append({"id": mid, "benefit_id": bid, "on": at - timedelta(days=n % 40),
                                             "value": value, "note": None, "recorded_by_id": owner})
                    if closed:
                        board = boards[(n * 17) % len(boards)] if n % 3 == 0 else None
                        handovers.append({"id": hid, "benefit_id": bid, "business_area": "Operations",
                                          "to_user_id": owners[(n * 11) % owners_n], "board_id": board,
                                          "status": "accepted", "reason": None,
                                          "proposed_on": closed - timedelta(days=14), "decided_on": closed})
                        hid += 1
            _insert(connection, Collaboration, collaborations)
            _insert(connection, Partner, partners)
            _insert(connection, Benefit, benefits)
            _insert(connection, Measurement, measurements)
            _insert(connection, Handover, handovers)
            _insert(connection, Artefact, artefacts)
            _insert(connection, Event, events)
            chain.save(connection)
        counts["collaborations"] += len(collaborations)
        counts["benefits"] += len(benefits)
        counts["measurements"] += len(measurements)
        counts["handovers"] += len(handovers)
        counts["events"] += len(events)
    if engine.dialect.name == "postgresql":
        with engine_for(target).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    return counts


def build(target: str, count: int) -> tuple[dict[str, int], float]:
    started = time.perf_counter()
    base(target)
    counts = bulk(target, count)
    return counts, time.perf_counter() - started


COMMANDS = {
    "reviews": ["reviews", "--at", AT_DAY, "--within", "30", "--json"],
    "remind": ["remind", "--at", AT_MOMENT, "--dry-run", "--json"],
}


def work_done(name: str, output: str) -> str:
    """What the command computed, from its JSON."""
    found = json.loads(output)
    if name == "reviews":
        by = {}
        for row in found:
            by[row["status"]] = by.get(row["status"], 0) + 1
        return f"{len(found):,} reviews (" + ", ".join(f"{by.get(s, 0):,} {s}" for s in ("upcoming", "due", "overdue")) + ")"
    by = {}
    for sent in found["sent"]:
        by[sent["kind"]] = by.get(sent["kind"], 0) + 1
    return f"{len(found['sent']):,} messages (" + ", ".join(f"{v:,} {k}" for k, v in sorted(by.items())) + \
        f"; {len(found['unreachable']):,} unreachable)"


def time_commands(target: str) -> dict[str, tuple[float, int, str]]:
    """Median wall seconds, peak RSS (KiB) and what was computed, per command."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLAB_")}
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    rss: dict[str, int] = {}
    work: dict[str, str] = {}
    for _ in range(RUNS):
        for name, args in COMMANDS.items():
            if times[name] and times[name][0] > SLOW:
                continue  # a run this slow is far off its target; repeating it only costs minutes
            seconds, code, peak, output = run([COLLAB, "--db", target, "--as", "admin", *args], env)
            if code != 0:
                raise SystemExit(f"collab {' '.join(args)} exited {code}: {output[-2000:]}")
            times[name].append(seconds)
            rss[name] = max(rss.get(name, 0), peak)
            work.setdefault(name, work_done(name, output))
    return {name: (median(times[name]), rss[name], work[name]) for name in COMMANDS}


def measure(backend: str, small: str, large: str, n: int) -> None:
    results = {}
    for size, target in ((n, small), (10 * n, large)):
        counts, seconds = build(target, size)
        emit(f"reminders.{backend}.build.{size}", seconds, "s",
             ", ".join(f"{v:,} {k}" for k, v in counts.items()))
        results[size] = time_commands(target)
    for name in COMMANDS:
        for size in (n, 10 * n):
            seconds, peak, work = results[size][name]
            limit = TARGET_SECONDS[name]
            note = f"target < {limit:g} s: {verdict(seconds < limit)}" if size == n else \
                f"10x data; peak target <= {TARGET_PEAK_MB} MB: {verdict(peak / 1024 <= TARGET_PEAK_MB)}"
            emit(f"reminders.{backend}.{name}.{size}", seconds, "s",
                 f"{size:,} collaborations, {size * BENEFITS_EACH:,} benefits; "
                 f"{'median of ' + str(RUNS) if seconds <= SLOW else 'one run'}; {work}; "
                 f"peak {peak / 1024:.0f} MB; {note}")
        ratio = results[10 * n][name][0] / results[n][name][0]
        emit(f"reminders.{backend}.{name}.ratio", ratio, "",
             f"{10 * n:,} vs {n:,} collaborations; target <= {TARGET_RATIO:g}: {verdict(ratio <= TARGET_RATIO)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 collaborations")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args(argv)
    n = 1_000 if args.quick else 10_000
    if not args.no_sqlite:
        with temp_dir("reminders") as folder, sqlite_database(folder, "small.db") as small, \
                sqlite_database(folder, "large.db") as large:
            measure("sqlite", small, large, n)
    if args.no_postgres:
        return
    with postgres_database() as small:
        if small is None:
            return
        with postgres_database() as large:
            measure("postgresql", small, large, n)


if __name__ == "__main__":
    main()
