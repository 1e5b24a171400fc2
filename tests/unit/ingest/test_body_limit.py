"""The body cap holds with Content-Length, without it, and chunked; the body is never buffered whole."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.analysis.pipeline import Analyzer
from service.app import create_app
from service.config import Settings
from service.db import Database
from service.ingest.models import Report

CAP = 64 * 1024


@pytest.fixture
def small_cap_client(
    settings: Settings, db: Database, analyzer: Analyzer, redis_url: str
) -> Iterator[TestClient]:
    app: FastAPI = create_app(
        settings.model_copy(update={"max_body_bytes": CAP}), db=db, analyzer=analyzer, redis_url=redis_url
    )
    with TestClient(app) as client:
        yield client


def chunks(total: int, size: int = 8192) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


def test_declared_length_over_cap_is_413(small_cap_client: TestClient, auth: dict[str, str]) -> None:
    response = small_cap_client.post(
        "/v1/reports", content=b"x" * (CAP + 1), headers={**auth, "Content-Type": "message/rfc822"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert str(CAP) in response.json()["detail"]


def test_chunked_body_over_cap_is_413(small_cap_client: TestClient, auth: dict[str, str]) -> None:
    response = small_cap_client.post(
        "/v1/reports", content=chunks(CAP * 4), headers={**auth, "Content-Type": "message/rfc822"}
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413


def test_body_under_cap_passes(small_cap_client: TestClient, auth: dict[str, str]) -> None:
    response = small_cap_client.post(
        "/v1/reports", content=b"{}", headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 422


def test_default_cap_is_ten_mebibytes() -> None:
    assert Settings().max_body_bytes == 10 * 1024 * 1024


def test_huge_headers_get_431_and_nothing_is_stored(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    padding = {f"X-Pad-{index}": "x" * 1000 for index in range(80)}
    body = {"channel": "sms", "sms": {"sender": "0961234567", "text": "Tao biết nhà mày ở đâu."}}
    response = client.post("/v1/reports", json=body, headers={**auth, **padding})
    assert response.status_code == 431
    assert response.headers["content-type"] == "application/problem+json"
    assert "headers" in response.json()["detail"]
    with db.session() as db_session:
        assert db_session.scalar(select(func.count(Report.id))) == 0
