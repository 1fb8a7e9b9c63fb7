"""Crash safety: a writer killed with SIGKILL at random moments loses no acknowledged write and leaves no use case
half-applied; `audit verify` (chain, and replay of the history against the tables) passes after every kill.

The writer is a child forked from this process (so nothing is imported again per kill): it opens the engine as
the people of a collaboration in delivery and runs random use cases in a loop, writing an acknowledgement of each
one's unique marker to a pipe once it has committed. Every marker travels in its use case's history event, so an
acknowledged write that is missing shows as a marker missing from the history.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

from builders import in_delivery, open_as, people
from conftest import database
from workflow.db import engine_for
from workflow.errors import Refused


def _hold_or_resume(db: str, marker: str) -> Any:
    pm = open_as(db, "pm")
    try:
        return pm.hold("SA", reason=f"hold {marker}")
    except Refused:  # on hold already
        return pm.resume("SA", reason=f"resume {marker}")


USE_CASES: list[Callable[[str, str], Any]] = [
    lambda db, m: open_as(db, "owner").measure("SA", "B1", random.randint(0, 12), note=f"figure {m}"),
    lambda db, m: open_as(db, "pm").update("SA", objective=f"objective {m}"),
    lambda db, m: open_as(db, "pm").add_lesson("SA", f"lesson {m}"),
    lambda db, m: open_as(db, "pm").add_partner("SA", f"Partner {m}", risk_appetite="cautious"),
    lambda db, m: open_as(db, "pm").add_benefit("SA", f"B{m}", title=f"benefit {m}", category="effectiveness"),
    lambda db, m: open_as(db, "pm").new(f"C{m}", f"collaboration {m}"),
    _hold_or_resume,
]


def _write_forever(db: str, round_: int, ack: int) -> None:
    """The child: random use cases until killed; one line per committed one on fd `ack`."""
    engine_for(db).dispose(close=False)  # the parent's pooled connections are not this process's to use
    random.seed(round_)
    for n in range(10**9):
        marker = f"{round_}x{n}y"  # 'y' ends it: no marker is a prefix of another
        random.choice(USE_CASES)(db, marker)
        os.write(ack, f"{marker}\n".encode())


def kill_writers(db: str, kills: int, seed: int) -> None:
    """`kills` times: fork a writer, let it run a random while, SIGKILL it, then verify and check its acks."""
    chance = random.Random(seed)
    acknowledged: list[str] = []
    for round_ in range(kills):
        engine_for(db).dispose()  # no connection of ours crosses the fork
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            os.close(read)
            try:
                _write_forever(db, round_, write)
            finally:
                os._exit(1)
        os.close(write)
        first = b""
        if round_ % 2:  # every other round, after a first commit: the writer gets work done however loaded the machine
            while not first.endswith(b"\n") and (byte := os.read(read, 1)):  # b"": the writer died (asserted below)
                first += byte
        time.sleep(chance.uniform(0.02, 0.25))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"writer ended early: {status}"
        with os.fdopen(read, "rb") as pipe:
            acknowledged += (first + pipe.read()).decode().split()
        auditor = open_as(db, "audit")
        verified = auditor.verify()
        assert verified.ok, f"after kill {round_ + 1}: {verified.problem}"
    history = repr(open_as(db, "audit").history())
    missing = [m for m in acknowledged if m not in history]
    assert missing == [], f"{len(missing)} acknowledged writes are missing, e.g. {missing[:5]}"
    assert len(acknowledged) >= kills // 2  # at least the rounds that waited for a first commit


@pytest.mark.slow
@pytest.mark.parametrize("kind, kills", [("sqlite", 200), ("postgresql", 50)])
def test_writers_killed_at_random_moments_lose_nothing(kind: str, kills: int, tmp_path: Any) -> None:
    with database(kind, tmp_path) as db:
        people(db)
        in_delivery(db)
        kill_writers(db, kills, seed=16)
