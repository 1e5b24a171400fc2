"""Rescoring after a rules change, and the retention purge, on a real database."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from service.analysis.pipeline import Analyzer
from service.audit.models import AuditEntry
from service.cases.models import Case, CaseEvent
from service.cases.rescore import rescore_open_cases
from service.cases.retention import purge_expired
from service.cases.service import act_on_case
from service.db import Database, utcnow
from service.ingest.models import Report
from tests.conftest import FILES


def post_threat(client: TestClient, auth: dict[str, str], reference: str) -> dict:
    body = json.loads((FILES / "reports" / "sms_threat.json").read_text())
    body["reference"] = reference
    response = client.post("/v1/reports", json=body, headers=auth)
    assert response.status_code == 201
    return response.json()


def test_open_cases_are_rescored_and_the_old_score_is_kept(
    client: TestClient, auth: dict[str, str], db: Database, analyzer: Analyzer
) -> None:
    report = post_threat(client, auth, "rescore-1")
    with db.session() as db_session:
        stored = db_session.get(Report, report["id"])
        assert stored is not None
        stored.ruleset_version, stored.score, stored.level = "sha256:old", 3.0, "low"
        db_session.commit()
    with db.session() as db_session:
        assert rescore_open_cases(db_session=db_session, analyzer=analyzer, now=utcnow()) == 1
        assert rescore_open_cases(db_session=db_session, analyzer=analyzer, now=utcnow()) == 0
    with db.session() as db_session:
        stored = db_session.get(Report, report["id"])
        assert stored is not None
        assert stored.ruleset_version == analyzer.rules.current.version
        assert stored.level == report["risk"]["level"]
        assert [(old["version"], old["score"], old["level"]) for old in stored.rescores or []] == [
            ("sha256:old", 3.0, "low")
        ]
        kinds = db_session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == report["case_id"])).all()
        assert "rescored" in kinds


def test_retention_anonymises_only_old_non_threat_cases(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    dismissed = post_threat(client, auth, "retention-1")
    confirmed = post_threat(client, auth, "retention-2")
    long_ago = utcnow() - timedelta(days=100)
    with db.session() as db_session:
        for report, resolution in ((dismissed, "not_a_threat"), (confirmed, "threat_confirmed")):
            case = db_session.get(Case, report["case_id"])
            assert case is not None
            act_on_case(db_session=db_session, case=case, action="close", actor="lan", now=long_ago,
                        resolution=resolution)  # fmt: skip
        db_session.commit()
    with db.session() as db_session:
        assert purge_expired(db_session=db_session, retention_days=90, now=utcnow()) == 1
        assert purge_expired(db_session=db_session, retention_days=90, now=utcnow()) == 0
    with db.session() as db_session:
        purged = db_session.get(Report, dismissed["id"])
        kept = db_session.get(Report, confirmed["id"])
        assert purged is not None and kept is not None  # noqa: PT018
        assert purged.raw == b""
        assert purged.purged_at is not None
        leftover = json.dumps(purged.analysis, ensure_ascii=False)
        for secret in ("0961234567", "+84961234567", "giết", "0011004455667"):
            assert secret not in leftover
        assert purged.analysis["risk"] == dismissed["risk"]
        assert kept.raw != b""
        assert kept.purged_at is None
        [entry] = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "purge")).all()
        assert dismissed["id"] in entry.detail["reports"]
