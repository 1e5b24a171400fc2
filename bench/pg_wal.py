"""PostgreSQL's WAL files, as a benchmark on a young cluster needs them.

PostgreSQL writes its WAL into 16 MB files. At a checkpoint it renames the files it no longer needs to the
names it will use next (it recycles them), up to `min_wal_size` or about twice what a checkpoint has been
writing. A cluster that has written little since it started has none to spare: each time the WAL crosses into
a new file, the backend that commits creates that file and fills it with zeros (`wal_init_zero`) while
holding the WAL write lock. On our VM that took 76–82 ms (2026-12-03), and every commit in flight waited
for it: all 32 connections of a round at once, a round's p99 of 80–110 ms where the rounds without one had
46–49 ms. A server that has run a while recycles instead, so before the measured rounds we give the cluster
the recycled files that the run will write into, the way `pgbench` vacuums before its run.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import psycopg

SEGMENT_BYTES = 16 * 1024 * 1024  # `wal_segment_size`, fixed when the cluster was initialised
SEGMENT_FILE = r"name ~ '^[0-9A-F]{24}$'"  # pg_wal also holds history files and archive_status


def libpq_url(database_url: str) -> str:
    """The service's SQLAlchemy URL as psycopg takes it."""
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def current_lsn(database_url: str) -> int:
    """Where the WAL ends now, in bytes from its start."""
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn").fetchone()
    return int(row[0]) if row else 0


def wal_files(database_url: str) -> int | None:
    """How many WAL files the cluster holds; None without the right to list them (superuser or pg_monitor)."""
    try:
        with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
            row = conn.execute(f"SELECT count(*) FROM pg_ls_waldir() WHERE {SEGMENT_FILE}").fetchone()
    except psycopg.errors.InsufficientPrivilege:
        return None
    return int(row[0]) if row else 0


def spare_segments(conn: psycopg.Connection) -> int:
    """WAL files already named for what comes after the current one: recycled, or created ahead."""
    row = conn.execute(
        f"SELECT count(*) FROM pg_ls_waldir() WHERE {SEGMENT_FILE} "
        "AND substr(name, 9) > substr(pg_walfile_name(pg_current_wal_lsn()), 9)"
    ).fetchone()
    return int(row[0]) if row else 0


def switch_files(conn: psycopg.Connection, count: int) -> None:
    """Moves the WAL's end into a new file `count` times. Each switch needs a record since the last, hence
    the logical message, which only the WAL sees."""
    for _ in range(count):
        conn.execute("SELECT pg_logical_emit_message(false, 'triage-bench', '')")
        conn.execute("SELECT pg_switch_wal()")


def prime(database_url: str, wal_bytes: int) -> str:
    """Leave at least `wal_bytes` of recycled WAL files ahead of the WAL's end; says what it did.

    It makes the files by switching to a new one as often as needed (`switch_files`), then checkpoints so
    PostgreSQL recycles them.
    `max_wal_size` caps what a checkpoint keeps (64 files by default), and the answer says how many it left.
    That takes superuser rights, or pg_checkpoint and the grants on the functions; without them the run goes
    on unprimed and the answer says so.
    """
    needed = math.ceil(wal_bytes / SEGMENT_BYTES) + 1
    try:
        with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
            spare = spare_segments(conn)
            if spare >= needed:
                return f"{spare} recycled WAL files ahead, {needed} needed"
            # The checkpoint recycles up to about twice the WAL written since the last one, so write through
            # as many files as are needed: the spares this uses come back recycled with the rest. It recycles
            # only the files before its redo point, which is in the file the last switch opened: one more.
            switch_files(conn, needed + 1)
            conn.execute("CHECKPOINT")
            return f"{spare_segments(conn)} recycled WAL files ahead after priming, {needed} needed"
    except psycopg.errors.InsufficientPrivilege as error:
        return f"not primed ({error.diag.message_primary}): expect stalls where PostgreSQL creates WAL files"


class WalWatch:
    """What a benchmark run does with PostgreSQL's WAL: measures it per report, primes it, counts new files.

    Does nothing on SQLite (`database_url` None or not PostgreSQL's).
    """

    def __init__(self, database_url: str | None, *, cold: bool = False) -> None:
        self.database_url = database_url if database_url and database_url.startswith("postgresql") else None
        self.cold = cold
        self.bytes_per_report = 0.0
        self.files_created: int | None = 0
        self.counted = False  # whether counting_files ran at all
        self.primed = ""

    @contextlib.contextmanager
    def measuring(self, reports: int) -> Iterator[None]:
        """Measures the WAL that `reports` stored in the block write, per report."""
        if self.database_url is None:
            yield
            return
        start = current_lsn(self.database_url)
        yield
        self.bytes_per_report = (current_lsn(self.database_url) - start) / max(1, reports)

    def prepare(self, *, reports_to_come: int) -> None:
        """Primes the WAL for `reports_to_come` more reports, with a quarter to spare, unless told not to."""
        if self.database_url is None:
            return
        if self.cold:
            self.primed = "not primed (--cold-wal)"
            return
        self.primed = prime(self.database_url, int(self.bytes_per_report * reports_to_come * 1.25))

    @contextlib.contextmanager
    def counting_files(self) -> Iterator[None]:
        """Adds the WAL files created in the block to `files_created` (None once they cannot be listed)."""
        if self.database_url is None:
            yield
            return
        self.counted = True
        before = wal_files(self.database_url)
        yield
        after = wal_files(self.database_url)
        if before is None or after is None or self.files_created is None:
            self.files_created = None
        else:
            # A checkpoint in the block may remove files as well; count only growth.
            self.files_created += max(0, after - before)

    def summary(self) -> str | None:
        if self.database_url is None:
            return None
        said = f"PostgreSQL WAL: {self.bytes_per_report / 1024:.1f} KB per report; {self.primed}"
        if not self.counted:
            return said
        created = "unknown (no right to list them)" if self.files_created is None else str(self.files_created)
        return f"{said}; files created during the ingest rounds: {created}"
