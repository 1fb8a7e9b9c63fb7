"""`collab worker`: real worker processes on one database, a real (deliberately slow) SMTP server, real signals.

Timeline as in test_reminders.py: SA in delivery from 2 Sep 2026, board RCB meets first on Tue 6 Oct 2026, so on
29 Sep (6 Oct - 7) its agenda and the owners' requests are due; here SA has 22 benefits, so 23 messages.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from builders import open_as
from conftest import COLLAB, collab
from builders import as_of
from scripted import in_delivery
from test_notifications import Collector, free_port
from test_reminders import Mailbox
from workflow.db import UnitOfWork, engine_for
from workflow.model import Delivery

SEP_29 = "2026-09-29T09:00"


class SlowCollector(Collector):
    """Takes a while over each message, so that runs of two workers overlap."""

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_mailbox() -> Iterator[Mailbox]:
    controller = Controller(SlowCollector(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield Mailbox(controller, controller.handler)
    finally:
        controller.stop()


def many_benefits(db: str) -> list[str]:
    """SA with B3..B22 as well (all at RCB); returns the keys of what is due on 29 Sep."""
    in_delivery(db, date(2026, 9, 2))
    with as_of("2026-09-02T09:00"):
        pm = open_as(db, "pm")
        for n in range(3, 23):
            pm.add_benefit("SA", f"B{n}", title=f"Benefit {n}", category="efficiency", measure="hours", baseline=0,
                           target=100, by=date(2030, 3, 31), owner="owner" if n % 2 else "owner2", board="RCB")
    due = collab(db, "remind", "--dry-run", "--json", actor="root", env={"COLLAB_NOW": SEP_29}, check=0).json()
    return [s["key"] for s in due["sent"]]  # type: ignore[index]


def start_worker(db: str, mailbox: Mailbox, now: str, actor: str = "root") -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLAB_")}
    env.update(COLLAB_DB=db, COLLAB_USER=actor, COLLAB_NOW=now, **mailbox.env)
    return subprocess.Popen([COLLAB, "worker", "--every", "1"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_until(condition: Callable[[], bool], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def stop(worker: subprocess.Popen[str], signum: int = signal.SIGTERM) -> tuple[int, str, str]:
    worker.send_signal(signum)
    out, err = worker.communicate(timeout=60)
    return worker.returncode, out, err


def keys(mailbox: Mailbox) -> Counter[str]:
    return Counter(m["X-Collab-Key"] for _, m in mailbox.messages())


def log_states(db: str) -> Counter[str]:
    with UnitOfWork(engine_for(db)).read() as session:
        return Counter(session.scalars(select(Delivery.state)))


@pytest.mark.slow
def test_two_workers_on_one_database_deliver_each_message_exactly_once(db: str, slow_mailbox: Mailbox) -> None:
    due = many_benefits(db)
    assert len(due) == 23  # the agenda and 22 requests
    workers = [start_worker(db, slow_mailbox, SEP_29) for _ in range(2)]
    try:
        wait_until(lambda: sum(keys(slow_mailbox).values()) >= len(due))
        time.sleep(3)  # several more runs of each worker: nothing more may arrive
    finally:
        outcomes = [stop(w) for w in workers]
    assert [code for code, _, _ in outcomes] == [0, 0], outcomes
    assert keys(slow_mailbox) == Counter(due)  # every key once, counted at the SMTP server
    assert log_states(db) == {"sent": 23}
    for _, out, err in outcomes:
        assert "worker: stopped" in out and "Traceback" not in err


@pytest.mark.slow
def test_sigterm_lets_the_run_in_progress_finish(db: str, slow_mailbox: Mailbox) -> None:
    due = many_benefits(db)
    worker = start_worker(db, slow_mailbox, SEP_29)
    wait_until(lambda: len(slow_mailbox.collector.envelopes) >= 1)
    code, out, err = stop(worker)
    assert code == 0, err
    assert "SIGTERM received; finishing the current run" in out
    assert keys(slow_mailbox) == Counter(due)
    assert log_states(db) == {"sent": 23}  # no claim left behind


@pytest.mark.slow
def test_a_worker_catches_up_at_start_and_stops_on_ctrl_c(db: str, slow_mailbox: Mailbox) -> None:
    in_delivery(db, date(2026, 9, 2))
    # Down since September: on 25 Oct the escalations that fell due on 20 Oct (6 Oct + 14) go out at start.
    worker = start_worker(db, slow_mailbox, "2026-10-25T09:00")
    wait_until(lambda: len(slow_mailbox.collector.envelopes) >= 5)  # one message a person, listing B1 and B2
    time.sleep(2)
    code, out, _ = stop(worker, signal.SIGINT)
    assert code == 0
    assert "SIGINT received" in out and "worker: stopped" in out
    people = ("cc.dc", "cc.do", "pcc.dc", "pcc.do", "pm")
    assert sorted(rcpt[0] for rcpt, _ in slow_mailbox.messages()) == [f"{to}@example.org" for to in people]
    assert all(key.startswith("escalations:") for key in keys(slow_mailbox))
    escalated = open_as(db, "audit").history("SA", action="escalated")
    assert sorted((e["payload"]["benefit"], e["payload"]["to"]) for e in escalated) == [
        (b, to) for b in ("B1", "B2") for to in people]


def test_a_worker_refuses_a_user_who_may_not_send(db: str) -> None:
    in_delivery(db, date(2026, 9, 2))
    result = collab(db, "worker", actor="owner", check=1)
    assert "to send reminders needs the role admin or board-secretary" in result.err
