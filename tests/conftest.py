"""Shared fixtures: a fresh database per test on SQLite, and on PostgreSQL when COLLAB_TEST_DATABASE_URL is set.

PostgreSQL tests each get their own schema (search_path in the URL), so the CLI
subprocesses of a test see exactly that test's data.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

PG_URL = os.environ.get("COLLAB_TEST_DATABASE_URL")
COLLAB = str(Path(sys.executable).with_name("collab"))


def _pg_schema_url(schema: str) -> str:
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"


def migrate(target: str, revision: str = "head") -> None:
    """Create the schema of `target` up to `revision` (Alembic's, as `collab init` runs it)."""
    from alembic import command
    from alembic.config import Config

    from workflow.db import MIGRATIONS, engine_for

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine_for(target).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def init(target: str, revision: str) -> None:
    """The schema up to `revision`; at the head, with the packaged definitions stored, as `collab init` leaves it."""
    from workflow.db import UnitOfWork, engine_for
    from workflow.stored import install_packaged

    migrate(target, revision)
    if revision == "head":
        install_packaged(UnitOfWork(engine_for(target)))


@contextmanager
def database(kind: str, tmp_path: Path, revision: str = "head", name: str = "collab.db") -> Iterator[str]:
    """A database target (path or URL) with the schema up to `revision`, empty; PostgreSQL in a schema of its own."""
    from workflow.db import engine_for

    if kind == "sqlite":
        target = str(tmp_path / name)
        init(target, revision)
        yield target
        engine_for(target).dispose()
        return
    if not PG_URL:
        pytest.skip("COLLAB_TEST_DATABASE_URL is not set (CI sets it)")
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    target = _pg_schema_url(schema)
    init(target, revision)
    try:
        yield target
    finally:
        engine_for(target).dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database target (path or URL) as `collab init` leaves it, empty."""
    with database(request.param, tmp_path) as target:
        yield target


@pytest.fixture
def other_db(db: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database of the same kind as `db`."""
    with database("sqlite" if "://" not in db else "postgresql", tmp_path, name="other.db") as target:
        yield target


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


class ForkServer:
    """The client of tests/zygote.py: one server per test process, started at the first command."""

    TIMEOUT = 120

    def __init__(self) -> None:
        self.server: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()
        self.folder = Path(tempfile.mkdtemp(prefix="collab-zygote-"))

    def run(self, args: list[str], env: dict[str, str]) -> Result:
        with self.lock:
            server = self._server()
            out, err = self.folder / "out", self.folder / "err"
            request = {"args": args, "env": env, "cwd": os.getcwd(), "out": str(out), "err": str(err)}
            server.stdin.write(json.dumps(request).encode() + b"\n")  # type: ignore[union-attr]
            pid = self._reply(server)["pid"]
            ready, _, _ = select.select([server.stdout], [], [], self.TIMEOUT)
            if not ready:
                os.kill(pid, signal.SIGKILL)
            code = self._reply(server)["status"]
            assert ready, f"collab {' '.join(args)} took over {self.TIMEOUT} s and was killed"
            return Result(code, out.read_text(), err.read_text())

    def _server(self) -> subprocess.Popen[bytes]:
        if self.server is None or self.server.poll() is not None:
            # unbuffered both ways: a reply line is never left in a buffer that select() cannot see
            self.server = subprocess.Popen([sys.executable, "-u", str(Path(__file__).with_name("zygote.py"))],
                                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
            atexit.register(self.server.kill)
        return self.server

    @staticmethod
    def _reply(server: subprocess.Popen[bytes]) -> dict[str, int]:
        line = server.stdout.readline()  # type: ignore[union-attr]
        assert line, "the collab fork server stopped"
        return json.loads(line)


FORKS = ForkServer()


def collab(db: str, *args: str, actor: str | None = None, env: dict[str, str] | None = None,
           check: int | None = None) -> Result:
    """Run the real `collab` command (`cli:main`) in a process of its own, forked from tests/zygote.py."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COLLAB_")}
    environ.update({"COLLAB_DB": db, **(env or {})})
    if actor:
        environ["COLLAB_USER"] = actor
    result = FORKS.run(list(args), environ)
    assert "Traceback" not in result.err, result.err
    if check is not None:
        assert result.code == check, f"exit {result.code}, expected {check}\nstdout: {result.out}\nstderr: {result.err}"
    return result
