"""workflow/spool.py: rows added a batch at a time come back group by group in sorted order, each group's runs in
the order added, and one group can be read back alone (an agenda's lines) while more are added after."""

from __future__ import annotations

from workflow.spool import Spool


def test_groups_come_back_sorted_and_runs_in_the_order_added() -> None:
    spool: Spool[str] = Spool()
    spool.add([((2, "b"), "first batch, b"), ((1, "z"), "first batch, z 1"), ((1, "z"), "first batch, z 2")])
    spool.add([((1, "z"), "second batch, z"), ((2, "b"), "second batch, b"), ((1, "a"), "second batch, a")])
    assert list(spool) == ["second batch, a", "first batch, z 1", "first batch, z 2", "second batch, z",
                           "first batch, b", "second batch, b"]


def test_one_group_read_back_between_additions() -> None:
    spool: Spool[int] = Spool()
    spool.add([("x", 1), ("y", 2)])
    assert list(spool.group("x")) == [1]
    spool.add([("x", 3)])  # appended after the runs, not over them
    assert list(spool.group("x")) == [1, 3]
    assert list(spool.group("nothing")) == []
    assert list(spool) == [1, 3, 2]
