"""Text that cannot be stored (a NUL, a lone surrogate) gets a 4xx that says where, on SQLite and PostgreSQL.

PostgreSQL can neither store nor compare U+0000: before these checks, `GET /v1/cases?lane=%00` and a report
whose reference held one were 500s there (and a report's NUL would have sunk its whole group-commit batch).
A lone surrogate in a case note was a 500 on both databases: it cannot even be encoded.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.db import Database
from service.ingest.models import Report
from tests.conftest import new_key

SMS = {"sender": "0912345678", "text": "Chuyển tiền ngay không thì biết tay"}


def stored(db: Database) -> int:
    with db.session() as db_session:
        return db_session.scalar(select(func.count()).select_from(Report)) or 0


def sms_report(**sms: Any) -> dict[str, Any]:
    return {"channel": "sms", "reference": "r", "sms": {**SMS, **sms}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**sms_report(), "reference": "a\x00b"}, "body.reference"),
        ({**sms_report(), "reporter": {"msisdn": "0912\x00345678"}}, "body.reporter.msisdn"),
        (sms_report(sender="0912\x00345678"), "body.sms.sender"),
        (sms_report(text="tao gi\x00et may"), "body.sms.text"),
        (sms_report(operator_facts={"subscription": "prepaid", "note\x00": 1}), "body.sms.operator_facts"),
    ],
)
def test_a_nul_in_a_json_report_is_a_422_naming_the_field(
    client: TestClient, auth: dict[str, str], db: Database, body: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/reports", json=body, headers=auth)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert "NUL" in response.json()["errors"][0]["message"]
    assert stored(db) == 0


def test_an_email_with_nul_bytes_is_stored_and_its_analysis_shows_them_as_replacement_characters(
    client: TestClient, auth: dict[str, str]
) -> None:
    subject = base64.b64encode("Mày\x00 chết".encode()).decode()
    raw = (
        f"From: =?utf-8?q?a=00b?= <a@example.com>\r\nSubject: =?utf-8?b?{subject}?=\r\n"
        "Received: from x\x00y (h\x00 [203.0.113.9]) by mx.example.vn\r\n\r\nTao gi\x00et may http://a\x00b.com/x\r\n"
    )
    for body in (
        {"channel": "email", "reference": "plain", "email": {"raw": raw}},
        {
            "channel": "email",
            "reference": "b64",
            "email": {"raw_base64": base64.b64encode(raw.encode()).decode()},
        },
    ):
        created = client.post("/v1/reports", json=body, headers=auth)
        assert created.status_code == 201, created.text
        assert "\x00" not in created.text
        assert "\\u0000" not in created.text
        read = client.get(f"/v1/reports/{created.json()['id']}", headers=auth)
        assert read.status_code == 200
        assert "\ufffd" in read.content.decode()  # the NULs are shown, as a decoder shows undecodable bytes
    mail = client.post(
        "/v1/reports", content=raw.encode(), headers={**auth, "Content-Type": "message/rfc822"}
    )
    assert mail.status_code == 201, mail.text


@pytest.mark.parametrize(
    ("method", "url", "where"),
    [
        ("GET", "/v1/cases?lane=%00", "query string"),
        ("GET", "/v1/cases?status=triage&lane=a%00", "query string"),
        ("GET", "/v1/reports/%00", "path"),
        ("GET", "/v1/cases/abc%00", "path"),
        ("POST", "/v1/reports?reference=a%00", "query string"),
        ("GET", "/dashboard/login?next=%00", "query string"),
    ],
)
def test_a_nul_in_a_url_is_a_400(client: TestClient, db: Database, method: str, url: str, where: str) -> None:
    headers = {"Authorization": f"Bearer {new_key(db, 'ops', ['cases:read', 'reports:write'])}"}
    response = client.request(method, url, headers=headers, content=b"From: a@b.c\r\n\r\nx")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert where in response.json()["detail"]


def test_a_nul_in_a_header_is_a_400(client: TestClient, auth: dict[str, str], db: Database) -> None:
    response = client.post("/v1/reports", json=sms_report(), headers={**auth, "Idempotency-Key": "k\x00"})
    assert response.status_code == 400
    assert "headers" in response.json()["detail"]
    assert stored(db) == 0


def test_a_nul_in_a_form_is_a_400(client: TestClient) -> None:
    for form in (b"username=a%00b&password=x", b"username=a\x00b&password=x"):
        response = client.post(
            "/dashboard/login", content=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        b'{"action": "note", "note": "a\\u0000b"}',
        b'{"action": "note", "note": "a\\ud800b"}',  # a lone surrogate, escaped
        b'{"action": "note", "note": "\xed\xa0\x80"}',  # the same, as raw (invalid) UTF-8
    ],
)
def test_unstorable_text_in_a_case_note_is_a_422(client: TestClient, db: Database, body: bytes) -> None:
    writer = {"Authorization": f"Bearer {new_key(db, 'ops', ['cases:write', 'reports:write'])}"}
    threat = {
        "channel": "sms",
        "sms": {"sender": "0912345678", "text": "Tao sẽ giết cả nhà mày nếu không trả tiền"},
    }
    case_id = client.post("/v1/reports", json=threat, headers=writer).json()["case_id"]
    assert case_id is not None
    response = client.post(
        f"/v1/cases/{case_id}/actions", content=body, headers={**writer, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["body.note"]
