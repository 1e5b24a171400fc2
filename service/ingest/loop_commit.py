"""Committing a batch of reports from the event loop, without a thread when it can be helped.

A commit in a worker thread cost the API more CPU than the rows themselves: the thread and the event loop
hand the GIL to each other at every SQLite call and every network read. Measured with `bench/ingest.py`
(server CPU per stored report): SQLite 2.42 → 1.70 ms with the commit on the loop, PostgreSQL 2.65 → 2.05 ms
with an asyncio connection, and the reports per second rose by a third. So:
- PostgreSQL: psycopg's asyncio connection. The loop serves other requests while the database works.
- SQLite: the commit runs on the loop itself, which costs well under a millisecond (WAL, no fsync per commit),
  unless another writer (a queue worker, a dashboard action) holds the database. Waiting for it on the loop
  would stall every request, so the attempt on the loop does not wait: it hands the batch to a thread that
  waits as long as SQLite allows. Nor does the loop's connection checkpoint the WAL: a thread does
  (service.ingest.checkpoint).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence
from typing import Any, Protocol, cast

import psycopg
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.db import SQLITE_BUSY_MS, Database, make_async_engine
from service.ingest.checkpoint import WalCheckpointer
from service.ingest.pg_rows import insert_batch, statement
from service.ingest.rows import PendingReport, commit_blocking, insert_rows

log = logging.getLogger(__name__)
DriverConnection = psycopg.AsyncConnection[Any]


class LoopCommit(Protocol):
    # How many batches may commit at once: on PostgreSQL the next batch need not wait for the last one's
    # answer; SQLite has one writer at a time whatever we do.
    parallel: int

    async def commit(self, batch: Sequence[PendingReport]) -> None:
        """Insert the batch in one transaction; raises IntegrityError on a unique-key clash."""

    async def close(self) -> None:
        """Release connections (at shutdown)."""


def loop_commit_for(db: Database) -> LoopCommit:
    """The way to commit from the loop that suits the database."""
    if db.sqlite_write_lock is not None:
        return SqliteCommit(db)
    return PostgresCommit(db.url)


class PostgresCommit:
    """Commits on an asyncio engine, made in the loop that first uses it, over connections it keeps: one for
    each batch that may be in flight at once.

    Checking a connection out of the pool for every batch cost a round trip of its own (the pool's ping),
    answered only when the loop came back from analysing the next reports. The writer keeps its connections
    instead; when a link fails (a server restart), the batch is sent once more on a fresh connection,
    which the pool pings first. Had the failed attempt committed after all, the second meets the unique keys
    and the writer's retry per report answers each with the stored copy.
    """

    # While one batch's commit is in flight, the intake analyses the next round, whose batch then goes at
    # once. bench/ingest.py at 32 connections, 1 -> 2: 31-33 % -> 40-41 % of the echo ceiling. Three: at 16
    # connections each commit waited 3 ms for its WAL flush, and the intake sat idle with two in flight
    # (service.intake.process).
    parallel = 3

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: AsyncEngine | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # One per batch that may be in flight at once, each beside its psycopg connection: asking SQLAlchemy
        # for that again on every batch is a greenlet switch each time.
        self._idle: list[tuple[AsyncConnection, DriverConnection]] = []

    async def commit(self, batch: Sequence[PendingReport]) -> None:
        single = statement(batch)
        if single is None:  # rows only SQLAlchemy writes correctly
            async with self._engine_of_this_loop().begin() as connection:
                await connection.run_sync(insert_rows, batch)
            return
        try:
            await self._send(single)
        except OperationalError:  # the link failed: once more, on a fresh connection
            await self._send(single)

    async def _send(self, single: tuple[str, list[Any]]) -> None:
        engine = self._engine_of_this_loop()
        connection, driver = self._idle.pop() if self._idle else await _connect(engine)
        try:
            await insert_batch(driver, single)
        except IntegrityError:
            self._idle.append((connection, driver))
            raise  # the statement failed whole and the link is sound
        except BaseException:
            await _drop(connection)
            raise
        if self._engine is engine:
            self._idle.append((connection, driver))

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            await _drop(connection)
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    def _engine_of_this_loop(self) -> AsyncEngine:
        # asyncio connections belong to the loop that opened them; an app served again on a new loop (as tests
        # do) gets new ones.
        loop = asyncio.get_running_loop()
        if self._engine is None or self._loop is not loop:
            # A connection kept for each batch in flight, and one more for a batch only SQLAlchemy writes.
            engine = make_async_engine(self.url, pool_size=self.parallel, max_overflow=1)
            self._engine, self._loop, self._idle = engine, loop, []
        return self._engine


async def _connect(engine: AsyncEngine) -> tuple[AsyncConnection, DriverConnection]:
    connection = await engine.connect()
    try:
        raw = await connection.get_raw_connection()
    except BaseException:
        await connection.close()
        raise
    return connection, cast(DriverConnection, raw.driver_connection)


async def _drop(connection: AsyncConnection) -> None:
    try:
        await connection.invalidate()
        await connection.close()
    except Exception:  # already broken: the pool forgets it all the same
        log.debug("closing a writer's connection failed", exc_info=True)


class SqliteCommit:
    """Commits on the loop when SQLite is free at once; in a thread that waits for it when not."""

    parallel = 1

    def __init__(self, db: Database) -> None:
        self.db = db
        self.checkpointer = WalCheckpointer(db)

    async def commit(self, batch: Sequence[PendingReport]) -> None:
        if not self._commit_unless_busy(batch):
            await asyncio.to_thread(commit_blocking, self.db, batch)
        self.checkpointer.committed()

    async def close(self) -> None:
        await asyncio.to_thread(self.checkpointer.stop)

    def _commit_unless_busy(self, batch: Sequence[PendingReport]) -> bool:
        lock = self.db.sqlite_write_lock
        assert lock is not None
        if not lock.acquire(blocking=False):  # another thread of this process is writing
            return False
        try:
            with self.db.engine.connect() as connection:
                # On the driver's connection: a statement through SQLAlchemy would begin its transaction.
                sqlite = cast(sqlite3.Connection, connection.connection.driver_connection)
                _leave_checkpoints_to_the_thread(connection.connection.info, sqlite)
                sqlite.execute("PRAGMA busy_timeout=0")
                try:
                    with connection.begin():
                        insert_rows(connection, batch)
                except OperationalError as exc:
                    if not is_sqlite_busy(exc):
                        raise
                    return False  # rolled back whole: the thread writes the batch once the database is free
                finally:
                    sqlite.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        finally:
            lock.release()
        return True


def _leave_checkpoints_to_the_thread(info: dict[str, object], sqlite: sqlite3.Connection) -> None:
    # Once per connection: the pool keeps the setting with the connection it was made on.
    if not info.get("checkpoints_off"):
        sqlite.execute("PRAGMA wal_autocheckpoint=0")
        info["checkpoints_off"] = True


def is_sqlite_busy(exc: OperationalError) -> bool:
    """Whether SQLite refused because another connection holds the database."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return (
        isinstance(exc.orig, sqlite3.OperationalError)
        and code is not None
        and code & 0xFF
        in {
            sqlite3.SQLITE_BUSY,
            sqlite3.SQLITE_LOCKED,
        }
    )
