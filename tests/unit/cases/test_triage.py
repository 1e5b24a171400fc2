"""triage_report on a real database: campaigns, folding, the escalation ladder, idempotency; and /v1/cases."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.cases.models import Case, CaseEvent
from service.cases.triage import TriagePolicy, triage_report, triage_reports
from service.db import Database, utcnow
from service.ingest.models import Report
from service.jobs.models import OutboxMessage
from service.notify.service import NOTIFY_JOB
from tests.conftest import FILES, new_key

POLICY = TriagePolicy(lanes={"critical": "urgent", "high": "review"})
PRIZE = "Chúc mừng thuê bao {} đã trúng thưởng xe SH, vui lòng liên hệ tổng đài để nhận giải trước ngày 30/11"


def post_sms(client: TestClient, headers: dict[str, str], *, sender: str, text: str, victim: str) -> dict:
    body = {"channel": "sms", "reporter": {"msisdn": victim}, "sms": {"sender": sender, "text": text}}
    response = client.post("/v1/reports", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def triage_all(db: Database, report_ids: list[str]) -> None:
    for report_id in report_ids:
        with db.session() as db_session:
            triage_report(db_session=db_session, report_id=report_id, policy=POLICY, now=utcnow())
            db_session.commit()


def test_one_prepaid_sender_and_many_victims_become_one_escalated_campaign(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    reports = [
        post_sms(
            client,
            auth,
            sender="0961234567",
            text=PRIZE.format(f"09123456{i:02d}"),
            victim=f"09123456{i:02d}",
        )
        for i in range(6)
    ]
    assert all(report["case_id"] is None for report in reports), "each report alone scores low"
    triage_all(db, [report["id"] for report in reports])
    with db.session() as db_session:
        [case] = db_session.scalars(select(Case)).all()
        assert (case.level, case.lane, case.status, case.report_count) == ("high", "review", "new", 6)
        assert case.enriched_at is not None
        assert case.sla_due_at is not None
    reader = {"Authorization": f"Bearer {new_key(db, reporter='analysts', scopes=['cases:read'])}"}
    detail = client.get(f"/v1/cases/{case.id}", headers=reader).json()
    assert detail["campaign"]["report_count"] == 6
    assert detail["campaign"]["victims"] == 6
    assert sorted(detail["report_ids"]) == sorted(report["id"] for report in reports)
    assert [event["kind"] for event in detail["timeline"]][:1] == ["opened"]
    fetched = client.get(f"/v1/reports/{reports[0]['id']}", headers=auth).json()
    assert fetched["case_id"] == case.id


def test_two_threats_sharing_a_callback_number_fold_into_one_case(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    threat = json.loads((FILES / "reports" / "sms_threat.json").read_text())["sms"]["text"]
    first = post_sms(client, auth, sender="0961111111", text=threat, victim="0912000001")
    second = post_sms(
        client, auth, sender="0962222222", text=threat + " Gọi 0977123456.", victim="0912000002"
    )
    assert first["case_id"]
    assert second["case_id"]
    assert first["case_id"] != second["case_id"]
    triage_all(db, [first["id"], second["id"]])
    triage_all(db, [first["id"], second["id"]])  # a retried job changes nothing
    with db.session() as db_session:
        primary = db_session.get(Case, first["case_id"])
        duplicate = db_session.get(Case, second["case_id"])
        assert primary is not None
        assert duplicate is not None
        assert (primary.status, primary.report_count) == ("new", 2)
        assert (duplicate.status, duplicate.resolution, duplicate.merged_into) == (
            "closed",
            "duplicate",
            primary.id,
        )
        merged_events = db_session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.kind == "merged"))
        assert merged_events == 1


def test_reports_outside_the_window_do_not_link(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    old = post_sms(client, auth, sender="0963333333", text=PRIZE.format("0912345601"), victim="0912345601")
    new = post_sms(client, auth, sender="0963333333", text=PRIZE.format("0912345602"), victim="0912345602")
    with db.session() as db_session:
        later = utcnow() + timedelta(days=31)
        triage_report(db_session=db_session, report_id=new["id"], policy=POLICY, now=later)
        db_session.commit()
    with db.session() as db_session:
        from service.ingest.models import Report

        assert db_session.get(Report, new["id"]).campaign_id is None  # type: ignore[union-attr]
        assert db_session.get(Report, old["id"]).campaign_id is None  # type: ignore[union-attr]


def test_case_actions_over_the_api(client: TestClient, auth: dict[str, str], db: Database) -> None:
    threat = json.loads((FILES / "reports" / "sms_threat.json").read_text())["sms"]["text"]
    case_id = post_sms(client, auth, sender="0964444444", text=threat, victim="0912000003")["case_id"]
    analyst = {"Authorization": f"Bearer {new_key(db, reporter='soc', scopes=['cases:read', 'cases:write'])}"}
    listed = client.get("/v1/cases?status=new", headers=analyst).json()["cases"]
    assert [case["id"] for case in listed] == [case_id]
    claimed = client.post(f"/v1/cases/{case_id}/actions", json={"action": "claim"}, headers=analyst).json()
    assert (claimed["status"], claimed["assignee"]) == ("triage", "key:soc")
    no_reason = client.post(f"/v1/cases/{case_id}/actions", json={"action": "close"}, headers=analyst)
    assert no_reason.status_code == 422
    closed = client.post(
        f"/v1/cases/{case_id}/actions",
        json={"action": "close", "resolution": "threat_confirmed", "note": "Called the victim back."},
        headers=analyst,
    ).json()
    assert (closed["status"], closed["resolution"]) == ("closed", "threat_confirmed")
    assert [event["kind"] for event in closed["timeline"]] == ["assigned", "status", "status", "note"]
    again = client.post(f"/v1/cases/{case_id}/actions", json={"action": "escalate"}, headers=analyst)
    assert again.status_code == 409
    reporter_only = client.get("/v1/cases", headers=auth)
    assert reporter_only.status_code == 403


def test_hand_check_thirty_victims_of_one_prepaid_sender(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    """The issue's hand check: 30 SMS from one prepaid sender to 30 victims make one escalated case."""
    facts = {"subscription": "prepaid", "identity_verified": False, "sent_24h": 400, "recipients_24h": 380}
    ids = []
    for i in range(30):
        body = {
            "channel": "sms",
            "reporter": {"msisdn": f"09130000{i:02d}"},
            "sms": {
                "sender": "0965555555",
                "text": PRIZE.format(f"09130000{i:02d}"),
                "operator_facts": facts,
            },
        }
        response = client.post("/v1/reports", json=body, headers=auth)
        assert response.status_code == 201
        ids.append(response.json()["id"])
    triage_all(db, ids)
    with db.session() as db_session:
        open_cases = db_session.scalars(select(Case).where(Case.status != "closed")).all()
        assert len(open_cases) == 1
        [case] = open_cases
        assert (case.status, case.level, case.lane, case.report_count) == (
            "escalated",
            "critical",
            "urgent",
            30,
        )


def test_a_batch_triages_like_single_jobs_and_a_rerun_changes_nothing(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    """The worker triages in batches: the same campaign, case and count as one job per report."""
    ids = [
        post_sms(
            client,
            auth,
            sender=f"09655500{i:02d}",
            text=PRIZE.format(f"091300{i:04d}"),
            victim=f"091300{i:04d}",
        )["id"]
        for i in range(12)
    ]
    for batch in (ids[:5], ids[5:]):
        with db.session() as db_session:
            assert triage_reports(
                db_session=db_session, report_ids=batch, policy=POLICY, now=utcnow()
            ) == len(batch)
            db_session.commit()
    with db.session() as db_session:
        assert triage_reports(db_session=db_session, report_ids=ids, policy=POLICY, now=utcnow()) == 0
        [campaign_id] = db_session.scalars(select(Report.campaign_id).distinct()).all()
        assert campaign_id is not None
        [case] = db_session.scalars(select(Case).where(Case.status != "closed")).all()
        assert (case.level, case.report_count, case.campaign_id) == ("high", 12, campaign_id)
        assert db_session.scalar(select(func.count(Report.id)).where(Report.enriched_at.is_(None))) == 0


def test_a_batch_of_threats_folds_every_case_into_one_and_queues_one_notice(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    """Each threat opens its own case at intake; one batch folds them all, counts them, and notifies once."""
    threat = json.loads((FILES / "reports" / "sms_threat.json").read_text())
    ids = []
    for i in range(8):
        body = threat | {"reference": f"fold-{i}", "reporter": {"msisdn": f"09123400{i:02d}"}}
        body["sms"] = threat["sms"] | {"sender": f"09612300{i:02d}"}  # linked by the account number alone
        report = client.post("/v1/reports", json=body, headers=auth).json()
        assert report["case_id"] is not None
        ids.append(report["id"])
    policy = TriagePolicy(lanes=POLICY.lanes, notify_critical=True)
    with db.session() as db_session:
        assert triage_reports(db_session=db_session, report_ids=ids, policy=policy, now=utcnow()) == 8
        db_session.commit()
    with db.session() as db_session:
        [case] = db_session.scalars(select(Case).where(Case.status != "closed")).all()
        assert case.report_count == 8
        assert db_session.scalar(select(func.count(Report.id)).where(Report.case_id == case.id)) == 8
        folded = db_session.scalars(select(Case).where(Case.status == "closed")).all()
        assert len(folded) == 7
        assert {(c.resolution, c.merged_into, c.report_count) for c in folded} == {("duplicate", case.id, 0)}
        notices = db_session.scalars(select(OutboxMessage).where(OutboxMessage.job == NOTIFY_JOB)).all()
        assert case.level == "critical"
        assert [notice.subject_id for notice in notices] == [case.id]
