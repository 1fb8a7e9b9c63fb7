"""Peers: collab's audited moves against the engines a user would pick instead, as shares of one raw rate.

`python -m benchmarks.peers [--quick] [--no-postgres]` (or `python -m benchmarks --only peers`).
Needs the optional extra: `pip install -e '.[peers]'`.

The work is the throughput benchmark's: guarded moves of a record through a small lifecycle,
each committed with an audit row in its own transaction. Two kinds of move:

- hold/resume: hold a record in delivery (the guard: a reason is given) and resume it (the
  guard: it returns to the stage it was held from);
- advance: scoping -> pid through a gate whose guard reads three facts (a rationale, at least
  two partners, at least one benefit), each record advanced once.

Engines, each with its own SQLite file (WAL, synchronous=FULL) and, unless --no-postgres, its
own PostgreSQL schema or database (synchronous_commit=on):

- raw: plain sqlite3 (psycopg on PostgreSQL), one small UPDATE and one INSERT per transaction,
  nothing read or checked: the ceiling every share is taken of;
- raw, Core INSERT: `throughput.raw_commit_rate` (one 400-byte INSERT per transaction through
  SQLAlchemy Core, collab's engine settings), the ceiling the README's throughput rows use;
- collab: `throughput.hold_resume_rate` / `throughput.advance_rate` (roles, the definition's
  gates, optimistic version check, hash-chained history event);
- Django + django-fsm-2 + django-fsm-log (benchmarks/peers/django_peer.py);
- SpiffWorkflow 3, BPMN, state serialised with its JSON serializer (benchmarks/peers/spiff.py);
- `transitions` alone and python-statemachine alone with hand-written SQL (benchmarks/peers/naive.py).

Sizes: a pool of 500 records held and resumed (1,000 moves) and 500 records advanced per round,
5 rounds (--quick: 50 and 100, 3 rounds). Rounds interleave every engine (their order rotates
each round) so background load falls on all alike; rates, and this process's CPU time per move,
are the medians of the rounds. Statements per move are counted on SQLite in a separate untimed
pass with sqlite3's trace callback (BEGIN and COMMIT included); they are not counted on
PostgreSQL. collab holds and resumes one collaboration, as its throughput benchmark
does; the peers hold and resume each record of a pool once a round (a BPMN loop grows
SpiffWorkflow's state with every pass, see spiff.py). The 1-minute load average is printed at the
start and end of each backend's phase.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import emit, median, pg_admin_url, postgres_database, sqlite_database, temp_dir
from benchmarks.peers import INSTALL, NEEDS, missing

PEER_SCHEMAS = ("raw", "transitions", "statemachine", "spiff")  # Django uses `public`
WARM = 20


@dataclass
class Figure:
    """One kind of move of one engine: a rate and this process's CPU per move for each round."""

    rates: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    statements: float | None = None  # per move, counted on SQLite

    def timed(self, moves: int, run: Callable[[], float]) -> None:
        cpu = time.process_time()
        self.rates.append(run())
        self.cpu_ms.append((time.process_time() - cpu) * 1000 / moves)


@dataclass
class Row:
    """One engine on one backend. A ceiling has only `hold_resume` (its commits); a peer not run, only a note."""

    name: str
    title: str
    hold_resume: Figure = field(default_factory=Figure)
    advance: Figure = field(default_factory=Figure)
    note: str = ""


@contextmanager
def peers_postgres() -> Iterator[str | None]:
    """A throw-away database for the peers (one schema each), dropped afterwards; None if unreachable."""
    admin_url = pg_admin_url().split("?", 1)[0].replace("postgresql+psycopg://", "postgresql://")
    name = f"collab_peers_{uuid.uuid4().hex[:10]}"
    try:
        import psycopg

        admin = psycopg.connect(admin_url, autocommit=True)
        admin.execute(f"CREATE DATABASE {name}")
    except Exception as error:  # noqa: BLE001 - any failure means: no PostgreSQL figures
        print(f"# PostgreSQL at {admin_url} not usable ({type(error).__name__}); its figures are skipped", flush=True)
        yield None
        return
    url = f"{admin_url.rsplit('/', 1)[0]}/{name}"
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            for schema in PEER_SCHEMAS:
                connection.execute(f"CREATE SCHEMA {schema}")
        yield url
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def timed_hold_resume(peer: Any, keys: list[str]) -> float:
    """Moves per second: each record of the pool held, then resumed."""
    if hasattr(peer, "hold_resume_rate"):
        return peer.hold_resume_rate(2 * len(keys))
    started = time.perf_counter()
    for key in keys:
        peer.hold(key)
        peer.resume(key)
    return 2 * len(keys) / (time.perf_counter() - started)


def timed_advance(peer: Any, keys: list[str]) -> float:
    if hasattr(peer, "advance_rate"):
        return peer.advance_rate(keys)
    started = time.perf_counter()
    for key in keys:
        peer.advance(key)
    return len(keys) / (time.perf_counter() - started)


def tracer(peer: Any) -> Any:
    from benchmarks.peers.store import traced

    return peer.trace() if hasattr(peer, "trace") else traced(peer.connections())


def count_statements(peer: Any, row: Row, hold_key: str, advance_key: str) -> None:
    peer.hold(hold_key)  # once untraced: whatever a first call on this key or session does is not counted
    peer.resume(hold_key)
    with tracer(peer) as statements:
        peer.hold(hold_key)
        peer.resume(hold_key)
    row.hold_resume.statements = len(statements) / 2
    with tracer(peer) as statements:
        peer.advance(advance_key)
    row.advance.statements = len(statements)


def build_peers(backend: str, folder: Path, pg_url: str | None, pool: list[str], scoping: list[str],
                stack: ExitStack, rows: list[Row]) -> list[tuple[Any, Row]]:
    """Every peer that can run here, its data built; a row with a note for each that cannot."""
    from benchmarks.peers.naive import StatemachinePeer, TransitionsPeer
    from benchmarks.peers.spiff import SpiffPeer

    makers: list[tuple[str, str, Callable[[], Any]]] = []
    for cls in (TransitionsPeer, StatemachinePeer, SpiffPeer):
        target = str(folder / f"{backend}-{cls.name}.db") if backend == "sqlite" else pg_url
        makers.append((cls.name, cls.title, lambda cls=cls, target=target: cls(
            backend, target, None if backend == "sqlite" else cls.name, pool, scoping)))
    from benchmarks.peers.django_peer import DjangoPeer

    makers.insert(0, (DjangoPeer.name, DjangoPeer.title, lambda: DjangoPeer(backend, pool, scoping)))
    built = []
    for name, title, make in makers:
        absent = missing(name)
        if absent:
            rows.append(Row(name, title, note=f"not run: {', '.join(absent)} not installed ({INSTALL})"))
            continue
        try:
            peer = make()
        except Exception as error:  # noqa: BLE001 - reported in the table instead of a figure
            traceback.print_exc()
            rows.append(Row(name, title, note=f"not run: {type(error).__name__}: {error}"))
            continue
        stack.callback(peer.close)
        built.append((peer, Row(name, title)))
    return built


def run_backend(backend: str, folder: Path, pg_url: str | None, pool_size: int, advances: int,
                rounds: int) -> list[Row]:
    """All engines on one backend, in interleaved rounds; the raw row first."""
    from benchmarks.peers.collab_peer import CollabPeer
    from benchmarks.peers.store import Store, engine_traced, raw_rate, traced
    from benchmarks.throughput import raw_commit_rate

    emit(f"peers.{backend}.load", f"{os.getloadavg()[0]:.2f}", "", "1-minute load average at the start of this phase")
    pool = [f"H{n:05d}" for n in range(pool_size)]
    warm = [f"AW-{n:03d}" for n in range(WARM + 1)]  # the last one is the counted advance
    batches = [[f"A{r}-{n:05d}" for n in range(advances)] for r in range(rounds)]
    scoping = warm + [key for batch in batches for key in batch]
    rows: list[Row] = []
    with ExitStack() as stack:
        # the ceilings
        raw = Store(backend, str(folder / f"{backend}-raw.db") if backend == "sqlite" else pg_url,
                    None if backend == "sqlite" else "raw")
        stack.callback(raw.close)
        raw.create_schema()
        raw.seed(["RAW"], [])
        raw_row = Row("raw", "raw: plain " + ("sqlite3" if backend == "sqlite" else "psycopg")
                      + ", one UPDATE + one INSERT per transaction")
        if backend == "sqlite":
            collab_target = stack.enter_context(sqlite_database(folder, "collab.db"))
            core_target = stack.enter_context(sqlite_database(folder, "raw-core.db"))
        else:
            collab_target = stack.enter_context(postgres_database())
            core_target = collab_target  # as the throughput benchmark does on PostgreSQL
            if collab_target is None:
                return []
        core_row = Row("raw_core", "raw: SQLAlchemy Core, one INSERT per transaction (throughput.raw_commit_rate)")
        collab = CollabPeer(backend, collab_target, warm + [key for batch in batches for key in batch])
        collab_row = Row(collab.name, collab.title)
        peers = [(collab, collab_row), *build_peers(backend, folder, pg_url, pool, scoping, stack, rows)]

        # warm up (imports, caches, statement caches), then count statements in an untimed pass
        raw_rate(raw, WARM)
        raw_commit_rate(core_target, WARM)
        for peer, _ in peers:
            timed_hold_resume(peer, pool[:WARM // 2])
            timed_advance(peer, warm[:WARM])
        if backend == "sqlite":
            with traced([raw.connection]) as statements:
                raw_rate(raw, 1)
            raw_row.hold_resume.statements = len(statements)
            counts = []
            for commits in (1, 2):  # the difference leaves out the table check each call makes first
                with engine_traced(core_target) as statements:
                    raw_commit_rate(core_target, commits)
                counts.append(len(statements))
            core_row.hold_resume.statements = counts[1] - counts[0]
            for peer, row in peers:
                count_statements(peer, row, pool[WARM], warm[WARM])

        moves = 2 * pool_size
        measures: list[Callable[[int], None]] = [
            lambda r: raw_row.hold_resume.timed(moves, lambda: raw_rate(raw, moves)),
            lambda r: core_row.hold_resume.timed(moves, lambda: raw_commit_rate(core_target, moves)),
        ]
        for peer, row in peers:
            measures.append(lambda r, peer=peer, row=row: row.hold_resume.timed(
                moves, lambda: timed_hold_resume(peer, pool)))
            measures.append(lambda r, peer=peer, row=row: row.advance.timed(
                advances, lambda: timed_advance(peer, batches[r])))
        for r in range(rounds):
            shift = r * 2 % len(measures)
            for measure in measures[shift:] + measures[:shift]:
                measure(r)
        for peer, row in peers:
            if hasattr(peer, "state_bytes"):
                row.note = (f"serialised state of a record in delivery: {peer.seed_bytes:,} bytes, "
                            f"{peer.state_bytes(pool[-1]):,} after {rounds} hold/resume passes")
    emit(f"peers.{backend}.load_end", f"{os.getloadavg()[0]:.2f}", "", "1-minute load average at the end of this phase")
    return [raw_row, core_row, collab_row, *[row for _, row in peers if row is not collab_row], *rows]


def report(backend: str, rows: list[Row]) -> None:
    """One `name: value` line per figure, then the table of this backend."""
    raw = median(rows[0].hold_resume.rates)
    counted = backend == "sqlite"

    def cells(figure: Figure) -> list[str]:
        rate = median(figure.rates)
        return [f"{rate:,.0f}", f"{rate / raw:.2f}", f"{median(figure.cpu_ms):.2f}",
                "" if figure.statements is None else f"{figure.statements:g}"]

    for row in rows:
        if not row.hold_resume.rates:
            emit(f"peers.{backend}.{row.name}", row.note or "not measured")
            continue
        kinds = [("hold_resume", row.hold_resume), ("advance", row.advance)] if row.advance.rates \
            else [("", row.hold_resume)]  # a ceiling: commits
        for move, figure in kinds:
            rate = median(figure.rates)
            note = (row.title + "; " if not move else "") + (f"{rate / raw:.2f} of raw; " if row is not rows[0] else "")
            note += f"{median(figure.cpu_ms):.2f} ms CPU/move"
            note += f"; {figure.statements:g} statements/move" if figure.statements is not None else ""
            emit(f"peers.{backend}.{row.name}" + (f".{move}" if move else ""), rate,
                 "moves/s" if move else "commits/s", note)
        if row.note:
            emit(f"peers.{backend}.{row.name}.note", row.note)

    server = "" if counted else " (the server is another process)"
    how = "counted with sqlite3's trace callback, BEGIN and COMMIT included" if counted else "not counted on PostgreSQL"
    print(f"\n{backend}: medians of the rounds. /s: moves (or commits) per second; share: of the raw rate in the "
          f"same run; CPU: this process's ms per move{server}; stmts: SQL statements per move, {how}\n")
    print("| engine | hold/resume /s | share | CPU ms | stmts | advance through the gate /s | share | CPU ms | stmts |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        if not row.hold_resume.rates:
            print(f"| {row.title} | {row.note} |" + " |" * 7)
        elif not row.advance.rates:
            print("| " + " | ".join([row.title, *cells(row.hold_resume)]) + " |" + " |" * 4)
        else:
            print("| " + " | ".join([row.title, *cells(row.hold_resume), *cells(row.advance)]) + " |")
    for row in rows:
        if row.note and row.hold_resume.rates:
            print(f"\n{row.title}: {row.note}")
    if any(median(figure.rates) > raw for row in rows if row.advance.rates for figure in (row.hold_resume, row.advance)):
        print("\nAn engine above 1: the disk's commit rate changed during the run (other work on the machine), "
              "so the shares are unreliable here; compare CPU ms per move, which load moves less.")
    print(flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)

    extra = [name for name in NEEDS if name != "transitions"]
    absent = sorted({distribution for name in extra for distribution in missing(name)})
    if all(missing(name) for name in extra):
        print(f"benchmarks.peers needs the optional extra 'peers': {INSTALL} (missing: {', '.join(absent)})",
              file=sys.stderr)
        return 2
    if absent:
        print(f"# not installed: {', '.join(absent)}; those peers are not run ({INSTALL})", flush=True)
    pool_size, advances, rounds = (50, 100, 3) if args.quick else (500, 500, 5)
    emit("peers.load", f"{os.getloadavg()[0]:.2f}", "", "1-minute load average at the start")
    with ExitStack() as stack:
        folder = stack.enter_context(temp_dir("peers"))
        pg_url = None if args.no_postgres else stack.enter_context(peers_postgres())
        if not missing("django_fsm"):
            from benchmarks.peers.django_peer import configure

            configure(str(folder / "sqlite-django.db"), pg_url)
        report("sqlite", run_backend("sqlite", folder, None, pool_size, advances, rounds))
        if pg_url is not None:
            rows = run_backend("postgresql", folder, pg_url, pool_size, advances, rounds)
            if rows:
                report("postgresql", rows)
    emit("peers.load_end", f"{os.getloadavg()[0]:.2f}", "", "1-minute load average at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
