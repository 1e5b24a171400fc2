"""The report pipeline: parse → score → store → queue if high risk. One transaction per report."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.analysis.inputs import ReportInput
from service.analysis.pipeline import Analyzer
from service.auth.service import Principal
from service.cases.service import open_case
from service.db import after_commit, commit, utcnow
from service.errors import Conflict, NotFound
from service.ingest.models import Report
from service.jobs.queue import TRIAGE_JOB, add_to_outbox, queue_for_level

Publish = Callable[[Sequence[int]], None]


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
class SubmitResult:
    report: dict[str, Any]
    created: bool


def submit_report(
    *,
    db_session: Session,
    principal: Principal,
    submission: Submission,
    analyzer: Analyzer,
    publish: Publish | None = None,
    now: datetime | None = None,
) -> SubmitResult:
    """Store and answer one report; a retry (same key or reference) gets the first result back."""
    now = now or utcnow()
    existing = _find_retry(db_session, principal.reporter_id, submission)
    if existing is not None:
        return _replay(existing, submission)
    analysis = analyzer.analyze(submission.report, now=now)
    try:
        report = _store(db_session, principal, submission, analysis, now=now, publish=publish)
        commit(db_session)
    except IntegrityError:
        # Two identical requests raced: the unique constraints let exactly one in. Answer with that one.
        db_session.rollback()
        existing = _find_retry(db_session, principal.reporter_id, submission)
        if existing is None:
            raise
        return _replay(existing, submission)
    return SubmitResult(report_json(report), created=True)


def get_report(*, db_session: Session, principal: Principal, report_id: str) -> dict[str, Any]:
    """A stored report, visible only to the reporter that sent it."""
    report = db_session.get(Report, report_id)
    if report is None or report.reporter_id != principal.reporter_id:
        raise NotFound(f"No report {report_id} for this API key.")
    return report_json(report)


def report_json(report: Report) -> dict[str, Any]:
    """The stored analysis with the fields that only exist once stored."""
    return {
        "id": report.id,
        **report.analysis,
        "reference": report.reference,
        "received_at": report.received_at.isoformat(),
        "queued": report.case_id is not None,
        "case_id": report.case_id,
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
    return SubmitResult(report_json(existing), created=False)


def _store(
    db_session: Session,
    principal: Principal,
    submission: Submission,
    analysis: dict[str, Any],
    *,
    now: datetime,
    publish: Publish | None,
) -> Report:
    report = Report(
        id=str(uuid.uuid4()),
        reporter_id=principal.reporter_id,
        reference=submission.reference,
        idempotency_key=submission.idempotency_key,
        request_hash=submission.request_hash,
        channel=submission.report.channel,
        content_type=submission.content_type,
        raw=submission.raw,
        analysis=analysis,
        ruleset_version=analysis["ruleset"]["version"],
        score=float(analysis["risk"]["score"]),
        level=analysis["risk"]["level"],
        received_at=now,
    )
    if Analyzer.is_queued(analysis):
        case = open_case(db_session=db_session, analysis=analysis)
        report.case_id = case.id
        db_session.add(report)
        db_session.flush()
        message = add_to_outbox(
            db_session=db_session, queue=queue_for_level(case.level), job=TRIAGE_JOB, subject_id=case.id
        )
        db_session.flush()
        if publish is not None:
            message_id = message.id
            after_commit(db_session, lambda: publish([message_id]))
    else:
        db_session.add(report)
        db_session.flush()
    return report
