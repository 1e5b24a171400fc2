"""A report's indicator rows are written by triage from its stored analysis and message, once, and never by
ingest."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from service.analysis.template import SKETCH_SIZE, template_sketch
from service.campaigns.indicators import indicator_rows, keyed_hash
from service.campaigns.models import ReportIndicator
from service.campaigns.service import write_indicators
from service.cases.triage import TriagePolicy, triage_committed
from service.db import Database, utcnow
from service.ingest.models import Report

KEY = b"k" * 32
FILES = Path(__file__).resolve().parents[2] / "files"
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
    sketches = {first: template_sketch(text), second: template_sketch(text.replace("5 triệu", "7 triệu"))}
    assert all(len(sketch) == SKETCH_SIZE for sketch in sketches.values())

    triage_committed(db, [first], POLICY, now=utcnow())
    with db.session() as db_session:
        reports = {report.id: report for report in db_session.scalars(select(Report))}
    expected = {
        report.id: sorted(
            (row["kind"], row["value_hash"], row["seen_at"])
            for row in indicator_rows(
                report.id, report.analysis, key=KEY, now=report.received_at, sketch=sketches[report.id]
            )
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
        assert write_indicators(db_session, key=KEY, now=utcnow(), sketch_of=POLICY.sketch_of) == 0
        again = write_indicators(
            db_session, key=KEY, now=utcnow(), report_ids=[first, second], sketch_of=POLICY.sketch_of
        )
        assert again == 0
    triage_committed(db, [second], POLICY, now=utcnow())
    assert indicators(db) == expected  # nothing written twice


def template_rows(db: Database, report_id: str) -> list[str]:
    return sorted(value for kind, value, _ in indicators(db).get(report_id, []) if kind == "template")


def template_hashes(sketch: list[str]) -> list[str]:
    return sorted(keyed_hash(KEY, "template", value) for value in sketch)


def test_triage_sketches_an_sms_from_its_stored_text_and_an_email_keeps_the_sketch_of_its_analysis(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    text = "Chúc mừng thuê bao 0912345678 đã trúng thưởng xe SH, liên hệ 0961234567 để nhận giải trước 30/11"
    sms = post_sms(client, auth, text, "0913000005")
    extortion = (FILES / "reports" / "extortion.eml").read_bytes()
    response = client.post(
        "/v1/reports", content=extortion, headers={**auth, "Content-Type": "message/rfc822"}
    )
    assert response.status_code == 201, response.text
    email = response.json()["id"]
    subject = "Thông báo xác minh tài khoản"  # the encoded Subject header, decoded
    body = extortion.split(b"\n\n", 1)[1].decode()
    email_sketch = template_sketch(f"{subject}\n{body}")
    assert len(email_sketch) == SKETCH_SIZE
    assert response.json()["template"] == {"sketch": email_sketch}
    assert "template" not in client.get(f"/v1/reports/{sms}", headers=auth).json()

    triage_committed(db, [sms, email], POLICY, now=utcnow())
    assert template_rows(db, sms) == template_hashes(template_sketch(text))
    assert template_rows(db, email) == template_hashes(email_sketch)


def test_a_sketch_stored_by_an_earlier_ingest_is_used_and_a_purged_report_has_none(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    text = "Mày liệu hồn, không trả tiền thì đừng trách tao ác với cả nhà mày nghe chưa"
    earlier = post_sms(client, auth, text, "0913000003")
    purged = post_sms(client, auth, text, "0913000004")
    stored = ["0000abcd", "0000abce", "0000abcf", "0000abd0"]
    with db.session() as db_session:
        earlier_report = db_session.get(Report, earlier)
        purged_report = db_session.get(Report, purged)
        assert earlier_report is not None
        assert purged_report is not None
        earlier_report.analysis = {**earlier_report.analysis, "template": {"sketch": stored}}
        purged_report.raw = b""
        db_session.commit()

    with db.session() as db_session:
        assert write_indicators(db_session, key=KEY, now=utcnow(), sketch_of=POLICY.sketch_of) == 2
        db_session.commit()
    assert template_rows(db, earlier) == template_hashes(stored)
    assert template_rows(db, purged) == []
    assert indicators(db)[purged]  # its other indicators are written all the same
