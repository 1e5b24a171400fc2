"""A batch of report rows inserted through SQLite's driver, without SQLAlchemy's work on every value.

SQLAlchemy Core sends each value of each row through its bind processors and builds a parameter dict per row
(`construct_params`, the DATETIME processor): a quarter of the group writer's CPU on SQLite, about 50 us of
the 220 a stored report cost there (bench reports, 8 to a commit). Here the columns are read once per table
and key set, only timestamps and JSON are converted, and sqlite3 gets plain tuples. What lands in the file is
what SQLAlchemy would have written (tests/unit/ingest/test_writer.py compares them value for value);
a key set this cannot reproduce exactly (a missing column with a Python-side default) goes through
SQLAlchemy as before. PostgreSQL keeps SQLAlchemy: psycopg's own conversions are where its time goes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.exc import IntegrityError, OperationalError

from service.ingest.driver_values import Converter, shared_keys, value_converters


# A report's rows carry the same few timestamps (received, seen, queued: one `now`), and strftime costs as
# much as a dozen look-ups here: formatting each only once saved 10 us per stored report.
@lru_cache(maxsize=256)
def sqlite_stamp(value: datetime | None) -> str | None:
    """A timestamp as SQLAlchemy's SQLite DATETIME stores it: UTC, naive, with six digits of microseconds."""
    if value is None:
        return None
    value = value.astimezone(UTC) if value.tzinfo else value
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


class FastInsert:
    """One table's INSERT for rows with one set of keys."""

    def __init__(self, sql: str, keys: tuple[str, ...], converters: dict[int, Converter]) -> None:
        self.sql = sql
        self._values = itemgetter(*keys)
        self._converters = converters

    def parameters(self, row: dict[str, Any]) -> tuple[Any, ...]:
        values = self._values(row)
        if not self._converters:
            return values  # type: ignore[no-any-return]
        converted = list(values)
        for index, convert in self._converters.items():
            converted[index] = convert(converted[index])
        return tuple(converted)


@lru_cache(maxsize=64)
def fast_insert(table: Table, keys: tuple[str, ...]) -> FastInsert | None:
    """The driver-level INSERT for these keys, or None when only SQLAlchemy writes such rows correctly."""
    converters = value_converters(table, keys, timestamp=sqlite_stamp)
    if converters is None:
        return None
    # SQLAlchemy writes the statement (quoting included); its parameters come in the order it chose.
    compiled = table.insert().compile(dialect=SQLiteDialect(paramstyle="qmark"), column_keys=list(keys))
    order = tuple(compiled.positiontup or ())
    if sorted(order) != sorted(keys) or len(order) < 2:  # itemgetter of one key gives no tuple
        return None
    by_position = {index: converters[key] for index, key in enumerate(order) if key in converters}
    return FastInsert(compiled.string, order, by_position)


def insert_with_driver(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows in the connection's transaction."""
    keys = shared_keys(rows)
    insert = fast_insert(table, keys) if keys is not None else None
    if insert is None:
        connection.execute(table.insert(), list(rows))
        return
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    try:
        driver.executemany(insert.sql, [insert.parameters(row) for row in rows])
    except sqlite3.IntegrityError as exc:  # as SQLAlchemy raises them: the writer retries per report on this
        raise IntegrityError(insert.sql, None, exc) from None
    except sqlite3.OperationalError as exc:  # a busy database included (loop_commit.is_sqlite_busy)
        raise OperationalError(insert.sql, None, exc) from None
