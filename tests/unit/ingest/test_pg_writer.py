"""The group writer on PostgreSQL sends a batch as one statement, stores what SQLAlchemy would, outlives
a dropped connection, and commits a batch while another one waits."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Connection, text

from service.analysis.pipeline import Analyzer
from service.db import Base, Database, utcnow
from service.ids import new_id
from service.ingest.loop_commit import PostgresCommit
from service.ingest.pg_rows import statement, unnest_insert
from service.ingest.writer import GroupWriter, Outcome
from tests.unit.ingest.test_writer import TABLES, mixed_batch, replace_contents, rows, stored

# The order each table's rows are compared in: the outbox's row ids come from a sequence.
ORDER = {
    "cases": "id",
    "reports": "id",
    "outbox": "subject_id",
}


def postgres_only(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's own insert path only")


def table_contents(db: Database) -> dict[str, list[Any]]:
    """Every stored value, typed, as PostgreSQL renders it in JSON; sequence-made ids left out."""
    contents = {}
    with db.engine.connect() as connection:
        for table in TABLES:
            drop_id = "" if table in {"cases", "reports"} else " - 'id'"
            query = f"SELECT to_jsonb(t){drop_id} FROM {table} AS t ORDER BY {ORDER[table]}"
            contents[table] = list(connection.scalars(text(query)))
    return contents


def test_the_one_statement_path_stores_every_value_as_sqlalchemy_does(
    db: Database, analyzer: Analyzer
) -> None:
    postgres_only(db)
    batch, rows_by_table = mixed_batch(db, analyzer)
    for table in TABLES:  # this path is taken for each table's rows, not a fallback to SQLAlchemy
        assert unnest_insert(Base.metadata.tables[table], tuple(rows_by_table[table][0])) is not None
    assert statement(batch) is not None
    replace_contents(db, rows_by_table)
    reference = table_contents(db)
    replace_contents(db)

    async def one_statement() -> None:
        commit = PostgresCommit(db.url)
        await commit.commit(batch)
        await commit.close()

    asyncio.run(one_statement())
    ours = table_contents(db)
    assert all(reference[table] for table in TABLES)
    assert ours == reference


def test_a_batch_after_the_server_dropped_the_writers_connection_is_stored(
    db: Database, analyzer: Analyzer
) -> None:
    postgres_only(db)
    writer = GroupWriter(db)

    async def write_around_a_dropped_connection() -> list[Outcome]:
        first = await writer.write(rows(db, analyzer, "before the drop"))
        with db.engine.begin() as connection:  # as a server restart or an idle timeout would
            dropped = connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'"
                )
            )
        assert dropped
        second = await writer.write(rows(db, analyzer, "after the drop"))
        await writer.drain()
        return [first, second]

    assert asyncio.run(write_around_a_dropped_connection()) == [Outcome.CREATED, Outcome.CREATED]
    assert stored(db) == 2


def hold_reference(db: Database, reporter_id: int, reference: str) -> Connection:
    """An open transaction that has stored a report under this reporter and reference: another report with
    them waits on the unique key until the transaction ends."""
    holder = db.engine.connect()
    holder.begin()
    row = {
        "id": new_id(),
        "reporter_id": reporter_id,
        "reference": reference,
        "request_hash": "0" * 64,
        "channel": "sms",
        "content_type": "application/json",
        "raw": b"{}",
        "analysis": {},
        "ruleset_version": "held",
        "score": 0.0,
        "level": "low",
        "received_at": utcnow(),
    }
    holder.execute(Base.metadata.tables["reports"].insert().values(row))
    return holder


def test_a_batch_held_up_on_a_lock_holds_up_no_other(db: Database, analyzer: Analyzer) -> None:
    postgres_only(db)
    writer = GroupWriter(db)
    held, free = rows(db, analyzer, "held"), rows(db, analyzer, "free")
    holder = hold_reference(db, held.report["reporter_id"], "held")

    async def scenario() -> tuple[Outcome, Outcome]:
        first = asyncio.create_task(writer.write(held))
        await asyncio.sleep(0.3)  # its batch has gone, and waits on the other transaction
        assert not first.done()
        second = await asyncio.wait_for(writer.write(free), 10)  # committed meanwhile, on another connection
        assert not first.done()
        holder.rollback()
        outcome = await asyncio.wait_for(first, 10)
        await writer.drain()
        return outcome, second

    try:
        assert asyncio.run(scenario()) == (Outcome.CREATED, Outcome.CREATED)
    finally:
        holder.close()
    assert stored(db) == 2


def test_of_two_copies_in_batches_in_flight_at_once_the_first_sent_is_stored(
    db: Database, analyzer: Analyzer
) -> None:
    postgres_only(db)
    writer = GroupWriter(db)
    held, first, retry = (rows(db, analyzer, reference) for reference in ("held", "twice", "twice"))
    holder = hold_reference(db, held.report["reporter_id"], "held")

    async def scenario() -> tuple[list[Outcome | Exception], Outcome]:
        # The first batch waits on the other transaction at its first row, before it reaches `first`.
        earlier = asyncio.create_task(writer.write_many([held, first]))
        await asyncio.sleep(0.3)
        later = asyncio.create_task(writer.write(retry))
        await asyncio.sleep(0.3)
        assert not later.done(), "the copy sent later waits for the batch with the first copy"
        holder.rollback()
        outcomes = await asyncio.wait_for(earlier, 10)
        outcome = await asyncio.wait_for(later, 10)
        await writer.drain()
        return outcomes, outcome

    try:
        assert asyncio.run(scenario()) == ([Outcome.CREATED, Outcome.CREATED], Outcome.DUPLICATE)
    finally:
        holder.close()
    assert stored(db) == 2


def test_a_batch_only_sqlalchemy_writes_commits_beside_the_connections_kept(
    db: Database, analyzer: Analyzer
) -> None:
    postgres_only(db)
    commit = PostgresCommit(db.url)
    odd, plain = rows(db, analyzer, "odd"), rows(db, analyzer, "plain")
    del odd.report["victim_hash"]  # rows with different keys: not one unnest() statement
    assert statement([odd, plain]) is None

    async def scenario() -> None:
        # Two batches at once: the writer keeps a connection for each.
        await asyncio.gather(*(commit.commit([rows(db, analyzer, f"kept-{n}")]) for n in range(2)))
        await asyncio.wait_for(commit.commit([odd, plain]), 10)
        await commit.close()

    asyncio.run(scenario())
    assert stored(db) == 4
