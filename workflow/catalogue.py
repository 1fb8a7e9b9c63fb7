"""Use cases of the stored definitions: list them, show one, store a new version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from workflow import definition as definitions
from workflow.context import Context
from workflow.definition import Definition
from workflow.model import Collaboration, DefinitionVersion
from workflow.stored import resolve, store


class DefinitionCases:
    """Use cases of the stored definitions."""

    ctx: Context

    def definitions(self) -> list[dict[str, Any]]:
        """Every stored version, with how many collaborations run on it."""
        counts = (select(Collaboration.definition_name, Collaboration.definition_version, func.count())
                  .group_by(Collaboration.definition_name, Collaboration.definition_version))
        with self.ctx.reading() as session:
            used = {(n, v): c for n, v, c in session.execute(counts)}
            return [
                {"name": d.name, "version": d.version, "title": definitions.parse(d.source, d.name).title,
                 "digest": d.digest, "collaborations": used.get((d.name, d.version), 0)}
                for d in session.scalars(select(DefinitionVersion).order_by(DefinitionVersion.name, DefinitionVersion.version))
            ]

    def definition(self, spec: str) -> Definition:
        """The stored definition in force: NAME@VERSION, or NAME's newest version."""
        with self.ctx.reading() as session:
            return resolve(session, spec)

    def add_definition(self, text: str, source: str) -> dict[str, Any]:
        """Store a new definition version (`source` names where the text came from, for errors)."""
        found = definitions.parse(text, source)
        with self.ctx.uow.write() as session:
            actor = self.ctx.acting(session, "store definitions")
            added = store(session, found)
            if added:
                self.ctx.record(session, actor, "definition-added", definition=found.label, digest=found.digest)
            return {"name": found.name, "version": found.version, "digest": found.digest, "added": added}
