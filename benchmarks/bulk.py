"""Issue 14, item 4: bulk entry from CSV as a user runs it, each a `collab` process to its end.

- `collab benefit measure KEY --from-csv FILE` with 10,000 figures over eight benefits: one unit of
  work, one `measured` event each (the history is verified afterwards);
- `collab benefit plan KEY --from-csv FILE` with 10,000 plan points over the same eight benefits: one
  unit of work, one `benefit-planned` event per benefit.
"""

from __future__ import annotations

import argparse
import csv
from datetime import date, timedelta
from pathlib import Path

from benchmarks.common import COLLAB, collab_env, emit, people, ready_for_pid, run, sqlite_database, temp_dir, verdict

TARGET_S = 5.0
BENEFITS = [f"B{n}" for n in range(1, 9)]


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> str:
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the same: the target's 10,000 rows take seconds")
    parser.parse_args(argv)
    count = 10_000
    from workflow.service import Collab

    with temp_dir("bulk") as folder, sqlite_database(folder) as target:
        people(target)
        ready_for_pid(target, "BULK")
        pm = Collab.open(target, "pm", None)
        for code in BENEFITS:
            if code in ("B1", "B2"):
                pm.update_benefit("BULK", code, owner="pm")
            else:
                pm.add_benefit("BULK", code, title=f"Outcome {code}", category="effectiveness", owner="pm")
        env = collab_env(target, "pm")
        figures = write_csv(folder / "figures.csv", ["benefit", "value", "on"],  # on: empty, today
                            [[BENEFITS[n % 8], n, ""] for n in range(count)])
        wall, code, rss, out = run([COLLAB, "benefit", "measure", "BULK", "--from-csv", figures], env)
        if code != 0:
            raise SystemExit(f"benefit measure --from-csv failed (exit {code}): {out[:300]}")
        emit("bulk.measure_from_csv", wall, "s", f"{count:,} figures, one process, one unit of work, one event each; "
             f"target < {TARGET_S:.0f} s: {verdict(wall < TARGET_S)}; peak RSS {rss / 1024:.0f} MB")
        points = write_csv(folder / "plan.csv", ["benefit", "on", "value"],
                           [[BENEFITS[n % 8], (date.today() + timedelta(days=n // 8)).isoformat(), n] for n in range(count)])
        wall, code, rss, out = run([COLLAB, "benefit", "plan", "BULK", "--from-csv", points], env)
        if code != 0:
            raise SystemExit(f"benefit plan --from-csv failed (exit {code}): {out[:300]}")
        emit("bulk.plan_from_csv", wall, "s", f"{count:,} plan points over {len(BENEFITS)} benefits, one process; "
             f"target < {TARGET_S:.0f} s: {verdict(wall < TARGET_S)}; peak RSS {rss / 1024:.0f} MB")
        if not Collab.open(target, "audit").verify().ok:
            raise SystemExit("the history does not verify after the bulk entry")


if __name__ == "__main__":
    main()
