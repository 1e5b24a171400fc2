"""`triage serve` as a user runs it: a real process, real worker processes, real Redis, each database."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import select

from service.cases.models import Case
from service.db import Database
from service.jobs.queue import QUEUES
from tests.conftest import FILES
from tests.integration.server import descendants, run_triage, serving, serving_process, triage_env

pytestmark = pytest.mark.slow


def wait_for_enrichment(db: Database, case_id: str, timeout: float = 30) -> Case:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.session() as db_session:
            case = db_session.scalar(select(Case).where(Case.id == case_id))
            if case is not None and case.enriched_at is not None:
                return case
        time.sleep(0.2)
    raise AssertionError(f"case {case_id} was not enriched by a worker within {timeout}s")


def test_serve_takes_the_readme_examples_and_a_worker_enriches(
    tmp_path: Path, database_url: str, redis_url: str, db: Database
) -> None:
    env = triage_env(var_dir=tmp_path, database_url=database_url, redis_url=redis_url)
    key = run_triage("keys", "create", "--name", "integration-operator", env=env).strip()
    assert key.startswith("tt_")
    auth = {"Authorization": f"Bearer {key}"}
    with serving_process(env=env) as (base_url, server):
        assert httpx.get(f"{base_url}/readyz").json()["status"] == "ready"
        sms = httpx.post(
            f"{base_url}/v1/reports",
            headers={**auth, "Content-Type": "application/json"},
            content=(FILES / "reports" / "sms_threat.json").read_bytes(),
            timeout=10,
        )
        assert sms.status_code == 201, sms.text
        email = httpx.post(
            f"{base_url}/v1/reports",
            headers={**auth, "Content-Type": "message/rfc822"},
            content=(FILES / "reports" / "extortion.eml").read_bytes(),
            timeout=10,
        )
        assert email.status_code == 201, email.text
        queued = [r.json() for r in (sms, email) if r.json()["queued"]]
        assert queued, "the threatening SMS must be queued for review"
        for report in queued:
            case = wait_for_enrichment(db, report["case_id"])
            assert case.report_count == 1
        again = httpx.get(f"{base_url}/v1/reports/{sms.json()['id']}", headers=auth)
        assert again.json() == sms.json()
        children = [pid for pid, command in descendants(server.pid) if "service.cli" in command]
        assert len(children) >= 4, "a worker pool and one worker per queue"
    assert_all_gone(children, timeout=30)


def assert_all_gone(pids: list[int], timeout: float) -> None:
    """The server's workers end with it: none is left running, orphaned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if Path(f"/proc/{pid}").exists() and _not_zombie(pid)]
        if not alive:
            return
        time.sleep(0.2)
    raise AssertionError(f"processes outlived the server: {alive}")


def _not_zombie(pid: int) -> bool:
    try:
        return " Z " not in Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1][:4]
    except OSError:
        return False


def test_serve_without_redis_url_starts_an_embedded_redis(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'solo.sqlite3'}"
    env = triage_env(var_dir=tmp_path, database_url=None, redis_url=None)
    env["DATABASE_URL"] = database_url
    with serving("--no-worker", env=env) as base_url:
        ready = httpx.get(f"{base_url}/readyz").json()
        assert ready["checks"] == {"database": "ok", "redis": "ok", "intake": "ok"}
    assert (tmp_path / "redis" / "appendonlydir").exists() or (tmp_path / "redis" / "appendonly.aof").exists()


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_serve_stops_cleanly_with_its_workers_and_the_embedded_redis(tmp_path: Path, stop: str) -> None:
    env = triage_env(var_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'stop.sqlite3'}", redis_url=None)
    with serving_process(env=env) as (base_url, server):
        assert httpx.get(f"{base_url}/readyz").json()["status"] == "ready"
        # Once every queue's worker has registered with Redis, the service is up: a Ctrl-C then finds no
        # process half-way through its start-up.
        registered = redis.Redis.from_url(f"unix://{tmp_path / 'redis' / 'redis.sock'}")
        deadline = time.monotonic() + 60
        while registered.scard("rq:workers") < len(QUEUES):
            assert time.monotonic() < deadline, "the queue workers did not all start"
            time.sleep(0.2)
        children = [pid for pid, _ in descendants(server.pid)]
        assert any("redis-server" in command for _, command in descendants(server.pid))
        if stop == "ctrl-c":  # what a terminal sends: SIGINT to the whole process group
            os.killpg(server.pid, signal.SIGINT)
        else:  # what docker stop and kill send: SIGTERM to the server alone
            server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=40) == 0
    assert_all_gone(children, timeout=30)
    log = next(tmp_path.glob("serve-*.log")).read_text()
    # The workers stop while Redis is still up: none of them logs a lost connection on its way out.
    assert "ERROR" not in log
    assert "Traceback" not in log


def test_demo_mode_prints_a_working_key(tmp_path: Path) -> None:
    env = triage_env(var_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}", redis_url=None)
    with serving("--no-worker", "--demo", env=env) as base_url:
        credentials = json.loads((tmp_path / "demo-credentials.json").read_text())
        response = httpx.post(
            f"{base_url}/v1/reports",
            headers={"Authorization": f"Bearer {credentials['api_key']}"},
            json=json.loads((FILES / "reports" / "sms_benign.json").read_text()),
        )
        assert response.status_code == 201
        assert credentials["analyst_password"]
