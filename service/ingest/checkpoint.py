"""SQLite's WAL checkpoints, run by a thread of their own instead of by the commit that fills the WAL.

Left to itself, SQLite checkpoints inside the commit that takes the WAL past 1,000 pages: that connection
copies the WAL into the database and syncs both files. The group writer commits on the event loop
(service.ingest.loop_commit), so every report waiting on the loop stalled for it: one commit in twenty
took 5 to 20 ms instead of 0.5 (8-report batches, measured on the 2-core machine of the README's figures).
The loop's connection therefore turns automatic checkpoints off, and this thread runs a passive checkpoint
on a connection of its own a few times a second while reports come in. SQLite does the copying with the
GIL released, and a passive checkpoint never blocks a writer or a reader, nor waits for one.

A passive checkpoint alone does not keep the WAL small under load, though. The next writer starts the WAL
over only if nothing was committed while the checkpoint copied, and at hundreds of commits a second
something always was: the WAL grew without end (72 MB in ten seconds of `bench/ingest.py`), and every frame
went to a newly allocated block of the file, which the kernel zeroed first. So when the WAL has grown past
RESTART_AFTER_FRAMES, a RESTART checkpoint follows the passive one. It takes the write lock, copies the few
frames committed meanwhile, and waits briefly for readers of the WAL to finish, so the next commit writes
from the WAL's start again. A writer on the loop that meets the lock hands its batch to a thread, as for any
other writer. With the WAL bounded, `bench/ingest.py` (SQLite) went from 1,770 to 2,040 reports/s, and the
intake process from 0.56 to 0.47 ms of CPU per report.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import cast

from service.db import SQLITE_BUSY_MS, Database

log = logging.getLogger("triage.checkpoint")
# At 600 reports/s (about four WAL pages each) a quarter of a second is about SQLite's own 1,000 pages.
CHECKPOINT_INTERVAL_SECONDS = 0.25
# About 64 MB of 4 KB pages, reused from its start after each restart. A restart holds the write lock through
# a sync of the database file, 4-24 ms on our VM, and every report in flight waits for it: at SQLite's own
# 1,000 frames that came every quarter of a second under bench/ingest.py's load (32 connections), and set
# its p99. At 16,000, one every few seconds: p99 44.1 -> 35.3 ms over 10 A/B pairs, the rate unchanged
# (B/A 0.998). Below this the WAL is not worth holding the write lock for.
RESTART_AFTER_FRAMES = 16_000
# How long the restart waits for the write lock and for readers: the writers it holds back wait as long.
RESTART_WAIT_MS = 20


class WalCheckpointer:
    """Checkpoints the WAL of one SQLite database after commits, at most every CHECKPOINT_INTERVAL_SECONDS."""

    def __init__(
        self,
        db: Database,
        *,
        interval: float = CHECKPOINT_INTERVAL_SECONDS,
        restart_after_frames: int = RESTART_AFTER_FRAMES,
    ) -> None:
        self.db = db
        self.interval = interval
        self.restart_after_frames = restart_after_frames
        # (busy, WAL frames, frames checkpointed) of the last checkpoint, as SQLite reports them.
        self.last_result: tuple[int, int, int] | None = None
        self._committed = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def committed(self) -> None:
        """Called after each commit of the connection that no longer checkpoints by itself."""
        if self._thread is None:
            self._start()
        self._committed.set()

    def stop(self) -> None:
        """End the thread (at shutdown); what it left in the WAL, SQLite checkpoints on the next open."""
        self._stopping.set()
        self._committed.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _start(self) -> None:
        with self._starting:
            if self._thread is None:
                self._stopping.clear()
                self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._committed.wait()
            if self._stopping.is_set():
                return
            self._committed.clear()
            self._checkpoint()
            if self._stopping.wait(self.interval):
                return

    def _checkpoint(self) -> None:
        try:
            with self.db.engine.connect() as connection:
                driver = cast(sqlite3.Connection, connection.connection.driver_connection)
                result = wal_checkpoint(driver, "PASSIVE")
                if result[1] >= self.restart_after_frames:
                    result = wal_checkpoint(driver, "RESTART", wait_ms=RESTART_WAIT_MS)
                self.last_result = result
        except Exception:  # the next commit tries again; until then the WAL only grows
            log.exception("WAL checkpoint failed")


def wal_checkpoint(driver: sqlite3.Connection, mode: str, *, wait_ms: int = 0) -> tuple[int, int, int]:
    """(busy, WAL frames, frames checkpointed) as SQLite reports them; `wait_ms` bounds any lock wait."""
    driver.execute(f"PRAGMA busy_timeout={wait_ms}")
    try:
        busy, frames, done = driver.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    finally:
        driver.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    return busy, frames, done
