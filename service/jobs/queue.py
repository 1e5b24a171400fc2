"""Publishing queued work to RQ.

The outbox row is the durable record; RQ is only the carrier. Jobs are enqueued by dotted name (so that
`service` never imports `workers`), take ids only, are JSON-serialised, and are retried, so every job is
written to be idempotent.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from service.db import commit_without_waiting_for_disk, utcnow
from service.jobs.models import OutboxMessage

log = logging.getLogger(__name__)

QUEUES = ("critical", "high", "enrich")
TRIAGE_JOB = "workers.jobs.triage_report"
# Triage rows travel together: one RQ job, one transaction and one taking of correlation locks for up to
# this many reports. At 100 reports/s a job per report spent more on RQ's bookkeeping and commits than on
# triage.
TRIAGE_BATCH_JOB = "workers.jobs.triage_reports"
TRIAGE_BATCH = 50
JOB_TIMEOUT = 30  # triage takes milliseconds; a job past this is hung, and the reconciler takes over
FAILURE_TTL = 7 * 24 * 3600
RESULT_TTL = 3600
RETRY = Retry(max=3, interval=[2, 10, 60])


def queue_for_level(level: str) -> str:
    """Critical reports get their own queue and workers, so a flood of lesser ones never delays them."""
    return {"critical": "critical", "high": "high"}.get(level, "enrich")


def outbox_row(*, queue: str, job: str, subject_id: str, now: datetime) -> dict[str, Any]:
    """An outbox row to insert in the caller's transaction; it is published only after the commit."""
    return {"queue": queue, "job": job, "subject_id": subject_id, "created_at": now, "attempts": 0}


def queue_once(db_session: Session, *, queue: str, job: str, subject_id: str, now: datetime) -> bool:
    """Add a job to the outbox in the caller's transaction unless the same job and subject are there."""
    pending = any(
        isinstance(row, OutboxMessage) and (row.job, row.subject_id) == (job, subject_id)
        for row in db_session.new
    )  # added earlier in this transaction, and not written yet
    already = pending or db_session.scalar(
        select(exists().where(OutboxMessage.job == job, OutboxMessage.subject_id == subject_id))
    )
    if already:
        return False
    db_session.add(OutboxMessage(**outbox_row(queue=queue, job=job, subject_id=subject_id, now=now)))
    return True


def publish(
    *, db_session: Session, connection: redis.Redis, job_timeout: int = JOB_TIMEOUT, limit: int = 500
) -> int:
    """Enqueue unpublished outbox rows, oldest first, and mark them published; returns the count.

    Rows are locked with SKIP LOCKED on PostgreSQL, so relays in several processes share the work. A crash
    between the enqueue and the commit publishes a row twice; the jobs are idempotent for that reason.
    """
    # Publishing again is harmless (jobs are idempotent), so this commit need not wait for the disk.
    commit_without_waiting_for_disk(db_session)
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.published_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    messages = db_session.scalars(query).all()
    now = utcnow()
    by_queue: dict[str, list[OutboxMessage]] = {}
    for message in messages:
        message.attempts += 1
        message.published_at = now
        by_queue.setdefault(message.queue, []).append(message)
    for queue_name, batch in by_queue.items():
        _enqueue_batch(connection, queue_name, batch, job_timeout)
    db_session.commit()
    return len(messages)


def job_id(message: OutboxMessage) -> str:
    """The RQ id of a message's current publication: a re-publish after a lost job is a new job."""
    return message.rq_job_id or f"outbox-{message.id}-{message.attempts}"


def _enqueue_batch(
    connection: redis.Redis, queue_name: str, messages: list[OutboxMessage], job_timeout: int
) -> None:
    """Enqueue a queue's messages in one Redis round trip (a pipeline), triage rows in batches."""
    queue = Queue(queue_name, connection=connection, serializer=JSONSerializer)
    triage = [message for message in messages if message.job == TRIAGE_JOB]
    others = [message for message in messages if message.job != TRIAGE_JOB]
    calls = [(message.job, [message]) for message in others]
    calls += [(TRIAGE_BATCH_JOB, triage[i : i + TRIAGE_BATCH]) for i in range(0, len(triage), TRIAGE_BATCH)]
    jobs = [_prepare(function, batch, job_timeout) for function, batch in calls]
    with connection.pipeline() as pipe:
        queue.enqueue_many(jobs, pipeline=pipe)
        pipe.execute()


def _prepare(function: str, batch: list[OutboxMessage], job_timeout: int) -> Any:
    first = batch[0]
    first.rq_job_id = f"outbox-{first.id}-{first.attempts}"
    for message in batch[1:]:
        message.rq_job_id = first.rq_job_id
    ids = [message.subject_id for message in batch]
    args = (ids,) if function == TRIAGE_BATCH_JOB else (first.subject_id,)
    return Queue.prepare_data(
        function, args, job_id=first.rq_job_id, retry=RETRY,
        timeout=job_timeout, failure_ttl=FAILURE_TTL, result_ttl=RESULT_TTL,
    )  # fmt: skip
