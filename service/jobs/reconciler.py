"""The reconciler: finds reports whose job was lost and hands them back to the relay.

RQ loses a job whose worker is killed (it sits in the started registry, then the failed one, and is never run
again without `Retry`), and Redis loses what it held if it dies without its AOF. The database knows better: a
report that was published but never enriched, whose RQ job is gone, failed, or has run past its timeout, is
published again as a new job. Jobs are idempotent, so a second run is harmless.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.ingest.models import Report
from service.jobs.models import OutboxMessage
from service.jobs.queue import job_id

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10  # past this the report is left for a person: the job fails every time it runs
WAITING = frozenset({JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED})


def requeue_lost_jobs(
    *, db_session: Session, connection: redis.Redis, now: datetime, grace: timedelta, job_timeout: int
) -> int:
    """Mark the outbox rows of lost jobs unpublished; returns how many."""
    messages = db_session.scalars(
        select(OutboxMessage)
        .join(Report, Report.id == OutboxMessage.subject_id)
        .where(OutboxMessage.published_at < now - grace, Report.enriched_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(500)
        .with_for_update(skip_locked=True, of=OutboxMessage)
    ).all()
    requeued = 0
    alive: dict[str, bool] = {}  # a batch job carries many rows: ask Redis once per job
    lost: list[OutboxMessage] = []
    for message in messages:
        if message.attempts >= MAX_ATTEMPTS:
            log.error("outbox %s: job failed %d times; left for an operator", message.id, message.attempts)
            continue
        rq_job = job_id(message)
        if rq_job not in alive:
            alive[rq_job] = _job_alive(connection, rq_job, now, job_timeout)
        if not alive[rq_job]:
            lost.append(message)
    # A job may have finished between the first read and the look-up in Redis; its report is enriched by
    # now, and publishing it again would only add work when the workers are already behind.
    still_waiting = set(
        db_session.scalars(
            select(Report.id).where(
                Report.id.in_([message.subject_id for message in lost]), Report.enriched_at.is_(None)
            )
        )
    )
    for message in lost:
        if message.subject_id in still_waiting:
            message.published_at = None
            requeued += 1
    db_session.commit()
    if requeued:
        log.warning("reconciler: %d lost job(s) published again", requeued)
    return requeued


def _job_alive(connection: redis.Redis, rq_job: str, now: datetime, job_timeout: int) -> bool:
    try:
        job = Job.fetch(rq_job, connection=connection, serializer=JSONSerializer)
        status = job.get_status()
    except NoSuchJobError:
        return False
    if status in WAITING:
        return True
    if status == JobStatus.STARTED and job.started_at is not None:
        started = job.started_at if job.started_at.tzinfo else job.started_at.replace(tzinfo=now.tzinfo)
        return now - started < timedelta(seconds=job_timeout + 5)
    return False
