"""Triage cost as a campaign grows: milliseconds per `triage_report` job, in process, on a real database.

    python bench/triage_cost.py [--database-url URL] [--reports 2000] [--step 500] [--batch 50]

Every report carries the same threat template with a new sender and victim, so all of them join one
campaign: the case the pipeline benchmark drives. A job that read every member would grow with the campaign;
the figures per slice show whether it does. With --batch N, reports are triaged N per transaction, as the
worker's batched jobs do, and the figures are per report.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.app import create_app
from service.auth.service import create_key
from service.cases.triage import triage_reports
from service.config import Settings
from service.db import utcnow
from service.runtime import build_analyzer, build_database, build_triage_policy, migrate

REPO = Path(__file__).resolve().parent.parent
THREAT = "Mày không chuyển 50 triệu trước thứ 6 thì tao giết cả nhà mày, nhớ đấy. Mã số {}."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--step", type=int, default=500)
    parser.add_argument("--batch", type=int, default=1, help="reports per transaction (the worker's batch)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite:///{Path(tmp) / 'triage.sqlite3'}"
        settings = Settings(
            database_url=database_url,
            rules_dir=REPO / "rules",
            var_dir=Path(tmp),
            redis_url="redis://127.0.0.1:6379/12",
        )
        migrate(database_url)
        db = build_database(settings)
        with db.session() as db_session:
            key = create_key(db_session=db_session, reporter_name=f"triage-cost-{Path(tmp).name}")
            db_session.commit()
        app = create_app(settings, db=db, analyzer=build_analyzer(settings), redis_url=settings.redis_url)
        policy = build_triage_policy(settings)
        headers = {"Authorization": f"Bearer {key}"}
        timings: list[float] = []
        with TestClient(app) as client:
            for first in range(0, args.reports, args.batch):
                batch = []
                for index in range(first, min(args.reports, first + args.batch)):
                    body = {"channel": "sms", "reporter": {"msisdn": f"0912{index:06d}"},
                            "sms": {"sender": f"096{index:07d}", "text": THREAT.format(index)}}  # fmt: skip
                    batch.append(client.post("/v1/reports", json=body, headers=headers).json()["id"])
                started = time.perf_counter()
                with db.session() as db_session:
                    triage_reports(db_session=db_session, report_ids=batch, policy=policy, now=utcnow())
                    db_session.commit()
                timings += [(time.perf_counter() - started) * 1000 / len(batch)] * len(batch)
        for start in range(0, len(timings), args.step):
            chunk = timings[start : start + args.step]
            span = f"{start + 1:>6}-{start + len(chunk):<6}"
            print(f"reports {span} triage p50 {statistics.median(chunk):6.2f} ms  max {max(chunk):7.2f} ms")


if __name__ == "__main__":
    main()
