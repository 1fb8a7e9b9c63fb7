"""Progress of a long run, told to whoever asked (a front end's progress bar) without the engine knowing how it is
shown: a callback given the steps done so far and the total."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
Progress = Callable[[int, int], None]  # (done, total)


def tracked(items: Iterable[T], total: int, progress: Progress | None, every: int = 1) -> Iterator[T]:
    """`items`, telling `progress` after every `every` of them and after the last."""
    if progress is None:
        yield from items
        return
    done = 0
    for item in items:
        yield item
        done += 1
        if done % every == 0 or done == total:
            progress(done, total)
