"""Retention: the text and numbers of closed non-threat cases are removed after RETENTION_DAYS.

What stays is what the statistics and the campaign links need: levels, rule ids, the keyed-hash indicators.
Each purge is written to the audit log.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.service import record_audit
from service.cases.models import Case
from service.ingest.models import Report

NON_THREAT = ("not_a_threat", "duplicate")
BATCH = 500
KEPT_SENDER = ("kind",)
KEPT_HIT = ("rule", "title", "score", "group", "level")
KEPT_PHONE = ("region", "carrier", "type", "valid")
KEPT_ORIGIN = ("country", "asn", "as_org", "foreign", "tor", "hosting")


def purge_expired(*, db_session: Session, retention_days: int, now: datetime) -> int:
    """Anonymise the reports of non-threat cases closed more than `retention_days` ago; returns how many."""
    query = (
        select(Report)
        .join(Case, Case.id == Report.case_id)
        .where(
            Case.status == "closed",
            Case.resolution.in_(NON_THREAT),
            Case.closed_at < now - timedelta(days=retention_days),
            Report.purged_at.is_(None),
        )
        .limit(BATCH)
    )
    total = 0
    while reports := db_session.scalars(query).all():
        for report in reports:
            report.raw, report.analysis, report.purged_at = b"", redacted(report.analysis), now
        record_audit(
            db_session, actor="retention", role="system", action="purge", outcome="ok", remote_addr=None,
            target=f"{len(reports)} reports", detail={"reports": [r.id for r in reports][:50],
                                                      "retention_days": retention_days},
        )  # fmt: skip
        db_session.commit()
        total += len(reports)
    return total


def redacted(analysis: dict[str, Any]) -> dict[str, Any]:
    """The analysis without message text, numbers, addresses or IPs."""
    sender = analysis.get("sender") or {}
    phone = sender.get("phone") or {}
    origin = analysis.get("origin") or {}
    hits = [{key: hit.get(key) for key in KEPT_HIT} for hit in analysis.get("hits", [])]
    entities = analysis.get("entities") or {}
    return {
        "channel": analysis.get("channel"),
        "risk": analysis.get("risk"),
        "hits": hits,
        "sender": {
            **{key: sender.get(key) for key in KEPT_SENDER},
            "phone": {key: phone.get(key) for key in KEPT_PHONE} if phone else None,
        },
        "origin": {key: origin.get(key) for key in KEPT_ORIGIN},
        "entities": {name: len(values) for name, values in entities.items() if isinstance(values, list)},
        "ruleset": analysis.get("ruleset"),
        "purged": True,
    }
