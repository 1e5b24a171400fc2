"""Group commit: the reports of many concurrent requests are stored in one transaction.

A commit costs far more than an insert (an fsync on PostgreSQL, the write lock on SQLite), so under load the
writer takes every report waiting, inserts them with one statement per table and commits once.
Each report is whole in that transaction: its case and outbox rows go in beside it or not at all. When a batch
fails on a unique constraint (a retried report), the batch is written again one report per transaction, so
one retry never sinks its neighbours; the retry itself comes back as `DUPLICATE`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, cast

from sqlalchemy import Connection, Table
from sqlalchemy.exc import IntegrityError

from service.campaigns.models import ReportIndicator
from service.cases.models import Case
from service.db import Database
from service.ingest.models import Report
from service.jobs.models import OutboxMessage
from service.metrics.instruments import WRITER_BATCH

log = logging.getLogger(__name__)
MAX_BATCH = 200


class Outcome(Enum):
    CREATED = "created"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class PendingReport:
    """The rows of one report, ready to insert."""

    report: dict[str, Any]
    case: dict[str, Any] | None = None
    outbox: dict[str, Any] | None = None
    indicators: list[dict[str, Any]] = field(default_factory=list)


Waiting = tuple[PendingReport, "asyncio.Future[Outcome]"]


class GroupWriter:
    """Group commit on the event loop: reports that arrive while a batch commits go in the next batch.

    Only the commit leaves the loop (one thread hop per batch, not per report), and the callers' futures are
    resolved on the loop itself, so a report costs no cross-thread wake-up of its own.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._waiting: list[Waiting] = []
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, pending: PendingReport) -> Outcome:
        """Store one report; returns once its transaction has committed."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((pending, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def drain(self) -> None:
        """Wait for every queued report to be written (at shutdown)."""
        if self._flusher is not None:
            await self._flusher

    async def _flush(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            WRITER_BATCH.observe(len(batch))
            try:
                outcomes = await asyncio.to_thread(self.commit_batch, [pending for pending, _ in batch])
            except Exception as exc:  # the callers get the error; the next batch is tried afresh
                outcomes = [exc] * len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # the caller went away; the report is stored all the same
                    continue
                if isinstance(outcome, Outcome):
                    future.set_result(outcome)
                else:
                    future.set_exception(outcome)

    def commit_batch(self, batch: Sequence[PendingReport]) -> list[Outcome | Exception]:
        """Write a batch in one transaction; on a unique-key clash, each report in its own (blocking)."""
        try:
            self._commit(batch)
        except IntegrityError:
            return [self._commit_alone(pending) for pending in batch]
        return [Outcome.CREATED] * len(batch)

    def _commit_alone(self, pending: PendingReport) -> Outcome | Exception:
        try:
            self._commit([pending])
        except IntegrityError:
            return Outcome.DUPLICATE
        except Exception as exc:  # this report's error goes to its caller only
            return exc
        return Outcome.CREATED

    def _commit(self, batch: Sequence[PendingReport]) -> None:
        # Core inserts on a bare connection: the rows are plain dicts already, and the ORM's unit of work and
        # bulk-insert bookkeeping cost more than the inserts themselves.
        with self.db.write_lock, self.db.engine.begin() as connection:
            _insert_rows(connection, batch)


_CASES = cast(Table, Case.__table__).insert()
_REPORTS = cast(Table, Report.__table__).insert()
_INDICATORS = cast(Table, ReportIndicator.__table__).insert()
_OUTBOX = cast(Table, OutboxMessage.__table__).insert()


def _insert_rows(connection: Connection, batch: Sequence[PendingReport]) -> None:
    # Parents first: a report refers to its case.
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
