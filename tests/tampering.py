"""Direct edits of the history table, as an intruder with database access would make them.

The append-only triggers are lifted first (an intruder with DDL rights could), so that
the tests exercise the hash chain's own detection.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from workflow.db import engine_for


def _lift_triggers(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.execute(text("DROP TRIGGER IF EXISTS events_no_update"))
        connection.execute(text("DROP TRIGGER IF EXISTS events_no_delete"))
    else:
        connection.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))


def tamper(db: str, *statements: str) -> None:
    engine = engine_for(db)
    with engine.begin() as connection:
        _lift_triggers(connection)
        for statement in statements:
            connection.execute(text(statement))
