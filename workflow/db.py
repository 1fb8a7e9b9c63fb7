"""Engine, SQLite durability settings, migrations and the unit of work.

SQLite is opened in WAL mode with synchronous=FULL (a committed decision survives
a power cut), foreign keys on, and write transactions that take the write lock up
front (BEGIN IMMEDIATE) so that two writers queue instead of failing half way.
On PostgreSQL every writer first locks the single `chain_head` row, which
serialises appends to the hash chain.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from workflow.errors import BadInput, Conflict
from workflow.model import ChainHead

SCHEMA_REVISION = "0003"  # the newest migration; tests check it equals Alembic's head
MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 30_000


def database_url(target: str) -> str:
    """A path becomes a SQLite URL; a URL is used as given (postgresql:// means psycopg 3)."""
    if "://" not in target:
        return f"sqlite:///{Path(target).expanduser().resolve()}"
    if target.startswith("postgresql://") or target.startswith("postgres://"):
        return "postgresql+psycopg://" + target.split("://", 1)[1]
    return target


@functools.cache
def engine_for(target: str) -> Engine:
    url = database_url(target)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise BadInput(f"--db {target!r} is neither a file path nor a database URL") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and not Path(parsed.database).parent.is_dir():
            raise BadInput(f"--db {target}: folder {Path(parsed.database).parent} does not exist")
        engine = create_engine(url)
        _configure_sqlite(engine)
        return engine
    try:
        return create_engine(url, pool_pre_ping=False)
    except ImportError as error:
        raise BadInput(f"--db {target}: driver missing ({error.name}); install collab[postgres]") from None


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
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def upgrade(engine: Engine) -> str:
    """Create or upgrade the schema to the newest migration (idempotent); returns the revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return SCHEMA_REVISION


def schema_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):
        return None


class UnitOfWork:
    """The transaction boundary of one use case: `with uow.write() as session:` commits or changes nothing."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write_bind = engine.execution_options(collab_write=True)
        self._checked = False

    def check_schema(self) -> None:
        if self._checked:
            return
        try:
            revision = schema_revision(self.engine)
        except OperationalError as error:
            raise BadInput(f"cannot open database {self.engine.url.render_as_string()}: {error.orig}") from None
        if revision is None:
            raise BadInput(f"database {self.engine.url.database} is not initialised: run `collab init`")
        if revision != SCHEMA_REVISION:
            raise BadInput(f"database schema is at revision {revision}, this collab needs {SCHEMA_REVISION}: run `collab init`")
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
                    # Lock the whole row and hold it in the session (whose identity map is weak), so that
                    # the history append reads the chain head without a second round trip.
                    session.info["chain_head"] = session.scalars(
                        select(ChainHead).where(ChainHead.id == 1).with_for_update()).one()
                yield session
        except StaleDataError:
            raise Conflict("someone else changed this collaboration at the same time; nothing was changed, try again") from None
        except IntegrityError as error:
            raise Conflict(f"the change clashed with another one: {error.orig}; nothing was changed, try again") from None
        except OperationalError as error:
            if "locked" in str(error.orig) or "busy" in str(error.orig):
                raise Conflict("the database stayed busy with another writer; nothing was changed, try again") from None
            raise
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) in {"40001", "40P01"}:
                raise Conflict("the change clashed with another one; nothing was changed, try again") from None
            raise
