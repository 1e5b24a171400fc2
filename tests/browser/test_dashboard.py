"""An analyst's day in a real browser: log in, see a report arrive, read it, judge it, merge, stay safe."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, Site, screenshot

pytestmark = pytest.mark.browser
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def row(page: Any, case_id: str) -> Any:
    return page.locator(f'tr[data-case-id="{case_id}"]')


def test_1_log_in(site: Site, page: Any) -> None:
    page.goto(f"{site.base_url}/dashboard/")
    assert "/dashboard/login" in page.url
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Review queue')")
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["triage_session"]["httpOnly"] is True
    assert cookies["triage_session"]["sameSite"] == "Lax"


def test_2_posted_report_appears_in_the_open_queue(site: Site, page: Any) -> None:
    page.goto(f"{site.base_url}/dashboard/")
    report = site.post_report("sms_critical.json")
    # No reload: the page refreshes itself.
    row(page, report["case_id"]).wait_for(timeout=15_000)
    assert row(page, report["case_id"]).locator(".level").inner_text() == "critical"
    screenshot(page, "queue.png")
    page.case_id = report["case_id"]


def test_3_case_page_highlights_the_evidence(site: Site, page: Any) -> None:
    row(page, page.case_id).locator("a.open-case").click()
    page.wait_for_selector("mark.hit")
    marked = page.locator("mark.hit").all_inner_texts()
    assert any("giết" in text for text in marked)
    assert "threat.violence.direct" in (page.locator("mark.hit").first.get_attribute("title") or "") or any(
        "threat.violence.direct" in (mark.get_attribute("title") or "")
        for mark in page.locator("mark.hit").all()
    )
    screenshot(page, "case.png")


def test_4_verdict_from_the_queue_takes_the_case_off_it(site: Site, page: Any) -> None:
    page.goto(f"{site.base_url}/dashboard/")
    with page.expect_navigation():
        row(page, page.case_id).locator("button[data-verdict=threat_confirmed]").click()
    assert row(page, page.case_id).count() == 0
    page.goto(f"{site.base_url}/dashboard/cases/{page.case_id}")
    assert page.locator("#case-status").inner_text() == "closed"


def test_5_merge_two_cases(site: Site, page: Any) -> None:
    first = site.post_report("sms_critical.json")
    second = site.post_report("sms_second.json")
    page.goto(f"{site.base_url}/dashboard/")
    for case_id in (first["case_id"], second["case_id"]):
        row(page, case_id).locator("input[name=case_ids]").check()
    with page.expect_navigation():
        page.click("#merge-button")
    assert "/dashboard/cases/" in page.url
    assert "2 report(s)" in page.locator("section.related").inner_text()
    page.goto(f"{site.base_url}/dashboard/")
    remaining = row(page, first["case_id"]).count() + row(page, second["case_id"]).count()
    assert remaining == 1


def test_6_hostile_message_shows_as_text_and_runs_nothing(site: Site, page: Any) -> None:
    report = site.post_report("sms_hostile.json")
    page.goto(f"{site.base_url}/dashboard/")
    row(page, report["case_id"]).wait_for()
    page.goto(f"{site.base_url}/dashboard/cases/{report['case_id']}")
    message = page.locator(".message").first
    assert HOSTILE in message.inner_text()
    assert message.locator("script, img").count() == 0
    assert page.locator(".message a").count() == 0  # the link in it is shown, not clickable
    page.wait_for_timeout(300)
    assert page.dialogs == []


def test_7_form_without_its_csrf_token_is_refused(site: Site, page: Any) -> None:
    page.goto(f"{site.base_url}/dashboard/")
    page.locator("a.open-case").first.click()
    page.wait_for_selector(".note-form")
    page.evaluate("document.querySelector('.note-form input[name=csrf_token]').remove()")
    page.fill(".note-form textarea[name=note]", "forged")
    with page.expect_navigation() as navigation:
        page.click(".note-form button[type=submit]")
    assert navigation.value.status == 403


def test_8_stats_page_draws_charts(site: Site, page: Any) -> None:
    page.goto(f"{site.base_url}/dashboard/stats")
    assert page.locator("figure.chart svg").count() >= 3
    screenshot(page, "stats.png")
