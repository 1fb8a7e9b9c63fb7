"""The domain's fixed vocabularies (domain.md, cli.md), in one light module that the CLI can import
for its choices without loading the engine."""

from __future__ import annotations

OUTCOMES = ("noted", "concern", "action")  # a board's conclusion on a benefit it reviewed
ROLES = ("admin", "programme-manager", "chief-officer", "pcc", "benefit-owner", "board-secretary", "auditor")
ORIGINS = ("programme", "operational")
# What a PostgreSQL login may do to collab's tables (workflow/grants.py): auditors read, people write.
LOGIN_KINDS = ("reader", "writer")
PARTNER_KINDS = ("police", "fire", "ambulance", "local-authority", "other")
RISK_APPETITES = ("averse", "minimal", "cautious", "open", "eager")  # lowest first
CATEGORIES = ("economic", "efficiency", "effectiveness")
FINANCIAL = frozenset({"economic", "efficiency"})
# How a benefit joins the logic map: to an objective, to a benefit it contributes to, a dis-benefit to its cause.
LINK_KINDS = ("objective", "contributes-to", "caused-by")
COST_CATEGORIES = ("staff", "estates", "ict", "other")
MANAGER = "programme-manager"  # as an audience, the collaboration's own programme manager(s)

_ROLE_TITLES = {"chief-officer": "chief officer", "pcc": "PCC", "programme-manager": "programme manager"}


def role_title(role: str) -> str:
    """A role as a sentence names it ("PCC", "chief officer")."""
    return _ROLE_TITLES.get(role, role.replace("-", " "))
PARTNER_ROLES = ("chief-officer", "pcc")  # roles that act for one force, and sign its gates
