"""POST /v1/reports:batch: NDJSON, one result per line, a bad line never sinks its neighbours."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.db import Database
from service.ingest.models import Report
from tests.conftest import FILES

NDJSON = {"Content-Type": "application/x-ndjson"}


def line(reference: str, text: str = "Mai đi uống cà phê không?") -> bytes:
    body = {"channel": "sms", "reference": reference, "sms": {"sender": "0912345678", "text": text}}
    return json.dumps(body, ensure_ascii=False).encode()


def test_each_line_is_stored_or_refused_on_its_own(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    threat = json.loads((FILES / "reports" / "sms_threat.json").read_text())
    lines = [
        line("b-1"),
        b'{"channel": "sms", ',
        json.dumps({**threat, "reference": "b-3"}, ensure_ascii=False).encode(),
        b'{"channel": "sms", "sms": {"text": "no sender"}}',
        line("b-1"),
        b"",
    ]
    response = client.post("/v1/reports:batch", content=b"\n".join(lines), headers={**auth, **NDJSON})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["line"], r["status"]) for r in results] == [(1, 201), (2, 422), (3, 201), (4, 422), (5, 200)]
    assert results[4]["id"] == results[0]["id"]
    assert results[2]["queued"] is True
    assert any(error["field"] == "body.sms.sender" for error in results[3]["errors"])
    assert response.json()["summary"] == {"201": 2, "422": 2, "200": 1}
    again = client.post("/v1/reports:batch", content=b"\n".join(lines), headers={**auth, **NDJSON}).json()
    assert [r["status"] for r in again["results"]] == [200, 422, 200, 422, 200]
    with db.session() as db_session:
        assert db_session.scalar(select(func.count(Report.id))) == 2


def test_batch_limits(client: TestClient, auth: dict[str, str], db: Database) -> None:
    too_many = b"\n".join(line(f"x-{i}") for i in range(1001))
    assert client.post("/v1/reports:batch", content=too_many, headers={**auth, **NDJSON}).status_code == 413
    wrong_type = client.post(
        "/v1/reports:batch", content=line("y"), headers={**auth, "Content-Type": "text/csv"}
    )
    assert wrong_type.status_code == 415
    assert client.post("/v1/reports:batch", content=line("z"), headers=NDJSON).status_code == 401
    with db.session() as db_session:
        assert db_session.scalar(select(func.count(Report.id))) == 0
