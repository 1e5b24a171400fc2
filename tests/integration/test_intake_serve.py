"""`triage serve` with intake processes, stopped and killed under load: nothing lost, nothing outlives it."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from service.db import Database
from service.ingest.models import Report
from tests.conftest import FILES
from tests.integration.server import descendants, run_triage, serving_process, triage_env

pytestmark = pytest.mark.slow
THREAT = json.loads((FILES / "reports" / "sms_threat.json").read_text())


def intake_pids(server_pid: int) -> list[int]:
    return [pid for pid, command in descendants(server_pid) if "service.intake.process" in command]


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def post_until_stopped(base_url: str, key: str, stop: threading.Event, prefix: str) -> dict[str, int]:
    """Post reports until told to stop or the server goes away; each answered reference's status."""
    stored: dict[str, int] = {}
    with httpx.Client(timeout=30) as client:
        for index in range(10_000):
            if stop.is_set():
                break
            reference = f"{prefix}-{index}"
            try:
                answer = client.post(f"{base_url}/v1/reports", json={**THREAT, "reference": reference},
                                     headers={"Authorization": f"Bearer {key}"})  # fmt: skip
            except httpx.HTTPError:
                break
            stored[reference] = answer.status_code
    return stored


def stored_references(db: Database) -> set[str]:
    with db.session() as db_session:
        return {reference for reference in db_session.scalars(select(Report.reference)) if reference}


def test_sigterm_under_load_answers_or_refuses_each_report_and_leaves_no_intake_process(
    tmp_path: Path, database_url: str, redis_url: str, db: Database
) -> None:
    env = triage_env(var_dir=tmp_path, database_url=database_url, redis_url=redis_url, INTAKE_WORKERS="2")
    key = run_triage("keys", "create", "--name", "sigterm-load", env=env).strip()
    stop = threading.Event()
    with serving_process("--no-worker", env=env) as (base_url, server), ThreadPoolExecutor(4) as pool:
        intake = intake_pids(server.pid)
        assert len(intake) == 2
        posters = [pool.submit(post_until_stopped, base_url, key, stop, f"term-{n}") for n in range(4)]
        time.sleep(1.5)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        stop.set()
        statuses = {reference: status for poster in posters for reference, status in poster.result().items()}
    answered = {reference for reference, status in statuses.items() if status == 201}
    assert answered, "the load ran before the signal"
    assert set(statuses.values()) == {201}, "a stopping server finishes what it took, and refuses nothing"
    assert answered <= stored_references(db), "every report answered 201 is stored"
    assert not [pid for pid in intake if alive(pid)], "the intake processes stopped with the server"


def test_intake_processes_of_a_killed_server_finish_and_exit(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    env = triage_env(var_dir=tmp_path, database_url=database_url, redis_url=redis_url, INTAKE_WORKERS="2")
    with serving_process("--no-worker", env=env) as (_base_url, server):
        intake = intake_pids(server.pid)
        assert len(intake) == 2
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        deadline = time.monotonic() + 30
        while [pid for pid in intake if alive(pid)] and time.monotonic() < deadline:
            time.sleep(0.1)
    assert not [pid for pid in intake if alive(pid)], "no intake process outlives its API"
