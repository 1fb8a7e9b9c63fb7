"""Run every benchmark: `python -m benchmarks [--quick] [--no-postgres] [--only NAME ...]`.

Each benchmark runs in a process of its own (fresh imports, caches and memory) and prints its
figures as `name: value unit (target or peer)`. This prints the machine first and the wall
time last. `peers` (the same moves on other engines) runs only when named, after
`pip install -e '.[peers]'`. PostgreSQL figures use a throw-away database created through
COLLAB_BENCH_PG_URL (or COLLAB_TEST_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/test)
and are skipped, with a note, if it cannot be reached.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import subprocess
import sys
import time

from benchmarks.common import ROOT, emit, pg_admin_url, postgres_version

SUITES = {
    "throughput": "items 1 and 6: audited transitions per second against the raw commit rate (SQLite, PostgreSQL)",
    "scale": "item 2: per-transition cost with 100 and 100,000 collaborations; machines built",
    "verify": "item 4: collab audit verify over 1,000,000 events, peak memory, bare SHA-256",
    "startup": "item 5: collab --version / --help against python -c pass; collab show on 10,000 collaborations",
    "reminders": "item 3 (and 6): collab reviews / remind --dry-run on 10,000 and 100,000 collaborations (SQLite, PostgreSQL)",
    "portfolio": "issue 14 item 6: collab report --all on 10,000 collaborations (fixed number of queries)",
    "bulk": "issue 14 item 4: benefit measure / benefit plan --from-csv with 10,000 rows, one process each",
    "report": "the HTML report of a collaboration with 200 events and 20 benefits (benchmarks/report.py)",
    "peers": "issue 14 part 7: the same audited moves on Django + django-fsm, SpiffWorkflow, transitions and "
             "python-statemachine, as shares of the raw rate (needs the extra: pip install -e '.[peers]')",
}
OPTIONAL = {"peers"}  # run only when named with --only: it needs the optional extra and takes several minutes


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine(use_postgres: bool) -> None:
    import sqlalchemy

    emit("machine.cpus", os.cpu_count() or 0, "", "nproc")
    emit("machine.cpu", cpu_model())
    emit("machine.python", platform.python_version())
    emit("machine.sqlite", sqlite3.sqlite_version)
    emit("machine.sqlalchemy", sqlalchemy.__version__)
    if use_postgres:
        emit("machine.postgresql", postgres_version() or f"not reachable at {pg_admin_url()}")
    emit("machine.load", f"{os.getloadavg()[0]:.2f}", "", "1-minute load average at the start; other work skews figures")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run of a minute or two)")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL figures")
    parser.add_argument("--only", nargs="+", choices=sorted(SUITES),
                        help=f"run only these benchmarks (default: all but {', '.join(sorted(OPTIONAL))})")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    machine(not args.no_postgres)
    failed = []
    for name in args.only or [name for name in SUITES if name not in OPTIONAL]:
        print(f"# {name}: {SUITES[name]}", flush=True)
        if name == "report":  # a plain script with one size; its first argument would be a database
            command = [sys.executable, str(ROOT / "benchmarks" / "report.py")]
        else:
            command = [sys.executable, "-m", f"benchmarks.{name}"]
            command += ["--quick"] if args.quick else []
            command += ["--no-postgres"] if args.no_postgres and name in ("throughput", "reminders", "peers") else []
        if subprocess.run(command, cwd=ROOT).returncode != 0:
            failed.append(name)
    emit("machine.load_end", f"{os.getloadavg()[0]:.2f}", "", "1-minute load average at the end")
    emit("total", time.perf_counter() - started, "s", "wall time of this run")
    if failed:
        print(f"# failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
