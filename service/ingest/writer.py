"""Group commit: the reports of many concurrent requests are stored in one transaction.

A commit costs far more than an insert (an fsync on PostgreSQL, the write lock on SQLite), so under load the
writer takes every report waiting, inserts them with one statement per table and commits once.
Each report is whole in that transaction: its case and outbox rows go in beside it or not at all. When a batch
fails on a unique constraint (a retried report), the batch is written again one report per transaction, so
one retry never sinks its neighbours; the retry itself comes back as `DUPLICATE`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from enum import Enum

from sqlalchemy.exc import IntegrityError

from service.db import Database
from service.ingest.loop_commit import loop_commit_for
from service.ingest.rows import PendingReport, commit_blocking
from service.metrics.instruments import WRITER_BATCH

MAX_BATCH = 200


class Outcome(Enum):
    CREATED = "created"
    DUPLICATE = "duplicate"


Waiting = tuple[PendingReport, "asyncio.Future[Outcome]"]


class GroupWriter:
    """Group commit on the event loop: reports that arrive while a batch commits go in the next batch.

    The callers' futures are resolved on the loop itself, so a report costs no cross-thread wake-up of its
    own; how a batch is committed from the loop is `service.ingest.loop_commit`'s business.
    """

    def __init__(self, db: Database, *, on_batch: Callable[[int], None] = WRITER_BATCH.observe) -> None:
        self.db = db
        # Told each batch's size: the metric here, or (in an intake process) a list the API is sent.
        self.on_batch = on_batch
        self._loop_commit = loop_commit_for(db)
        self._waiting: list[Waiting] = []
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, pending: PendingReport) -> Outcome:
        """Store one report; returns once its transaction has committed."""
        return await self._enqueue([pending])[0]

    async def write_many(self, batch: Sequence[PendingReport]) -> list[Outcome | BaseException]:
        """Store several reports (in one transaction unless a retry among them splits it); each one's
        outcome, or the exception that kept it from being stored."""
        return await asyncio.gather(*self._enqueue(batch), return_exceptions=True)

    def _enqueue(self, batch: Sequence[PendingReport]) -> list[asyncio.Future[Outcome]]:
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Outcome]] = [loop.create_future() for _ in batch]
        self._waiting.extend(zip(batch, futures, strict=True))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return futures

    async def drain(self) -> None:
        """Wait for every queued report to be written, then let go of the connections (at shutdown)."""
        if self._flusher is not None:
            await self._flusher
        await self._loop_commit.close()

    async def _flush(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            self.on_batch(len(batch))
            try:
                outcomes = await self._commit_on_loop([pending for pending, _ in batch])
            except Exception as exc:  # the callers get the error; the next batch is tried afresh
                outcomes = [exc] * len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # the caller went away; the report is stored all the same
                    continue
                if isinstance(outcome, Outcome):
                    future.set_result(outcome)
                else:
                    future.set_exception(outcome)

    async def _commit_on_loop(self, batch: Sequence[PendingReport]) -> list[Outcome | Exception]:
        try:
            await self._loop_commit.commit(batch)
        except IntegrityError:
            return [await self._commit_alone_on_loop(pending) for pending in batch]
        return [Outcome.CREATED] * len(batch)

    async def _commit_alone_on_loop(self, pending: PendingReport) -> Outcome | Exception:
        try:
            await self._loop_commit.commit([pending])
        except IntegrityError:
            return Outcome.DUPLICATE
        except Exception as exc:  # this report's error goes to its caller only
            return exc
        return Outcome.CREATED

    def commit_batch(self, batch: Sequence[PendingReport]) -> list[Outcome | Exception]:
        """Write a batch in one transaction, blocking (for callers without a loop, as benchmarks are)."""
        try:
            commit_blocking(self.db, batch)
        except IntegrityError:
            return [self._commit_alone(pending) for pending in batch]
        return [Outcome.CREATED] * len(batch)

    def _commit_alone(self, pending: PendingReport) -> Outcome | Exception:
        try:
            commit_blocking(self.db, [pending])
        except IntegrityError:
            return Outcome.DUPLICATE
        except Exception as exc:  # this report's error goes to its caller only
            return exc
        return Outcome.CREATED
