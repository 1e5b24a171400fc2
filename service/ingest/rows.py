"""The rows of one stored report, and how a batch of them is inserted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Table

from service.campaigns.models import ReportIndicator
from service.cases.models import Case
from service.db import Database
from service.ingest.models import Report
from service.jobs.models import OutboxMessage


@dataclass(frozen=True)
class PendingReport:
    """The rows of one report, ready to insert."""

    report: dict[str, Any]
    case: dict[str, Any] | None = None
    outbox: dict[str, Any] | None = None
    indicators: list[dict[str, Any]] = field(default_factory=list)


_CASES = cast(Table, Case.__table__).insert()
_REPORTS = cast(Table, Report.__table__).insert()
_INDICATORS = cast(Table, ReportIndicator.__table__).insert()
_OUTBOX = cast(Table, OutboxMessage.__table__).insert()


def insert_rows(connection: Connection, batch: Sequence[PendingReport]) -> None:
    """One statement per table for the whole batch, in the caller's transaction."""
    # Core inserts on a bare connection: the rows are plain dicts already, and the ORM's unit of work and
    # bulk-insert bookkeeping cost more than the inserts themselves. Parents first: a report names its case.
    cases = [pending.case for pending in batch if pending.case]
    if cases:
        connection.execute(_CASES, cases)
    connection.execute(_REPORTS, [pending.report for pending in batch])
    indicators = [row for pending in batch for row in pending.indicators]
    if indicators:
        connection.execute(_INDICATORS, indicators)
    outbox = [pending.outbox for pending in batch if pending.outbox]
    if outbox:
        connection.execute(_OUTBOX, outbox)


def commit_blocking(db: Database, batch: Sequence[PendingReport]) -> None:
    """Insert the batch in one transaction, waiting for the database as long as it takes."""
    with db.write_lock, db.engine.begin() as connection:
        insert_rows(connection, batch)
