"""The domain's fixed vocabularies (domain.md, cli.md), in one light module that the CLI can import
for its choices without loading the engine."""

from __future__ import annotations

ROLES = ("admin", "programme-manager", "chief-officer", "pcc", "benefit-owner", "board-secretary", "auditor")
ORIGINS = ("programme", "operational")
PARTNER_KINDS = ("police", "fire", "ambulance", "local-authority", "other")
RISK_APPETITES = ("averse", "minimal", "cautious", "open", "eager")  # lowest first
CATEGORIES = ("economic", "efficiency", "effectiveness")
FINANCIAL = frozenset({"economic", "efficiency"})
