"""Correlation: link a report to earlier ones that share an indicator, and grow them into one campaign."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, text, tuple_, union, update
from sqlalchemy.orm import Session

from service.analysis.indicators import TEMPLATE
from service.campaigns.models import Campaign, ReportIndicator
from service.cases.models import Case
from service.ingest.models import Report

TEMPLATE_MATCHES = 2  # sketch hashes two reports must share to count as one template
MAX_LOOSE = 1000  # related reports not yet in a campaign, taken in per run
MAX_SCANNED = 20_000  # related reports read per run; a campaign bigger than this links through its newest
CORRELATION_LOCK = 0x7472_6961  # "tria": one correlation at a time across every worker process


def lock_correlation(db_session: Session) -> None:
    """Serialise correlation across processes, so two workers never found twin campaigns for one sender."""
    if db_session.get_bind().dialect.name == "postgresql":
        db_session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CORRELATION_LOCK})
    else:
        # SQLite: the first write takes the database's one write lock, held until commit.
        db_session.execute(update(Campaign).where(Campaign.id == "").values(case_id=None))


@dataclass(frozen=True)
class Related:
    """What a report links to: campaigns that exist, and related reports in none yet (a bounded few)."""

    campaign_ids: tuple[str, ...]
    loose_ids: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.campaign_ids or self.loose_ids)


def find_related(db_session: Session, report: Report, *, since: datetime) -> Related:
    """Reports since `since` sharing an exact indicator, or enough of the template sketch, by campaign.

    A big campaign costs one indexed look-up per indicator, not one row per member: members already in a
    campaign are seen through their campaign id.
    """
    mine = select(ReportIndicator.kind, ReportIndicator.value_hash).where(
        ReportIndicator.report_id == report.id
    )
    pair = tuple_(ReportIndicator.kind, ReportIndicator.value_hash)
    exact = _others(report.id, since).where(pair.in_(mine.where(ReportIndicator.kind != TEMPLATE)))
    template = (
        _others(report.id, since)
        .where(pair.in_(mine.where(ReportIndicator.kind == TEMPLATE)))
        .group_by(ReportIndicator.report_id)
        .having(func.count() >= TEMPLATE_MATCHES)
    )
    related = union(exact, template).subquery()
    # One pass over the related reports: their campaigns, and the few not in a campaign yet.
    members = db_session.execute(
        select(Report.id, Report.campaign_id)
        .where(Report.id.in_(select(related.c.report_id)))
        .limit(MAX_SCANNED)
    ).all()
    campaign_ids = sorted({campaign for _, campaign in members if campaign})
    loose_ids = [report_id for report_id, campaign in members if campaign is None][:MAX_LOOSE]
    return Related(tuple(campaign_ids), tuple(loose_ids))


def _others(report_id: str, since: datetime) -> Select[Any]:
    return select(ReportIndicator.report_id).where(
        ReportIndicator.report_id != report_id, ReportIndicator.seen_at >= since
    )


def join_campaign(db_session: Session, report: Report, related: Related, *, now: datetime) -> Campaign:
    """Put the report and its related reports in one campaign, merging campaigns that now meet."""
    wanted = {*related.campaign_ids, *([report.campaign_id] if report.campaign_id else [])}
    existing = db_session.scalars(
        select(Campaign).where(Campaign.id.in_(wanted)).order_by(Campaign.created_at, Campaign.id)
    ).all()
    if existing:
        campaign, absorbed = existing[0], [c.id for c in existing[1:]]
    else:
        campaign, absorbed = Campaign(id=str(uuid.uuid4()), created_at=now), []
        db_session.add(campaign)
        db_session.flush()
    joining = [report.id, *related.loose_ids]
    moved_cases = select(Report.case_id).where(or_(Report.id.in_(joining), Report.campaign_id.in_(absorbed)))
    db_session.execute(update(Case).where(Case.id.in_(moved_cases)).values(campaign_id=campaign.id))
    if absorbed:
        db_session.execute(
            update(Report).where(Report.campaign_id.in_(absorbed)).values(campaign_id=campaign.id)
        )
        db_session.execute(update(Case).where(Case.campaign_id.in_(absorbed)).values(campaign_id=campaign.id))
    db_session.execute(update(Report).where(Report.id.in_(joining)).values(campaign_id=campaign.id))
    db_session.flush()
    return campaign


def campaign_summary(db_session: Session, campaign_id: str) -> dict[str, object]:
    """Reports, victims and the days a campaign spans."""
    count, victims, first, last = db_session.execute(
        select(
            func.count(Report.id),
            func.count(func.distinct(Report.victim_hash)),
            func.min(Report.received_at),
            func.max(Report.received_at),
        ).where(Report.campaign_id == campaign_id)
    ).one()
    return {
        "id": campaign_id,
        "report_count": count,
        "victims": victims,
        "first_seen": _iso(first),
        "last_seen": _iso(last),
    }


def reports_since(db_session: Session, campaign_id: str, since: datetime) -> int:
    """How many of the campaign's reports arrived since `since`."""
    return (
        db_session.scalar(
            select(func.count(Report.id)).where(
                Report.campaign_id == campaign_id, Report.received_at >= since
            )
        )
        or 0
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
