"""The fast path takes only plain submissions, and hands every other request on exactly as it arrived."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.types import Message, Receive, Scope, Send

from service.auth.service import authenticate_key
from service.db import Database
from service.ingest.fast_path import ReportFastPath
from service.ingest.models import Report
from tests.conftest import FILES, new_key

CAP = 4096
SMS = (FILES / "reports" / "sms_threat.json").read_bytes()


def sms(reference: str) -> bytes:
    """The SMS report under a reference of its own, so that it is stored anew."""
    return SMS.replace(b"5656-2026-000123", reference.encode())


class RestOfTheApp:
    """Stands for the layers below the fast path: records what reached it and answers 299."""

    def __init__(self) -> None:
        self.received: list[Message] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.received = []
        while not self.received or self._more(self.received[-1]):
            self.received.append(await receive())
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    def _more(message: Message) -> bool:
        return message["type"] == "http.request" and bool(message.get("more_body"))


def scope_of(
    app: FastAPI, key: str, *, query: bytes = b"", headers: Sequence[tuple[bytes, bytes]] = ()
) -> Message:
    return {
        "type": "http",
        "method": "POST",
        "path": "/v1/reports",
        "root_path": "",
        "query_string": query,
        "headers": [
            (b"authorization", f"Bearer {key}".encode()),
            (b"content-type", b"application/json"),
            *headers,
        ],
        "app": app,
    }


def body_messages(*chunks: bytes, disconnect: bool = False) -> list[Message]:
    messages: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1 or disconnect}
        for i, chunk in enumerate(chunks)
    ]
    return [*messages, {"type": "http.disconnect"}] if disconnect else messages


def call(client: TestClient, scope: Message, messages: list[Message]) -> tuple[RestOfTheApp, list[Message]]:
    """Run the fast path over one request on the app's own loop; what the rest saw, and what was sent."""
    rest = RestOfTheApp()
    fast_path = ReportFastPath(rest, max_body_bytes=CAP)
    pending = list(messages)
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    async def run() -> None:
        await fast_path(scope, receive, send)

    assert client.portal is not None
    client.portal.call(run)
    return rest, sent


def answer_of(sent: list[Message]) -> tuple[int, dict[bytes, bytes], bytes]:
    start, body = sent
    return start["status"], dict(start["headers"]), body["body"]


def stored_reports(db: Database) -> int:
    with db.session() as db_session:
        return db_session.scalar(select(func.count(Report.id))) or 0


@pytest.fixture
def warm_key(client: TestClient, db: Database) -> str:
    """A key the API has already looked up once, so its key cache holds it."""
    key = new_key(db, reporter="operator-fast")
    first = client.post(
        "/v1/reports",
        content=sms("warm-up"),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert first.status_code == 201, first.text
    return key


def test_a_plain_submission_with_a_cached_key_is_answered_here(
    client: TestClient, app: FastAPI, warm_key: str, db: Database
) -> None:
    before = stored_reports(db)
    report_body = sms("fast-1")
    rest, sent = call(client, scope_of(app, warm_key), body_messages(report_body[:100], report_body[100:]))
    assert rest.received is None
    status, headers, body = answer_of(sent)
    assert status == 201
    assert headers[b"content-type"] == b"application/json"
    assert int(headers[b"content-length"]) == len(body)
    report = json.loads(body)
    assert report["channel"] == "sms"
    assert report["risk"]["level"] in {"low", "medium", "high", "critical"}
    assert stored_reports(db) == before + 1


def test_a_retry_on_the_fast_path_returns_the_first_report(
    client: TestClient, app: FastAPI, warm_key: str, db: Database
) -> None:
    scope = scope_of(app, warm_key, headers=[(b"idempotency-key", b"fast-1")])
    _, first = call(client, scope, body_messages(SMS))
    _, again = call(client, scope, body_messages(SMS))
    assert [answer_of(first)[0], answer_of(again)[0]] == [201, 200]
    assert json.loads(answer_of(first)[2])["id"] == json.loads(answer_of(again)[2])["id"]


def test_an_error_on_the_fast_path_is_the_apps_problem_document(
    client: TestClient, app: FastAPI, warm_key: str, db: Database
) -> None:
    before = stored_reports(db)
    rest, sent = call(client, scope_of(app, warm_key), body_messages(b'{"channel": "sms", "sms": {}}'))
    assert rest.received is None
    status, headers, body = answer_of(sent)
    problem = json.loads(body)
    assert (status, headers[b"content-type"]) == (422, b"application/problem+json")
    assert problem["instance"] == "/v1/reports"
    assert "body.sms.text" in {error["field"] for error in problem["errors"]}
    assert stored_reports(db) == before


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        (b"reference=r-1", []),
        (b"", [(b"x-note", b"a\x00b")]),
        (b"", [(b"idempotency-key", b"k" * 201)]),
        (b"", [(b"content-length", str(CAP + 1).encode())]),
        (b"", [(b"content-length", b"12 ")]),
        (b"", [(b"authorization", b"Bearer another")]),
    ],
    ids=[
        "query string",
        "NUL in a header",
        "long idempotency key",
        "declared over the cap",
        "odd length",
        "two keys",
    ],
)
def test_a_request_that_is_not_plain_is_handed_on_untouched(
    client: TestClient, app: FastAPI, warm_key: str, query: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    messages = body_messages(SMS[:10], SMS[10:])
    rest, sent = call(client, scope_of(app, warm_key, query=query, headers=headers), messages)
    assert rest.received == messages
    assert answer_of(sent)[0] == 299


def test_a_form_body_is_handed_on(client: TestClient, app: FastAPI, warm_key: str) -> None:
    scope = scope_of(app, warm_key)
    scope["headers"] = [scope["headers"][0], (b"content-type", b"application/x-www-form-urlencoded")]
    rest, _ = call(client, scope, body_messages(b"a=%00"))
    assert rest.received == body_messages(b"a=%00")


def test_a_key_not_in_the_cache_is_handed_on(client: TestClient, app: FastAPI, db: Database) -> None:
    rest, _ = call(client, scope_of(app, new_key(db, reporter="operator-cold")), body_messages(SMS))
    assert rest.received == body_messages(SMS)


def test_a_cached_key_without_the_write_scope_is_handed_on(
    client: TestClient, app: FastAPI, db: Database
) -> None:
    key = new_key(db, reporter="operator-reader", scopes=["reports:read"])
    with db.session() as db_session:
        principal = authenticate_key(db_session=db_session, key=key)
    assert principal is not None
    app.state.key_cache.put(key, principal)
    rest, _ = call(client, scope_of(app, key), body_messages(SMS))
    assert rest.received == body_messages(SMS)


def test_a_body_that_outgrows_the_cap_is_replayed_in_full(
    client: TestClient, app: FastAPI, warm_key: str, db: Database
) -> None:
    before = stored_reports(db)
    messages = body_messages(b"x" * 3000, b"y" * 3000, b"z" * 10)
    rest, _ = call(client, scope_of(app, warm_key), messages)
    assert rest.received == messages
    assert stored_reports(db) == before


def test_a_client_that_leaves_mid_body_is_handed_on_with_what_it_sent(
    client: TestClient, app: FastAPI, warm_key: str
) -> None:
    messages = body_messages(SMS[:50], disconnect=True)
    rest, _ = call(client, scope_of(app, warm_key), messages)
    assert rest.received == messages


def test_through_the_app_a_chunked_body_over_the_cap_with_a_cached_key_is_413(
    client: TestClient, warm_key: str, db: Database, app: FastAPI
) -> None:
    cap = app.state.settings.max_body_bytes
    before = stored_reports(db)

    def chunks() -> Any:
        for _ in range(cap // 65536 + 2):
            yield b"x" * 65536

    response = client.post(
        "/v1/reports",
        content=chunks(),
        headers={"Authorization": f"Bearer {warm_key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert stored_reports(db) == before


class FailingIntake:
    """An intake that fails as a bug would: not with a ProblemError."""

    async def answer(self, request: object) -> None:
        raise RuntimeError("the intake broke")


def test_a_bug_on_the_fast_path_is_a_500_problem_document(
    client: TestClient, app: FastAPI, warm_key: str, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = stored_reports(db)
    monkeypatch.setattr(app.state, "intake", FailingIntake())
    rest, sent = call(client, scope_of(app, warm_key), body_messages(SMS))
    assert rest.received is None
    status, headers, body = answer_of(sent)
    assert (status, headers[b"content-type"]) == (500, b"application/problem+json")
    assert json.loads(body)["detail"] == "An internal error occurred; it has been logged."
    assert stored_reports(db) == before


def test_the_app_takes_plain_submissions_before_its_own_layers(
    client: TestClient, app: FastAPI, warm_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    layers = app.middleware_stack
    assert layers is not None  # built by the warm-up request
    seen: list[bytes] = []

    async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope.get("query_string", b""))
        await layers(scope, receive, send)

    monkeypatch.setattr(app, "middleware_stack", recorded)
    headers = {"Authorization": f"Bearer {warm_key}", "Content-Type": "application/json"}
    fast = client.post("/v1/reports", content=sms("front-1"), headers=headers)
    slow = client.post("/v1/reports?reference=front-2", content=sms("front-2"), headers=headers)
    assert (fast.status_code, slow.status_code) == (201, 201)
    assert seen == [b"reference=front-2"]  # the plain submission never reached FastAPI's layers
