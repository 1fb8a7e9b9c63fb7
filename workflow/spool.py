"""Rows computed a batch at a time, read back in one order without holding them all.

`collab reviews` and `collab remind --dry-run` list their rows by due date first, but read the database a batch of
collaborations at a time (a million rows at 100,000 collaborations do not fit in memory). Each batch's rows, sorted,
are written to a temporary file in runs of one group (a due date and board, a due date and kind); reading back visits
the groups in order and each group's runs in the order written. So the whole listing comes out in its order when the
batches are taken in the order of the rows within a group (collaborations by key), holding one run at a time.
"""

from __future__ import annotations

import itertools
import pickle
import tempfile
from collections.abc import Hashable, Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Spool(Generic[T]):
    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._runs: dict[Any, list[int]] = {}

    def add(self, rows: Iterable[tuple[Hashable, T]]) -> None:
        """Append (group, row) pairs, consecutive rows of one group as one run."""
        for group, run in itertools.groupby(rows, key=lambda pair: pair[0]):
            self._runs.setdefault(group, []).append(self._file.tell())
            pickle.dump([row for _, row in run], self._file, pickle.HIGHEST_PROTOCOL)

    def group(self, key: Hashable) -> Iterator[T]:
        """One group's rows, as added."""
        end = self._file.tell()
        for offset in self._runs.get(key, ()):
            self._file.seek(offset)
            yield from pickle.load(self._file)
        self._file.seek(end)  # further runs are appended

    def __iter__(self) -> Iterator[T]:
        """Every row, group by group in sorted order; the file is closed at the end."""
        try:
            for key in sorted(self._runs):
                yield from self.group(key)
        finally:
            self.close()

    def close(self) -> None:
        self._file.close()
