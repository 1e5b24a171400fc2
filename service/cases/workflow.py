"""Case workflow: statuses new → triage → escalated → closed, verdicts, notes, and the timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from service.cases.models import RESOLUTIONS, Case, CaseEvent
from service.errors import Conflict, UnprocessableContent
from service.ingest.models import Report

LEVEL_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
# Which statuses each status may move to; closing is allowed from anywhere, reopening goes back to triage.
TRANSITIONS = {
    "new": {"triage", "escalated", "closed"},
    "triage": {"escalated", "closed"},
    "escalated": {"triage", "closed"},
    "closed": {"triage"},
}


def record(db_session: Session, case: Case, *, actor: str, kind: str, at: datetime, **detail: Any) -> None:
    """Append one event to the case's timeline."""
    db_session.add(CaseEvent(case_id=case.id, at=at, actor=actor, kind=kind, detail=detail))


def move(
    db_session: Session, case: Case, status: str, *, actor: str, at: datetime, resolution: str | None = None
) -> None:
    """Change a case's status, refusing transitions the workflow does not allow."""
    if status not in TRANSITIONS.get(case.status, set()):
        raise Conflict(f"A {case.status} case cannot move to {status}.")
    if status == "closed":
        if resolution not in RESOLUTIONS:
            raise UnprocessableContent(f"Closing needs a resolution: one of {', '.join(RESOLUTIONS)}.")
        case.resolution, case.closed_at = resolution, at
    elif case.status == "closed":
        case.resolution, case.closed_at = None, None
    record(
        db_session,
        case,
        actor=actor,
        kind="status",
        at=at,
        old=case.status,
        new=status,
        resolution=resolution,
    )
    case.status = status
    case.updated_at = at


def raise_level(case: Case, level: str, lane: str) -> bool:
    """Lift a case to `level` if that is higher than it has; True when it changed."""
    if LEVEL_RANK.get(level, 0) <= LEVEL_RANK.get(case.level, 0):
        return False
    case.level, case.lane = level, lane
    return True


def fold_into(db_session: Session, duplicate: Case, primary: Case, *, actor: str, at: datetime) -> None:
    """Merge a case into another: its reports move over, and it closes as a duplicate."""
    # A Core update (the ORM's bulk update costs several times more in Python), then the session's own
    # copies are brought up to date by hand: a triage batch holds a few dozen reports at most.
    reports = cast(Table, Report.__table__)
    db_session.execute(update(reports).where(reports.c.case_id == duplicate.id).values(case_id=primary.id))
    for held in list(db_session.identity_map.values()):
        if isinstance(held, Report) and held.case_id == duplicate.id:
            set_committed_value(held, "case_id", primary.id)
    duplicate.status, duplicate.resolution, duplicate.closed_at = "closed", "duplicate", at
    duplicate.merged_into = primary.id
    record(db_session, duplicate, actor=actor, kind="merged", at=at, into=primary.id)
    record(db_session, primary, actor=actor, kind="absorbed", at=at, absorbed_case=duplicate.id)
    primary.score = max(primary.score, duplicate.score)
    primary.report_count += duplicate.report_count
    duplicate.report_count = 0
    if raise_level(primary, duplicate.level, duplicate.lane):
        # The folded case was more urgent: the campaign's case takes its level, lane and deadline.
        primary.sla_due_at = min(filter(None, (primary.sla_due_at, duplicate.sla_due_at)), default=None)


def refresh_counts(db_session: Session, case: Case) -> None:
    """Recount the reports of a case and keep its highest score."""
    count, best = db_session.execute(
        select(func.count(Report.id), func.max(Report.score)).where(Report.case_id == case.id)
    ).one()
    case.report_count = count or 0
    case.score = max(case.score, best or 0)
