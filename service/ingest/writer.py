"""Group commit: one thread stores the reports of many concurrent requests in one transaction.

A commit costs far more than an insert (an fsync on PostgreSQL, the write lock on SQLite), so under load the
writer takes every report waiting in its queue, inserts them with one statement per table and commits once.
Each report is whole in that transaction: its case and outbox rows go in beside it or not at all. When a batch
fails on a unique constraint (a retried report), the batch is written again one report per transaction, so
one retry never sinks its neighbours; the retry itself comes back as `DUPLICATE`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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


Item = tuple[PendingReport, "Future[Outcome]"]


class GroupWriter:
    """Writes `PendingReport`s for any number of threads; `write` returns once the report is committed."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, pending: PendingReport) -> Future[Outcome]:
        """Queue one report; the future resolves once its transaction has committed."""
        future: Future[Outcome] = Future()
        self._ensure_started()
        self._queue.put((pending, future))
        return future

    def write(self, pending: PendingReport) -> Outcome:
        """Store one report, blocking until its transaction commits."""
        return self.submit(pending).result()

    def stop(self) -> None:
        """Write what is queued, then end the writer thread."""
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, daemon=True, name="report-writer")
                    self._thread.start()

    def _run(self) -> None:
        while (first := self._queue.get()) is not None:
            batch = [first]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            WRITER_BATCH.observe(len(batch))
            self._write_batch(batch)
            if stop:
                return

    def _write_batch(self, batch: list[Item]) -> None:
        try:
            self._commit([pending for pending, _ in batch])
        except IntegrityError:
            for item in batch:
                self._write_alone(item)
        except Exception as exc:  # the callers get the error; the writer lives on for the next batch
            for _, future in batch:
                future.set_exception(exc)
            return
        else:
            for _, future in batch:
                future.set_result(Outcome.CREATED)

    def _write_alone(self, item: Item) -> None:
        pending, future = item
        try:
            self._commit([pending])
        except IntegrityError:
            future.set_result(Outcome.DUPLICATE)
        except Exception as exc:
            future.set_exception(exc)
        else:
            future.set_result(Outcome.CREATED)

    def _commit(self, batch: Sequence[PendingReport]) -> None:
        with self.db.write_lock, self.db.session() as db_session:
            _insert_rows(db_session, batch)
            db_session.commit()


def _insert_rows(db_session: Session, batch: Sequence[PendingReport]) -> None:
    # Parents first: a report refers to its case.
    cases = [pending.case for pending in batch if pending.case]
    if cases:
        db_session.execute(insert(Case), cases)
    db_session.execute(insert(Report), [pending.report for pending in batch])
    indicators = [row for pending in batch for row in pending.indicators]
    if indicators:
        db_session.execute(insert(ReportIndicator), indicators)
    outbox = [pending.outbox for pending in batch if pending.outbox]
    if outbox:
        db_session.execute(insert(OutboxMessage), outbox)
