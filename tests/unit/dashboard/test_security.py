"""Dashboard security: escaping, headers, CSRF and Origin, sessions, login rate limit."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from service.audit.models import AuditEntry
from service.dashboard.config import DashboardSettings
from service.dashboard.models import DashboardSession
from service.dashboard.routes_auth import safe_next
from service.dashboard.web import COOKIE
from service.db import Database, utcnow
from tests.unit.dashboard.conftest import ORIGIN, csrf_of, login, make_user, post_report

TEMPLATES = Path(__file__).resolve().parents[3] / "service" / "dashboard" / "templates"
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def test_no_template_marks_anything_safe_or_turns_autoescape_off() -> None:
    templates = sorted(TEMPLATES.glob("*"))
    assert templates, "templates not found"
    for template in templates:
        assert template.suffix == ".html", template
        text = template.read_text()
        assert not re.search(r"\|\s*safe\b", text), f"{template.name} uses |safe"
        assert "autoescape" not in text, f"{template.name} changes autoescape"
        assert "<script>" not in text, f"{template.name} has inline script"
        assert not re.search(r"\son[a-z]+=", text), f"{template.name} has an inline event handler"
    for module in (TEMPLATES.parent).glob("*.py"):
        assert "Markup(" not in module.read_text(), f"{module.name} builds markup by hand"


def test_hostile_message_is_escaped_on_queue_and_case_page(analyst: TestClient, reporter_key: str) -> None:
    report = post_report(analyst, reporter_key, "sms_hostile.json")
    for path in ("/dashboard/", f"/dashboard/cases/{report['case_id']}"):
        page = analyst.get(path).text
        assert "<script>alert" not in page
        assert "<img src=x" not in page
    case_page = analyst.get(f"/dashboard/cases/{report['case_id']}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in case_page
    assert 'href="https://evil.example' not in case_page


@pytest.mark.parametrize("path", ["/dashboard/login", "/dashboard/", "/dashboard/static/dashboard.css"])
def test_security_headers_on_every_response(analyst: TestClient, path: str) -> None:
    headers = analyst.get(path).headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


def test_form_without_csrf_token_is_refused_and_audited(analyst: TestClient, db: Database) -> None:
    answer = analyst.post("/dashboard/cases/merge", data={"case_ids": ["a", "b"]}, headers=ORIGIN)
    assert answer.status_code == 403
    with db.session() as db_session:
        refused = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "refused")).all()
    assert [(entry.actor, entry.outcome) for entry in refused] == [("ana", "csrf")]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Origin": "https://evil.example"}, {"Referer": "https://evil.example/x"}, {"Origin": "null"}],
)
def test_state_change_from_another_origin_is_refused(analyst: TestClient, headers: dict[str, str]) -> None:
    token = csrf_of(analyst.get("/dashboard/").text)
    answer = analyst.post("/dashboard/logout", data={"csrf_token": token}, headers=headers)
    assert answer.status_code == 403
    assert analyst.get("/dashboard/", follow_redirects=False).status_code == 200  # still logged in


def test_login_sets_a_fresh_httponly_samesite_cookie(client: TestClient, db: Database) -> None:
    make_user(db, "ana", "analyst")
    client.cookies.set("triage_session", "planted-by-attacker")
    answer = login(client, "ana")
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie
    token = answer.cookies["triage_session"]
    assert token != "planted-by-attacker"
    # Logging in again while holding a live session replaces it: the old id stops working.
    client.cookies.clear()
    form = client.get("/dashboard/login")
    client.cookies.set("triage_session", token)
    again = client.post(
        "/dashboard/login",
        data={"username": "ana", "password": "correct horse battery",
              "login_token": csrf_of(form.text.replace("login_token", "csrf_token"))},
        headers=ORIGIN,
        follow_redirects=False,
    )  # fmt: skip
    assert again.status_code == 303
    assert again.cookies["triage_session"] != token
    with db.session() as db_session:
        assert len(db_session.scalars(select(DashboardSession)).all()) == 1


def test_secure_cookie_when_configured(app: FastAPI, db: Database, settings: object) -> None:
    from service.dashboard.mount import build_dashboard

    secure = build_dashboard(app, app.state.settings, DashboardSettings(cookie_secure=True))
    outer = FastAPI()
    outer.mount("/dashboard", secure)
    make_user(db, "ana", "analyst")
    with TestClient(outer, base_url="https://testserver") as https_client:
        form = https_client.get("/dashboard/login")
        assert "Secure" in form.headers["set-cookie"]
        answer = https_client.post(
            "/dashboard/login",
            data={"username": "ana", "password": "correct horse battery",
                  "login_token": csrf_of(form.text.replace("login_token", "csrf_token"))},
            headers={"Origin": "https://testserver"},
            follow_redirects=False,
        )  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["set-cookie"].startswith("__Host-triage_session=")
    assert "Secure" in answer.headers["set-cookie"]


def test_logout_ends_the_session_on_the_server(analyst: TestClient) -> None:
    token = analyst.cookies["triage_session"]
    page = analyst.get("/dashboard/")
    assert (
        analyst.post("/dashboard/logout", data={"csrf_token": csrf_of(page.text)}, headers=ORIGIN).status_code
        == 200
    )
    analyst.cookies.set("triage_session", token)
    assert (
        analyst.get("/dashboard/", follow_redirects=False).headers["location"].startswith("/dashboard/login")
    )


def test_idle_session_expires(analyst: TestClient, db: Database) -> None:
    with db.session() as db_session:
        db_session.execute(update(DashboardSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
        db_session.commit()
    answer = analyst.get("/dashboard/", follow_redirects=False)
    assert answer.status_code == 303
    with db.session() as db_session:
        assert db_session.scalars(select(DashboardSession)).all() == []


def test_login_limit_is_shared_by_every_process(app: FastAPI, client: TestClient, db: Database) -> None:
    from service.app import create_app

    make_user(db, "ana", "analyst")
    for _ in range(5):
        assert login(client, "ana", "wrong password").status_code == 401
    # A second app on the same database stands for another API process behind the load balancer.
    other = create_app(
        app.state.settings, db=db, analyzer=app.state.analyzer, redis_url="redis://127.0.0.1:1/0"
    )
    with TestClient(other) as second:
        answer = login(second, "ana")
    assert answer.status_code == 429
    with db.session() as db_session:
        outcomes = db_session.scalars(select(AuditEntry.outcome).where(AuditEntry.action == "login")).all()
    assert outcomes.count("failed") == 5
    assert outcomes[-1] == "rate-limited"


def test_login_without_its_form_token_is_refused(client: TestClient, db: Database) -> None:
    make_user(db, "ana", "analyst")
    client.get("/dashboard/login")
    answer = client.post(
        "/dashboard/login", data={"username": "ana", "password": "correct horse battery"}, headers=ORIGIN
    )
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/dashboard/cases/1", "/dashboard/cases/1"),
        ("//evil.example/dashboard/", "/dashboard/"),
        ("https://evil.example/", "/dashboard/"),
        ("/dashboard/\\evil", "/dashboard/"),
        (None, "/dashboard/"),
    ],
)
def test_redirects_stay_on_the_dashboard(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_a_nul_in_a_dashboard_form_gets_the_dashboard_error_page_and_no_login(
    client: TestClient, db: Database
) -> None:
    make_user(db, "ana", "analyst")
    form = client.get("/dashboard/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token
    answer = client.post(
        "/dashboard/login",
        content=f"username=ana%00&password=correct+horse+battery&login_token={token.group(1)}",
        headers={**ORIGIN, "Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert "contains a NUL character" in answer.text
    assert COOKIE not in answer.headers.get("set-cookie", ""), "no session was opened"


def test_an_unknown_dashboard_page_is_the_dashboard_error_page(client: TestClient) -> None:
    answer = client.get("/dashboard/no-such-page")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Not Found" in answer.text
