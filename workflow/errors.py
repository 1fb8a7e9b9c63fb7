"""The four ways a use case can end other than success, each with its exit code (cli.md).

A failure carries structured reasons: a code a front end can act on, its parameters and a
plain sentence. The engine never tells people which command to type; a front end adds that
(the CLI a "collab ..." hint, a web page a link).

Kept free of heavy imports: the CLI maps these to exit codes without loading the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reason:
    """One thing that is wrong or missing: `code` names the rule, `params` its facts, `text` says it."""

    code: str
    text: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:  # a reason reads as its sentence, so tests and callers compare text
        if isinstance(other, str):
            return self.text == other
        if isinstance(other, Reason):
            return (self.code, self.text, dict(self.params)) == (other.code, other.text, dict(other.params))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.text)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params), "text": self.text}


def reason(code: str, text: str, **params: Any) -> Reason:
    return Reason(code, text, params)


class CollabError(Exception):
    """Base of every expected failure; `reasons` are printed one a line."""

    exit_code = 2

    def __init__(self, *reasons: Reason | str) -> None:
        self.reasons = [r if isinstance(r, Reason) else Reason("", r) for r in reasons]
        super().__init__("\n".join(r.text for r in self.reasons))


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
