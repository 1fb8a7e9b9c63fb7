"""Logins on a shared PostgreSQL database: a login mapped to a person acts only as them, the history names
the login, and `collab grant` gives auditors a login that can only read and writers one that can never
change or remove history rows. SQLite has no logins."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from builders import DC, open_as, people, scoped
from conftest import PG_URL, collab, database


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[str]:
    with database("postgresql", tmp_path) as target:
        yield target


@pytest.fixture
def logins() -> Iterator[list[str]]:
    """New PostgreSQL login roles (cluster-wide, so uniquely named), dropped with their privileges afterwards."""
    made: list[str] = []
    yield made
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))  # type: ignore[union-attr]
    with admin.begin() as connection:
        for login in made:
            connection.execute(text(f'DROP OWNED BY "{login}"'))
            connection.execute(text(f'DROP ROLE "{login}"'))
    admin.dispose()


def new_login(db: str, made: list[str]) -> str:
    login = f"collab_{uuid.uuid4().hex[:10]}"
    made.append(login)
    engine = create_engine(make_url(db).set(drivername="postgresql+psycopg"))
    with engine.begin() as connection:
        connection.execute(text(f'CREATE ROLE "{login}" LOGIN'))
    engine.dispose()
    return login


def as_login(db: str, login: str) -> str:
    """The same database and schema, connected as `login`."""
    return make_url(db).set(username=login).render_as_string(hide_password=False)


def at_pid(db: str) -> None:
    people(db)
    scoped(db).advance("SA", on=date(2019, 6, 3))


def may(db: str, login: str, table: str, privilege: str) -> bool:
    engine = create_engine(make_url(db).set(drivername="postgresql+psycopg"))
    with engine.connect() as connection:
        allowed = connection.scalar(text("SELECT has_table_privilege(:login, current_schema() || '.' || :table, "
                                         ":privilege)"), {"login": login, "table": table, "privilege": privilege})
    engine.dispose()
    return bool(allowed)


def test_sqlite_has_no_logins_to_map_or_grant(tmp_path: Path) -> None:
    with database("sqlite", tmp_path) as db:
        people(db)
        refused = collab(db, "user", "update", "cc.dc", "--login", "cc_dc", actor="root", check=2)
        assert refused.err.startswith("database logins exist only on a shared PostgreSQL database")
        assert collab(db, "grant", "auditors", "--kind", "reader", actor="root", check=2).err.startswith(
            "database logins exist only on a shared PostgreSQL database")
        assert collab(db, "user", "list", "--json", actor="root", check=0).json()[1]["login"] is None  # type: ignore[index]


def test_a_mapped_login_acts_only_as_its_person_and_the_history_names_it(pg: str, logins: list[str]) -> None:
    at_pid(pg)
    login = new_login(pg, logins)
    collab(pg, "grant", login, "--kind", "writer", actor="root", check=0)
    collab(pg, "user", "update", "cc.dc", "--login", login, actor="root", check=0)
    mapped = as_login(pg, login)

    refused = collab(mapped, "list", actor="pm", check=1)
    assert refused.err.startswith(f"connected as the database login {login}, which belongs to cc.dc: only cc.dc can "
                                  "act through it, not pm")
    # Their own login needs no --as; anyone else's connection cannot act as them.
    collab(mapped, "approve", "SA", "--gate", "delivery", check=0)
    assert collab(pg, "approve", "SA", "--gate", "delivery", actor="cc.dc", check=1).err.startswith(
        f"cc.dc acts only through the database login {login} (connected as postgres)")

    approved = open_as(pg, "audit").history("SA", action="approved")[-1]
    assert (approved["actor"], approved["payload"]["partner"]) == ("cc.dc", DC)
    assert approved["payload"]["connected_as"] == login
    assert open_as(pg, "audit").history(None, action="user-updated")[-1]["payload"]["changes"] == {
        "login": {"from": None, "to": login}}
    collab(pg, "audit", "verify", actor="audit", check=0)


def test_a_login_must_exist_and_belong_to_one_person(pg: str, logins: list[str]) -> None:
    people(pg)
    assert collab(pg, "user", "update", "cc.dc", "--login", "no_such_role_x", actor="root", check=2).err.startswith(
        "PostgreSQL has no login role 'no_such_role_x': a database administrator creates it first")
    login = new_login(pg, logins)
    collab(pg, "user", "add", "cc.x", "--role", "chief-officer", "--partner", DC, "--login", login, actor="root", check=0)
    assert collab(pg, "user", "update", "cc.dc", "--login", login, actor="root", check=2).err.startswith(
        f"the database login {login} is already cc.x's")
    assert open_as(pg, "root").history(None, action="user-added")[-1]["payload"]["login"] == login
    collab(pg, "audit", "verify", actor="audit", check=0)


def test_grant_gives_auditors_read_only_and_writers_no_way_to_change_history(pg: str, logins: list[str]) -> None:
    at_pid(pg)
    reader, writer = new_login(pg, logins), new_login(pg, logins)
    shown = collab(pg, "grant", reader, "--kind", "reader", actor="root", check=0).out
    assert shown.startswith(f"granted {reader} the rights of a reader on schema t_")
    done = collab(pg, "grant", writer, "--kind", "writer", "--json", actor="root", check=0).json()
    assert done["kind"] == "writer" and done["login"] == writer  # type: ignore[index]
    tables = ("events", "collaborations", "users", "approvals", "user_keys", "chain_head")
    assert [t for t in tables if not may(pg, reader, t, "SELECT")] == []
    assert [(t, p) for t in tables for p in ("INSERT", "UPDATE", "DELETE", "TRUNCATE") if may(pg, reader, t, p)] == []
    assert [p for p in ("UPDATE", "DELETE", "TRUNCATE") if may(pg, writer, "events", p)] == []
    assert may(pg, writer, "events", "INSERT") and may(pg, writer, "collaborations", "UPDATE")

    collab(pg, "user", "update", "audit", "--login", reader, actor="root", check=0)
    collab(as_login(pg, reader), "audit", "verify", check=0)
    collab(as_login(pg, reader), "show", "SA", check=0)
    # Even where the engine would let a person write, the reader login cannot.
    collab(pg, "user", "add", "pm2", "--role", "programme-manager", actor="root", check=0)
    engine = create_engine(make_url(as_login(pg, reader)).set(drivername="postgresql+psycopg"))
    with pytest.raises(Exception, match="permission denied"), engine.begin() as connection:
        connection.execute(text("UPDATE collaborations SET stage = 'bau'"))
    engine.dispose()
    with open_as(pg, "root").ctx.reading() as session:  # nothing was changed by the refused statement
        assert session.scalar(text("SELECT stage FROM collaborations")) == "pid"
    granted = open_as(as_login(pg, reader)).history(None, action="login-granted")  # as the mapped auditor
    assert [(e["actor"], e["payload"]["login"], e["payload"]["kind"]) for e in granted] == [
        ("root", reader, "reader"), ("root", writer, "writer")]
    collab(as_login(pg, reader), "audit", "verify", check=0)
