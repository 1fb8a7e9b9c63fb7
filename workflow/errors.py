"""The four ways a use case can end other than success, each with its exit code (cli.md).

Kept free of heavy imports: the CLI maps these to exit codes without loading the engine.
"""

from __future__ import annotations


class CollabError(Exception):
    """Base of every expected failure; `reasons` are printed one a line."""

    exit_code = 2

    def __init__(self, *reasons: str) -> None:
        super().__init__("\n".join(reasons))
        self.reasons = list(reasons)


class Refused(CollabError):
    """A governance rule says no: unmet gate, transition not allowed, role may not."""

    exit_code = 1


class BadInput(CollabError):
    """Unknown key, malformed value, invalid definition: the caller must fix the input."""

    exit_code = 2


class IntegrityFailure(CollabError):
    """The history does not match its hash chain."""

    exit_code = 3


class Conflict(CollabError):
    """Someone else changed the collaboration meanwhile; nothing was written."""

    exit_code = 4
