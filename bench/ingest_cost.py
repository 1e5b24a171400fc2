"""Where an ingested report's CPU goes, stage by stage, in process: what `POST /v1/reports` does besides HTTP.

    python bench/ingest_cost.py [--database-url URL] [--reports 4000] [--batch 16] [--rounds 3]

The reports are bench/ingest.py's 1 KB SMS reports. Each stage runs over all of them in turn and is timed with
the process's CPU clock (threads included), so the figures add up to the API's own work per report, to set
beside the echo's whole cost per request from bench/ingest.py: validate (JSON → Submission), analyse, rows
(the report, indicator and outbox rows), store (group commits of --batch reports, the API's concurrency), and
answer (the response JSON). Figures are medians over the rounds, in microseconds per report.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import sms_report
from bench.triage_cost import bench_database, reporter
from service.analysis.pipeline import Analyzer
from service.auth.service import Principal
from service.db import utcnow
from service.ingest.requests import submission_from_body
from service.ingest.service import IngestPolicy, pending_report, report_json
from service.ingest.writer import GroupWriter
from service.runtime import build_analyzer, build_sla_policy, settle_heap

JSON = "application/json"
STAGES = ("validate", "analyse", "rows", "store", "answer")


def timed(stage: Callable[[], Any]) -> tuple[Any, float]:
    """The stage's result and the CPU seconds it took."""
    started = time.process_time()
    result = stage()
    return result, time.process_time() - started


@dataclass(frozen=True)
class Intake:
    """What the API holds to store a report."""

    analyzer: Analyzer
    principal: Principal
    policy: IngestPolicy
    writer: GroupWriter
    batch: int


def one_round(bodies: list[bytes], intake: Intake, run: Callable[[str, Callable[[], Any]], Any]) -> None:
    """Every stage over every body, each timed by `run`."""
    now = utcnow()
    submissions = run(
        "validate",
        lambda: [submission_from_body(body, content_type=JSON, idempotency_key=None) for body in bodies],
    )
    analyses = run("analyse", lambda: [intake.analyzer.analyze(item.report, now=now) for item in submissions])
    pairs = list(zip(submissions, analyses, strict=True))
    pending = run(
        "rows",
        lambda: [
            pending_report(intake.principal, submission, analysis, now=now, policy=intake.policy)
            for submission, analysis in pairs
        ],
    )
    batches = [pending[i : i + intake.batch] for i in range(0, len(pending), intake.batch)]
    run("store", lambda: [intake.writer.commit_batch(batch) for batch in batches])
    run("answer", lambda: [orjson.dumps(report_json(rows.report)) for rows in pending])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--reports", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=16, help="reports per group commit")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with bench_database(args.database_url) as (settings, db):
        intake = Intake(
            analyzer=build_analyzer(settings),
            principal=reporter(db),
            policy=IngestPolicy(hash_key=settings.secret_key.encode(), sla=build_sla_policy(settings)),
            writer=GroupWriter(db),
            batch=args.batch,
        )
        settle_heap()
        spent: dict[str, list[float]] = {stage: [] for stage in STAGES}

        def run(stage: str, work: Callable[[], Any]) -> Any:
            result, seconds = timed(work)
            spent[stage].append(seconds * 1e6 / args.reports)
            return result

        for round_number in range(args.rounds + 1):
            first = round_number * args.reports
            one_round([sms_report(first + i) for i in range(args.reports)], intake, run)
            if round_number == 0:  # the first round warms the caches and is not counted
                for values in spent.values():
                    values.clear()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{args.reports} SMS reports x {args.rounds} rounds, group commits of {args.batch}, {backend}")
    print("CPU per report (median of rounds):")
    for stage in STAGES:
        print(f"  {stage:<9} {statistics.median(spent[stage]):7.1f} us")
    total = sum(statistics.median(values) for values in spent.values())
    print(f"  {'total':<9} {total:7.1f} us")


if __name__ == "__main__":
    main()
