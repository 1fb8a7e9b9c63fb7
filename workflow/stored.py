"""Definitions stored in the database, by name and version: the text collaborations actually run on.

A version is stored once and never changes: storing NAME@VERSION again with other text is refused.
The definitions shipped with collab are stored by `collab init`, and on first use.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow import definition as definitions
from workflow.db import INIT_LOCK, UnitOfWork
from workflow.definition import Definition
from workflow.errors import BadInput, Refused, reason
from workflow.model import Collaboration, DefinitionVersion


def parse_spec(spec: str) -> tuple[str, int | None]:
    """NAME or NAME@VERSION."""
    name, at, version = spec.partition("@")
    if not name or (at and not version.isdigit()):
        raise BadInput(reason("bad-definition-spec", f"definition '{spec}': give NAME or NAME@VERSION (e.g. "
                              "police-collaboration@2)", spec=spec))
    return name, int(version) if at else None


def stored_definition(session: Session, name: str, version: int) -> Definition:
    """A stored version, parsed once per process."""
    stored = session.get(DefinitionVersion, (name, version))
    if stored is None:
        raise BadInput(reason("unknown-definition", f"definition {name}@{version} is not stored", name=name, version=version))
    return definitions.parse(stored.source, f"{name}@{version} (stored)")


def definition_of(session: Session, collaboration: Collaboration) -> Definition:
    return stored_definition(session, collaboration.definition_name, collaboration.definition_version)


def store(session: Session, found: Definition) -> bool:
    """Store a parsed definition; False if that exact text is stored already."""
    stored = session.get(DefinitionVersion, (found.name, found.version))
    if stored is None:
        session.add(DefinitionVersion(name=found.name, version=found.version, digest=found.digest, source=found.source))
        session.flush()
        return True
    if stored.digest != found.digest:
        raise Refused(reason("definition-version-taken", f"definition {found.label} is already stored with other text: "
                             "give the changed definition a new version number", name=found.name, version=found.version))
    return False


def store_packaged(session: Session, name: str | None = None) -> list[Definition]:
    """Store the definitions shipped with collab (or the one named), each at most once."""
    files = definitions.builtin_files()
    names = sorted(files) if name is None else [name] if name in files else []
    added = []
    for each in names:
        found = definitions.find(each)
        try:
            if store(session, found):
                added.append(found)
        except Refused:
            raise BadInput(reason("packaged-definition-changed", f"the packaged definition {found.label} differs from the "
                                  "one stored under that version: a changed definition needs a new version number",
                                  name=found.name, version=found.version)) from None
    return added


def install_packaged(uow: UnitOfWork) -> list[Definition]:
    """`collab init`: store the shipped definitions that are not stored yet."""
    with uow.write(history=False) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(INIT_LOCK)  # concurrent inits store one after another, the later finding the rows made
        return store_packaged(session)


def resolve(session: Session, spec: str) -> Definition:
    """NAME@VERSION, or NAME's newest stored version (storing the packaged NAME on first use)."""
    name, version = parse_spec(spec)
    if version is None:
        store_packaged(session, name)
        version = session.scalar(select(func.max(DefinitionVersion.version)).where(DefinitionVersion.name == name))
        if version is None:
            known = ", ".join(session.scalars(select(DefinitionVersion.name).distinct().order_by(DefinitionVersion.name)))
            raise BadInput(reason("unknown-definition", f"unknown definition '{name}' (stored: {known or 'none'})", name=name))
    return stored_definition(session, name, version)
