"""Read views a screen needs beyond the command line's: the facts an approval would consent to, and which
forces are partners of which collaborations (to filter a portfolio by force in one query)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from workflow import approvals
from workflow.context import Context
from workflow.lookups import find_collaboration
from workflow.model import Collaboration, Partner


class ScreenCases:
    ctx: Context

    def approval_facts(self, key: str) -> dict[str, Any]:
        """What approving a gate of `key` now would consent to, and the digest the approval would store."""
        with self.ctx.reading() as session:
            facts = approvals.approved_facts(session, find_collaboration(session, key))
            return {"facts": facts, "digest": approvals.digest(facts)}

    def partners_by_collaboration(self) -> dict[str, list[str]]:
        """Each collaboration's partner names, by key."""
        with self.ctx.reading() as session:
            found: dict[str, list[str]] = {}
            for key, name in session.execute(select(Collaboration.key, Partner.name)
                                             .join(Partner, Partner.collaboration_id == Collaboration.id)
                                             .order_by(Collaboration.key, Partner.id)):
                found.setdefault(key, []).append(name)
            return found
