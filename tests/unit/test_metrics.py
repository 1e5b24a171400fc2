"""/metrics: Prometheus text with intake, latency, queue, outbox and SLA figures, and no message content."""

from __future__ import annotations

import json
import time

import redis
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.db import Database
from service.jobs.publisher import OutboxPublisher
from service.jobs.queue import queue_for_level
from tests.conftest import FILES


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_count_reports_and_show_the_shared_state(client: TestClient, auth: dict[str, str]) -> None:
    before = samples(client.get("/metrics").text)
    body = json.loads((FILES / "reports" / "sms_threat.json").read_text())
    level = client.post("/v1/reports", json=body, headers=auth).json()["risk"]["level"]
    client.post("/v1/reports", content=b"{", headers={**auth, "Content-Type": "application/json"})
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)
    key = ("triage_reports_total", (("channel", "sms"), ("level", level)))
    assert after[key] == before.get(key, 0) + 1
    assert after[("triage_reports_rejected_total", (("status", "422"),))] >= 1
    for histogram in ("triage_analysis_seconds", "triage_parse_seconds", "triage_scoring_seconds"):
        count = (f"{histogram}_count", (("channel", "sms"),))
        assert after[count] == before.get(count, 0) + 1  # the 422 was never analysed
    assert ("triage_queue_depth", (("queue", "critical"),)) in after
    assert ("triage_outbox_lag_seconds", ()) in after
    assert ("triage_sla_breached_cases", ()) in after
    assert any(name == "triage_rule_hits" and value >= 1 for (name, _), value in after.items())
    for secret in ("0961234567", "giết", "0912345678"):
        assert secret not in response.text


def test_queue_age_is_the_age_of_the_oldest_waiting_job(
    client: TestClient, auth: dict[str, str], db: Database, redis_url: str
) -> None:
    redis.Redis.from_url(redis_url).flushdb()
    body = json.loads((FILES / "reports" / "sms_threat.json").read_text())
    queue = client.post("/v1/reports", json=body, headers=auth).json()["risk"]["level"]
    assert OutboxPublisher(db, redis_url).publish_pending() == 1
    time.sleep(0.3)
    after = samples(client.get("/metrics").text)
    assert after[("triage_queue_depth", (("queue", queue_for_level(queue)),))] == 1
    assert after[("triage_queue_oldest_seconds", (("queue", queue_for_level(queue)),))] >= 0.3
