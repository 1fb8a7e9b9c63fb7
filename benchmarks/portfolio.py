"""Issue 14, item 6: the portfolio report on 10,000 collaborations, as a user runs it.

`collab report --all --format json --out FILE` in a subprocess, start-up included, the median of 3 (--quick: one):
every collaboration's stage, gate readiness (the facts of its next gates), benefits by status and
overdue reviews, and the verification of the whole history (the chain and its replay), all in one
snapshot and a fixed number of queries. Data: collaborations in scoping ready for the pid gate,
bulk-inserted as in benchmarks/common.py (two partners and two benefits each). Those rows are
inserted without the events that would have made them, so the replay names a divergence and the
command exits 3 after writing the report; it has done the same work as on a clean history.
"""

from __future__ import annotations

import argparse

from benchmarks.common import (
    COLLAB, bulk_ready_collaborations, collab_env, emit, median, people, ready_for_pid, run, sqlite_database, temp_dir,
    verdict,
)

TARGET_S = 5.0
RUNS = 3


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run instead of three (still 10,000 collaborations)")
    args = parser.parse_args(argv)
    count, runs = 10_000, 1 if args.quick else RUNS
    with temp_dir("portfolio") as folder, sqlite_database(folder) as target:
        people(target)
        ready_for_pid(target, "P000000")
        bulk_ready_collaborations(target, [f"P{n:06d}" for n in range(1, count)])
        times, peaks = [], []
        for _ in range(runs):
            wall, code, rss, out = run([COLLAB, "report", "--all", "--format", "json", "--out", str(folder / "p.json")],
                                       collab_env(target, "pm"))
            if code not in (0, 3):
                raise SystemExit(f"collab report --all failed (exit {code}): {out[:300]}")
            times.append(wall)
            peaks.append(rss)
        seconds = median(times)
        emit("portfolio.report_all", seconds, "s", f"{count:,} collaborations, median of {runs}, history verified; "
             f"peak {max(peaks) / 1024:.0f} MB; target < {TARGET_S:.0f} s: {verdict(seconds < TARGET_S)}")


if __name__ == "__main__":
    main()
