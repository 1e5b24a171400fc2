"""Cases: opening at ingest, reading with their campaign and timeline, and analysts' actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.campaigns.service import campaign_summary
from service.cases.models import Case, CaseEvent
from service.cases.sla import SlaPolicy
from service.cases.workflow import move, record
from service.errors import NotFound, UnprocessableContent
from service.ids import new_id
from service.ingest.models import Report

MAX_PAGE = 200


def new_case_row(analysis: dict[str, Any], *, now: datetime, sla: SlaPolicy) -> dict[str, Any]:
    """The row of a new case opened by a high-risk report."""
    risk = analysis["risk"]
    return {
        "id": new_id(),
        "status": "new",
        "lane": risk["lane"],
        "level": risk["level"],
        "score": float(risk["score"]),
        "report_count": 1,
        "created_at": now,
        "updated_at": now,
        "sla_due_at": sla.due_at(risk["lane"], now),
    }


def get_case(*, db_session: Session, case_id: str) -> Case:
    """One case, or 404."""
    case = db_session.get(Case, case_id)
    if case is None:
        raise NotFound(f"No case {case_id}.")
    return case


def list_cases(
    *, db_session: Session, status: str | None, lane: str | None, level: str | None, limit: int, offset: int
) -> list[Case]:
    """Cases, most urgent first: by SLA deadline, then age; filtered by status, lane and level."""
    query = select(Case).where(Case.merged_into.is_(None))
    for column, value in ((Case.status, status), (Case.lane, lane), (Case.level, level)):
        if value is not None:
            query = query.where(column == value)
    query = query.order_by(Case.sla_due_at.is_(None), Case.sla_due_at, Case.created_at)
    return list(db_session.scalars(query.limit(min(limit, MAX_PAGE)).offset(offset)).all())


def case_json(db_session: Session, case: Case, *, now: datetime, detail: bool = False) -> dict[str, Any]:
    """The case as the contract shows it; `detail` adds its reports and timeline."""
    body: dict[str, Any] = {
        "id": case.id,
        "status": case.status,
        "lane": case.lane,
        "level": case.level,
        "score": case.score,
        "report_count": case.report_count,
        "campaign": campaign_summary(db_session, case.campaign_id) if case.campaign_id else None,
        "assignee": case.assignee,
        "created_at": case.created_at.isoformat(),
        "enriched_at": _iso(case.enriched_at),
        "sla_due_at": _iso(case.sla_due_at),
        "sla_breached": case.sla_due_at is not None and case.status != "closed" and case.sla_due_at < now,
        "resolution": case.resolution,
        "merged_into": case.merged_into,
    }
    if detail:
        body["report_ids"] = list(
            db_session.scalars(select(Report.id).where(Report.case_id == case.id)).all()
        )
        events = db_session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
        body["timeline"] = [
            {"at": event.at.isoformat(), "actor": event.actor, "kind": event.kind, "detail": event.detail}
            for event in events
        ]
    return body


def act_on_case(
    *, db_session: Session, case: Case, action: str, actor: str, now: datetime, resolution: str | None = None,
    note: str | None = None, assignee: str | None = None,
) -> Case:  # fmt: skip
    """Apply one analyst action: claim, assign, triage, escalate, close, reopen or note."""
    if action == "claim":
        case.assignee = actor
        record(db_session, case, actor=actor, kind="assigned", at=now, assignee=actor)
        if case.status == "new":
            move(db_session, case, "triage", actor=actor, at=now)
    elif action == "assign":
        if not assignee:
            raise UnprocessableContent("The assign action needs an assignee.")
        case.assignee = assignee
        record(db_session, case, actor=actor, kind="assigned", at=now, assignee=assignee)
    elif action in {"triage", "escalate", "reopen"}:
        move(
            db_session,
            case,
            {"escalate": "escalated", "reopen": "triage"}.get(action, action),
            actor=actor,
            at=now,
        )
    elif action == "close":
        move(db_session, case, "closed", actor=actor, at=now, resolution=resolution)
    elif action != "note":
        raise UnprocessableContent(f"Unknown action {action!r}.")
    if note:
        record(db_session, case, actor=actor, kind="note", at=now, text=note[:4000])
    db_session.flush()
    return case


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
