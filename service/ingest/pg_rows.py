"""A batch of report rows sent to PostgreSQL in one round trip, through psycopg's pipeline.

Through SQLAlchemy's asyncio connection a group commit was seven round trips to the server: the pool's
ping, BEGIN, one INSERT per table and COMMIT, each answered only when the intake's event loop came back to
it from analysing the next reports. The writer waited on them more than it worked: 6.3 ms of wall time per
8-report commit, and the intake process idle a quarter of the time (bench/ingest.py). Here BEGIN, one
INSERT per table and COMMIT are queued in psycopg's pipeline and sent together, so a batch waits for the
server once.

Each table's rows go as one statement: a parameter per column, an array of the rows' values in binary,
which `unnest` turns back into rows. psycopg's executemany sent and answered every row on its own, in
Python (137 us of the client's CPU per report in 8-report commits; 96 us as arrays, the server's own work
unchanged at about 150 us). Each value gets the conversion its SQLAlchemy type would give it and is cast to
the column's type, so the rows stored are the ones SQLAlchemy's insert stores
(tests/unit/ingest/test_pg_writer.py compares them). A key set that needs more than that goes through
SQLAlchemy as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.exc import IntegrityError, OperationalError

from service.ingest.driver_values import Converter, value_converters
from service.ingest.rows import PendingReport, rows_by_table

_DIALECT = PGDialect_psycopg()  # type: ignore[no-untyped-call]


def utc(value: datetime | None) -> datetime | None:
    """What UTCDateTime binds: an aware timestamp in UTC (a naive one as it is)."""
    return value.astimezone(UTC) if value is not None and value.tzinfo else value


class UnnestInsert:
    """One table's INSERT of many rows as one statement, its values in arrays (one per column)."""

    def __init__(self, table: Table, keys: tuple[str, ...], converters: dict[str, Converter]) -> None:
        columns = ", ".join(keys)
        arrays = ", ".join(f"%b::{_array_type(table, key)}" for key in keys)
        # Names from our own table metadata, never from a request; the values travel as parameters.
        self.sql = f"INSERT INTO {table.name} ({columns}) SELECT * FROM unnest({arrays})"  # noqa: S608
        self._keys = keys
        self._converters = converters

    def parameters(self, rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
        columns = []
        for key in self._keys:
            values = [row[key] for row in rows]
            convert = self._converters.get(key)
            columns.append(values if convert is None else [convert(value) for value in values])
        return columns


def _array_type(table: Table, key: str) -> str:
    return f"{table.c[key].type.dialect_impl(_DIALECT).compile(dialect=_DIALECT)}[]"


@lru_cache(maxsize=64)
def unnest_insert(table: Table, keys: tuple[str, ...]) -> UnnestInsert | None:
    """The INSERT for rows with these keys, or None when only SQLAlchemy writes such rows correctly."""
    converters = value_converters(table, keys, timestamp=utc)
    return None if converters is None else UnnestInsert(table, keys, converters)


def statements(batch: Sequence[PendingReport]) -> list[tuple[str, list[list[Any]]]] | None:
    """(SQL, parameters) per table, parents first; None if some table's rows need SQLAlchemy."""
    found = []
    for table, rows in rows_by_table(batch):
        keys = tuple(rows[0])
        insert = unnest_insert(table, keys) if all(tuple(row) == keys for row in rows) else None
        if insert is None:
            return None
        found.append((insert.sql, insert.parameters(rows)))
    return found


async def insert_pipelined(
    connection: psycopg.AsyncConnection[Any], batch: list[tuple[str, list[list[Any]]]]
) -> None:
    """BEGIN, the inserts and COMMIT, sent in one go; errors as SQLAlchemy raises them (the group writer
    retries report by report on an IntegrityError)."""
    try:
        async with connection.pipeline(), connection.transaction(), connection.cursor() as cursor:
            for sql, parameters in batch:
                await cursor.execute(sql, parameters)
    except psycopg.IntegrityError as exc:
        raise IntegrityError("INSERT (pipelined batch)", None, exc) from None
    except psycopg.OperationalError as exc:
        raise OperationalError("INSERT (pipelined batch)", None, exc) from None
