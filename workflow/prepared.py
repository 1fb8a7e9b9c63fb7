"""Statements compiled once per dialect and run on the driver's own cursor: the hot statements of every write.

SQLAlchemy's Core spends about 50 us of Python on each statement it runs (its compiled cache, execution
context and result set-up), more than SQLite takes to run one of these single-row statements; a stage move
sends four. Here a statement is compiled once per dialect (and set of columns written), and each run is the
driver's `execute` in the transaction's connection. The engine's `before_cursor_execute` listeners still hear
every statement (tests and benchmarks count statements with them), and a driver's error is raised as Core
raises it (IntegrityError, OperationalError). Values bound and columns read are converted by their types' own
bind and result processors, as Core converts them (SQLite's dates to and from text).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

_CONNECTION = "prepared_connection"  # in Session.info


def connection_of(session: Session) -> Connection:
    """The connection of the session's transaction, kept in its info: Session.connection() costs more than
    the statements these run."""
    transaction = session.get_transaction()
    kept = session.info.get(_CONNECTION)
    if kept is None or kept[0] is not transaction:
        kept = session.info[_CONNECTION] = (transaction, session.connection())
    return kept[1]  # type: ignore[no-any-return]


def run(connection: Connection, sql: str, params: Any = (), many: bool = False) -> Any:
    """Run `sql` on a new cursor of the connection's driver (the caller closes it), as Core would: listeners told."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    listeners = connection.dispatch.before_cursor_execute
    if listeners:
        for listener in listeners:
            listener(connection, cursor, sql, params, None, many)
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except connection.dialect.loaded_dbapi.Error as error:
        cursor.close()
        raise DBAPIError.instance(sql, params, error, connection.dialect.loaded_dbapi.Error) from error
    return cursor


Convert = Callable[[Any], Any] | None


class _Compiled(NamedTuple):
    sql: str
    order: tuple[str, ...] | None  # the bound names in order, when the driver's parameters are positional
    literals: dict[str, Any]  # values the statement binds itself
    binders: dict[str, Callable[[Any], Any]]  # each bound name's bind processor (SQLite's Date writes ISO text)
    processors: list[Convert]  # a read's columns' result processors, filled in at its first run


class Prepared:
    """A statement whose bound values are given by name at each run."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}

    def _sql(self, connection: Connection, names: tuple[str, ...]) -> _Compiled:
        """The statement compiled for the connection's dialect and these bound names."""
        dialect = connection.dialect
        found = self._compiled.get((dialect.name, names))
        if found is None:
            compiled: Any = self.statement.compile(dialect=dialect, column_keys=list(names))  # type: ignore[attr-defined]
            binders = {name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in
                       ((bind.key, bind) for bind in compiled.binds.values())}
            found = self._compiled[dialect.name, names] = _Compiled(
                compiled.string, tuple(compiled.positiontup) if dialect.positional else None,
                {name: value for name, value in compiled.params.items() if name not in names},
                {name: convert for name, convert in binders.items() if convert is not None}, [])
        return found

    def _processors(self, connection: Connection, cursor: Any, found: list[Convert]) -> list[Convert]:
        """Each column's result processor, filled in at the first read (a type's may depend on the driver's
        type code for the column, as PostgreSQL's numeric does)."""
        if not found and isinstance(self.statement, Select):
            dialect = connection.dialect
            found.extend(column.type.dialect_impl(dialect).result_processor(dialect, described[1])
                         for column, described in zip(self.statement.selected_columns, cursor.description))
        return found

    def _params(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> tuple[_Compiled, list[Any]]:
        compiled = self._sql(connection, tuple(rows[0]))
        if compiled.literals:
            rows = [{**compiled.literals, **row} for row in rows]
        if compiled.binders:
            binders = compiled.binders
            rows = [{name: value if value is None or name not in binders else binders[name](value)
                     for name, value in row.items()} for row in rows]
        if compiled.order is None:
            return compiled, list(rows)
        return compiled, [tuple(row[name] for name in compiled.order) for row in rows]

    def write(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Run the statement once per row (all rows with the same names); the number of rows it changed."""
        compiled, params = self._params(connection, rows)
        cursor = run(connection, compiled.sql, params if len(params) > 1 else params[0], many=len(params) > 1)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def all(self, connection: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row a read returns, its columns converted by their types."""
        compiled, params = self._params(connection, [values])
        cursor = run(connection, compiled.sql, params[0])
        try:
            rows = cursor.fetchall()
            processors = self._processors(connection, cursor, compiled.processors)
        finally:
            cursor.close()
        if not any(processors):
            return rows  # type: ignore[no-any-return]
        return [tuple(value if convert is None or value is None else convert(value)
                      for convert, value in zip(processors, row)) for row in rows]

    def first(self, connection: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row a read returns (the statement's LIMIT says how many it reads), or None."""
        rows = self.all(connection, values)
        return rows[0] if rows else None
