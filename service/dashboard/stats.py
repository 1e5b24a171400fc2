"""Figures for the stats page, read from the database (bounded scans) and turned into charts."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.cases.models import Case
from service.dashboard.charts import Chart, horizontal_bars, stacked_columns
from service.ingest.models import Report

LEVELS = ("low", "medium", "high", "critical")
SCAN_REPORTS = 5000
TOP = 10
VERDICT_BUCKETS = ((3600, "< 1 h"), (4 * 3600, "1-4 h"), (8 * 3600, "4-8 h"), (86400, "8-24 h"),
                   (3 * 86400, "1-3 d"), (float("inf"), "> 3 d"))  # fmt: skip


def reports_per_day(db_session: Session, *, now: datetime, days: int = 14) -> Chart:
    """Reports received per day (UTC) by level, over the last `days` days."""
    since = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    day = func.date(Report.received_at)
    rows = db_session.execute(
        select(day, Report.level, func.count(Report.id))
        .where(Report.received_at >= since)
        .group_by(day, Report.level)
    )
    per_day: dict[str, dict[str, int]] = defaultdict(dict)
    for when, level, count in rows:
        per_day[str(when)[:10]][str(level)] = int(count)
    columns = []
    for offset in range(days):
        label = (since + timedelta(days=offset)).date().isoformat()
        columns.append((label[5:], per_day.get(label, {})))
    return stacked_columns("Reports per day, by level", columns, LEVELS)


def recent_analyses(db_session: Session) -> list[dict[str, Any]]:
    """The analyses of the newest reports (a bounded scan: JSON fields are not indexed portably)."""
    return list(
        db_session.scalars(select(Report.analysis).order_by(Report.received_at.desc()).limit(SCAN_REPORTS))
    )


def top_charts(analyses: list[dict[str, Any]]) -> list[Chart]:
    """Top senders, carriers, countries and ASNs among the scanned reports."""
    counters: dict[str, Counter[str]] = {name: Counter() for name in ("sender", "carrier", "country", "asn")}
    for analysis in analyses:
        sender = analysis.get("sender") or {}
        phone = sender.get("phone") or {}
        origin = analysis.get("origin") or {}
        values = {
            "sender": phone.get("e164") or sender.get("email") or sender.get("raw"),
            "carrier": phone.get("carrier"),
            "country": origin.get("country") or phone.get("region"),
            "asn": f"AS{origin['asn']} {origin.get('as_org') or ''}".strip() if origin.get("asn") else None,
        }
        for name, value in values.items():
            if value:
                counters[name][str(value)] += 1
    titles = {"sender": "Top senders", "carrier": "Top carriers (allocated)", "country": "Top countries",
              "asn": "Top ASNs"}  # fmt: skip
    return [horizontal_bars(titles[name], counter.most_common(TOP)) for name, counter in counters.items()]


def time_to_verdict(db_session: Session, *, now: datetime, days: int = 30) -> Chart:
    """How long closed cases took from opening to verdict (merged duplicates left out)."""
    rows = db_session.execute(
        select(Case.created_at, Case.closed_at).where(
            Case.closed_at.is_not(None),
            Case.closed_at >= now - timedelta(days=days),
            Case.merged_into.is_(None),
        )
    )
    counts: Counter[str] = Counter()
    for created, closed in rows:
        if closed is None:
            continue
        seconds = (closed - created).total_seconds()
        counts[next(label for limit, label in VERDICT_BUCKETS if seconds < limit)] += 1
    return horizontal_bars(
        f"Time to verdict (last {days} days)", [(label, counts[label]) for _, label in VERDICT_BUCKETS]
    )


def sla_breaches(db_session: Session, *, now: datetime, days: int = 30) -> Chart:
    """Per lane: open cases past their deadline now, and cases closed late in the last `days` days."""
    open_late = db_session.execute(
        select(Case.lane, func.count(Case.id))
        .where(Case.status != "closed", Case.sla_due_at < now, Case.merged_into.is_(None))
        .group_by(Case.lane)
    ).all()
    closed_late = db_session.execute(
        select(Case.lane, func.count(Case.id))
        .where(
            Case.closed_at >= now - timedelta(days=days),
            Case.closed_at > Case.sla_due_at,
            Case.merged_into.is_(None),
        )
        .group_by(Case.lane)
    ).all()
    items = [(f"{lane}: open, overdue", int(n)) for lane, n in open_late]
    items += [(f"{lane}: closed late", int(n)) for lane, n in closed_late]
    return horizontal_bars("SLA breaches", sorted(items), css="bar breach")
