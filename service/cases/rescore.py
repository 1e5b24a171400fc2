"""Rescoring: when the ruleset changes, the open cases' reports are scored again; old scores are kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.analysis.pipeline import INPUT_ERRORS, Analyzer
from service.cases.models import Case
from service.cases.workflow import LEVEL_RANK, record
from service.errors import ProblemError
from service.ingest.models import Report
from service.ingest.requests import stored_input

RESCORE_JOB = "workers.jobs.rescore_open_cases"
BATCH = 200


def rescore_open_cases(*, db_session: Session, analyzer: Analyzer, now: datetime) -> int:
    """Score the reports of open cases again where their ruleset version is not the active one."""
    version = analyzer.rules.current.version
    stale = (
        select(Report)
        .join(Case, Case.id == Report.case_id)
        .where(Case.status != "closed", Report.ruleset_version != version, Report.purged_at.is_(None))
        .limit(BATCH)
    )
    total = 0
    while reports := db_session.scalars(stale).all():
        for report in reports:
            _rescore(db_session, analyzer, report, now=now)
        db_session.commit()
        total += len(reports)
    return total


def _rescore(db_session: Session, analyzer: Analyzer, report: Report, *, now: datetime) -> None:
    old = {
        "version": report.ruleset_version,
        "score": report.score,
        "level": report.level,
        "at": now.isoformat(),
    }
    try:
        analysis = analyzer.analyze(stored_input(report.content_type, report.raw), now=report.received_at)
    except (*INPUT_ERRORS, ProblemError):
        analysis = None
    if analysis is None:  # input that no longer parses keeps its score, stamped with the new version
        report.ruleset_version = analyzer.rules.current.version
        return
    report.rescores = [*(report.rescores or []), old]
    report.analysis = {**report.analysis, **_scored_parts(analysis)}
    report.ruleset_version = analysis["ruleset"]["version"]
    report.score, report.level = analysis["risk"]["score"], analysis["risk"]["level"]
    new = {"version": report.ruleset_version, "score": report.score, "level": report.level}
    case = db_session.get(Case, report.case_id) if report.case_id else None
    if case is not None:
        record(db_session, case, actor="rescore", kind="rescored", at=now, report=report.id, old=old, new=new)
        if LEVEL_RANK[report.level] > LEVEL_RANK.get(case.level, 0):
            case.level, case.lane = report.level, analysis["risk"]["lane"]
        case.score = max(case.score, float(report.score))


def _scored_parts(analysis: dict[str, Any]) -> dict[str, Any]:
    return {key: analysis[key] for key in ("risk", "hits", "ruleset")}
