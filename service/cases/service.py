"""Opening and reading cases."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.cases.models import Case
from service.db import utcnow
from service.ingest.models import Report


def new_case_row(analysis: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """The row of a new case opened by a high-risk report."""
    risk = analysis["risk"]
    return {
        "id": str(uuid.uuid4()),
        "status": "new",
        "lane": risk["lane"],
        "level": risk["level"],
        "score": float(risk["score"]),
        "report_count": 1,
        "created_at": now,
        "updated_at": now,
    }


def case_json(case: Case) -> dict[str, Any]:
    """The case as the contract shows it."""
    return {
        "id": case.id,
        "status": case.status,
        "lane": case.lane,
        "level": case.level,
        "score": case.score,
        "report_count": case.report_count,
        "campaign": None,
        "created_at": case.created_at.isoformat() if case.created_at else None,
        "enriched_at": case.enriched_at.isoformat() if case.enriched_at else None,
        "sla_due_at": case.sla_due_at.isoformat() if case.sla_due_at else None,
        "resolution": case.resolution,
    }


def triage_case(*, db_session: Session, case_id: str) -> Case | None:
    """Count the case's reports and stamp it enriched; running it twice changes nothing more."""
    case = db_session.get(Case, case_id)
    if case is None:
        return None
    case.report_count = db_session.scalar(select(func.count(Report.id)).where(Report.case_id == case_id)) or 0
    if case.enriched_at is None:
        case.enriched_at = utcnow()
    db_session.flush()
    return case
