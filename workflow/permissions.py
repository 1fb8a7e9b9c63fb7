"""Who may do what (domain.md's People): one table, checked by every use case; and who may write to one
collaboration: its own programme manager, and the roles its definition names (`writers`, default admins)."""

from __future__ import annotations

from collections.abc import Sequence

from workflow.errors import Refused, reason
from workflow.vocabulary import ROLES

EVERYONE_BUT_AUDITORS = frozenset(ROLES) - {"auditor"}

MAY: dict[str, frozenset[str]] = {
    "register users": frozenset({"admin"}),
    "register boards": frozenset({"admin"}),
    "store definitions": frozenset({"admin"}),
    "migrate a collaboration": frozenset({"programme-manager", "admin"}),
    "register a collaboration": frozenset({"programme-manager"}),
    "change a collaboration": frozenset({"programme-manager", "admin"}),
    "advance a collaboration": frozenset({"programme-manager", "admin"}),
    "approve a gate": frozenset({"chief-officer", "pcc"}),
    # A programme manager only where the definition lets them (a collaboration with no partner yet).
    "withdraw a collaboration": frozenset({"chief-officer", "pcc", "programme-manager"}),
    "retire a benefit": frozenset({"chief-officer"}),
    "record a lesson": EVERYONE_BUT_AUDITORS,
    "send reminders": frozenset({"admin", "board-secretary"}),
    "change a board's meetings": frozenset({"admin", "board-secretary"}),  # a secretary: only of their own board
    "record a board's review": frozenset({"board-secretary"}),  # of their own board (outcomes.py says why)
}


def require(actor_name: str, roles: Sequence[str], doing: str) -> None:
    """Refuse unless one of the person's `roles` (the primary first) may do `doing`."""
    allowed = MAY[doing]
    if allowed.isdisjoint(roles):
        needed = " or ".join(sorted(allowed))
        raise Refused(reason("role-may-not", f"{actor_name} is {described(roles)}; to {doing} needs the role {needed}",
                             actor=actor_name, role=roles[0], doing=doing))


WRITES = frozenset({"change a collaboration", "advance a collaboration", "migrate a collaboration"})
DEFAULT_WRITERS = ("admin",)  # besides the collaboration's own manager


def require_writer(actor_name: str, roles: Sequence[str], doing: str, key: str, manager: str,
                   writers: tuple[str, ...]) -> None:
    """A write (WRITES) on collaboration `key` is its manager's, or that of a role among its definition's `writers`."""
    if actor_name == manager or not set(writers).isdisjoint(roles):
        return
    who = " or ".join([manager, *(f"{_article(w)} {w}" for w in writers)])
    raise Refused(reason("not-a-writer", f"{actor_name} does not manage {key}; to {doing} {key} needs {who}",
                         actor=actor_name, key=key, manager=manager, doing=doing))


def described(roles: Sequence[str]) -> str:
    """"a chief-officer", or "a chief-officer and a benefit-owner" for someone holding both."""
    return " and ".join(f"{_article(role)} {role}" for role in roles)


def _article(role: str) -> str:
    return "an" if role[0] in "aeiou" else "a"
