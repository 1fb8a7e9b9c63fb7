"""`collab worker`: run `remind` on a schedule until SIGTERM or SIGINT.

APScheduler is only the alarm clock. The job store is in memory because the database is the
schedule: each run computes everything due (including what fell due while no worker ran) and the
delivery log sends each occurrence once, so a restarted worker, or a second one, needs no shared
job store. The job runs at start, then every `every` seconds; runs that fall behind coalesce into
one, and never overlap.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from datetime import datetime
from types import FrameType

from workflow.clock import LONDON
from workflow.errors import CollabError
from workflow.reminders import Reminders


def run(reminders: Reminders, every: float, say: Callable[[str], None]) -> None:
    """Block until SIGTERM or SIGINT, then let the run in progress finish and return."""
    # APScheduler 3 ships neither type hints nor stubs.
    from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
    from apscheduler.jobstores.memory import MemoryJobStore  # type: ignore[import-untyped]
    from apscheduler.schedulers.blocking import BlockingScheduler  # type: ignore[import-untyped]
    from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

    scheduler = BlockingScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=LONDON,
    )
    scheduler.add_job(remind_once, IntervalTrigger(seconds=every, timezone=LONDON), args=(reminders, say),
                      id="remind", name="collab remind", next_run_time=datetime.now(LONDON))

    def stop(signum: int, _frame: FrameType | None) -> None:
        say(f"worker: {signal.Signals(signum).name} received; finishing the current run")
        if scheduler.running:
            scheduler.shutdown(wait=True)
        else:
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    say(f"worker: remind every {every:g}s as {reminders.ctx.actor_name} (SIGTERM or Ctrl-C stops)")
    scheduler.start()
    say("worker: stopped")


def remind_once(reminders: Reminders, say: Callable[[str], None]) -> None:
    """One scheduled run; a failure is reported and the next run tries again."""
    try:
        report = reminders.remind()
    except CollabError as error:
        print("worker: remind failed: " + "; ".join(r.text for r in error.reasons), file=sys.stderr, flush=True)
        return
    except Exception as error:  # noqa: BLE001 - e.g. the database is unreachable for a while
        print(f"worker: remind failed: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        return
    for sent in report["sent"]:
        say(f"{report['at']}  sent {sent['kind']} to {sent['to']}: {sent['subject']}")
    for failed in report["failed"]:
        print(f"worker: could not send {failed['kind']} to {failed['to']}: {failed['error']} (will retry)",
              file=sys.stderr, flush=True)
