"""The group-commit writer commits from the event loop, and never makes the loop wait for another writer."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from service.analysis.pipeline import Analyzer
from service.auth.service import Principal, authenticate_key
from service.cases.service import new_case_row
from service.cases.sla import SlaPolicy
from service.db import Base, Database, utcnow
from service.ingest.checkpoint import WalCheckpointer
from service.ingest.loop_commit import SqliteCommit, is_sqlite_busy
from service.ingest.models import Report
from service.ingest.requests import submission_from_body
from service.ingest.rows import PendingReport, insert_rows
from service.ingest.service import IngestPolicy, pending_report
from service.ingest.sqlite_rows import fast_insert
from service.ingest.writer import GroupWriter, Outcome
from tests.conftest import new_key

POLICY = IngestPolicy(hash_key=b"k" * 32, sla=SlaPolicy(hours_by_lane={}, timezone="Asia/Ho_Chi_Minh"))


def principal(db: Database) -> Principal:
    key = new_key(db)
    with db.session() as db_session:
        found = authenticate_key(db_session=db_session, key=key)
    assert found is not None
    return found


def rows(db: Database, analyzer: Analyzer, reference: str) -> PendingReport:
    body = (
        b'{"channel": "sms", "reference": "%s", "sms": {"sender": "0912345678", "text": "Chuyen tien ngay"}}'
        % reference.encode()
    )
    submission = submission_from_body(body, content_type="application/json", idempotency_key=None)
    now = utcnow()
    analysis = analyzer.analyze(submission.report, now=now)
    return pending_report(principal(db), submission, analysis, now=now, policy=POLICY)


def stored(db: Database) -> int:
    with db.session() as db_session:
        return db_session.scalar(select(func.count()).select_from(Report)) or 0


def sqlite_path(db: Database) -> str:
    if db.sqlite_write_lock is None:
        pytest.skip("SQLite's single writer only")
    return db.url.split("///", 1)[1]


async def write_while_blocked(
    writer: GroupWriter, pending: PendingReport, unblock: Callable[[], Any]
) -> float:
    """Start a write, let the loop take turns while it waits, then unblock it; returns the longest turn."""
    write = asyncio.create_task(writer.write(pending))
    longest, last = 0.0, time.monotonic()
    for _ in range(20):
        await asyncio.sleep(0.01)
        longest, last = max(longest, time.monotonic() - last), time.monotonic()
    assert not write.done(), "the write should be waiting for the other writer"
    unblock()
    assert await asyncio.wait_for(write, 20) is Outcome.CREATED
    await writer.drain()
    return longest


def run(scenario: Awaitable[Any]) -> Any:
    return asyncio.run(scenario)  # type: ignore[arg-type]


def test_a_write_waits_off_the_loop_while_another_connection_holds_sqlite(
    db: Database, analyzer: Analyzer
) -> None:
    pending = rows(db, analyzer, "a")
    other = sqlite3.connect(sqlite_path(db), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # as a queue worker's transaction would
    try:
        longest_turn = run(write_while_blocked(GroupWriter(db), pending, lambda: other.execute("COMMIT")))
    finally:
        other.close()
    # The loop kept serving while the write waited: nowhere near the 30 s SQLite lets a writer wait.
    assert longest_turn < 2
    assert stored(db) == 1


def test_a_write_waits_off_the_loop_while_a_thread_of_this_process_writes(
    db: Database, analyzer: Analyzer
) -> None:
    sqlite_path(db)
    pending = rows(db, analyzer, "b")
    lock = db.sqlite_write_lock
    assert lock is not None
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            release.wait(20)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    try:
        longest_turn = run(write_while_blocked(GroupWriter(db), pending, release.set))
    finally:
        release.set()
        holder.join()
    assert longest_turn < 2
    assert stored(db) == 1


def test_a_retry_in_a_batch_comes_back_duplicate_and_its_neighbours_are_stored(
    db: Database, analyzer: Analyzer
) -> None:
    first, retry, other = rows(db, analyzer, "same"), rows(db, analyzer, "same"), rows(db, analyzer, "other")
    retry = PendingReport({**retry.report, "reporter_id": first.report["reporter_id"]}, None, retry.outbox)

    async def scenario() -> list[Outcome]:
        writer = GroupWriter(db)
        outcomes = await asyncio.gather(writer.write(first), writer.write(retry), writer.write(other))
        await writer.drain()
        return list(outcomes)

    assert run(scenario()) == [Outcome.CREATED, Outcome.DUPLICATE, Outcome.CREATED]
    assert stored(db) == 2


def test_a_report_submitted_as_the_last_batch_settles_is_still_written(
    db: Database, analyzer: Analyzer
) -> None:
    """A report handed over after the flusher found nothing more to write, but before the loop ran the
    flusher's done callbacks, must get a flusher of its own (the racing retries of a test hung on this)."""
    first, second = rows(db, analyzer, "first"), rows(db, analyzer, "second")

    async def scenario() -> Outcome:
        writer = GroupWriter(db)
        later: list[asyncio.Future[Outcome]] = []
        [written] = writer.submit([first])
        # Runs once `written` is resolved, in the same turn of the loop as the flusher's last step: after
        # the flusher's final look at its queue, before the task's own done callbacks.
        written.add_done_callback(lambda _: later.extend(writer.submit([second])))
        assert await written is Outcome.CREATED
        outcome = await asyncio.wait_for(later[0], 10)
        await writer.drain()
        return outcome

    assert run(scenario()) is Outcome.CREATED
    assert stored(db) == 2


def test_one_writer_serves_one_loop_after_another(db: Database, analyzer: Analyzer) -> None:
    """An app started again on a new loop (as each test client does) writes on connections of the new loop."""
    writer = GroupWriter(db)

    async def write(reference: str) -> Outcome:
        outcome = await writer.write(rows(db, analyzer, reference))
        await writer.drain()
        return outcome

    assert run(write("first loop")) is Outcome.CREATED
    assert run(write("second loop")) is Outcome.CREATED
    assert stored(db) == 2


def test_only_a_held_database_counts_as_busy(db: Database) -> None:
    path = sqlite_path(db)
    holder = sqlite3.connect(path, isolation_level=None)
    waiter = sqlite3.connect(path, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError) as locked:
            waiter.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as missing:
            waiter.execute("SELECT * FROM no_such_table")
    finally:
        holder.close()
        waiter.close()
    assert is_sqlite_busy(OperationalError("BEGIN", {}, locked.value))
    assert not is_sqlite_busy(OperationalError("SELECT", {}, missing.value))


def test_a_thread_checkpoints_the_wal_that_commits_on_the_loop_fill(db: Database, analyzer: Analyzer) -> None:
    sqlite_path(db)
    commit = SqliteCommit(db)
    commit.checkpointer.interval = 0.01
    batches = [[rows(db, analyzer, f"wal {n}")] for n in range(5)]

    async def scenario() -> tuple[int, int, int] | None:
        for batch in batches:
            await commit.commit(batch)
        for _ in range(200):  # the thread's checkpoint after the last commit
            await asyncio.sleep(0.01)
            result = commit.checkpointer.last_result
            if result is not None and result[1] > 0 and result[1] == result[2]:
                break
        await commit.close()
        return commit.checkpointer.last_result

    busy, frames, checkpointed = run(scenario()) or (1, 0, 0)
    assert (busy, checkpointed) == (0, frames)
    assert frames > 0
    assert stored(db) == 5


def test_the_wal_starts_over_while_another_connection_keeps_committing(tmp_path: Path) -> None:
    # A passive checkpoint lets the next writer start the WAL over only if nothing was committed while it
    # copied; with commits back to back that never happens, and the WAL would hold every commit ever made.
    path = tmp_path / "busy.sqlite3"
    db = Database(f"sqlite:///{path}")
    checkpointer = WalCheckpointer(db, interval=0.002, restart_after_frames=100)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA synchronous=NORMAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # as the group writer's connection
    writer.execute("CREATE TABLE fill (payload BLOB)")
    commits, payload = 1500, 8192  # a leaf and overflow pages: four 4 KB frames a commit
    try:
        for _ in range(commits):
            writer.execute("INSERT INTO fill VALUES (?)", (os.urandom(payload),))
            checkpointer.committed()
            time.sleep(0.0005)  # a busy server's pace: at a tight loop's, one pause of the thread would show
        checkpointer.stop()
        # The file keeps the size of the longest the WAL ever was, until the last connection closes.
        wal_frames = path.with_name(path.name + "-wal").stat().st_size // (4096 + 24)
    finally:
        checkpointer.stop()
        writer.close()
        db.dispose()
    # Without the restarts the WAL holds every frame (about 6,000); with them, what a few checkpoint intervals
    # of commits wrote. Bounded at half of that: a loaded 2-core machine may keep the checkpoint thread from
    # its turn for a while (a bound of a quarter failed once in a full suite run), never for the whole test.
    assert wal_frames < commits * 4 // 2


def test_the_checkpoint_thread_ends_with_the_writer(db: Database, analyzer: Analyzer) -> None:
    sqlite_path(db)
    writer = GroupWriter(db)

    async def write_then_drain() -> None:
        await writer.write(rows(db, analyzer, "drained"))
        await writer.drain()

    run(write_then_drain())
    assert not any(thread.name == "wal-checkpoint" for thread in threading.enumerate())


TABLES = ("cases", "reports", "outbox")


def table_contents(connection: Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every stored value as SQLite holds it: its type and its exact text (quote()), the row ids aside."""
    contents = {}
    for table in TABLES:
        names = [row[1] for row in connection.execute(text(f"PRAGMA table_info({table})"))]
        columns = ", ".join(
            f"typeof({name}), quote({name})" for name in names if name != "id" or table == "reports"
        )
        contents[table] = [tuple(row) for row in connection.execute(text(f"SELECT {columns} FROM {table}"))]
    return contents


RowsByTable = dict[str, list[dict[str, Any]]]


def mixed_batch(db: Database, analyzer: Analyzer) -> tuple[list[PendingReport], RowsByTable]:
    """A report with a case and one without, and their rows table by table."""
    plain = rows(db, analyzer, "plain")
    queued = rows(db, analyzer, "queued")
    case = new_case_row(queued.report["analysis"], now=utcnow(), sla=POLICY.sla)
    queued = PendingReport({**queued.report, "case_id": case["id"]}, case, queued.outbox)
    assert plain.outbox is not None
    assert queued.outbox is not None
    return [plain, queued], {
        "cases": [case],
        "reports": [plain.report, queued.report],
        "outbox": [plain.outbox, queued.outbox],
    }


def replace_contents(db: Database, rows_by_table: RowsByTable | None = None) -> None:
    """Empty the report tables, then insert these rows with SQLAlchemy's own insert (the reference)."""
    with db.engine.begin() as connection:
        for table in reversed(TABLES):
            connection.execute(text(f"DELETE FROM {table}"))
        for table, table_rows in (rows_by_table or {}).items():
            connection.execute(Base.metadata.tables[table].insert(), table_rows)


def test_the_driver_path_stores_every_value_as_sqlalchemy_does(db: Database, analyzer: Analyzer) -> None:
    sqlite_path(db)
    batch, rows_by_table = mixed_batch(db, analyzer)

    def stored_by(insert: str) -> dict[str, list[tuple[object, ...]]]:
        if insert == "core":
            replace_contents(db, rows_by_table)
        else:
            replace_contents(db)
            with db.engine.begin() as connection:
                insert_rows(connection, batch)
        with db.engine.connect() as connection:
            return table_contents(connection)

    for table in TABLES:  # the driver path is taken for each table's rows, not a fallback to SQLAlchemy
        assert fast_insert(Base.metadata.tables[table], tuple(rows_by_table[table][0])) is not None
    reference, ours = stored_by("core"), stored_by("driver")
    assert all(reference[table] for table in TABLES)
    assert ours == reference


def test_rows_the_driver_path_cannot_reproduce_go_through_sqlalchemy(db: Database) -> None:
    outbox = Base.metadata.tables["outbox"]
    # created_at left out: SQLAlchemy fills it in with utcnow(), which a plain INSERT would leave NULL
    assert fast_insert(outbox, ("queue", "job", "subject_id", "attempts")) is None
    assert fast_insert(outbox, ("queue", "job", "subject_id", "created_at", "attempts")) is not None


def test_a_retry_through_the_driver_path_is_an_integrity_error(db: Database, analyzer: Analyzer) -> None:
    sqlite_path(db)
    first = rows(db, analyzer, "twice")
    with db.engine.begin() as connection:
        insert_rows(connection, [first])
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        insert_rows(connection, [first])
    assert stored(db) == 1
