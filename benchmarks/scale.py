"""Item 2: advancing one collaboration costs the same with 100 or 100,000 collaborations in the database.

Two SQLite databases are built: one with 100 collaborations, one with 100,000, all in scoping
and ready for the pid gate (bulk-inserted: the rows `Collab.new`, `partner add` and
`benefit add` write, two partners and two benefits each, and one `registered` event each in
the hash chain; see benchmarks/common.py). In rounds that alternate between the two, the
script times single use cases on collaborations drawn at random from the whole key space:

- advance: `Collab.advance(key)` scoping -> pid on a collaboration not advanced before
  (the pid gate's seven requirements over its partners and benefits);
- hold/resume: `Collab.hold(key, reason=...)` then `Collab.resume(key)` on a random one.

Each use case is timed on its own; the figures are the medians per transition and their
ratio (large / small). The script also counts the `transitions.Machine` objects built while it
runs: the engine builds one per definition version, never one per collaboration.
"""

from __future__ import annotations

import argparse
import random
import time

from benchmarks.common import (
    bulk_ready_collaborations, emit, median, people, ready_for_pid, sqlite_database, temp_dir, verdict,
)

TARGET_RATIO = 1.5
TRACKER = "the transitions tracker reports 28 s to build 100,000 machines"


def build(target: str, count: int) -> list[str]:
    people(target)
    ready_for_pid(target, "C000000")  # through the API: stores the definition version
    keys = [f"C{n:06d}" for n in range(1, count)]
    bulk_ready_collaborations(target, keys)
    return ["C000000", *keys]


def timed(call) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 instead of 100,000 collaborations")
    args = parser.parse_args(argv)
    small_n, large_n = 100, (10_000 if args.quick else 100_000)
    rounds, advances, pairs = 4, 24, (50 if args.quick else 150)

    import transitions

    built = []
    original_init = transitions.Machine.__init__

    def counting_init(self, *a, **kw):  # type: ignore[no-untyped-def]
        built.append(1)
        original_init(self, *a, **kw)

    transitions.Machine.__init__ = counting_init  # type: ignore[method-assign]

    from workflow.service import Collab

    with temp_dir("scale") as folder, sqlite_database(folder, "small.db") as small, \
            sqlite_database(folder, "large.db") as large:
        started = time.perf_counter()
        keys = {small: build(small, small_n), large: build(large, large_n)}
        build_seconds = time.perf_counter() - started
        rng = random.Random(2026)
        untouched = {db: rng.sample(found, len(found)) for db, found in keys.items()}
        apps = {db: Collab.open(db, "pm") for db in keys}
        for db, app in apps.items():  # warm up: the definition, the machine, the page cache
            app.hold(keys[db][-1], reason="warm up")
            app.resume(keys[db][-1])
        times: dict[str, dict[str, list[float]]] = {db: {"advance": [], "hold_resume": []} for db in keys}
        for _ in range(rounds):
            for db, app in apps.items():
                for _ in range(advances):
                    key = untouched[db].pop()
                    times[db]["advance"].append(timed(lambda: app.advance(key)))
                for _ in range(pairs):
                    key = rng.choice(keys[db])
                    times[db]["hold_resume"].append(timed(lambda: app.hold(key, reason="budget review")))
                    times[db]["hold_resume"].append(timed(lambda: app.resume(key)))

    from workflow.definition import find
    from workflow.machine import Lifecycle

    definition = find("police-collaboration")
    transitions.Machine.__init__ = original_init  # type: ignore[method-assign]
    one_machine = median([timed(lambda: Lifecycle(definition)) for _ in range(50)])

    emit("scale.build", build_seconds, "s", f"bulk-built {small_n:,} + {large_n:,} collaborations")
    for kind in ("advance", "hold_resume"):
        small_ms = median(times[small][kind]) * 1000
        large_ms = median(times[large][kind]) * 1000
        emit(f"scale.{kind}.{small_n}", small_ms, "ms/transition", f"median of {len(times[small][kind])}")
        emit(f"scale.{kind}.{large_n}", large_ms, "ms/transition", f"median of {len(times[large][kind])}")
        emit(f"scale.{kind}.ratio", large_ms / small_ms, "",
             f"{large_n:,} vs {small_n:,} collaborations; target <= {TARGET_RATIO}: {verdict(large_ms / small_ms <= TARGET_RATIO)}")
    emit("scale.machines_built", len(built), "",
         f"while {small_n + large_n:,} collaborations were built and moved; one per definition version per process")
    emit("scale.machine_build", one_machine * 1000, "ms",
         f"one machine; x {large_n:,} would be {one_machine * large_n:,.1f} s; {TRACKER}")


if __name__ == "__main__":
    main()
