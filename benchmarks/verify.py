"""Item 4: `collab audit verify` over 1,000,000 events, its peak memory, and bare SHA-256 over the same bytes.

The database (SQLite, the engine's settings) gets its users through the API, then a million
events bulk-inserted with SQLAlchemy Core: a mix of updates, partner changes, holds, resumes,
benefit updates and advances over 10,000 collaborations, each linked into the hash chain with
`workflow.audit.event_hash` and the chain head updated, exactly as `audit.append` leaves them
(see benchmarks/common.py). Verify therefore recomputes every hash and passes.

What is timed:
- `collab audit verify --json` as a user runs it (a subprocess, start-up included), several
  times; the median wall time, and the peak resident memory of that process (reaped with
  wait4, which reports one child's own peak);
- the bare cost of hashing: `hashlib.sha256(data).hexdigest()` over each event's canonical
  encoding, the very bytes verify hashes, timed while the data is built.

`--database PATH` keeps the database built at PATH (a new file) or, if PATH exists, times verify on it
without building (then no bare SHA-256 figure): one build serves interleaved before/after runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.common import COLLAB, bulk_events, collab_env, emit, median, people, run, sqlite_database, temp_dir, verdict

TARGET_SECONDS = 10
TARGET_MB = 200


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 events instead of 1,000,000")
    parser.add_argument("--database", type=Path, help="build the database here and keep it; if it exists, reuse it")
    args = parser.parse_args(argv)
    count, runs = (100_000, 3) if args.quick else (1_000_000, 3)

    hashing = {"seconds": 0.0, "bytes": 0}

    def timed_hash(batch: list[bytes]) -> None:
        started = time.perf_counter()
        for data in batch:
            hashlib.sha256(data).hexdigest()
        hashing["seconds"] += time.perf_counter() - started
        hashing["bytes"] += sum(len(data) for data in batch)

    reuse = args.database is not None and args.database.exists()
    with database(args.database) as target:
        started = time.perf_counter()
        if not reuse:
            people(target)
            bulk_events(target, count, timed_hash=timed_hash)
        build_seconds = time.perf_counter() - started
        total = count + 3  # the three user-added events written through the API
        size_mb = Path(target).stat().st_size / 2**20

        walls, peaks = [], []
        for _ in range(runs):
            wall, code, peak_kib, out = run([COLLAB, "audit", "verify", "--json"], collab_env(target, "audit"))
            result = json.loads(out) if code == 0 else None
            if result is None or not result["ok"] or result["events"] != total:
                raise SystemExit(f"verify did not pass over {total} events (exit {code}): {out[:500]}")
            walls.append(wall)
            peaks.append(peak_kib / 1024)

    seconds, peak = median(walls), max(peaks)
    if reuse:
        emit("verify.database", str(args.database), "", f"reused, database {size_mb:,.0f} MB; not built")
    else:
        emit("verify.build", build_seconds, "s", f"{total:,} events, database {size_mb:,.0f} MB")
    emit("verify.seconds", seconds, "s",
         f"`collab audit verify` over {total:,} events, start-up included; target < {TARGET_SECONDS} s"
         + (f": {verdict(seconds < TARGET_SECONDS)}" if count == 1_000_000 else " for 1,000,000"))
    emit("verify.rate", total / seconds, "events/s")
    emit("verify.peak_memory", peak, "MB", f"largest of {runs} runs; target < {TARGET_MB} MB: {verdict(peak < TARGET_MB)}")
    if reuse:
        return
    emit("verify.sha256_bare", hashing["seconds"], "s",
         f"hashlib.sha256 over the same {hashing['bytes'] / 2**20:,.0f} MB, one digest per event: the floor")
    emit("verify.sha256_share", hashing["seconds"] / seconds, "", "share of verify's time that is hashing")


@contextmanager
def database(path: Path | None) -> Iterator[str]:
    """A throw-away database in a temporary folder, or the one at `path` (made at the newest schema if new)."""
    if path is None:
        with temp_dir("verify") as folder, sqlite_database(folder) as target:
            yield target
        return
    if path.exists():
        yield str(path)
        return
    with sqlite_database(path.parent, path.name) as target:
        yield target


if __name__ == "__main__":
    main()
