"""The rows of one stored report, and how a batch of them is inserted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table

from service.cases.models import Case
from service.db import Database
from service.ingest.models import Report
from service.ingest.sqlite_rows import insert_with_driver
from service.jobs.models import OutboxMessage


@dataclass(frozen=True)
class PendingReport:
    """The rows of one report, ready to insert."""

    report: dict[str, Any]
    case: dict[str, Any] | None = None
    outbox: dict[str, Any] | None = None


_CASES = cast(Table, Case.__table__)
_REPORTS = cast(Table, Report.__table__)
_OUTBOX = cast(Table, OutboxMessage.__table__)


def rows_by_table(batch: Sequence[PendingReport]) -> list[tuple[Table, list[dict[str, Any]]]]:
    """The batch's rows, table by table, parents first (a report names its case); empty tables left out."""
    tables = [
        (_CASES, [pending.case for pending in batch if pending.case]),
        (_REPORTS, [pending.report for pending in batch]),
        (_OUTBOX, [pending.outbox for pending in batch if pending.outbox]),
    ]
    return [(table, rows) for table, rows in tables if rows]


def insert_rows(connection: Connection, batch: Sequence[PendingReport]) -> None:
    """One statement per table for the whole batch, in the caller's transaction."""
    # Core inserts on a bare connection: the rows are plain dicts already, and the ORM's unit of work and
    # bulk-insert bookkeeping cost more than the inserts themselves. On SQLite, the driver's own executemany.
    insert = insert_with_driver if connection.dialect.name == "sqlite" else _insert_with_core
    for table, rows in rows_by_table(batch):
        insert(connection, table, rows)


def _insert_with_core(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    connection.execute(table.insert(), rows)


def commit_blocking(db: Database, batch: Sequence[PendingReport]) -> None:
    """Insert the batch in one transaction, waiting for the database as long as it takes."""
    with db.write_lock, db.engine.begin() as connection:
        insert_rows(connection, batch)
