"""The dashboard pages over a real app and database: queue, case page, actions, merge, other pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.unit.dashboard.conftest import ORIGIN, csrf_of, post_report


def test_queue_lists_a_posted_high_risk_report_with_lane_counts(
    analyst: TestClient, reporter_key: str
) -> None:
    report = post_report(analyst, reporter_key, "sms_critical.json")
    page = analyst.get("/dashboard/")
    assert page.status_code == 200
    assert f'data-case-id="{report["case_id"]}"' in page.text
    assert re.search(r'data-lane="urgent">urgent: <strong>1</strong>', page.text)
    rows = analyst.get("/dashboard/queue/rows")
    assert report["case_id"] in rows.text
    assert "<html" not in rows.text


def test_case_page_highlights_evidence_and_shows_panels(analyst: TestClient, reporter_key: str) -> None:
    report = post_report(analyst, reporter_key, "sms_critical.json")
    page = analyst.get(f"/dashboard/cases/{report['case_id']}")
    assert page.status_code == 200
    marks = re.findall(r'<mark class="hit" title="([^"]+)"[^>]*>([^<]+)</mark>', page.text)
    assert any("threat.violence.direct" in title and "giết" in text for title, text in marks)
    assert "Viettel" in page.text
    assert "portability" in page.text
    assert "0011004455667" in page.text


def test_one_click_verdict_takes_the_case_off_the_queue(analyst: TestClient, reporter_key: str) -> None:
    report = post_report(analyst, reporter_key, "sms_critical.json")
    page = analyst.get("/dashboard/")
    answer = analyst.post(
        f"/dashboard/cases/{report['case_id']}/act",
        data={
            "csrf_token": csrf_of(page.text),
            "action": "close",
            "resolution": "threat_confirmed",
            "next": "/dashboard/",
        },
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard/"
    assert report["case_id"] not in analyst.get("/dashboard/").text
    case = analyst.get(f"/dashboard/cases/{report['case_id']}")
    assert "threat_confirmed" in case.text


def test_merging_two_cases_leaves_one_in_one_campaign(analyst: TestClient, reporter_key: str) -> None:
    first = post_report(analyst, reporter_key, "sms_critical.json")
    second = post_report(analyst, reporter_key, "sms_second.json")
    page = analyst.get("/dashboard/")
    answer = analyst.post(
        "/dashboard/cases/merge",
        data={"csrf_token": csrf_of(page.text), "case_ids": [first["case_id"], second["case_id"]]},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert answer.status_code == 303
    primary = answer.headers["location"].rsplit("/", 1)[1]
    assert primary in {first["case_id"], second["case_id"]}
    merged = analyst.get(answer.headers["location"])
    assert "Campaign" in merged.text
    assert "2 report(s)" in merged.text
    queue = analyst.get("/dashboard/").text
    assert queue.count('class="case-row') == 1


def test_other_pages_render(admin: TestClient, reporter_key: str) -> None:
    post_report(admin, reporter_key, "sms_critical.json")
    for path in ("/dashboard/stats", "/dashboard/rules", "/dashboard/audit"):
        page = admin.get(path)
        assert page.status_code == 200, (path, page.text[:2000])
    assert "<svg" in admin.get("/dashboard/stats").text
    assert "threat.violence.direct" in admin.get("/dashboard/rules").text
    assert "login" in admin.get("/dashboard/audit").text
