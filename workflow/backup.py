"""`collab backup FILE`: a consistent copy of an SQLite database, whose history is verified before it is reported.

SQLite's online backup API copies every committed page (the WAL's included) under one read lock,
so writers may go on meanwhile and the copy is the database as of one moment. The copy is then
opened like any collab database and its hash chain recomputed: a backup is only reported good
once it has been read back. PostgreSQL is backed up with pg_dump, whose command is given instead.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from workflow import verification
from workflow.db import UnitOfWork, engine_for, sqlite_path
from workflow.errors import BadInput, IntegrityFailure

__all__ = ["Backup", "backup", "pg_dump_command"]


@dataclass(frozen=True)
class Backup:
    path: Path
    events: int
    head: str


def backup(db: str, destination: str | Path) -> Backup:
    """Copy the SQLite database `db` to the new file `destination` and verify the copy's history.

    BadInput (exit 2) if `destination` exists (a backup never overwrites), or for PostgreSQL (naming
    the pg_dump command to use); IntegrityFailure (exit 3), after writing it, if the copy's history
    does not match its chain.
    """
    engine = engine_for(db)
    if sqlite_path(engine) is None:
        raise BadInput("collab backup copies an SQLite database; back up PostgreSQL with pg_dump:",
                       pg_dump_command(engine.url.render_as_string(hide_password=False), str(destination)))
    UnitOfWork(engine).check_schema()  # a collab database, at this collab's schema
    target = Path(destination).expanduser()
    try:
        target.open("xb").close()  # claims the name: refuses an existing file even if one appears meanwhile
    except FileExistsError:
        raise BadInput(f"{target} already exists: a backup never overwrites a file; give a new name") from None
    except OSError as error:
        raise BadInput(f"cannot create {target}: {error.strerror}") from None
    try:
        _copy(engine, target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return _verified(target)


def _copy(engine: Engine, target: Path) -> None:
    raw = engine.raw_connection()
    try:
        copy = sqlite3.connect(target)
        try:
            source: sqlite3.Connection = raw.driver_connection  # type: ignore[assignment]
            source.backup(copy)  # all pages in one step: one consistent snapshot
        finally:
            copy.close()
    except sqlite3.Error as error:
        raise BadInput(f"cannot write the backup {target}: {error}") from None
    finally:
        raw.close()


def _verified(target: Path) -> Backup:
    # Not engine_for (cached): this engine is closed again once the copy is read back.
    engine = engine_for.__wrapped__(str(target))
    try:
        with UnitOfWork(engine).read() as session:
            result = verification.verify(session)
    finally:
        engine.dispose()
    if not result.ok:
        raise IntegrityFailure(f"backup written to {target}, but its history does NOT verify: {result.problem}")
    return Backup(target, result.events, result.head)


def pg_dump_command(url: str, destination: str) -> str:
    """The pg_dump command that backs up the collab schema at `url` (the password left to PGPASSWORD)."""
    from sqlalchemy.engine import URL, make_url

    parsed = make_url(url)
    schema = next((part.split("=", 1)[1] for part in str(parsed.query.get("options", "")).split()
                   if part.startswith("-csearch_path=")), None)
    plain = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                       database=parsed.database)
    return (f"  pg_dump --format=custom --file={destination} "
            + (f"--schema={schema.split(',')[0]} " if schema else "")
            + f"'{plain.render_as_string(hide_password=False)}'")
