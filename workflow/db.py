"""Engine, SQLite durability settings, migrations and the unit of work.

SQLite is opened in WAL mode with synchronous=FULL (a committed decision survives
a power cut), foreign keys on, and write transactions that take the write lock up
front (BEGIN IMMEDIATE) so that two writers queue instead of failing half way.
On PostgreSQL every writer first locks the single `chain_head` row, which
serialises appends to the hash chain.
"""

from __future__ import annotations

import atexit
import functools
import re
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from workflow.audit import hold_head
from workflow.errors import BadInput, Conflict, reason
from workflow.model import ChainHead
from workflow.prepared import Prepared, connection_of, run

SCHEMA_REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0011", "0012", "0013", "0014")  # every migration, oldest first; tests check them against Alembic's
SCHEMA_REVISION = SCHEMA_REVISIONS[-1]
MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
BACKENDS = ("sqlite", "postgresql")
_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_REVISION = text("SELECT version_num FROM alembic_version")
# A PostgreSQL writer's first statement, on the driver (workflow.prepared).
_LOCK_HEAD = Prepared(select(ChainHead.seq, ChainHead.hash).where(ChainHead.id == 1).with_for_update())
# One key per schema: concurrent `collab init`s of one schema queue on it (pg_advisory_xact_lock).
INIT_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('collab init ' || coalesce(current_schema(), '')))")


def database_url(target: str) -> str:
    """A path becomes a SQLite URL; a URL is used as given (postgresql:// means psycopg 3)."""
    if "://" not in target:
        return f"sqlite:///{Path(target).expanduser().resolve()}"
    if target.startswith("postgresql://") or target.startswith("postgres://"):
        return "postgresql+psycopg://" + target.split("://", 1)[1]
    return target


def folder_beside(target: str, name: str) -> Path:
    """A folder beside a SQLite database file; for a server database, in the working directory."""
    url = database_url(target)
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).parent / name
    return Path(name)


def shown(target: str) -> str:
    """A database as it may be printed: the path, or the URL with any password replaced by ***."""
    return _PASSWORD.sub(r"\1***@", target)


@functools.cache
def engine_for(target: str) -> Engine:
    """The engine for a path or URL; BadInput (exit 2) for one collab cannot use, before any connection."""
    url = database_url(target)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise BadInput(f"the database {shown(target)!r} is neither a file path nor a database URL") from None
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        raise BadInput(f"the database {shown(target)} is {backend}: collab works with an SQLite file or PostgreSQL "
                       "(postgresql://user@host/db)")
    if backend == "sqlite":
        path = Path(parsed.database) if parsed.database and parsed.database != ":memory:" else None
        if path and path.is_dir():
            raise BadInput(reason("database-is-a-directory", f"{path} is a directory, not a collab database"))
        if path and not path.parent.is_dir():
            raise BadInput(f"the database {target}: folder {path.parent} does not exist")
        engine = create_engine(url)
        _configure_sqlite(engine)
        return engine
    try:
        return create_engine(url, pool_pre_ping=False)
    except ImportError as error:
        raise BadInput(f"the database {shown(target)}: driver missing ({error.name}); install collab[postgres]") from None


def sqlite_path(engine: Engine) -> Path | None:
    """The file of an SQLite engine (None for PostgreSQL or an in-memory database)."""
    database = engine.url.database
    return Path(database) if engine.dialect.name == "sqlite" and database and database != ":memory:" else None


def database_error(engine: Engine, error: DBAPIError) -> BadInput:
    """The plain message for a database that cannot be opened or written: what it is, where, and what to do.

    SQLite's and libpq's own messages name no password, but a URL might be echoed in one, so any
    password of the URL is blanked out of the message too.
    """
    said = " ".join(str(error.orig).split()) or type(error.orig).__name__
    path = sqlite_path(engine)
    if path is not None:
        if "not a database" in said:
            return BadInput(reason("not-a-database", f"{path} is not a collab database (not an SQLite file)"))
        if "readonly" in said or "read-only" in said:
            return BadInput(f"{path} is read-only: collab needs to write to it and to {path.name}-wal and "
                            f"{path.name}-shm beside it (check the permissions of the file and its folder)")
        return BadInput(f"cannot open the database {path}: {said}")
    url = engine.url
    if url.password:
        said = said.replace(str(url.password), "***")
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    return BadInput(f"cannot use the PostgreSQL database {url.database or ''} at {where} as {url.username or '(default user)'}: "
                    f"{said}")


_WRITTEN: weakref.WeakSet[Engine] = weakref.WeakSet()


def checkpoint(engine: Engine) -> None:
    """Copy the committed pages in an SQLite database's WAL into its file, waiting for no one (PASSIVE).

    A command's connections are not closed as it exits, so SQLite's own checkpoint-on-close never
    runs, and until its automatic checkpoint (1,000 pages) a plain copy of collab.db without
    collab.db-wal would lack the latest decisions. One checkpoint after a write command costs about
    6 ms (an fsync of the file); see README, "Backups".
    """
    raw = engine.raw_connection()
    try:
        sqlite: Any = raw.driver_connection
        sqlite.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        raw.close()


def _checkpoint_later(engine: Engine) -> None:
    """Checkpoint an SQLite database that this process wrote to, once, as the process (the command) exits."""
    if engine.dialect.name == "sqlite":
        _WRITTEN.add(engine)
        _checkpoint_at_exit()


@functools.cache
def _checkpoint_at_exit() -> None:
    atexit.register(_checkpoint_written)


def _checkpoint_written() -> None:
    for engine in list(_WRITTEN):
        try:
            checkpoint(engine)
        except Exception:  # best effort while the process exits: the WAL itself is durable
            pass


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        immediate = connection.get_execution_options().get("collab_write", False)
        run(connection, "BEGIN IMMEDIATE" if immediate else "BEGIN").close()  # on the driver: Core's costs more


def upgrade(engine: Engine) -> str:
    """Create or upgrade the schema to the newest migration (idempotent); returns the revision.

    Safe to run concurrently: the migration runs under the writer's lock (BEGIN IMMEDIATE on SQLite,
    an advisory lock per schema on PostgreSQL) and re-reads the revision once it holds it, so the
    second of two `collab init`s finds the schema made and does nothing.
    """
    try:
        with engine.execution_options(collab_write=True).begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(INIT_LOCK)
            revision = _revision(connection)
            _refuse_newer(engine, revision)
            if revision != SCHEMA_REVISION:
                _migrate(connection)
    except DBAPIError as error:
        raise database_error(engine, error) from None
    _checkpoint_later(engine)
    return SCHEMA_REVISION


def _migrate(connection: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(_REVISION).scalar()


def _refuse_newer(engine: Engine, revision: str | None) -> None:
    if revision is not None and revision not in SCHEMA_REVISIONS:
        where = sqlite_path(engine) or shown(engine.url.render_as_string())
        raise BadInput(f"the database {where} is at schema revision {revision}, newer than this collab knows "
                       f"(its newest is {SCHEMA_REVISION}): use a newer collab")


def schema_revision(engine: Engine) -> str | None:
    """The database's schema revision, None if it has no collab schema; BadInput if it cannot be opened."""
    try:
        with engine.connect() as connection:
            return _revision(connection)
    except DBAPIError as error:
        raise database_error(engine, error) from None


class UnitOfWork:
    """The transaction boundary of one use case: `with uow.write() as session:` commits or changes nothing."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write_bind = engine.execution_options(collab_write=True)
        self._checked = False

    def check_schema(self) -> None:
        """BadInput (exit 2) unless the database exists, opens and is at this collab's schema revision."""
        if self._checked:
            return
        path = sqlite_path(self.engine)
        if path is not None and not path.exists():  # before SQLite would create an empty file
            raise BadInput(reason("no-database-file", f"database {path} is not initialised"))
        revision = schema_revision(self.engine)
        where = path or shown(self.engine.url.render_as_string())
        if revision is None:
            raise BadInput(reason("not-initialised", f"database {where} is not initialised"))
        _refuse_newer(self.engine, revision)
        if revision != SCHEMA_REVISION:
            raise BadInput(reason("schema-behind", f"the database {where} is at schema revision {revision}, this collab "
                                  f"needs {SCHEMA_REVISION}"))
        self._checked = True

    @contextmanager
    def read(self) -> Iterator[Session]:
        self.check_schema()
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def write(self, history: bool = True) -> Iterator[Session]:
        """A write transaction; `history=False` for one that appends no event (the delivery log's claims),
        which on PostgreSQL then does not queue behind the chain head's lock."""
        self.check_schema()
        try:
            with Session(self._write_bind, expire_on_commit=False, autoflush=True) as session, session.begin():
                if history and self.engine.dialect.name != "sqlite":
                    # Lock the row and keep what it holds, so that the history append reads the chain head
                    # without a second round trip.
                    seq, digest = _LOCK_HEAD.first(connection_of(session), {})  # type: ignore[misc]
                    hold_head(session, seq, digest, {})
                yield session
        except StaleDataError:
            raise Conflict("someone else changed this collaboration at the same time; nothing was changed, try again") from None
        except IntegrityError as error:
            raise Conflict(f"the change clashed with another one: {error.orig}; nothing was changed, try again") from None
        except OperationalError as error:
            if "locked" in str(error.orig) or "busy" in str(error.orig):
                raise Conflict("the database stayed busy with another writer; nothing was changed, try again") from None
            if "readonly" in str(error.orig):
                raise database_error(self.engine, error) from None
            raise
        except DBAPIError as error:
            sqlstate = getattr(error.orig, "sqlstate", None) or ""
            if sqlstate in {"40001", "40P01"}:
                raise Conflict("the change clashed with another one; nothing was changed, try again") from None
            if sqlstate.startswith("22"):  # PostgreSQL's data exceptions: a value its column cannot hold
                # The use cases check values first (workflow.validate); this is the backstop for one they miss.
                diagnosis = getattr(getattr(error.orig, "diag", None), "message_primary", None) or sqlstate
                raise BadInput(f"a value does not fit the database ({diagnosis}): shorten or correct it; "
                               "nothing was changed") from None
            raise
        _checkpoint_later(self.engine)
