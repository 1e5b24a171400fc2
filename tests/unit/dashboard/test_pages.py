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


def test_rows_count_similar_cases_from_the_same_sender(analyst: TestClient, reporter_key: str) -> None:
    first = post_report(analyst, reporter_key, "sms_critical.json")["case_id"]
    post_report(analyst, reporter_key, "sms_hostile.json")  # the same sender, another case
    alone = post_report(analyst, reporter_key, "sms_second.json")["case_id"]
    page = analyst.get("/dashboard/").text

    def similar(case_id: str) -> str:
        found = re.search(rf'data-case-id="{case_id}".*?<td class="num similar">(\d+)</td>', page, re.S)
        assert found
        return found.group(1)

    assert similar(first) == "1"
    assert similar(alone) == "0"


def test_verdicts_give_each_rule_its_precision(analyst: TestClient, reporter_key: str) -> None:
    confirmed = post_report(analyst, reporter_key, "sms_critical.json")["case_id"]
    rejected = post_report(analyst, reporter_key, "sms_second.json")["case_id"]
    token = csrf_of(analyst.get("/dashboard/").text)
    for case_id, resolution in ((confirmed, "threat_confirmed"), (rejected, "not_a_threat")):
        analyst.post(
            f"/dashboard/cases/{case_id}/act",
            data={"csrf_token": token, "action": "close", "resolution": resolution},
            headers=ORIGIN,
        )
    rules = analyst.get("/dashboard/rules").text
    # threat.violence.direct hit both messages: one confirmed, one rejected.
    row = re.search(r"threat\.violence\.direct</td>.*?</tr>", rules, re.S)
    assert row
    assert [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', row.group(0))][-2:] == [1, 1]
    assert "50%" in row.group(0)
    stats = analyst.get("/dashboard/stats").text
    assert "&lt; 1 h: 2" in stats  # both verdicts within the hour


def test_campaign_page_lists_reports_and_shared_entities(analyst: TestClient, reporter_key: str) -> None:
    first = post_report(analyst, reporter_key, "sms_critical.json")["case_id"]
    second = post_report(analyst, reporter_key, "sms_hostile.json")["case_id"]
    page = analyst.get("/dashboard/")
    merged = analyst.post(
        "/dashboard/cases/merge",
        data={"csrf_token": csrf_of(page.text), "case_ids": [first, second]},
        headers=ORIGIN,
    )
    campaign = re.search(r'href="(/dashboard/campaigns/[0-9a-f-]+)"', merged.text)
    assert campaign
    body = analyst.get(campaign.group(1)).text
    assert "+84961234567" in body  # the shared sender
    assert body.count('<span class="level level-') == 2
    assert "Victims per day" in body


def test_rules_page_shows_what_a_shadow_rule_would_have_hit(analyst: TestClient, reporter_key: str) -> None:
    report = post_report(analyst, reporter_key, "sms_critical.json")
    shadow = [hit["rule"] for hit in report["hits"] if hit["shadow"]]
    assert shadow, "the fixture should hit a shadow rule"
    rules = analyst.get("/dashboard/rules").text
    row = re.search(re.escape(shadow[0]) + r" <span class=\"tag\">shadow</span></td>.*?</tr>", rules, re.S)
    assert row, rules[rules.find(shadow[0]) - 300 : rules.find(shadow[0]) + 800]
    assert f'href="/dashboard/cases/{report["case_id"]}"' in row.group(0)
