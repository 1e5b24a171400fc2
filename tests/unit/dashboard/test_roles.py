"""The role × route matrix: anonymous, a reporter's API key, an analyst and an admin over every route."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from service.campaigns.models import Campaign
from service.dashboard.mount import ROUTERS
from service.db import Database, utcnow
from tests.unit.dashboard.conftest import ORIGIN, csrf_of, login, make_user, post_report

ROLES = ("anonymous", "reporter", "analyst", "admin")
# (method, route path) -> expected status for anonymous, reporter, analyst, admin.
# 303 on a page for anonymous and reporter is the redirect to the login form: API keys never open it.
MATRIX: dict[tuple[str, str], tuple[int, int, int, int]] = {
    ("GET", "/login"): (200, 200, 303, 303),
    ("POST", "/login"): (403, 403, 403, 403),
    ("POST", "/logout"): (403, 403, 303, 303),
    ("GET", "/"): (303, 303, 200, 200),
    ("GET", "/queue/rows"): (303, 303, 200, 200),
    ("POST", "/cases/merge"): (403, 403, 303, 303),
    ("GET", "/cases/{case_id}"): (303, 303, 200, 200),
    ("POST", "/cases/{case_id}/act"): (403, 403, 303, 303),
    ("GET", "/campaigns/{campaign_id}"): (303, 303, 200, 200),
    ("GET", "/rules"): (303, 303, 200, 200),
    ("POST", "/rules/reload"): (403, 403, 403, 303),
    ("GET", "/stats"): (303, 303, 200, 200),
    ("GET", "/audit"): (303, 303, 403, 200),
}
# Logout and merge change what later requests see, so they go last.
LAST = [("POST", "/cases/merge"), ("POST", "/logout")]
ORDER = sorted(MATRIX, key=lambda route: LAST.index(route) + 1 if route in LAST else 0)


def test_the_matrix_covers_every_dashboard_route() -> None:
    routes = {
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD"
    }
    assert len(routes) > 10
    assert routes == set(MATRIX)


@pytest.mark.parametrize("role", ROLES)
def test_role_by_route(role: str, client: TestClient, db: Database, reporter_key: str) -> None:
    first = post_report(client, reporter_key, "sms_critical.json")["case_id"]
    second = post_report(client, reporter_key, "sms_second.json")["case_id"]
    campaign_id = str(uuid.uuid4())
    with db.session() as db_session:
        db_session.add(Campaign(id=campaign_id, created_at=utcnow()))
        db_session.commit()
    headers = dict(ORIGIN)
    token = "not-a-token"
    if role == "reporter":
        headers["Authorization"] = f"Bearer {reporter_key}"
    elif role != "anonymous":
        make_user(db, f"user-{role}", role)
        assert login(client, f"user-{role}").status_code == 303
        token = csrf_of(client.get("/dashboard/").text)
    values = {"case_id": first, "campaign_id": campaign_id}
    forms = {
        "/cases/merge": {"case_ids": [first, second]},
        "/cases/{case_id}/act": {"action": "note", "note": "seen"},
        "/login": {"username": "x", "password": "y"},
    }
    seen = {}
    for method, path in ORDER:
        url = "/dashboard" + path.format(**values)
        if method == "GET":
            answer = client.get(url, headers=headers, follow_redirects=False)
        else:
            data = {"csrf_token": token, **forms.get(path, {})}
            answer = client.post(url, data=data, headers=headers, follow_redirects=False)
        seen[(method, path)] = answer.status_code
    expected = {route: statuses[ROLES.index(role)] for route, statuses in MATRIX.items()}
    assert seen == expected
