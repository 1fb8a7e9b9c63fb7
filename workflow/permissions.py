"""Who may do what (domain.md's People): one table, checked by every use case."""

from __future__ import annotations

from workflow.errors import Refused, reason
from workflow.vocabulary import ROLES

EVERYONE_BUT_AUDITORS = frozenset(ROLES) - {"auditor"}

MAY: dict[str, frozenset[str]] = {
    "register users": frozenset({"admin"}),
    "register boards": frozenset({"admin"}),
    "store definitions": frozenset({"admin"}),
    "migrate a collaboration": frozenset({"programme-manager", "admin"}),
    "register a collaboration": frozenset({"programme-manager"}),
    "change a collaboration": frozenset({"programme-manager"}),
    "advance a collaboration": frozenset({"programme-manager"}),
    "approve a gate": frozenset({"chief-officer", "pcc"}),
    # A programme manager only where the definition lets them (a collaboration with no partner yet).
    "withdraw a collaboration": frozenset({"chief-officer", "pcc", "programme-manager"}),
    "retire a benefit": frozenset({"chief-officer"}),
    "record a lesson": EVERYONE_BUT_AUDITORS,
    "send reminders": frozenset({"admin", "board-secretary"}),
}


def require(actor_name: str, role: str, doing: str) -> None:
    allowed = MAY[doing]
    if role not in allowed:
        needed = " or ".join(sorted(allowed))
        raise Refused(reason("role-may-not", f"{actor_name} is {_article(role)} {role}; to {doing} needs the role {needed}",
                             actor=actor_name, role=role, doing=doing))


def _article(role: str) -> str:
    return "an" if role[0] in "aeiou" else "a"
