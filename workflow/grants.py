"""Database privileges on a shared PostgreSQL database: what each kind of login may do to collab's tables.

The engine refuses edits of the history with triggers, but a login that owns the tables can drop a
trigger. So the schema's owner (who runs `init` and migrations) should be a login no one uses day to
day; people and the web app connect as *writer* logins, which may append to the history but never
change or remove a row of it, and auditors as *reader* logins, which can only read. SQLite has no
logins: whoever can open the file is trusted.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from workflow.context import Context
from workflow import validate
from workflow.errors import BadInput, reason
from workflow.vocabulary import LOGIN_KINDS

APPEND_ONLY = ("events", "user_keys")  # history and what it registers: rows are added, never changed
READ_ONLY = ("alembic_version",)  # the schema revision: migrations only


def privileges(kind: str, schema: str, tables: list[str], login: str) -> list[str]:
    """The statements that give `login` exactly the rights of `kind` on `schema`'s tables."""
    who, where = _quoted(login), _quoted(schema)
    statements = [f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {who}",
                  f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {where} FROM {who}",
                  f"GRANT USAGE ON SCHEMA {where} TO {who}",
                  f"GRANT SELECT ON ALL TABLES IN SCHEMA {where} TO {who}"]
    for table in APPEND_ONLY:  # nobody but the owner changes history, whatever PUBLIC was given
        statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE ON {where}.{_quoted(table)} FROM PUBLIC")
    if kind == "writer":
        writable = [t for t in tables if t not in APPEND_ONLY + READ_ONLY]
        statements += [f"GRANT INSERT, UPDATE, DELETE ON {where}.{_quoted(t)} TO {who}" for t in writable]
        statements += [f"GRANT INSERT ON {where}.{_quoted(t)} TO {who}" for t in APPEND_ONLY if t in tables]
        statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {where} TO {who}")
    return statements


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class GrantCases:
    ctx: Context

    def grant(self, login: str, kind: str) -> dict[str, Any]:
        """Give a PostgreSQL login the rights of a reader (auditors) or a writer (people, the web app)."""
        if kind not in LOGIN_KINDS:
            raise BadInput(reason("unknown-grant", f"unknown kind of login '{kind}' (kinds: {', '.join(LOGIN_KINDS)})",
                                  kind=kind))
        with self.ctx.uow.write() as session:
            actor = self.ctx.acting(session, "register users")
            existing_login(session, login)
            schema = session.scalar(text("SELECT current_schema()"))
            tables = list(session.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = :schema "
                                               "ORDER BY tablename"), {"schema": schema}))
            statements = privileges(kind, schema, tables, login)
            for statement in statements:
                session.execute(text(statement))
            self.ctx.record(session, actor, "login-granted", login=login, kind=kind, schema=schema)
            return {"login": login, "kind": kind, "schema": schema, "statements": statements}


def existing_login(session: Session, login: str) -> str:
    """`login`, checked: a role of this PostgreSQL server that can log in."""
    if session.get_bind().dialect.name != "postgresql":
        raise BadInput(reason("logins-need-postgresql", "database logins exist only on a shared PostgreSQL database; "
                              "SQLite is single-user: whoever can open the file is trusted", login=login))
    validate.text(login, "the database login")
    if not session.scalar(text("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :login AND rolcanlogin)"),
                          {"login": login}):
        raise BadInput(reason("no-such-login", f"PostgreSQL has no login role '{login}': a database administrator "
                              f"creates it first (CREATE ROLE \"{login}\" LOGIN ...)", login=login))
    return login
