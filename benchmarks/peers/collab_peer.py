"""collab itself in the peers' table, measured by the throughput benchmark's own functions.

The data is built as `benchmarks/throughput.py` builds it (people and one collaboration through
the API, the collaborations to advance bulk-inserted ready for the pid gate) and the rates are
`throughput.hold_resume_rate` and `throughput.advance_rate`, imported, so that the figure here is
the figure that benchmark reports, taken in the same run as the peers.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from benchmarks.common import bulk_ready_collaborations, people, ready_for_pid
from benchmarks.peers.store import engine_traced
from benchmarks.throughput import advance_rate, hold_resume_rate

HELD = "HR"  # the one collaboration held and resumed, as in the throughput benchmark


class CollabPeer:
    name, title = "collab", "collab (this engine: roles, gates, hash-chained history)"

    def __init__(self, backend: str, target: str, advance_keys: list[str]) -> None:
        self.backend, self.target = backend, target
        people(target)
        ready_for_pid(target, HELD)  # through the API: stores the definition version
        bulk_ready_collaborations(target, advance_keys)

    def hold_resume_rate(self, moves: int) -> float:
        return hold_resume_rate(self.target, HELD, moves)[0]

    def advance_rate(self, keys: list[str]) -> float:
        return advance_rate(self.target, keys)

    # single moves through the API, for the counted (untimed) pass
    def _api(self) -> Any:
        from workflow.service import Collab

        if not hasattr(self, "_pm"):
            self._pm = Collab.open(self.target, "pm")
        return self._pm

    def hold(self, key: str = HELD) -> None:
        self._api().hold(HELD, reason="budget review")

    def resume(self, key: str = HELD) -> None:
        self._api().resume(HELD)

    def advance(self, key: str) -> None:
        self._api().advance(key)

    def trace(self) -> AbstractContextManager[list[str]]:
        """Every statement SQLite runs for this engine's connections while the block runs."""
        return engine_traced(self.target)

    def close(self) -> None:
        pass
