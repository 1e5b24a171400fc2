"""Reports answered by real intake processes: the same answers as inline, and nothing lost when one dies."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.analysis.pipeline import Analyzer
from service.app import create_app
from service.auth.service import Principal
from service.config import Settings
from service.db import Database
from service.ingest.models import Report
from service.intake.answer import ReportRequest
from service.intake.pool import IntakeLost, IntakePool
from service.intake.process import REPORTS_PER_ROUND, principal_fields
from service.metrics.instruments import REGISTRY
from service.runtime import build_analyzer
from tests.conftest import FILES, REPO, new_key
from tests.unit.ingest.test_pg_writer import hold_reference

pytestmark = pytest.mark.slow
STORED_ONLY = ("id", "received_at", "case_id")  # what differs between two stored copies of one report


def pool_settings(settings: Settings, database_url: str, workers: int, **more: Any) -> Settings:
    return settings.model_copy(update={"database_url": database_url, "intake_workers": workers, **more})


@pytest.fixture
def pooled(
    settings: Settings, database_url: str, db: Database, analyzer: Analyzer, redis_url: str
) -> FastAPI:
    return create_app(pool_settings(settings, database_url, 2), db=db, analyzer=analyzer, redis_url=redis_url)


@pytest.fixture
def pooled_client(pooled: FastAPI) -> Iterator[TestClient]:
    with TestClient(pooled) as client:
        yield client


def analysis_of(response_json: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in response_json.items() if key not in STORED_ONLY}


def threat_report() -> dict[str, Any]:
    """The SMS threat of tests/files, as a JSON report to send (vary its `reference` to store it again)."""
    report: dict[str, Any] = json.loads((FILES / "reports" / "sms_threat.json").read_text())
    return report


def frame_header(principal: Principal) -> dict[str, Any]:
    """The header of a JSON report frame sent straight to an intake process."""
    return {"principal": principal_fields(principal), "content_type": "application/json"}


def stored_reports(db: Database) -> int:
    with db.session() as db_session:
        return int(db_session.scalar(select(func.count()).select_from(Report)) or 0)


def test_intake_processes_answer_as_the_api_does_inline(
    pooled_client: TestClient, client: TestClient, db: Database
) -> None:
    pooled_auth = {"Authorization": f"Bearer {new_key(db, reporter='pooled')}"}
    inline_auth = {"Authorization": f"Bearer {new_key(db, reporter='inline')}"}
    sms = (FILES / "reports" / "sms_threat.json").read_bytes()
    email = (FILES / "reports" / "extortion.eml").read_bytes()
    for body, content_type in ((sms, "application/json"), (email, "message/rfc822")):
        headers = {"Content-Type": content_type}
        by_pool = pooled_client.post("/v1/reports", content=body, headers={**pooled_auth, **headers})
        by_api = client.post("/v1/reports", content=body, headers={**inline_auth, **headers})
        assert by_pool.status_code == by_api.status_code == 201, by_pool.text
        assert analysis_of(by_pool.json()) == analysis_of(by_api.json())
        assert by_pool.json()["queued"] is True
        stored = pooled_client.get(f"/v1/reports/{by_pool.json()['id']}", headers=pooled_auth)
        assert stored.json() == by_pool.json()
    assert stored_reports(db) == 4


def test_retries_errors_and_counts_cross_the_process_boundary(
    pooled_client: TestClient, db: Database
) -> None:
    auth = {"Authorization": f"Bearer {new_key(db, scopes=['reports:write', 'rules:admin'])}"}
    json_body = {**auth, "Content-Type": "application/json"}
    threat = threat_report()
    hits_before = rule_hits(pooled_client, auth)
    batched_before = metric_value(pooled_client.get("/metrics").text, "triage_writer_batch_reports_sum")
    first = pooled_client.post("/v1/reports", json=threat, headers=auth)
    retry = pooled_client.post("/v1/reports", json=threat, headers=auth)
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"]
    reused = pooled_client.post(
        "/v1/reports", json={**threat, "sms": {"sender": "x", "text": "y"}}, headers=auth
    )
    assert reused.status_code == 409
    assert reused.headers["content-type"] == "application/problem+json"

    broken = pooled_client.post("/v1/reports", content=b'{"channel": "sms"', headers=json_body)
    assert broken.status_code == 422
    assert broken.json()["errors"][0]["type"] == "json_invalid"
    missing = pooled_client.post("/v1/reports", json={"channel": "sms", "sms": {"sender": "x"}}, headers=auth)
    assert missing.status_code == 422
    assert [error["field"] for error in missing.json()["errors"]] == ["body.sms.text"]
    wrong_type = pooled_client.post(
        "/v1/reports", content=b"hi", headers={**auth, "Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 415
    assert stored_reports(db) == 1

    # Hits scored in an intake process count in the API's /v1/rules: once, the retry not again.
    hits_after = rule_hits(pooled_client, auth)
    hit_rules = {hit["rule"] for hit in first.json()["hits"]}
    assert hit_rules
    assert {rule: hits_after[rule] - hits_before[rule] for rule in hit_rules} == dict.fromkeys(hit_rules, 1)
    metrics = pooled_client.get("/metrics").text
    assert 'triage_reports_total{channel="sms",level="critical"}' in metrics
    # The intake process's group commits reach the API's metrics too, riding on its answers.
    assert metric_value(metrics, "triage_writer_batch_reports_sum") - batched_before >= 1
    assert pooled_client.get("/readyz").json()["checks"]["intake"] == "ok"
    assert (
        metric_value(metrics, "triage_intake_ready") == metric_value(metrics, "triage_intake_processes") == 2
    )


def restarts() -> float:
    return REGISTRY.get_sample_value("triage_intake_restarts_total") or 0.0


def metric_value(metrics: str, name: str) -> float:
    values = [float(line.split()[-1]) for line in metrics.splitlines() if line.startswith(name + " ")]
    return values[0] if values else 0.0


def rule_hits(client: TestClient, auth: dict[str, str]) -> dict[str, int]:
    return {rule["id"]: rule["hits"] for rule in client.get("/v1/rules", headers=auth).json()["rules"]}


def test_a_reload_reaches_the_intake_processes_before_it_answers(
    tmp_path: Path, settings: Settings, database_url: str, db: Database, redis_url: str
) -> None:
    rules_dir = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules_dir)
    local = pool_settings(settings, database_url, 2, rules_dir=rules_dir)
    app = create_app(local, db=db, analyzer=build_analyzer(local), redis_url=redis_url)
    auth = {"Authorization": f"Bearer {new_key(db, scopes=['reports:write', 'rules:admin'])}"}
    threat = threat_report()
    with TestClient(app) as client:
        before = client.post("/v1/reports", json=threat, headers=auth).json()
        scoring = rules_dir / "scoring.yaml"
        scoring.write_text(scoring.read_text() + "\n# a new commit\n")
        reload = client.post("/v1/rules/reload", headers=auth)
        assert reload.status_code == 200
        versions = set()
        for index in range(6):  # both processes answer some of these
            body = {**threat, "reference": f"after-reload-{index}"}
            versions.add(client.post("/v1/reports", json=body, headers=auth).json()["ruleset"]["version"])
    assert reload.json()["version"] != before["ruleset"]["version"]
    assert versions == {reload.json()["version"]}


def principal_of(db: Database) -> Principal:
    from service.auth.service import authenticate_key

    key = new_key(db, reporter="pool-direct")
    with db.session() as db_session:
        principal = authenticate_key(db_session=db_session, key=key)
    assert principal is not None
    return principal


def test_a_report_whose_process_dies_gets_a_503_and_its_retry_is_stored_once(
    settings: Settings, database_url: str, db: Database, analyzer: Analyzer
) -> None:
    threat = (FILES / "reports" / "sms_threat.json").read_bytes()
    request = ReportRequest(principal_of(db), threat, "application/json", idempotency_key="dies-once")

    restarts_before = restarts()

    async def scenario() -> tuple[int, int, int]:
        pool = IntakePool(pool_settings(settings, database_url, 1), 1, rules=analyzer.rules)
        await pool.start()
        try:
            process = pool.links[0].process
            assert process is not None
            os.kill(process.pid, signal.SIGSTOP)  # it takes the frame but cannot answer it
            in_flight = asyncio.create_task(pool.answer(request))
            await asyncio.sleep(0.3)
            assert not in_flight.done()
            os.kill(process.pid, signal.SIGKILL)
            with pytest.raises(IntakeLost) as lost:
                await asyncio.wait_for(in_flight, 10)
            assert lost.value.status == 503
            assert lost.value.headers == {"Retry-After": "1"}
            await wait_until(lambda: pool.status()["ready"] == 1, seconds=60)
            assert restarts() == restarts_before + 1
            assert pool.links[0].process is not process, "a new process took the dead one's place"
            retried = await pool.answer(request)
            again = await pool.answer(request)
            return retried.status, again.status, stored_reports(db)
        finally:
            await pool.stop()

    assert asyncio.run(scenario()) == (201, 200, 1)


def test_an_intake_process_outlives_a_hangup_or_interrupt_sent_to_the_group(
    settings: Settings, database_url: str, db: Database, analyzer: Analyzer
) -> None:
    threat = (FILES / "reports" / "sms_threat.json").read_bytes()
    request = ReportRequest(principal_of(db), threat, "application/json")

    async def scenario() -> int:
        pool = IntakePool(pool_settings(settings, database_url, 1), 1, rules=analyzer.rules)
        await pool.start()
        try:
            process = pool.links[0].process
            assert process is not None
            for signal_number in (signal.SIGHUP, signal.SIGINT):
                os.kill(process.pid, signal_number)
            await asyncio.sleep(0.5)
            assert process.poll() is None
            return (await pool.answer(request)).status
        finally:
            await pool.stop()
            assert all(link.process is None or link.process.poll() is not None for link in pool.links)

    assert asyncio.run(scenario()) == 201


async def wait_until(condition: Any, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


def test_on_sqlite_an_intake_process_commits_a_burst_in_rounds_of_eight(
    settings: Settings, database_url: str, db: Database, analyzer: Analyzer
) -> None:
    # SQLite commits on the intake's own loop: answering 8 at a time lets the first go out while the rest are
    # analysed. (On PostgreSQL the commit is awaited and there is no cap: the last assertion is SQLite's.)
    principal = principal_of(db)
    threat = threat_report()
    bodies = [json.dumps({**threat, "reference": f"burst-{n}"}).encode() for n in range(24)]

    async def burst(bulk: bool) -> list[int]:
        """Commit sizes of a burst of 24 reports sent at once."""
        pool = IntakePool(pool_settings(settings, database_url, 1), 1, rules=analyzer.rules)
        await pool.start()
        try:
            sizes: list[int] = []
            link = pool.links[0]
            header = {
                "principal": principal_fields(principal),
                "content_type": "application/json",
                "bulk": bulk,
            }
            replies = await asyncio.gather(*(link.request(header, body) for body in bodies))
            for reply, _ in replies:
                assert reply["status"] == (201 if not bulk else 200)
                sizes.extend(reply.get("batches", ()))
            return sizes
        finally:
            await pool.stop()

    singles = asyncio.run(burst(bulk=False))
    # The same burst as a batch's lines (retries now, answered 200): no round waits for another.
    lines = asyncio.run(burst(bulk=True))
    assert sum(singles) == sum(lines) == 24, "every commit is told to the API once"
    if database_url.startswith("sqlite"):
        assert max(singles) <= 8
        assert max(lines) > 8
    assert stored_reports(db) == 24


def test_on_postgresql_a_round_held_up_at_its_commit_holds_up_no_other_round(
    settings: Settings, database_url: str, db: Database, analyzer: Analyzer
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite commits one batch at a time")
    principal = principal_of(db)
    threat = threat_report()
    header = frame_header(principal)

    def body(reference: str) -> bytes:
        return json.dumps({**threat, "reference": reference}).encode()

    holder = hold_reference(db, principal.reporter_id, "held")

    async def scenario() -> tuple[list[int], int]:
        pool = IntakePool(pool_settings(settings, database_url, 1), 1, rules=analyzer.rules)
        await pool.start()
        try:
            link = pool.links[0]
            held = asyncio.create_task(link.request(header, body("held")))
            await asyncio.sleep(0.5)  # its round's commit has gone, and waits on the other transaction
            assert not held.done()
            others = [link.request(header, body(f"other-{n}")) for n in range(REPORTS_PER_ROUND)]
            replies = await asyncio.wait_for(asyncio.gather(*others), 30)
            assert not held.done()
            holder.rollback()
            reply, _ = await asyncio.wait_for(held, 30)
            return [reply["status"] for reply, _ in replies], reply["status"]
        finally:
            await pool.stop()

    try:
        assert asyncio.run(scenario()) == ([201] * REPORTS_PER_ROUND, 201)
    finally:
        holder.close()
    assert stored_reports(db) == REPORTS_PER_ROUND + 1


def test_a_hung_intake_process_is_killed_after_the_timeout_and_replaced(
    settings: Settings, database_url: str, db: Database, analyzer: Analyzer
) -> None:
    threat = (FILES / "reports" / "sms_threat.json").read_bytes()
    request = ReportRequest(principal_of(db), threat, "application/json", idempotency_key="hung-once")
    local = pool_settings(settings, database_url, 1, intake_timeout_seconds=1.0)
    restarts_before = restarts()

    async def scenario() -> tuple[float, int]:
        pool = IntakePool(local, 1, rules=analyzer.rules)
        await pool.start()
        try:
            hung = pool.links[0].process
            assert hung is not None
            os.kill(hung.pid, signal.SIGSTOP)  # alive, but it will never answer
            started = time.monotonic()
            with pytest.raises(IntakeLost):
                await asyncio.wait_for(pool.answer(request), 30)
            waited = time.monotonic() - started
            assert hung.wait(10) == -signal.SIGKILL
            await wait_until(lambda: pool.status()["ready"] == 1, seconds=60)
            return waited, (await pool.answer(request)).status
        finally:
            await pool.stop()

    waited, retried = asyncio.run(scenario())
    assert 1.0 <= waited < 10
    assert retried == 201, "the hung process stored nothing; the retry stores it once"
    assert restarts() == restarts_before + 1


def test_on_postgresql_an_intake_process_beside_another_commits_whole_rounds(
    settings: Settings, database_url: str, db: Database, analyzer: Analyzer
) -> None:
    # Alone, a process shares the reports in hand among its three commits in flight (16 make rounds of 6 at
    # most); beside another, which analyses while it waits, it takes whole rounds of 8.
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite commits one batch at a time: rounds of 8 either way")
    principal = principal_of(db)
    threat = threat_report()
    header = frame_header(principal)

    async def commits(processes: int, prefix: str) -> list[int]:
        """Commit sizes of 16 reports sent at once to one process of a pool of `processes`."""
        pool = IntakePool(pool_settings(settings, database_url, processes), processes, rules=analyzer.rules)
        await pool.start()
        try:
            bodies = [json.dumps({**threat, "reference": f"{prefix}-{n}"}).encode() for n in range(16)]
            replies = await asyncio.gather(*(pool.links[0].request(header, body) for body in bodies))
            assert [reply["status"] for reply, _ in replies] == [201] * 16
            return [size for reply, _ in replies for size in reply.get("batches", ())]
        finally:
            await pool.stop()

    alone = asyncio.run(commits(1, "alone"))
    beside = asyncio.run(commits(2, "beside"))
    assert sum(alone) == sum(beside) == 16
    assert max(alone) <= 6
    assert beside == [REPORTS_PER_ROUND, REPORTS_PER_ROUND]
    assert stored_reports(db) == 32
