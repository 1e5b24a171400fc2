"""High-risk reports open a case and an outbox row in their own transaction; Redis only ever sees ids."""

from __future__ import annotations

import json

import redis
from fastapi.testclient import TestClient
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import select

from service.analysis.pipeline import Analyzer
from service.app import create_app
from service.config import Settings
from service.db import Database
from service.jobs.models import OutboxMessage
from service.jobs.publisher import OutboxPublisher
from service.jobs.queue import TRIAGE_BATCH_JOB, TRIAGE_JOB
from tests.conftest import FILES

DEAD_REDIS = "redis://127.0.0.1:1/0"


def threat() -> dict[str, object]:
    return json.loads((FILES / "reports" / "sms_threat.json").read_text())


def outbox(db: Database) -> list[OutboxMessage]:
    with db.session() as db_session:
        return list(db_session.scalars(select(OutboxMessage)).all())


def all_redis_bytes(connection: redis.Redis) -> bytes:
    chunks = []
    for key in connection.scan_iter(count=1000):
        chunks.append(key)
        kind = connection.type(key)
        if kind == b"string":
            chunks.append(connection.get(key) or b"")
        elif kind == b"hash":
            chunks.extend(b"%s=%s" % item for item in connection.hgetall(key).items())
        elif kind == b"list":
            chunks.extend(connection.lrange(key, 0, -1))
        elif kind == b"zset":
            chunks.extend(member for member, _ in connection.zrange(key, 0, -1, withscores=True))
        elif kind == b"set":
            chunks.extend(connection.smembers(key))
    return b"\n".join(chunks)


def test_redis_down_at_ingest_still_stores_and_answers(
    settings: Settings, db: Database, analyzer: Analyzer, auth: dict[str, str], redis_url: str
) -> None:
    app = create_app(settings, db=db, analyzer=analyzer, redis_url=DEAD_REDIS)
    with TestClient(app) as client:
        response = client.post("/v1/reports", json=threat(), headers=auth)
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["queued"] is True
    [message] = outbox(db)
    assert (message.subject_id, message.job, message.published_at) == (report["id"], TRIAGE_JOB, None)

    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    assert OutboxPublisher(db, redis_url).publish_pending() == 1
    queue = Queue(message.queue, connection=connection, serializer=JSONSerializer)
    [job] = queue.get_jobs()
    assert job.func_name == TRIAGE_BATCH_JOB
    assert list(job.args) == [[report["id"]]]
    assert outbox(db)[0].published_at is not None
    assert OutboxPublisher(db, redis_url).publish_pending() == 0


def test_redis_holds_no_message_text_or_phone_number(
    client: TestClient, auth: dict[str, str], redis_url: str, db: Database
) -> None:
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    response = client.post("/v1/reports", json=threat(), headers=auth)
    assert response.json()["queued"] is True
    assert OutboxPublisher(db, redis_url).publish_pending() == 1
    stored = all_redis_bytes(connection)
    assert response.json()["id"].encode() in stored
    for canary in ("giết", "0961234567", "84961234567", "961234567", "0912345678", "0011004455667"):
        assert canary.encode() not in stored, canary


def test_low_risk_report_opens_no_case(client: TestClient, auth: dict[str, str], db: Database) -> None:
    body = json.loads((FILES / "reports" / "sms_benign.json").read_text())
    report = client.post("/v1/reports", json=body, headers=auth).json()
    assert report["risk"]["level"] in {"low", "medium"}
    assert (report["queued"], report["case_id"]) == (False, None)
    # It is still correlated by a worker (the escalation ladder counts low-risk reports), on the low queue.
    [message] = outbox(db)
    assert (message.queue, message.subject_id) == ("enrich", report["id"])


def test_triage_rows_travel_in_batches_and_remember_their_job(
    client: TestClient, auth: dict[str, str], redis_url: str, db: Database
) -> None:
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    for index in range(3):
        body = threat() | {"reference": f"batch-{index}"}
        assert client.post("/v1/reports", json=body, headers=auth).status_code == 201
    assert OutboxPublisher(db, redis_url).publish_pending() == 3
    messages = sorted(outbox(db), key=lambda message: message.id)
    [job] = Queue(messages[0].queue, connection=connection, serializer=JSONSerializer).get_jobs()
    assert job.func_name == TRIAGE_BATCH_JOB
    assert list(job.args) == [[message.subject_id for message in messages]]
    assert {message.rq_job_id for message in messages} == {job.id}
