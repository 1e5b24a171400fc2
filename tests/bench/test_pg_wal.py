"""bench/pg_wal.py against the real PostgreSQL: priming leaves recycled WAL files, and a role without the
rights gets an answer, not a crash. SQLite runs get nothing from it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from bench.pg_wal import SEGMENT_BYTES, WalWatch, libpq_url, prime, spare_segments, switch_files, wal_files

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="TEST_POSTGRES_URL is not set")


def spare_now(url: str) -> int:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        return spare_segments(conn)


def use_up_spare_files(url: str) -> None:
    """Moves the WAL's end past every recycled file: a cluster that benchmarks ran on holds dozens, and
    asking for more than `max_wal_size` allows would test the cap, not the priming."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        switch_files(conn, spare_segments(conn))


@needs_postgres
def test_priming_leaves_recycled_files_for_the_wal_to_come() -> None:
    assert POSTGRES_URL is not None
    # A checkpoint that PostgreSQL starts on its own (the switches count as WAL written) may recycle files
    # between the count and the priming, which then rightly finds enough and does nothing: up to 3 tries.
    for _ in range(3):
        use_up_spare_files(POSTGRES_URL)  # so that it must make some, wherever earlier runs left the cluster
        wanted = spare_now(POSTGRES_URL) + 2
        said = prime(POSTGRES_URL, wanted * SEGMENT_BYTES)
        if "after priming" in said:
            break
    assert "after priming" in said, said
    assert spare_now(POSTGRES_URL) >= wanted + 1
    again = prime(POSTGRES_URL, wanted * SEGMENT_BYTES)
    assert "after priming" not in again  # enough are there now: nothing to do


@pytest.fixture
def unprivileged_url() -> Iterator[str]:
    """A login role with no rights beyond connecting, dropped afterwards."""
    assert POSTGRES_URL is not None
    role = f"bench_plain_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(POSTGRES_URL), autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    scheme, rest = POSTGRES_URL.split("://", 1)
    yield f"{scheme}://{role}@{rest.split('@', 1)[-1]}"
    with psycopg.connect(libpq_url(POSTGRES_URL), autocommit=True) as conn:
        conn.execute(f'DROP ROLE "{role}"')


@needs_postgres
def test_a_role_without_the_rights_runs_unprimed_and_is_told_so(unprivileged_url: str) -> None:
    said = prime(unprivileged_url, 64 * SEGMENT_BYTES)
    assert said.startswith("not primed (permission denied"), said
    assert wal_files(unprivileged_url) is None


@needs_postgres
def test_the_watch_measures_wal_per_report_and_counts_new_files() -> None:
    assert POSTGRES_URL is not None
    watch = WalWatch(POSTGRES_URL, cold=True)
    with (
        watch.measuring(reports=4),
        psycopg.connect(libpq_url(POSTGRES_URL), autocommit=True) as conn,
    ):
        conn.execute("SELECT pg_logical_emit_message(false, 'test', repeat('x', 40000))")
    assert watch.bytes_per_report >= 10000  # 40 KB of WAL over 4 reports
    watch.prepare(reports_to_come=1000)
    with watch.counting_files():
        pass
    summary = watch.summary()
    assert summary is not None
    assert "not primed (--cold-wal)" in summary
    assert "files created during the ingest rounds: 0" in summary


def test_the_watch_leaves_sqlite_alone(tmp_path: object) -> None:
    watch = WalWatch(f"sqlite:///{tmp_path}/bench.sqlite3")
    with watch.measuring(reports=10), watch.counting_files():
        pass
    watch.prepare(reports_to_come=10)
    assert watch.summary() is None
    assert WalWatch(None).summary() is None
