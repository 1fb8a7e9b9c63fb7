"""`collab backup FILE`: an online copy that is verified, never an overwrite; pg_dump named for PostgreSQL.
A write command leaves the database file complete without its WAL."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from builders import people, scoped
from conftest import collab
from tampering import tamper


def test_backup_is_a_copy_that_verifies(db: str, tmp_path: Path) -> None:
    if not db.endswith(".db"):
        pytest.skip("SQLite only; PostgreSQL is refused (below)")
    people(db)
    scoped(db)
    copy = tmp_path / "copy.db"
    head = collab(db, "audit", "verify", "--json", actor="audit", check=0).json()
    result = collab(db, "backup", str(copy), actor="audit", check=0)
    assert result.out.strip() == (f"backed up {db} to {copy}: history verified, {head['events']} events, "
                                  f"head {head['head']}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["collab.db", "collab.db-shm", "collab.db-wal", "copy.db"]
    assert collab(str(copy), "audit", "verify", "--json", actor="audit", check=0).json() == head


def test_backup_never_overwrites(tmp_path: Path) -> None:
    db = str(tmp_path / "collab.db")
    collab(db, "init", check=0)
    existing = tmp_path / "important.db"
    existing.write_text("keep me")
    result = collab(db, "backup", str(existing), check=2)
    assert result.err.strip() == f"{existing} already exists: a backup never overwrites a file; give a new name"
    assert existing.read_text() == "keep me"


def test_backup_refuses_a_database_that_is_not_there(tmp_path: Path) -> None:
    result = collab(str(tmp_path / "missing.db"), "backup", str(tmp_path / "copy.db"), check=2)
    assert "run `collab init`" in result.err
    assert not (tmp_path / "copy.db").exists()


def test_backup_of_a_tampered_history_is_written_and_exits_3(tmp_path: Path) -> None:
    db = str(tmp_path / "collab.db")
    collab(db, "init", check=0)
    people(db)
    tamper(db, "UPDATE events SET actor = 'someone' WHERE seq = 2")
    copy = tmp_path / "copy.db"
    result = collab(db, "backup", str(copy), check=3)
    assert result.err.strip() == (f"backup written to {copy}, but its history does NOT verify: "
                                  "event 2 does not match its hash (the row was edited)")
    assert copy.exists()


def test_postgresql_is_pointed_to_pg_dump(db: str, tmp_path: Path) -> None:
    if db.endswith(".db"):
        pytest.skip("PostgreSQL only")
    result = collab(db, "backup", str(tmp_path / "copy.dump"), check=2)
    first, command = result.err.splitlines()
    assert first == "collab backup copies an SQLite database; back up PostgreSQL with pg_dump:"
    schema = db.split("search_path%3D")[1]
    assert command.startswith(f"  pg_dump --format=custom --file={tmp_path / 'copy.dump'} --schema={schema} 'postgresql://")
    assert not (tmp_path / "copy.dump").exists()


def test_pg_dump_command_leaves_the_password_out() -> None:
    from workflow.backup import pg_dump_command

    assert pg_dump_command("postgresql+psycopg://collab:secret@db.example:5433/police", "b.dump") == (
        "  pg_dump --format=custom --file=b.dump 'postgresql://collab@db.example:5433/police'")


def test_a_write_command_leaves_the_database_file_complete_without_its_wal(tmp_path: Path) -> None:
    """A plain copy of collab.db alone (no -wal) holds the last decision: the command checkpointed."""
    db = tmp_path / "collab.db"
    collab(str(db), "init", check=0)
    collab(str(db), "user", "add", "root", "--role", "admin", check=0)
    alone = tmp_path / "alone" / "collab.db"
    alone.parent.mkdir()
    shutil.copy(db, alone)
    with sqlite3.connect(alone) as connection:
        assert connection.execute("SELECT name FROM users").fetchall() == [("root",)]
