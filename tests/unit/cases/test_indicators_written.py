"""A report's indicator rows are written by triage from its stored analysis, once, and never by ingest."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from service.campaigns.indicators import indicator_rows
from service.campaigns.models import ReportIndicator
from service.campaigns.service import write_indicators
from service.cases.triage import TriagePolicy, triage_committed
from service.db import Database, utcnow
from service.ingest.models import Report

KEY = b"k" * 32
POLICY = TriagePolicy(lanes={"critical": "urgent", "high": "review"}, hash_key=KEY)


def post_sms(client: TestClient, auth: dict[str, str], text: str, victim: str) -> str:
    body = {"channel": "sms", "reporter": {"msisdn": victim}, "sms": {"sender": "0961234567", "text": text}}
    response = client.post("/v1/reports", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def indicators(db: Database) -> dict[str, list[tuple[str, str, object]]]:
    with db.session() as db_session:
        columns = (ReportIndicator.report_id, ReportIndicator.kind, ReportIndicator.value_hash)
        rows = db_session.execute(select(*columns, ReportIndicator.seen_at)).all()
    found: dict[str, list[tuple[str, str, object]]] = {}
    for report_id, kind, value_hash, seen_at in rows:
        found.setdefault(report_id, []).append((kind, value_hash, seen_at))
    return {report_id: sorted(pairs) for report_id, pairs in found.items()}


def test_triage_writes_each_reports_indicator_rows_once_from_its_analysis(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    text = "Chuyển ngay 5 triệu vào tài khoản 0123456789 kẻo mất con, gọi 0912000111 hoặc vào http://vi-du.example"
    first = post_sms(client, auth, text, "0913000001")
    second = post_sms(client, auth, text.replace("5 triệu", "7 triệu"), "0913000002")
    assert indicators(db) == {}  # ingest writes none

    triage_committed(db, [first], POLICY, now=utcnow())
    with db.session() as db_session:
        reports = {report.id: report for report in db_session.scalars(select(Report))}
    expected = {
        report.id: sorted(
            (row["kind"], row["value_hash"], row["seen_at"])
            for row in indicator_rows(report.id, report.analysis, key=KEY, now=report.received_at)
        )
        for report in reports.values()
    }
    assert all(expected.values())
    # The batch's own rows, and those of every other report still without them, before it correlated.
    assert indicators(db) == expected
    assert all(report.indicators_at is not None for report in reports.values())
    assert reports[second].campaign_id is not None  # swept into the first one's campaign on the way
    assert reports[second].campaign_id == reports[first].campaign_id

    with db.session() as db_session:
        assert write_indicators(db_session, key=KEY, now=utcnow()) == 0
        assert write_indicators(db_session, key=KEY, now=utcnow(), report_ids=[first, second]) == 0
    triage_committed(db, [second], POLICY, now=utcnow())
    assert indicators(db) == expected  # nothing written twice
