"""Nothing is lost: Redis down at ingest, workers killed with kill -9 mid-stream, Redis killed and restarted.

Real processes throughout: `triage serve` with its supervised worker pool, RQ workers, and a redis-server
(with AOF everysec) that the test owns, so it can kill it.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from service.cases.models import Case, CaseEvent
from service.db import Database
from service.ingest.models import Report
from service.jobs.models import OutboxMessage
from service.jobs.redis_server import EmbeddedRedis
from tests.conftest import FILES
from tests.integration.server import descendants, run_triage, serving, serving_process, triage_env

pytestmark = pytest.mark.slow
THREAT = json.loads((FILES / "reports" / "sms_threat.json").read_text())


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    redis = EmbeddedRedis(tmp_path / "own-redis")
    redis.start()
    yield redis
    redis.stop()


def fast_recovery_env(tmp_path: Path, database_url: str, redis_url: str) -> dict[str, str]:
    return triage_env(var_dir=tmp_path, database_url=database_url, redis_url=redis_url,
                      JOB_TIMEOUT_SECONDS="3", RECONCILE_SECONDS="1")  # fmt: skip


def threat_report(index: int) -> dict[str, object]:
    body = json.loads(json.dumps(THREAT))
    body["reference"] = f"fault-{index}"
    body["reporter"] = {"msisdn": f"0912{index:06d}"}
    body["sms"]["sender"] = f"0963{index:06d}"
    return body


def wait_until(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"{what} did not happen within {timeout}s")


def enriched_count(db: Database) -> int:
    with db.session() as db_session:
        return db_session.scalar(select(func.count(Report.id)).where(Report.enriched_at.is_not(None))) or 0


def kill_queue_workers(server_pid: int) -> int:
    """kill -9 every RQ queue worker under the server, and their work-horses."""
    victims = [pid for pid, command in descendants(server_pid) if "--queue" in command]
    victims += [pid for victim in victims for pid, _ in descendants(victim)]
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    return len(victims)


def test_redis_down_at_ingest_is_queued_once_redis_is_back(
    tmp_path: Path, database_url: str, db: Database, own_redis: EmbeddedRedis
) -> None:
    env = fast_recovery_env(tmp_path, database_url, own_redis.url)
    key = run_triage("keys", "create", "--name", "fault-redis-down", env=env).strip()
    with serving(env=env) as base_url:
        own_redis.stop()
        response = httpx.post(f"{base_url}/v1/reports", json=threat_report(0),
                              headers={"Authorization": f"Bearer {key}"}, timeout=10)  # fmt: skip
        assert response.status_code == 201, response.text
        assert response.json()["queued"] is True
        with db.session() as db_session:
            assert db_session.scalar(select(OutboxMessage.published_at)) is None
        own_redis.start()
        wait_until(lambda: enriched_count(db) == 1, 60, "enrichment after Redis came back")


def test_two_hundred_reports_survive_killed_workers_and_a_killed_redis(
    tmp_path: Path, database_url: str, db: Database, own_redis: EmbeddedRedis
) -> None:
    env = fast_recovery_env(tmp_path, database_url, own_redis.url)
    key = run_triage("keys", "create", "--name", "fault-200", env=env).strip()
    headers = {"Authorization": f"Bearer {key}"}
    with serving_process(env=env) as (base_url, server), httpx.Client(timeout=20) as client:

        def post(index: int) -> int:
            return client.post(
                f"{base_url}/v1/reports", json=threat_report(index), headers=headers
            ).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(post, range(100))) == {201}
            wait_until(lambda: kill_queue_workers(server.pid) > 0, 20, "finding the queue workers")
            assert own_redis.process is not None
            own_redis.process.kill()  # kill -9: the AOF (everysec) is all that survives
            own_redis.process.wait(timeout=10)
            own_redis.start()
            assert set(pool.map(post, range(100, 200))) == {201}
            kill_queue_workers(server.pid)
        wait_until(lambda: enriched_count(db) == 200, 150, "all 200 reports enriched")

    with db.session() as db_session:
        assert db_session.scalar(select(func.count(Report.id))) == 200
        cases = db_session.scalars(select(Case).where(Case.merged_into.is_(None))).all()
        assert all(case.status in {"new", "escalated"} and case.enriched_at is not None for case in cases)
        assert sum(case.report_count for case in cases) == 200
        orphans = db_session.scalar(select(func.count(Report.id)).where(Report.case_id.is_(None)))
        assert orphans == 0
        enriched_events = db_session.execute(
            select(CaseEvent.case_id, func.count())
            .where(CaseEvent.kind == "enriched")
            .group_by(CaseEvent.case_id)
        ).all()
        assert all(count == 1 for _, count in enriched_events), "a case was enriched twice"
