"""A database collab cannot use is bad input (exit 2) with a plain message, and `collab init` may run concurrently."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from conftest import COLLAB, PG_URL, _pg_schema_url, collab
from workflow.db import SCHEMA_REVISIONS, engine_for


def test_a_text_file_is_not_a_collab_database(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\n")
    for command in (["user", "list"], ["init"]):
        result = collab(str(notes), *command, check=2)
        assert result.err.strip() == f"{notes} is not a collab database (not an SQLite file): check --db"
    assert notes.read_text() == "shopping list\n"


def test_a_directory_is_not_a_collab_database(tmp_path: Path) -> None:
    for command in (["user", "list"], ["init"]):
        result = collab(str(tmp_path), *command, check=2)
        assert result.err.strip() == f"{tmp_path} is a directory, not a collab database: give a file path with --db"


def test_a_missing_file_is_not_created_by_a_command_other_than_init(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    result = collab(str(missing), "user", "list", check=2)
    assert result.err.strip() == (f"database {missing} is not initialised: run `collab init` to create it "
                                  "(there is no such file; or check --db)")
    assert list(tmp_path.iterdir()) == []
    collab(str(missing), "init", check=0)
    collab(str(missing), "user", "list", check=0)


def test_an_unreachable_postgresql_names_host_and_port_but_no_password(tmp_path: Path) -> None:
    url = "postgresql://collab:s3cret-pw@127.0.0.1:1/collab"  # nothing listens on port 1
    for command in (["user", "list"], ["init"]):
        result = collab(url, *command, check=2)
        assert "127.0.0.1:1" in result.err and "cannot use the PostgreSQL database collab" in result.err
        assert "s3cret-pw" not in result.err + result.out


def test_another_kind_of_url_is_refused_without_its_password() -> None:
    result = collab("mysql://user:secret@db.example/collab", "user", "list", check=2)
    assert result.err.strip() == ("the database mysql://user:***@db.example/collab is mysql: collab works with an "
                                  "SQLite file or PostgreSQL (postgresql://user@host/db)")


def test_init_does_not_print_the_password(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip("COLLAB_TEST_DATABASE_URL is not set (CI sets it)")
    url = PG_URL.replace("postgresql://postgres@", "postgresql://postgres:unused-pw@", 1)
    if url == PG_URL:
        pytest.skip("the test URL has no user to add a password to")
    with _schema() as target:
        out = collab(target.replace(PG_URL, url, 1), "init", check=0).out
    assert "unused-pw" not in out and "***" in out


def test_a_newer_schema_is_refused_naming_both_revisions(db: str) -> None:
    with engine_for(db).begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    expected = f"is at schema revision 0099, newer than this collab knows (its newest is {SCHEMA_REVISIONS[-1]})"
    for command in (["user", "list"], ["init"]):
        assert expected in collab(db, *command, check=2).err


def test_an_older_schema_asks_for_init(db: str) -> None:
    with engine_for(db).begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert f"is at schema revision 0001, this collab needs {SCHEMA_REVISIONS[-1]}: run `collab init`" in collab(
        db, "user", "list", check=2).err


def test_schema_revisions_are_alembics_history() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from workflow.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    history = [script.revision for script in ScriptDirectory.from_config(config).walk_revisions()]
    assert tuple(reversed(history)) == SCHEMA_REVISIONS


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="needs setpriv to drop root")
def test_a_read_only_file_is_bad_input() -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        folder.chmod(0o755)  # others may read the folder but not create files in it
        db = folder / "locked.db"
        collab(str(db), "init", check=0)
        collab(str(db), "user", "add", "root", "--role", "admin", check=0)
        db.chmod(0o444)
        as_someone_else = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
        environ = {k: v for k, v in os.environ.items() if not k.startswith("COLLAB_")}
        done = subprocess.run([*as_someone_else, COLLAB, "--db", str(db), "--as", "root", "user", "add", "x",
                               "--role", "auditor"], capture_output=True, text=True, env=environ, timeout=120)
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"{db} is read-only: collab needs to write to it")
    finally:
        shutil.rmtree(folder)


def _concurrent_inits(target: str, count: int = 4) -> list[tuple[int, str]]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COLLAB_")}
    runs = [subprocess.Popen([COLLAB, "--db", target, "init"], env=environ, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(count)]
    return [(run.wait(timeout=120), run.stderr.read()) for run in runs]  # type: ignore[union-attr]


def test_concurrent_inits_of_a_new_sqlite_file_all_succeed(tmp_path: Path) -> None:
    target = str(tmp_path / "new.db")
    assert _concurrent_inits(target) == [(0, "")] * 4
    collab(target, "user", "add", "root", "--role", "admin", check=0)


class _schema:
    """A new, empty PostgreSQL schema and the URL that works in it."""

    def __enter__(self) -> str:
        self.name = f"t_{uuid.uuid4().hex[:12]}"
        self.admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with self.admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {self.name}"))
        return _pg_schema_url(self.name)

    def __exit__(self, *_: object) -> None:
        with self.admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {self.name} CASCADE"))
        self.admin.dispose()


@pytest.fixture
def empty_schema() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("COLLAB_TEST_DATABASE_URL is not set (CI sets it)")
    with _schema() as target:
        yield target


def test_concurrent_inits_of_a_new_postgresql_schema_all_succeed(empty_schema: str) -> None:
    assert _concurrent_inits(empty_schema) == [(0, "")] * 4
    collab(empty_schema, "user", "add", "root", "--role", "admin", check=0)


def test_a_value_postgresql_cannot_hold_is_bad_input(db: str) -> None:
    """The backstop behind workflow.validate: PostgreSQL's DataError is exit 2, not a traceback.
    (SQLite stores any length; there the use cases' validate.text(max_length=...) is the check.)"""
    if db.endswith(".db"):
        pytest.skip("SQLite does not enforce column lengths")
    from builders import people

    people(db)
    result = collab(db, "new", "LONG", "--title", "x" * 301, actor="pm", check=2)
    assert result.err.strip() == "the title is 301 characters long; at most 300 fit: shorten it"  # checked on entry
    result = collab(db, "board", "add", "b" * 201, "--partner", "Dorset Police", "--meets", "FREQ=MONTHLY;BYDAY=1TU",
                    "--secretary", "sec", actor="root", check=2)  # not checked on entry
    assert result.err.strip() == ("a value does not fit the database (value too long for type character varying(200)): "
                                  "shorten or correct it; nothing was changed")
    assert collab(db, "list", "--json", actor="pm", check=0).json() == []
