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
from dataclasses import dataclass
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
RetryKey = tuple[str, int, str]


@dataclass(frozen=True)
class _InFlight:
    """A batch being committed: what identifies a retry of its reports, and when it is done."""

    keys: frozenset[RetryKey]
    done: asyncio.Future[None]


def retry_keys(batch: Sequence[PendingReport]) -> frozenset[RetryKey]:
    """What makes another report a retry of one of these: its reporter's reference or Idempotency-Key."""
    keys = set()
    for pending in batch:
        report = pending.report
        for kind in ("reference", "idempotency_key"):
            if report[kind] is not None:
                keys.add((kind, report["reporter_id"], report[kind]))
    return frozenset(keys)


async def outcomes_of(futures: Sequence[asyncio.Future[Outcome]]) -> list[Outcome | Exception]:
    """Each report's outcome, or the exception that kept it from being stored."""
    outcomes: list[Outcome | Exception] = []
    # Awaited one by one, not gathered: a batch's futures are resolved together, so the caller wakes once
    # (a gather takes two more turns of the loop).
    for future in futures:
        try:
            outcomes.append(await future)
        except Exception as exc:
            outcomes.append(exc)
    return outcomes


class GroupWriter:
    """Group commit on the event loop: reports that arrive while a batch commits go in the next batch.

    On PostgreSQL that next batch need not wait for the last one's answer: up to `parallel` batches commit
    at once, each on a connection of its own, so a batch held up (by a lock, a slow fsync) holds up no other.
    A batch with a retry of a report in flight waits for that report's batch, so that of two copies the
    first one sent is the one stored (and the line order of a batch request holds).

    The callers' futures are resolved on the loop itself, so a report costs no cross-thread wake-up of its
    own; how a batch is committed from the loop is `service.ingest.loop_commit`'s business.
    """

    def __init__(self, db: Database, *, on_batch: Callable[[int], None] = WRITER_BATCH.observe) -> None:
        self.db = db
        # Told each batch's size: the metric here, or (in an intake process) a list the API is sent.
        self.on_batch = on_batch
        self._loop_commit = loop_commit_for(db)
        self._waiting: list[Waiting] = []
        self._flushers: set[asyncio.Task[None]] = set()
        self._in_flight: list[_InFlight] = []

    async def write(self, pending: PendingReport) -> Outcome:
        """Store one report; returns once its transaction has committed."""
        return await self.submit([pending])[0]

    async def write_many(self, batch: Sequence[PendingReport]) -> list[Outcome | Exception]:
        """Store several reports (in one transaction unless a retry among them splits it); each one's
        outcome, or the exception that kept it from being stored."""
        return await outcomes_of(self.submit(batch))

    @property
    def parallel(self) -> int:
        """How many batches may commit at once."""
        return self._loop_commit.parallel

    @property
    def committing(self) -> bool:
        """Whether a batch is being committed now."""
        return bool(self._flushers)

    def submit(self, batch: Sequence[PendingReport]) -> list[asyncio.Future[Outcome]]:
        """Queue several reports for the next batch; each one's future tells its outcome (outcomes_of)."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Outcome]] = [loop.create_future() for _ in batch]
        self._waiting.extend(zip(batch, futures, strict=True))
        if len(self._flushers) < self._loop_commit.parallel:
            self._flushers.add(asyncio.create_task(self._flush()))
        return futures

    async def drain(self) -> None:
        """Wait for every queued report to be written, then let go of the connections (at shutdown)."""
        while self._flushers:
            await asyncio.gather(*self._flushers)
        await self._loop_commit.close()

    async def _flush(self) -> None:
        try:
            await self._flush_waiting()
        finally:
            # Leaves the set in the same step as its last look at the queue. A done callback ran a turn
            # later: a report submitted in between saw this flusher still counted, started none, and waited
            # for the next report to come along.
            task = asyncio.current_task()
            if task is not None:
                self._flushers.discard(task)

    async def _flush_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            self.on_batch(len(batch))
            try:
                outcomes = await self._commit_in_turn([pending for pending, _ in batch])
            except Exception as exc:  # the callers get the error; the next batch is tried afresh
                outcomes = [exc] * len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # the caller went away; the report is stored all the same
                    continue
                if isinstance(outcome, Outcome):
                    future.set_result(outcome)
                else:
                    future.set_exception(outcome)

    async def _commit_in_turn(self, batch: Sequence[PendingReport]) -> list[Outcome | Exception]:
        """Commit the batch once no batch taken before it holds a report it has a retry of."""
        keys = retry_keys(batch)
        flight = _InFlight(keys, asyncio.get_running_loop().create_future())
        # Registered as it is taken, before any wait: a batch taken later waits for this one in turn.
        earlier = [other for other in self._in_flight if other.keys & keys]
        self._in_flight.append(flight)
        try:
            for other in earlier:
                await other.done
            return await self._commit_on_loop(batch)
        finally:
            self._in_flight.remove(flight)
            flight.done.set_result(None)

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
