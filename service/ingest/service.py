"""The report pipeline: parse → score → store → queue if high risk.

Each report is stored whole (report, case and outbox rows) or not at all, by the group-commit writer.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, fields, replace
from datetime import datetime
from functools import cache
from typing import Any

from prometheus_client import Counter, Histogram
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.analysis.inputs import ReportInput
from service.analysis.pipeline import Analyzer
from service.auth.service import Principal
from service.campaigns.indicators import victim_hash
from service.cases.service import new_case_row
from service.cases.sla import SlaPolicy
from service.db import Database
from service.errors import Conflict, NotFound
from service.ids import new_id
from service.ingest.models import Report
from service.ingest.rows import PendingReport
from service.ingest.writer import Outcome
from service.jobs.queue import TRIAGE_JOB, outbox_row, queue_for_level
from service.metrics.instruments import (
    ANALYSIS_SECONDS,
    PARSE_SECONDS,
    REPORTS,
    SCORING_SECONDS,
    STORE_SECONDS,
)

INLINE_ANALYSIS_BYTES = 32 * 1024


@dataclass(frozen=True)
class Submission:
    """A validated request: what to analyse, and what identifies a retry of it."""

    report: ReportInput
    content_type: str
    raw: bytes
    request_hash: str
    reference: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class IngestPolicy:
    """What storing a report needs beyond the report: the indicator hash key and the SLA policy."""

    hash_key: bytes
    sla: SlaPolicy


@dataclass(frozen=True)
class IngestTimings:
    """Seconds one report spent in each stage, for the caller to record: an intake process has no /metrics
    of its own, so it sends these back to the API with its answer."""

    channel: str
    level: str
    parse: float
    scoring: float
    analysis: float
    store: float | None = None  # None for a retry: nothing was stored

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict, which deep-copies every field: 4 us of each report's answer in the intake.
        return {name: getattr(self, name) for name in _TIMING_FIELDS}


_TIMING_FIELDS = tuple(field.name for field in fields(IngestTimings))


@dataclass(frozen=True)
class SubmitResult:
    report: dict[str, Any]
    created: bool
    timings: IngestTimings | None = None


def observe_ingest(timings: IngestTimings) -> None:
    """Record one report's stage timings (and, when it was stored, the count by channel and level)."""
    analysis, parse, scoring = _stage_histograms(timings.channel)
    analysis.observe(timings.analysis)
    parse.observe(timings.parse)
    scoring.observe(timings.scoring)
    if timings.store is not None:
        STORE_SECONDS.observe(timings.store)
        _stored_counter(timings.channel, timings.level).inc()


# The labelled series, looked up once: labels() takes a lock and builds a key on every call, and the API
# observes these for every report. Channels and levels are ours (two and four of them), never a caller's.
@cache
def _stage_histograms(channel: str) -> tuple[Histogram, Histogram, Histogram]:
    return ANALYSIS_SECONDS.labels(channel), PARSE_SECONDS.labels(channel), SCORING_SECONDS.labels(channel)


@cache
def _stored_counter(channel: str, level: str) -> Counter:
    return REPORTS.labels(channel, level)


@dataclass(frozen=True)
class PreparedReport:
    """A report analysed and turned into rows, for the writer to store."""

    principal: Principal
    submission: Submission
    pending: PendingReport
    timings: IngestTimings


async def settle_report(
    db: Database, prepared: PreparedReport, outcome: Outcome, *, stored_in: float
) -> SubmitResult:
    """The answer once the writer has tried the report: the stored report, or the first copy of a retry."""
    if outcome is Outcome.CREATED:
        stored = replace(prepared.timings, store=stored_in)
        return SubmitResult(report_json(prepared.pending.report), created=True, timings=stored)
    retry = await asyncio.to_thread(_replay_retry, db, prepared.principal, prepared.submission)
    return replace(retry, timings=prepared.timings)


async def analyze_submission(
    analyzer: Analyzer, submission: Submission, now: datetime
) -> tuple[dict[str, Any], IngestTimings]:
    """The analysis JSON of a submission, and how long its stages took."""
    # A small message is analysed on the event loop: it costs less than the hop to a thread would, and the
    # GIL gives a thread no parallelism anyway. A big email goes to a thread so the loop keeps serving.
    stages: dict[str, float] = {}
    started = time.perf_counter()
    if len(submission.raw) <= INLINE_ANALYSIS_BYTES:
        analysis = analyzer.analyze(submission.report, now=now, timings=stages)
    else:
        analysis = await asyncio.to_thread(analyzer.analyze, submission.report, now=now, timings=stages)
    timings = IngestTimings(
        channel=submission.report.channel,
        level=analysis["risk"]["level"],
        parse=stages["parse"],
        scoring=stages["scoring"],
        analysis=time.perf_counter() - started,
    )
    return analysis, timings


def _replay_retry(db: Database, principal: Principal, submission: Submission) -> SubmitResult:
    with db.session() as db_session:
        existing = _find_retry(db_session, principal.reporter_id, submission)
    if existing is None:  # the first copy was removed in between (a purge); the caller may send it again
        raise Conflict("This report collided with another one being stored; send it again.")
    return _replay(existing, submission)


def pending_report(
    principal: Principal,
    submission: Submission,
    analysis: dict[str, Any],
    *,
    now: datetime,
    policy: IngestPolicy,
) -> PendingReport:
    """The rows of one report: the report, and a case and outbox row when it goes to review."""
    report = {
        "id": new_id(),
        "reporter_id": principal.reporter_id,
        "reference": submission.reference,
        "idempotency_key": submission.idempotency_key,
        "request_hash": submission.request_hash,
        "channel": submission.report.channel,
        "content_type": submission.content_type,
        "raw": submission.raw,
        "analysis": analysis,
        "ruleset_version": analysis["ruleset"]["version"],
        "score": float(analysis["risk"]["score"]),
        "level": analysis["risk"]["level"],
        "case_id": None,
        "received_at": now,
        "victim_hash": victim_hash(submission.report.reporter_msisdn, key=policy.hash_key),
    }
    # Every report is correlated by a worker (the escalation ladder counts low-risk ones too), which writes
    # its indicator rows first (migration 0008); the queue sets its priority.
    outbox = outbox_row(
        queue=queue_for_level(report["level"]), job=TRIAGE_JOB, subject_id=report["id"], now=now
    )
    if not Analyzer.is_queued(analysis):
        return PendingReport(report, None, outbox)
    case = new_case_row(analysis, now=now, sla=policy.sla)
    report["case_id"] = case["id"]
    return PendingReport(report, case, outbox)


def get_report(*, db_session: Session, principal: Principal, report_id: str) -> dict[str, Any]:
    """A stored report, visible only to the reporter that sent it."""
    report = db_session.get(Report, report_id)
    if report is None or report.reporter_id != principal.reporter_id:
        raise NotFound(f"No report {report_id} for this API key.")
    return report_json({column: getattr(report, column) for column in ROW_FIELDS})


ROW_FIELDS = ("id", "analysis", "reference", "received_at", "case_id")


def report_json(row: dict[str, Any]) -> dict[str, Any]:
    """The stored analysis with the fields that only exist once stored."""
    return {
        "id": row["id"],
        **row["analysis"],
        "reference": row["reference"],
        "received_at": row["received_at"].isoformat(),
        "queued": row["case_id"] is not None,
        "case_id": row["case_id"],
    }


def _find_retry(db_session: Session, reporter_id: int, submission: Submission) -> Report | None:
    matches = []
    if submission.idempotency_key is not None:
        matches.append(Report.idempotency_key == submission.idempotency_key)
    if submission.reference is not None:
        matches.append(Report.reference == submission.reference)
    if not matches:
        return None
    return db_session.scalars(select(Report).where(Report.reporter_id == reporter_id, or_(*matches))).first()


def _replay(existing: Report, submission: Submission) -> SubmitResult:
    if existing.request_hash != submission.request_hash:
        raise Conflict(
            "This Idempotency-Key or reference was already used for a different report "
            f"({existing.id}). Use a new key or reference for new content."
        )
    return SubmitResult(
        report_json({column: getattr(existing, column) for column in ROW_FIELDS}), created=False
    )
