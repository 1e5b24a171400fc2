"""Bad input gets a clear problem+json 4xx, and nothing is stored half-way."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.db import Database
from service.ingest.models import Report
from service.jobs.models import OutboxMessage

PROBLEM = "application/problem+json"


def assert_nothing_stored(db: Database) -> None:
    with db.session() as db_session:
        assert db_session.scalar(select(func.count(Report.id))) == 0
        assert db_session.scalar(select(func.count(OutboxMessage.id))) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "sms", "sms": {"text": "hello"}}, "body.sms.sender"),
        ({"channel": "fax", "sms": {"sender": "1", "text": "x"}}, "body"),
        ({"channel": "sms", "sms": {"sender": "x" * 251, "text": "x"}}, "body.sms.sender"),
        ({"channel": "email", "email": {}}, "body.email"),
        ({"channel": "email", "email": {"raw_base64": "***"}}, "body.email.raw_base64"),
        (
            {"channel": "sms", "sms": {"sender": "0961234567", "text": "x", "colour": "red"}},
            "body.sms.colour",
        ),
    ],
)
def test_invalid_fields_are_422_with_their_paths(
    client: TestClient, auth: dict[str, str], db: Database, body: dict[str, object], field: str
) -> None:
    response = client.post("/v1/reports", json=body, headers=auth)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422
    assert any(error["field"].startswith(field) for error in problem["errors"]), problem
    assert_nothing_stored(db)


def test_unparseable_json_is_422(client: TestClient, auth: dict[str, str], db: Database) -> None:
    response = client.post(
        "/v1/reports", content=b'{"channel": "sms", ', headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]
    assert_nothing_stored(db)


def test_wrong_content_type_is_415(client: TestClient, auth: dict[str, str], db: Database) -> None:
    response = client.post("/v1/reports", content=b"hello", headers={**auth, "Content-Type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert_nothing_stored(db)


def test_body_not_an_email_is_422(client: TestClient, auth: dict[str, str], db: Database) -> None:
    response = client.post(
        "/v1/reports", content=b"   \n  ", headers={**auth, "Content-Type": "message/rfc822"}
    )
    assert response.status_code == 422
    assert_nothing_stored(db)


def test_bad_operator_facts_are_422(client: TestClient, auth: dict[str, str], db: Database) -> None:
    body = {
        "channel": "sms",
        "sms": {"sender": "0961234567", "text": "x", "operator_facts": {"sent_24h": "many"}},
    }
    response = client.post("/v1/reports", json=body, headers=auth)
    assert response.status_code == 422
    assert "sent_24h" in response.json()["detail"]
    assert_nothing_stored(db)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
    ],
)
def test_missing_or_invalid_key_is_401(client: TestClient, db: Database, headers: dict[str, str]) -> None:
    response = client.post("/v1/reports", json={"channel": "sms"}, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert_nothing_stored(db)


def test_key_in_query_string_is_refused(client: TestClient, api_key: str, db: Database) -> None:
    response = client.post(f"/v1/reports?api_key={api_key}", json={"channel": "sms"})
    assert response.status_code == 401
    assert "query string" in response.json()["detail"]
    response = client.get(f"/v1/reports/x?token={api_key}", headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code == 401


def test_revoked_key_is_401(client: TestClient, api_key: str, auth: dict[str, str], db: Database) -> None:
    from service.auth.service import revoke_key

    assert client.get("/v1/reports/x", headers=auth).status_code == 404
    with db.session() as db_session:
        assert revoke_key(db_session=db_session, key_prefix=api_key[:10]) == 1
        db_session.commit()
    assert client.get("/v1/reports/x", headers=auth).status_code == 401


def test_key_without_scope_is_403(client: TestClient, db: Database) -> None:
    from tests.conftest import new_key

    key = new_key(db, scopes=["cases:read"])
    response = client.post("/v1/reports", json={"channel": "sms"}, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403
