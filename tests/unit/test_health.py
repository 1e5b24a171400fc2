from __future__ import annotations

from fastapi.testclient import TestClient

from service.analysis.pipeline import Analyzer
from service.app import create_app
from service.config import Settings
from service.db import Database


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_checks_database_and_redis(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_is_503_when_redis_is_down(settings: Settings, db: Database, analyzer: Analyzer) -> None:
    app = create_app(settings, db=db, analyzer=analyzer, redis_url="redis://127.0.0.1:1/0")
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["redis"].startswith("unavailable")


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
