"""Everything the case page shows, gathered in one read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.auth.models import User
from service.campaigns.service import campaign_summary
from service.cases.models import Case, CaseEvent
from service.dashboard.message import Segment, TextCache, segments
from service.ingest.models import Report

MAX_REPORTS_SHOWN = 20


@dataclass(frozen=True)
class ReportView:
    """One report of the case: its analysis and its text cut into highlighted segments."""

    report: Report
    analysis: dict[str, Any]
    segments: list[Segment] | None
    hits: list[dict[str, Any]]
    hit_total: float


@dataclass(frozen=True)
class CasePage:
    case: Case
    reports: list[ReportView]
    report_count: int
    campaign: dict[str, object] | None
    campaign_cases: list[Case]
    related_reports: list[Report]
    events: list[CaseEvent]
    users: list[str]


def report_view(report: Report, texts: TextCache) -> ReportView:
    """A report ready to show: text segments (None when unreadable) and its hits, biggest first."""
    analysis = report.analysis or {}
    hits = sorted(analysis.get("hits") or [], key=lambda hit: -(hit.get("score") or 0))
    text = texts.text_of(report)
    return ReportView(
        report=report,
        analysis=analysis,
        segments=None if text is None else segments(text, hits),
        hits=hits,
        hit_total=sum(float(hit.get("score") or 0) for hit in hits),
    )


def case_page(db_session: Session, case: Case, *, texts: TextCache) -> CasePage:
    """The case with its reports (highest score first), campaign, sibling cases, timeline and users."""
    reports = db_session.scalars(
        select(Report)
        .where(Report.case_id == case.id)
        .order_by(Report.score.desc(), Report.received_at.desc())
        .limit(MAX_REPORTS_SHOWN)
    ).all()
    count = db_session.scalar(select(func.count(Report.id)).where(Report.case_id == case.id)) or 0
    siblings: list[Case] = []
    related: list[Report] = []
    if case.campaign_id:
        related = list(
            db_session.scalars(
                select(Report)
                .where(Report.campaign_id == case.campaign_id, Report.case_id.is_distinct_from(case.id))
                .order_by(Report.received_at.desc())
                .limit(MAX_REPORTS_SHOWN)
            ).all()
        )
        siblings = list(
            db_session.scalars(
                select(Case).where(Case.campaign_id == case.campaign_id, Case.id != case.id).limit(50)
            ).all()
        )
    events = db_session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).all()
    users = db_session.scalars(select(User.name).where(User.disabled_at.is_(None)).order_by(User.name))
    return CasePage(
        case=case,
        reports=[report_view(report, texts) for report in reports],
        report_count=count,
        campaign=campaign_summary(db_session, case.campaign_id) if case.campaign_id else None,
        campaign_cases=siblings,
        related_reports=related,
        events=list(events),
        users=list(users),
    )


def sla_left(case: Case, now: datetime) -> float | None:
    """Seconds until the SLA deadline (negative when breached), None without one."""
    return None if case.sla_due_at is None else (case.sla_due_at - now).total_seconds()
