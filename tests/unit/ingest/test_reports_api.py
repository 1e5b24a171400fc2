"""POST /v1/reports and GET /v1/reports/{id}: the contract, on every database backend."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.db import Database
from service.ingest.models import Report
from tests.conftest import FILES, new_key

CONTRACT_FIELDS = {
    "id",
    "channel",
    "risk",
    "hits",
    "sender",
    "origin",
    "auth",
    "entities",
    "ruleset",
    "queued",
    "case_id",
}


def sms_body(**overrides: object) -> dict[str, object]:
    body = json.loads((FILES / "reports" / "sms_threat.json").read_text())
    body.update(overrides)
    return body


def stored_reports(db: Database) -> int:
    with db.session() as db_session:
        return db_session.scalar(select(func.count(Report.id))) or 0


def test_sms_report_is_analysed_stored_and_readable(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    created = client.post("/v1/reports", json=sms_body(), headers=auth)
    assert created.status_code == 201, created.text
    report = created.json()
    assert report.keys() >= CONTRACT_FIELDS
    assert report["channel"] == "sms"
    assert report["sender"]["kind"] == "msisdn"
    assert report["sender"]["phone"]["e164"] == "+84961234567"
    assert report["risk"]["level"] in {"low", "medium", "high", "critical"}
    assert report["ruleset"]["version"]
    assert report["queued"] is (report["case_id"] is not None)
    fetched = client.get(f"/v1/reports/{report['id']}", headers=auth)
    assert fetched.status_code == 200
    assert fetched.json() == report
    assert stored_reports(db) == 1


def test_raw_email_body_is_parsed(client: TestClient, auth: dict[str, str]) -> None:
    raw = (FILES / "reports" / "extortion.eml").read_bytes()
    response = client.post("/v1/reports", content=raw, headers={**auth, "Content-Type": "message/rfc822"})
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["channel"] == "email"
    assert report["sender"]["kind"] == "email"
    assert report["sender"]["email"] == "security@vietcombank.com.vn"
    assert report["origin"]["ip"] == "185.220.101.4"
    assert [relay["ip"] for relay in report["origin"]["relays"]] == ["10.0.0.5", "185.220.101.4"]
    assert report["auth"] == {"spf": "fail", "dkim": "none", "dmarc": "fail"}


def test_email_in_json_body(client: TestClient, auth: dict[str, str]) -> None:
    raw = (FILES / "reports" / "extortion.eml").read_text()
    response = client.post(
        "/v1/reports", json={"channel": "email", "reference": "web-1", "email": {"raw": raw}}, headers=auth
    )
    assert response.status_code == 201, response.text
    assert response.json()["origin"]["ip"] == "185.220.101.4"


def test_idempotency_key_returns_the_first_report(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    headers = {**auth, "Idempotency-Key": "retry-1"}
    body = sms_body(reference=None)
    first = client.post("/v1/reports", json=body, headers=headers)
    second = client.post("/v1/reports", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert stored_reports(db) == 1


def test_same_reference_returns_the_first_report(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    first = client.post("/v1/reports", json=sms_body(), headers=auth)
    second = client.post("/v1/reports", json=sms_body(), headers=auth)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert stored_reports(db) == 1


def test_reused_reference_with_other_content_is_a_conflict(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    client.post("/v1/reports", json=sms_body(), headers=auth)
    other = sms_body()
    other["sms"] = {**other["sms"], "text": "something else"}  # type: ignore[dict-item]
    response = client.post("/v1/reports", json=other, headers=auth)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert stored_reports(db) == 1


def test_racing_identical_requests_store_one_report(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    headers = {**auth, "Idempotency-Key": "race-1"}
    body = sms_body(reference=None)
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(
            pool.map(lambda _: client.post("/v1/reports", json=body, headers=headers), range(16))
        )
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(201) == 1
    assert statuses.count(200) == 15
    assert len({response.json()["id"] for response in responses}) == 1
    assert stored_reports(db) == 1


def test_same_reference_from_two_reporters_are_two_reports(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    other = {"Authorization": f"Bearer {new_key(db, reporter='operator-b')}"}
    first = client.post("/v1/reports", json=sms_body(), headers=auth)
    second = client.post("/v1/reports", json=sms_body(), headers=other)
    assert (first.status_code, second.status_code) == (201, 201)
    assert stored_reports(db) == 2


def test_a_reporter_reads_only_its_own_reports(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    report_id = client.post("/v1/reports", json=sms_body(), headers=auth).json()["id"]
    other = {"Authorization": f"Bearer {new_key(db, reporter='operator-b')}"}
    response = client.get(f"/v1/reports/{report_id}", headers=other)
    assert response.status_code == 404
    assert client.get("/v1/reports/does-not-exist", headers=auth).status_code == 404
