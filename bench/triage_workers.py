"""Triage throughput with 1 and 2 worker processes on PostgreSQL: reports/s through the worker's batch job.

    python bench/triage_workers.py [--postgres-url URL] [--reports 5000] [--batch 50] [--workers 1,2]
                                   [--mix load|template] [--name-prefix triage_workers]

The reports (bench/triage_cost.py's mixes) are stored once, untriaged, in a database that serves as the
template of one fresh copy per worker count. In each copy, N processes take batches in arrival order from one
queue and run `workers.jobs.triage_reports` on them, the function RQ runs, so the figure includes the
transaction, its locks and its commit; Redis is not involved. The databases are created on --postgres-url and
dropped at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pg_wal import libpq_url
from bench.triage_cost import Intake, load_mix, reporter, template_mix
from service.config import Settings
from service.db import Database
from service.runtime import migrate

REPO = Path(__file__).resolve().parent.parent
INTAKE_BATCH = 200


def server_url(postgres_url: str, name: str) -> str:
    return postgres_url.rsplit("/", 1)[0] + "/" + name


def admin_execute(postgres_url: str, *statements: str) -> None:
    with psycopg.connect(libpq_url(postgres_url), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


@contextmanager
def database(postgres_url: str, name: str, *, template: str | None = None) -> Iterator[str]:
    """A database created for the block and dropped after it."""
    copy = f' TEMPLATE "{template}"' if template else ""
    admin_execute(postgres_url, f'CREATE DATABASE "{name}"{copy}')
    try:
        yield server_url(postgres_url, name)
    finally:
        admin_execute(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def store_reports(database_url: str, reports: int, mix: str) -> list[str]:
    """The reports, stored as the API stores them and left untriaged; their ids in arrival order."""
    migrate(database_url)
    settings = Settings(database_url=database_url, rules_dir=REPO / "rules")
    db = Database(database_url)
    try:
        intake = Intake(settings, db, reporter(db))
        bodies = load_mix() if mix == "load" else template_mix()
        ids: list[str] = []
        while len(ids) < reports:
            ids += intake.store([next(bodies) for _ in range(min(INTAKE_BATCH, reports - len(ids)))])
        return ids
    finally:
        db.dispose()


def worker(database_url: str, batches: multiprocessing.Queue[list[str] | None], start: float) -> None:
    """One worker process: the job function on every batch it takes, until the queue is empty."""
    os.environ.update({"DATABASE_URL": database_url, "RULES_DIR": str(REPO / "rules")})
    from workers.jobs import triage_reports  # reads the settings above

    time.sleep(max(0.0, start - time.time()))
    while (batch := batches.get()) is not None:
        triage_reports(batch)


def drain(database_url: str, ids: list[str], *, workers: int, batch: int) -> float:
    """Seconds for `workers` processes to triage every report."""
    context = multiprocessing.get_context("spawn")
    batches: multiprocessing.Queue[list[str] | None] = context.Queue()
    for first in range(0, len(ids), batch):
        batches.put(ids[first : first + batch])
    for _ in range(workers):
        batches.put(None)
    start = time.time() + 5  # every process has imported the service by then
    processes = [context.Process(target=worker, args=(database_url, batches, start)) for _ in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
        if process.exitcode != 0:
            sys.exit(f"a worker process failed with exit code {process.exitcode}")
    return time.time() - start


def untriaged(database_url: str) -> int:
    with psycopg.connect(libpq_url(database_url)) as conn:
        row = conn.execute("SELECT count(*) FROM reports WHERE enriched_at IS NULL").fetchone()
    assert row is not None
    return int(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--reports", type=int, default=5000)
    parser.add_argument(
        "--batch", type=int, default=50, help="reports per job, as the outbox relay sends them"
    )
    parser.add_argument("--workers", default="1,2", help="worker process counts to compare")
    parser.add_argument("--mix", choices=("template", "load"), default="load")
    parser.add_argument("--name-prefix", default="triage_workers", help="of the databases created")
    args = parser.parse_args()
    seed = f"{args.name_prefix}_{os.getpid()}_seed"
    with database(args.postgres_url, seed) as seed_url:
        ids = store_reports(seed_url, args.reports, args.mix)
        for count in (int(n) for n in args.workers.split(",")):
            with database(
                args.postgres_url, f"{args.name_prefix}_{os.getpid()}_{count}", template=seed
            ) as url:
                seconds = drain(url, ids, workers=count, batch=args.batch)
                left = untriaged(url)
            print(
                f"{count} worker process(es): {len(ids)} {args.mix} reports in {seconds:.1f} s: "
                f"{len(ids) / seconds:.0f} reports/s ({len(ids) / args.batch / seconds:.1f} jobs/s), "
                f"{left} left untriaged"
            )
            sys.stdout.flush()


if __name__ == "__main__":
    main()
