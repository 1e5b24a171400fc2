"""The review queue: open cases, filtered and sorted by lane, SLA time left, level and age."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.cases.models import Case
from service.cases.workflow import LEVEL_RANK
from service.dashboard.textsearch import matches
from service.ingest.models import Report

LANE_ORDER = ("urgent", "review", "watch")
MAX_CANDIDATES = 1000
MAX_ROWS = 200
FAR_FUTURE = datetime.max.replace(tzinfo=None)


@dataclass(frozen=True)
class QueueFilters:
    """What the analyst narrowed the queue to; None means any."""

    lane: str | None = None
    level: str | None = None
    status: str | None = None  # None: every open status
    channel: str | None = None
    carrier: str | None = None
    country: str | None = None
    asn: int | None = None
    rule: str | None = None
    since: date | None = None
    until: date | None = None
    text: str | None = None


@dataclass
class QueueRow:
    case: Case
    lead: dict[str, Any]
    similar: int = 0
    sla_left: timedelta | None = None


@dataclass
class Queue:
    rows: list[QueueRow]
    lane_counts: dict[str, int] = field(default_factory=dict)
    total: int = 0


def lead_summary(report: Report, text: str | None) -> dict[str, Any]:
    """What the queue shows and filters on, from a case's highest-scoring report."""
    analysis = report.analysis or {}
    sender = analysis.get("sender") or {}
    phone = sender.get("phone") or {}
    origin = analysis.get("origin") or {}
    hits = analysis.get("hits") or []
    return {
        "report_id": report.id,
        "channel": report.channel,
        "sender": sender.get("raw") or sender.get("email"),
        "sender_key": phone.get("e164") or sender.get("email") or sender.get("raw"),
        "carrier": phone.get("carrier"),
        "country": origin.get("country") or phone.get("region"),
        "asn": origin.get("asn"),
        "rules": [str(hit.get("rule")) for hit in hits if not hit.get("shadow")],
        "top_rule": max(hits, key=lambda hit: hit.get("score") or 0).get("title") if hits else None,
        "subject": (analysis.get("email") or {}).get("subject"),
        "text": text,
        "evidence": " ".join(str(ev.get("text")) for hit in hits for ev in hit.get("evidence") or []),
    }


def keep(case: Case, lead: dict[str, Any], filters: QueueFilters) -> bool:
    """Whether a case passes every filter but the lane (lanes are counted before that one)."""
    if filters.level and case.level != filters.level:
        return False
    if filters.channel and lead["channel"] != filters.channel:
        return False
    if filters.carrier and filters.carrier.casefold() not in str(lead["carrier"] or "").casefold():
        return False
    if filters.country and str(lead["country"] or "").upper() != filters.country.upper():
        return False
    if filters.asn is not None and lead["asn"] != filters.asn:
        return False
    if filters.rule and not any(rule.startswith(filters.rule) for rule in lead["rules"]):
        return False
    if filters.since and case.created_at.date() < filters.since:
        return False
    if filters.until and case.created_at.date() > filters.until:
        return False
    if filters.text:
        haystack = " ".join(
            str(lead[key] or "") for key in ("sender", "subject", "text", "evidence", "top_rule")
        )
        return matches(filters.text, haystack)
    return True


def sort_key(row: QueueRow) -> tuple[Any, ...]:
    """Lane first, then the nearest SLA deadline, then the highest level, then the oldest."""
    case = row.case
    lane_rank = LANE_ORDER.index(case.lane) if case.lane in LANE_ORDER else len(LANE_ORDER)
    due = case.sla_due_at.replace(tzinfo=None) if case.sla_due_at else FAR_FUTURE
    return (lane_rank, case.sla_due_at is None, due, -LEVEL_RANK.get(case.level, 0), case.created_at)


def candidate_cases(db_session: Session, filters: QueueFilters) -> list[Case]:
    query = select(Case).where(Case.merged_into.is_(None))
    if filters.status:
        query = query.where(Case.status == filters.status)
    else:
        query = query.where(Case.status != "closed")
    query = query.order_by(Case.sla_due_at.is_(None), Case.sla_due_at, Case.created_at)
    return list(db_session.scalars(query.limit(MAX_CANDIDATES)).all())


def lead_reports(db_session: Session, case_ids: list[str]) -> dict[str, Report]:
    """The highest-scoring report of each case."""
    best: dict[str, tuple[float, str]] = {}
    for case_id, report_id, score in db_session.execute(
        select(Report.case_id, Report.id, Report.score).where(Report.case_id.in_(case_ids))
    ):
        key = str(case_id)
        if key not in best or score > best[key][0]:
            best[key] = (score, report_id)
    ids = [report_id for _, report_id in best.values()]
    reports = db_session.scalars(select(Report).where(Report.id.in_(ids))).all() if ids else []
    return {str(report.case_id): report for report in reports}


def campaign_sizes(db_session: Session, campaign_ids: set[str]) -> dict[str, int]:
    """How many cases (any status) each campaign has."""
    if not campaign_ids:
        return {}
    rows = db_session.execute(
        select(Case.campaign_id, func.count(Case.id))
        .where(Case.campaign_id.in_(campaign_ids))
        .group_by(Case.campaign_id)
    )
    return {str(campaign_id): int(count) for campaign_id, count in rows}


def build_queue(
    db_session: Session, filters: QueueFilters, *, now: datetime, text_of: Callable[[Report], str | None]
) -> Queue:
    """The filtered, sorted queue with its per-lane counts and a similar-case count on each row."""
    cases = candidate_cases(db_session, filters)
    leads = lead_reports(db_session, [case.id for case in cases])
    rows = []
    for case in cases:
        report = leads.get(case.id)
        lead = lead_summary(report, text_of(report)) if report is not None else {}
        if report is None or keep(case, lead, filters):
            rows.append(QueueRow(case, lead or _empty_lead()))
    lane_counts = Counter(row.case.lane for row in rows)
    if filters.lane:
        rows = [row for row in rows if row.case.lane == filters.lane]
    _count_similar(db_session, rows)
    for row in rows:
        row.sla_left = row.case.sla_due_at - now if row.case.sla_due_at else None
    rows.sort(key=sort_key)
    ordered = {lane: lane_counts.get(lane, 0) for lane in LANE_ORDER}
    ordered.update({lane: count for lane, count in lane_counts.items() if lane not in ordered})
    return Queue(rows[:MAX_ROWS], ordered, len(rows))


def _count_similar(db_session: Session, rows: list[QueueRow]) -> None:
    # Similar: the other cases of the same campaign, plus open cases from the same sender outside it.
    sizes = campaign_sizes(db_session, {row.case.campaign_id for row in rows if row.case.campaign_id})
    by_sender: dict[str, list[QueueRow]] = {}
    for row in rows:
        if row.lead.get("sender_key"):
            by_sender.setdefault(str(row.lead["sender_key"]), []).append(row)
    for row in rows:
        same_campaign = sizes.get(row.case.campaign_id or "", 1) - 1
        peers = by_sender.get(str(row.lead.get("sender_key")), [])
        outside = sum(
            1
            for peer in peers
            if peer is not row
            and (row.case.campaign_id is None or peer.case.campaign_id != row.case.campaign_id)
        )
        row.similar = max(same_campaign, 0) + outside


def _empty_lead() -> dict[str, Any]:
    keys = (
        "report_id",
        "channel",
        "sender",
        "sender_key",
        "carrier",
        "country",
        "asn",
        "top_rule",
        "subject",
    )
    return {**dict.fromkeys(keys), "rules": [], "text": None, "evidence": ""}
