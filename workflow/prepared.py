"""Writes compiled once per dialect and run on the driver's own cursor: every use case's hot statements.

SQLAlchemy's Core spends about 50 us of Python on each statement it runs (its compiled cache, execution
context and result set-up), more than SQLite takes to run one of these single-row writes; a stage move sends
three of them. Here a statement is compiled once per dialect and set of columns, and each run is the driver's
`execute` on the transaction's connection. The engine's `before_cursor_execute` listeners still hear every
statement (tests and benchmarks count statements with them). Only values the drivers take as they are may be
bound: text, integers, None, and dates (written as SQLite's Date type writes them, ISO 8601).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable


class Prepared:
    """A DML statement (INSERT, UPDATE) whose bound values are given by name at each run."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}

    def _sql(self, connection: Connection, names: tuple[str, ...]) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        """The SQL text for these bound names, their order when the driver's parameters are positional, and the
        values the statement itself binds (its literals)."""
        dialect = connection.dialect
        found = self._compiled.get((dialect.name, names))
        if found is None:
            compiled: Any = self.statement.compile(dialect=dialect, column_keys=list(names))  # type: ignore[attr-defined]
            found = self._compiled[dialect.name, names] = (
                compiled.string, tuple(compiled.positiontup) if dialect.positional else None,
                {name: value for name, value in compiled.params.items() if name not in names})
        return found

    def run(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Run the statement once per row (all rows with the same names) in the connection's transaction;
        the number of rows it changed."""
        names = tuple(rows[0])
        sql, order, literals = self._sql(connection, names)
        if literals:
            rows = [{**literals, **row} for row in rows]
        sqlite = connection.dialect.name == "sqlite"
        params: list[Any] = [
            tuple(_sqlite(row[name]) for name in order) if order is not None and sqlite
            else tuple(row[name] for name in order) if order is not None else row
            for row in rows]
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            many = len(params) > 1
            for listener in connection.dispatch.before_cursor_execute:
                listener(connection, cursor, sql, params if many else params[0], None, many)
            if many:
                cursor.executemany(sql, params)
            else:
                cursor.execute(sql, params[0])
            return int(cursor.rowcount)
        except connection.dialect.loaded_dbapi.Error as error:  # as Core raises it: IntegrityError, OperationalError
            raise DBAPIError.instance(sql, params, error, connection.dialect.loaded_dbapi.Error) from error
        finally:
            cursor.close()


def _sqlite(value: Any) -> Any:
    """A value as SQLAlchemy's SQLite types store it (Date as ISO text)."""
    if isinstance(value, date):
        if isinstance(value, datetime):  # SQLite's DateTime text differs from isoformat: not bound here
            raise TypeError("a datetime cannot be bound by a prepared statement")
        return value.isoformat()
    return value
