"""Publishing queued work to RQ.

The outbox row is the durable record; RQ is only the carrier. Jobs are enqueued by dotted name (so that
`service` never imports `workers`), take ids only, are JSON-serialised, and are retried, so every job is
written to be idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.jobs.models import OutboxMessage

log = logging.getLogger(__name__)

QUEUES = ("critical", "high", "enrich")
TRIAGE_JOB = "workers.jobs.triage_case"
JOB_TIMEOUT = 120
FAILURE_TTL = 7 * 24 * 3600
RETRY = Retry(max=3, interval=[2, 10, 60])


def queue_for_level(level: str) -> str:
    """Critical cases get their own queue and workers, so a flood of `high` never delays them."""
    return "critical" if level == "critical" else "high"


def add_to_outbox(*, db_session: Session, queue: str, job: str, subject_id: str) -> OutboxMessage:
    """Record a job in the caller's transaction; it is published only after the commit."""
    message = OutboxMessage(queue=queue, job=job, subject_id=subject_id)
    db_session.add(message)
    return message


def publish(
    *,
    db_session: Session,
    connection: redis.Redis,
    message_ids: Sequence[int] | None = None,
    limit: int = 500,
) -> int:
    """Enqueue unpublished outbox rows (all, or the given ones) and mark them published; returns the count."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.published_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if message_ids is not None:
        query = query.where(OutboxMessage.id.in_(message_ids))
    messages = db_session.scalars(query).all()
    for message in messages:
        message.attempts += 1
        _enqueue(connection, message)
        message.published_at = utcnow()
        db_session.commit()
    return len(messages)


def _enqueue(connection: redis.Redis, message: OutboxMessage) -> None:
    queue = Queue(message.queue, connection=connection, serializer=JSONSerializer)
    # A stable job id makes a re-publish after a crash land on the same job instead of a second one.
    queue.enqueue(
        message.job,
        message.subject_id,
        job_id=f"outbox-{message.id}",
        retry=RETRY,
        job_timeout=JOB_TIMEOUT,
        failure_ttl=FAILURE_TTL,
        result_ttl=3600,
    )
