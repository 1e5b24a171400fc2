"""The critical-case webhook, against a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.cases.triage import TriagePolicy, triage_report
from service.db import Database, utcnow
from service.jobs.models import OutboxMessage
from service.notify.service import NOTIFY_JOB, notify_case
from service.notify.webhook import SIGNATURE_HEADER, WebhookError
from tests.conftest import FILES

SECRET = "webhook-test-secret"


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    statuses: ClassVar[list[int]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(Receiver.statuses.pop(0) if Receiver.statuses else 204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received, Receiver.statuses = [], []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def critical_case(client: TestClient, auth: dict[str, str], db: Database) -> str:
    body = json.loads((FILES / "reports" / "sms_threat.json").read_text())
    report = client.post("/v1/reports", json=body, headers=auth).json()
    assert report["risk"]["level"] == "critical", report["risk"]
    with db.session() as db_session:
        policy = TriagePolicy(notify_critical=True)
        triage_report(db_session=db_session, report_id=report["id"], policy=policy, now=utcnow())
        db_session.commit()
    return str(report["case_id"])


def test_a_critical_case_is_noticed_once_signed_and_without_message_text(
    client: TestClient, auth: dict[str, str], db: Database, receiver: str
) -> None:
    case_id = critical_case(client, auth, db)
    with db.session() as db_session:
        jobs = db_session.scalars(select(OutboxMessage).where(OutboxMessage.job == NOTIFY_JOB)).all()
        assert [(job.queue, job.subject_id) for job in jobs] == [("critical", case_id)]
    Receiver.statuses = [500]
    for expected in (WebhookError, None, None):
        with db.session() as db_session:
            if expected is WebhookError:
                with pytest.raises(WebhookError, match="500"):
                    notify_case(db_session=db_session, case_id=case_id, url=receiver, secret=SECRET,
                                public_url="https://triage.example", now=utcnow())  # fmt: skip
            else:
                notify_case(db_session=db_session, case_id=case_id, url=receiver, secret=SECRET,
                            public_url="https://triage.example", now=utcnow())  # fmt: skip
            db_session.commit()
    assert len(Receiver.received) == 2, "one failed attempt, one delivery, and no third"
    headers, body = Receiver.received[-1]
    expected_signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == expected_signature
    payload = json.loads(body)
    assert (payload["case_id"], payload["level"]) == (case_id, "critical")
    assert payload["url"] == f"https://triage.example/dashboard/cases/{case_id}"
    for secret_text in (b"0961234567", b"84961234567", "giết".encode(), b"0912345678"):
        assert secret_text not in body


def test_unreachable_webhook_raises_for_a_retry(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    case_id = critical_case(client, auth, db)
    with db.session() as db_session, pytest.raises(WebhookError, match="unreachable"):
        notify_case(db_session=db_session, case_id=case_id, url="http://127.0.0.1:1/hook", secret=None,
                    public_url="http://x", now=utcnow())  # fmt: skip
