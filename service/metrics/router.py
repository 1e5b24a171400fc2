"""`/metrics` in Prometheus' text format: this process's counters, and shared state read at scrape time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import redis
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from rq import Queue
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from service.cases.models import Case
from service.db import utcnow
from service.jobs.models import OutboxMessage
from service.jobs.queue import QUEUES
from service.metrics.instruments import REGISTRY

router = APIRouter(tags=["health"])
Sample = tuple[dict[str, str], float]


@router.get("/metrics", response_class=Response, openapi_extra={"security": []})
def metrics(request: Request) -> Response:
    """Counters of this process, plus queue depth and age, outbox lag, SLA breaches and rule hits."""
    now = utcnow()
    parts = [
        generate_latest(REGISTRY).decode(),
        *_database_gauges(request, now),
        *_queue_gauges(request, now),
        *_intake_gauges(request),
    ]
    rules = request.app.state.analyzer.rules.status()["rules"]
    parts.append(
        gauge(
            "triage_rule_hits",
            "Hits per rule in this process",
            [({"rule": r["id"]}, r["hits"]) for r in rules],
        )
    )
    return Response("".join(parts), media_type=CONTENT_TYPE_LATEST)


def gauge(name: str, help_text: str, samples: Iterable[Sample]) -> str:
    """One gauge family in the text format, label values escaped."""
    lines = [f"# HELP {name} {help_text}\n", f"# TYPE {name} gauge\n"]
    for labels, value in samples:
        rendered = ",".join(f'{key}="{_escape(val)}"' for key, val in labels.items())
        lines.append(f"{name}{{{rendered}}} {value}\n" if rendered else f"{name} {value}\n")
    return "".join(lines)


def _intake_gauges(request: Request) -> list[str]:
    pool = request.app.state.intake_pool
    if pool is None:
        return []
    status = pool.status()
    return [
        gauge("triage_intake_processes", "Intake processes this API runs", [({}, status["processes"])]),
        gauge("triage_intake_ready", "Intake processes taking reports now", [({}, status["ready"])]),
    ]


def _database_gauges(request: Request, now: datetime) -> list[str]:
    try:
        with request.app.state.db.session() as db_session:
            unpublished = OutboxMessage.published_at.is_(None)
            pending, oldest = db_session.execute(
                select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at)).where(unpublished)
            ).one()
            open_late = (Case.status != "closed", Case.sla_due_at < now)
            breached = db_session.scalar(select(func.count(Case.id)).where(*open_late)) or 0
    except SQLAlchemyError:
        return [gauge("triage_database_up", "The database answers", [({}, 0)])]
    lag = (now - oldest).total_seconds() if oldest else 0.0
    return [
        gauge("triage_database_up", "The database answers", [({}, 1)]),
        gauge("triage_outbox_pending", "Jobs written but not yet on a queue", [({}, pending)]),
        gauge("triage_outbox_lag_seconds", "Age of the oldest unpublished job", [({}, round(lag, 3))]),
        gauge("triage_sla_breached_cases", "Open cases past their SLA", [({}, breached)]),
    ]


def _queue_gauges(request: Request, now: datetime) -> list[str]:
    depth, age, running, failed = [], [], [], []
    try:
        for name in QUEUES:
            queue = Queue(name, connection=request.app.state.redis, serializer=JSONSerializer)
            labels = {"queue": name}
            depth.append((labels, queue.count))
            age.append((labels, _oldest_age(queue, now)))
            running.append((labels, StartedJobRegistry(queue=queue).count))
            failed.append((labels, FailedJobRegistry(queue=queue).count))
    except (redis.RedisError, OSError):
        return [gauge("triage_redis_up", "Redis answers", [({}, 0)])]
    return [
        gauge("triage_redis_up", "Redis answers", [({}, 1)]),
        gauge("triage_queue_depth", "Jobs waiting per queue", depth),
        gauge("triage_queue_oldest_seconds", "Age of the oldest waiting job per queue", age),
        gauge("triage_queue_running", "Jobs running per queue", running),
        gauge("triage_queue_failed", "Jobs in the failed registry per queue", failed),
    ]


def _oldest_age(queue: Queue, now: datetime) -> float:
    jobs = queue.get_jobs(0, 1)  # offset 0, length 1: the head of the queue
    if not jobs or jobs[0].enqueued_at is None:
        return 0.0
    enqueued = jobs[0].enqueued_at
    enqueued = enqueued if enqueued.tzinfo else enqueued.replace(tzinfo=UTC)
    return round((now - enqueued).total_seconds(), 3)


def _escape(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
