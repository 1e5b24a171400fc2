"""The campaign page: its reports, victims over time, and the entities its reports share."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.campaigns.service import campaign_summary
from service.cases.models import Case
from service.dashboard.charts import Chart, stacked_columns
from service.ingest.models import Report

MAX_REPORTS = 500


@dataclass(frozen=True)
class CampaignPage:
    summary: dict[str, object]
    reports: list[Report]
    cases: list[Case]
    victims_chart: Chart
    shared: list[tuple[str, str, int]]


def entity_values(analysis: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, value) of every linkable fact of one analysis."""
    sender = analysis.get("sender") or {}
    phone = sender.get("phone") or {}
    if phone.get("e164") or sender.get("raw"):
        yield "sender", str(phone.get("e164") or sender.get("raw"))
    if (analysis.get("origin") or {}).get("ip"):
        yield "origin ip", str(analysis["origin"]["ip"])
    entities = analysis.get("entities") or {}
    for kind, plural in (
        ("phone", "phones"),
        ("url", "urls"),
        ("email", "emails"),
        ("account", "bank_accounts"),
    ):
        for item in entities.get(plural) or []:
            value = (item.get("value") or item.get("number")) if isinstance(item, dict) else None
            if value:
                yield kind, str(value)


def campaign_page(db_session: Session, campaign_id: str) -> CampaignPage:
    """Everything the campaign page shows."""
    reports = list(
        db_session.scalars(
            select(Report)
            .where(Report.campaign_id == campaign_id)
            .order_by(Report.received_at.desc())
            .limit(MAX_REPORTS)
        ).all()
    )
    cases = list(db_session.scalars(select(Case).where(Case.campaign_id == campaign_id)).all())
    shared: Counter[tuple[str, str]] = Counter()
    for report in reports:
        shared.update(set(entity_values(report.analysis or {})))
    return CampaignPage(
        summary=campaign_summary(db_session, campaign_id),
        reports=reports,
        cases=cases,
        victims_chart=victims_over_time(db_session, campaign_id),
        shared=[(kind, value, count) for (kind, value), count in shared.most_common(30) if count > 1],
    )


def victims_over_time(db_session: Session, campaign_id: str) -> Chart:
    """New reports and distinct victims per day."""
    day = func.date(Report.received_at)
    rows = db_session.execute(
        select(day, func.count(Report.id), func.count(func.distinct(Report.victim_hash)))
        .where(Report.campaign_id == campaign_id)
        .group_by(day)
        .order_by(day)
    ).all()
    columns = [(str(when)[5:10], {"victims": int(victims)}) for when, _, victims in rows[-30:]]
    return stacked_columns("Victims per day", columns, ("victims",))
