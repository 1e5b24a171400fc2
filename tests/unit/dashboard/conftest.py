"""Dashboard fixtures: users of each role, logged-in clients, and reports posted over the real API."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.auth.service import add_user
from service.db import Database
from tests.conftest import new_key

ORIGIN = {"Origin": "http://testserver"}
PASSWORD = "correct horse battery"
FILES = Path(__file__).resolve().parents[2] / "files" / "dashboard"


def make_user(db: Database, name: str, role: str) -> None:
    with db.session() as db_session:
        add_user(db_session=db_session, name=name, role=role, password=PASSWORD)
        db_session.commit()


def login(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    """Log in through the form, as a browser would; returns the final response."""
    form = client.get("/dashboard/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token, form.text
    return client.post(
        "/dashboard/login",
        data={"username": name, "password": password, "login_token": token.group(1)},
        headers=ORIGIN,
        follow_redirects=False,
    )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def post_report(client: TestClient, key: str, name: str) -> dict[str, Any]:
    """POST a fixture report over the API."""
    body = (FILES / name).read_bytes()
    response = client.post(
        "/v1/reports",
        content=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def sms_body(text: str, sender: str = "0961234567", reference: str | None = None) -> bytes:
    body: dict[str, Any] = {"channel": "sms", "sms": {"sender": sender, "text": text}}
    if reference:
        body["reference"] = reference
    return json.dumps(body).encode()


@pytest.fixture
def reporter_key(db: Database) -> str:
    return new_key(db, reporter="dash-operator", scopes=["reports:write", "reports:read"])


@pytest.fixture
def analyst(client: TestClient, db: Database) -> TestClient:
    """The test client, logged in as an analyst."""
    make_user(db, "ana", "analyst")
    assert login(client, "ana").status_code == 303
    return client


@pytest.fixture
def admin(client: TestClient, db: Database) -> TestClient:
    """The test client, logged in as an admin."""
    make_user(db, "root", "admin")
    assert login(client, "root").status_code == 303
    return client
