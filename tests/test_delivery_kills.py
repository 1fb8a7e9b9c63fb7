"""kill -9 of `remind` and `worker` mid-delivery, against a real (slow) SMTP server.

No message may be lost; only the message in flight at a kill may repeat, with the same Message-ID; and the next
run takes over the dead process's claim at once (its claimer, host:pid, is no longer alive), not after the lease.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time

import pytest

from conftest import COLLAB, collab
from test_reminders import Mailbox
from test_worker import SEP_29, keys, log_states, many_benefits, slow_mailbox, wait_until  # noqa: F401 (fixture)

COMMANDS = (["remind"], ["worker", "--every", "0.5"])


def start(db: str, mailbox: Mailbox, command: list[str]) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLAB_")}
    env.update(COLLAB_DB=db, COLLAB_USER="root", COLLAB_NOW=SEP_29, **mailbox.env)
    return subprocess.Popen([COLLAB, *command], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_kill_9_mid_delivery_loses_nothing_and_repeats_only_the_message_in_flight(db: str, slow_mailbox: Mailbox) -> None:
    due = many_benefits(db)
    chance = random.Random(16)
    kills = 0
    while kills < 12 and sum(keys(slow_mailbox).values()) < len(due) - 2:
        received = sum(keys(slow_mailbox).values())
        process = start(db, slow_mailbox, list(COMMANDS[kills % 2]))
        wait_until(lambda: sum(keys(slow_mailbox).values()) > received, seconds=60)
        time.sleep(chance.uniform(0, 0.12))  # somewhere in claiming, sending (0.05 s each) or marking the next
        os.kill(process.pid, signal.SIGKILL)
        _, err = process.communicate(timeout=30)  # reaped: its pid is no process now
        assert "Traceback" not in err
        kills += 1
    assert kills >= 8, "the mailbox filled before enough kills"
    finished = collab(db, "remind", "--json", actor="root", env={"COLLAB_NOW": SEP_29, **slow_mailbox.env}, check=0).json()
    assert finished["in_progress"] == 0 and finished["failed"] == []  # type: ignore[index]
    assert log_states(db) == {"sent": len(due)}
    delivered = keys(slow_mailbox)
    assert set(delivered) == set(due)  # nothing lost
    repeats = sum(n - 1 for n in delivered.values())
    # At most the one in flight per kill. A message can be in flight at two kills running (the next process sends
    # it again first, and may be killed before marking it), so one message may come three times: the bound is per kill.
    assert repeats <= kills, delivered
    message_ids: dict[str, set[str]] = {}
    for _, message in slow_mailbox.messages():
        message_ids.setdefault(message["X-Collab-Key"], set()).add(message["Message-ID"])
    assert all(len(ids) == 1 for ids in message_ids.values())
