"""Item 5: start-up of the `collab` command as a user feels it.

Each command runs as a subprocess, to its end, many times; runs of the different commands
are interleaved so that background load falls on all alike; figures are medians.

- `python -c pass` with the same interpreter: the floor every Python command pays;
- `python -c "import sqlalchemy"` and `"import sqlalchemy.orm"`: the floor any write through SQLAlchemy
  (Core, and its ORM) pays before it opens a connection; a write cannot start faster than this;
- `collab --version` and `collab --help`: their excess over that floor (they import no
  SQLAlchemy, transitions or jinja2);
- `collab show KEY` on a database of 10,000 collaborations (bulk-inserted as in
  benchmarks/common.py: two partners and two benefits each), each run on a random key;
- a write in one process (issue 14, item 3): `collab hold KEY --reason ...` and `collab resume KEY`
  alternately on the same database, each an audited move committed to the hash chain.
"""

from __future__ import annotations

import argparse
import random

from benchmarks.common import (
    COLLAB, PYTHON, bulk_ready_collaborations, collab_env, emit, median, people, ready_for_pid, run, sqlite_database,
    temp_dir, verdict,
)

TARGET_EXCESS_MS = 60
TARGET_SHOW_MS = 400
TARGET_WRITE_MS = 150


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, 1,000 collaborations")
    args = parser.parse_args(argv)
    runs, collaborations = (7, 1_000) if args.quick else (21, 10_000)

    commands = {
        "python_pass": [PYTHON, "-c", "pass"],
        "import_sqlalchemy": [PYTHON, "-c", "import sqlalchemy"],
        "import_orm": [PYTHON, "-c", "import sqlalchemy.orm"],
        "version": [COLLAB, "--version"],
        "help": [COLLAB, "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    with temp_dir("startup") as folder, sqlite_database(folder) as target:
        env = collab_env(target)
        for name, command in commands.items():  # warm the file cache
            run(command, env)
        for _ in range(runs):
            for name, command in commands.items():
                wall, code, _, out = run(command, env)
                if code != 0:
                    raise SystemExit(f"{' '.join(command)} failed (exit {code}): {out[:300]}")
                times[name].append(wall)

        people(target)
        ready_for_pid(target, "C000000")
        keys = [f"C{n:06d}" for n in range(1, collaborations)]
        bulk_ready_collaborations(target, keys)
        shows = []
        rng = random.Random(5)
        show_env = collab_env(target, "pm")
        run([COLLAB, "show", keys[0]], show_env)
        for _ in range(runs):
            key = rng.choice(keys)
            wall, code, _, out = run([COLLAB, "show", key], show_env)
            if code != 0 or key not in out:
                raise SystemExit(f"collab show {key} failed (exit {code}): {out[:300]}")
            shows.append(wall)
        writes = []
        for n in range(runs * 2):
            move = [COLLAB, "hold", keys[0], "--reason", "budget review"] if n % 2 == 0 else [COLLAB, "resume", keys[0]]
            wall, code, _, out = run(move, show_env)
            if code != 0:
                raise SystemExit(f"{' '.join(move)} failed (exit {code}): {out[:300]}")
            writes.append(wall)

    floor = median(times["python_pass"]) * 1000
    emit("startup.python_pass", floor, "ms", f"`python -c pass`, median of {runs}: the floor")
    for name, module in (("import_sqlalchemy", "sqlalchemy"), ("import_orm", "sqlalchemy.orm")):
        emit(f"startup.{name}", median(times[name]) * 1000, "ms",
             f"`python -c \"import {module}\"`, median of {runs}: the floor of a write through it")
    for name in ("version", "help"):
        ms = median(times[name]) * 1000
        emit(f"startup.{name}", ms, "ms",
             f"`collab --{name}`; {ms - floor:.0f} ms over the floor, target <= {TARGET_EXCESS_MS} ms: "
             f"{verdict(ms - floor <= TARGET_EXCESS_MS)}")
    show_ms = median(shows) * 1000
    emit("startup.show", show_ms, "ms",
         f"`collab show KEY` among {collaborations:,} collaborations, median of {runs}; target < {TARGET_SHOW_MS} ms: "
         f"{verdict(show_ms < TARGET_SHOW_MS)}")
    write_ms = median(writes) * 1000
    emit("startup.write", write_ms, "ms",
         f"`collab hold`/`collab resume` in one process each, median of {len(writes)}; {write_ms - floor:.0f} ms over the "
         f"floor; target <= {TARGET_WRITE_MS} ms: {verdict(write_ms <= TARGET_WRITE_MS)}")


if __name__ == "__main__":
    main()
