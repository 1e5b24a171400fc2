"""Triage cost as the database grows: milliseconds per report, in process, on a real database.

    python bench/triage_cost.py [--database-url URL] [--reports 2000] [--step 500] [--batch 50]
                                [--mix template|load] [--statements 5]

--mix template (the default): every report carries the same threat template with a new sender and victim, so
all of them join one campaign, the case the pipeline benchmark drives. --mix load: the benign SMS and email
reports of bench/load.py, in its proportions: mostly unrelated reports, a few campaigns that grow with the
database. A job that read every member of a campaign, or every report, would grow with them; the figures per
slice show whether it does. With --batch N, reports are triaged N per transaction, as the worker's batched
jobs do, and the figures are per report. --statements N prints, per slice, the N SQL statements that took
the most time per report.

Reports are stored as the API stores them (analysed, then written by the group-commit writer), without HTTP.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import RequestFactory
from service.auth.service import Principal, authenticate_key, create_key
from service.cases.triage import triage_reports
from service.config import Settings
from service.db import Database, utcnow
from service.ingest.requests import submission_from_body
from service.ingest.service import IngestPolicy, pending_report
from service.ingest.writer import GroupWriter
from service.runtime import build_analyzer, build_database, build_sla_policy, build_triage_policy, migrate

REPO = Path(__file__).resolve().parent.parent
THREAT = "Mày không chuyển 50 triệu trước thứ 6 thì tao giết cả nhà mày, nhớ đấy. Mã số {}."
JSON = "application/json"
# An expanding IN list renders one statement text per length: the clock counts them as one.
PARAMETER_LIST = re.compile(r"\((?:\?|%\(\w+\)s(?:::\w+)?)(?:, (?:\?|%\(\w+\)s(?:::\w+)?))*\)")


def template_mix() -> Iterator[tuple[bytes, str, str | None]]:
    """(body, content type, reference): one campaign, a new sender and victim each time."""
    index = 0
    while True:
        body = (
            f'{{"channel": "sms", "reporter": {{"msisdn": "0912{index:06d}"}}, "sms": {{"sender": '
            f'"096{index:07d}", "text": "{THREAT.format(index)}"}}}}'
        )
        yield body.encode(), JSON, None
        index += 1


def load_mix() -> Iterator[tuple[bytes, str, str | None]]:
    """The benign reports of bench/load.py's phase A, in order."""
    factory = RequestFactory(key="bench", run_id="triage-cost", email_share=0.5, max_body=1)
    rng = random.Random("triage-cost-A")
    index = 0
    while True:
        planned = factory.benign("A", index, rng)
        content_type = "message/rfc822" if planned.kind == "email" else JSON
        yield planned.body, content_type, planned.reference
        index += 1


class StatementClock:
    """Seconds spent per SQL statement text, while `counting` is set."""

    def __init__(self, engine: Engine) -> None:
        self.spent: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.counting = False
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, _cursor: Any, _statement: str, *_args: Any) -> None:
        conn.info["statement_started"] = time.perf_counter()

    def _after(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seconds = time.perf_counter() - conn.info.pop("statement_started")
        if self.counting:
            statement = PARAMETER_LIST.sub("(…)", statement)
            self.spent[statement] += seconds
            self.calls[statement] += 1

    def take(self) -> tuple[Counter[str], Counter[str]]:
        taken = self.spent, self.calls
        self.spent, self.calls = Counter(), Counter()
        return taken


class Intake:
    """Stores reports the way the API does: analysed, then written in one group-commit transaction."""

    def __init__(self, settings: Settings, db: Database, principal: Principal) -> None:
        self.analyzer = build_analyzer(settings)
        self.writer = GroupWriter(db)
        self.principal = principal
        self.policy = IngestPolicy(hash_key=settings.secret_key.encode(), sla=build_sla_policy(settings))

    def store(self, bodies: list[tuple[bytes, str, str | None]]) -> list[str]:
        now = utcnow()
        pending = []
        for body, content_type, reference in bodies:
            submission = submission_from_body(
                body, content_type=content_type, idempotency_key=None, reference=reference
            )
            analysis = self.analyzer.analyze(submission.report, now=now)
            pending.append(pending_report(self.principal, submission, analysis, now=now, policy=self.policy))
        self.writer.commit_batch(pending)
        return [rows.report["id"] for rows in pending]


@contextmanager
def bench_database(database_url: str | None) -> Iterator[tuple[Settings, Database]]:
    with tempfile.TemporaryDirectory() as tmp:
        database_url = database_url or f"sqlite:///{Path(tmp) / 'triage.sqlite3'}"
        settings = Settings(database_url=database_url, rules_dir=REPO / "rules", var_dir=Path(tmp))
        migrate(database_url)
        db = build_database(settings)
        try:
            yield settings, db
        finally:
            db.dispose()


def reporter(db: Database) -> Principal:
    with db.session() as db_session:
        key = create_key(db_session=db_session, reporter_name=f"triage-cost-{time.time_ns()}")
        principal = authenticate_key(db_session=db_session, key=key)
        db_session.commit()
    assert principal is not None
    return principal


def print_slice(
    start: int, timings: list[float], statements: tuple[Counter[str], Counter[str]], top: int
) -> None:
    span = f"{start + 1:>6}-{start + len(timings):<6}"
    print(f"reports {span} triage p50 {statistics.median(timings):6.2f} ms  max {max(timings):7.2f} ms")
    spent, calls = statements
    for statement, seconds in spent.most_common(top):
        text = " ".join(statement.split())[:110]
        per_report = seconds * 1000 / len(timings)
        print(f"    {per_report:6.3f} ms/report  {calls[statement] / len(timings):5.2f} calls/report  {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--step", type=int, default=500)
    parser.add_argument("--batch", type=int, default=1, help="reports per transaction (the worker's batch)")
    parser.add_argument("--mix", choices=("template", "load"), default="template")
    parser.add_argument(
        "--statements", type=int, default=0, help="print the N costliest statements per slice"
    )
    args = parser.parse_args()
    mix = load_mix() if args.mix == "load" else template_mix()
    with bench_database(args.database_url) as (settings, db):
        intake = Intake(settings, db, reporter(db))
        policy = build_triage_policy(settings)
        clock = StatementClock(db.engine)
        timings: list[float] = []
        for first in range(0, args.reports, args.batch):
            size = min(args.batch, args.reports - first)
            batch = intake.store([next(mix) for _ in range(size)])
            clock.counting, started = True, time.perf_counter()
            with db.session() as db_session:
                triage_reports(db_session=db_session, report_ids=batch, policy=policy, now=utcnow())
                db_session.commit()
            clock.counting = False
            timings += [(time.perf_counter() - started) * 1000 / size] * size
            done = first + size
            if done % args.step == 0 or done == args.reports:
                start = (done - 1) // args.step * args.step
                print_slice(start, timings[start:done], clock.take(), args.statements)
                sys.stdout.flush()


if __name__ == "__main__":
    main()
