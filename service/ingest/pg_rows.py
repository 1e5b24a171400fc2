"""A batch of report rows sent to PostgreSQL as one statement: one message out, one answer back.

Through SQLAlchemy's asyncio connection a group commit was seven round trips to the server: the pool's
ping, BEGIN, one INSERT per table and COMMIT, each answered only when the intake's event loop came back to
it from analysing the next reports. The writer waited on them more than it worked: 6.3 ms of wall time per
8-report commit, and the intake process idle a quarter of the time (bench/ingest.py). Here the whole batch
is one INSERT per table, chained in a WITH, on a connection that commits each statement: the statement is
the transaction, and PostgreSQL checks the foreign keys between its steps at its end.

Each table's rows go as a parameter per column, an array of the rows' values in binary, which `unnest`
turns back into rows. psycopg's executemany sent and answered every row on its own, in Python: 137 us of
the client's CPU per report in 8-report commits; 96 us as arrays in a pipeline (BEGIN, an INSERT per table,
COMMIT); 42 us as this one statement, with the commit's wall time 1.5 -> 1.2 ms and the server's CPU about
0.1 ms per report throughout. Each value gets the conversion its SQLAlchemy type would give it and is cast
to the column's type, so the rows stored are the ones SQLAlchemy's insert stores
(tests/unit/ingest/test_pg_writer.py compares them). A key set that needs more than that goes through
SQLAlchemy as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.exc import IntegrityError, OperationalError

from service.db import as_utc
from service.ingest.driver_values import Converter, shared_keys, value_converters
from service.ingest.pg_arrays import encoded_array_codec
from service.ingest.rows import PendingReport, rows_by_table

_DIALECT = PGDialect_psycopg()  # type: ignore[no-untyped-call]


class UnnestInsert:
    """One table's INSERT of many rows as one statement, its values in arrays (one per column)."""

    def __init__(self, table: Table, keys: tuple[str, ...], converters: dict[str, Converter]) -> None:
        columns = ", ".join(keys)
        types = [_column_type(table, key) for key in keys]
        arrays = ", ".join(f"%b::{column_type}[]" for column_type in types)
        # Names from our own table metadata, never from a request; the values travel as parameters.
        self.sql = f"INSERT INTO {table.name} ({columns}) SELECT * FROM unnest({arrays})"  # noqa: S608
        self._columns = [
            (key, encoded_array_codec(column_type), converters.get(key))
            for key, column_type in zip(keys, types, strict=True)
        ]

    def parameters(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        columns: list[Any] = []
        for key, codec, convert in self._columns:
            values = [row[key] for row in rows]
            if codec is not None:
                columns.append(codec.array(values))
            else:
                columns.append(values if convert is None else [convert(value) for value in values])
        return columns


def _column_type(table: Table, key: str) -> str:
    return str(table.c[key].type.dialect_impl(_DIALECT).compile(dialect=_DIALECT))


@lru_cache(maxsize=64)
def unnest_insert(table: Table, keys: tuple[str, ...]) -> UnnestInsert | None:
    """The INSERT for rows with these keys, or None when only SQLAlchemy writes such rows correctly."""
    converters = value_converters(table, keys, timestamp=as_utc)
    return None if converters is None else UnnestInsert(table, keys, converters)


def statement(batch: Sequence[PendingReport]) -> tuple[str, list[Any]] | None:
    """One statement that inserts the whole batch, each table's INSERT a step of a WITH (parents first), and
    its parameters; None if some table's rows need SQLAlchemy."""
    inserts = []
    parameters: list[Any] = []
    for table, rows in rows_by_table(batch):
        keys = shared_keys(rows)
        insert = unnest_insert(table, keys) if keys is not None else None
        if insert is None:
            return None
        inserts.append(insert.sql)
        parameters.extend(insert.parameters(rows))
    *parents, last = inserts
    steps = ", ".join(f"step_{n} AS ({sql})" for n, sql in enumerate(parents))
    return (f"WITH {steps} {last}" if steps else last), parameters


async def insert_batch(connection: psycopg.AsyncConnection[Any], batch: tuple[str, list[Any]]) -> None:
    """The batch's one statement, a transaction of its own (the connection commits each statement): one
    message out and one answer back. Errors come as SQLAlchemy raises them (the group writer retries report
    by report on an IntegrityError)."""
    sql, parameters = batch
    try:
        if not connection.autocommit:  # the writer's own connection: never handed back to the pool
            await connection.set_autocommit(True)
        await connection.execute(sql, parameters)
    except psycopg.IntegrityError as exc:
        raise IntegrityError("INSERT (batch)", None, exc) from None
    except psycopg.OperationalError as exc:
        raise OperationalError("INSERT (batch)", None, exc) from None
