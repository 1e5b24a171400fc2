"""Pure parts of the dashboard: highlighting, diacritic-free search, queue order, filters, charts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from service.cases.models import Case
from service.dashboard.charts import horizontal_bars, stacked_columns
from service.dashboard.filters import duration, show
from service.dashboard.message import segments
from service.dashboard.queue import QueueRow, sort_key
from service.dashboard.textsearch import fold, matches
from tests.unit.dashboard.conftest import post_report

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def hit(rule: str, score: float, *spans: tuple[int, int, str]) -> dict[str, object]:
    return {
        "rule": rule,
        "score": score,
        "evidence": [{"field": "text", "text": t, "span": [s, e]} for s, e, t in spans],
    }


def test_segments_mark_overlapping_evidence_and_skip_spans_that_do_not_match() -> None:
    text = "tao sẽ giết mày"
    pieces = segments(
        text, [hit("a", 8, (0, 11, "tao sẽ giết")), hit("b", 4, (7, 11, "giết"), (0, 3, "xyz"))]
    )
    assert "".join(piece.text for piece in pieces) == text
    assert [(piece.text, piece.rules) for piece in pieces] == [
        ("tao sẽ ", ("a",)), ("giết", ("a", "b")), (" mày", ()),
    ]  # fmt: skip
    assert pieces[1].score == 12


def test_text_search_ignores_case_and_diacritics() -> None:
    assert fold("Đà Nẵng GIẾT") == "da nang giet"
    assert matches("giet ca nha", "tao sẽ giết cả nhà mày")
    assert not matches("giet con", "tao sẽ giết cả nhà mày")


def case(lane: str, level: str, due_hours: float | None, age_hours: float) -> QueueRow:
    due = NOW + timedelta(hours=due_hours) if due_hours is not None else None
    row = Case(id=f"{lane}-{level}-{due_hours}-{age_hours}", lane=lane, level=level, score=1.0,
               sla_due_at=due, created_at=NOW - timedelta(hours=age_hours))  # fmt: skip
    return QueueRow(row, {})


def test_queue_order_is_lane_then_sla_then_level_then_age() -> None:
    rows = [
        case("review", "critical", 1, 1),
        case("urgent", "high", 2, 1),
        case("urgent", "high", 1, 1),
        case("urgent", "critical", 1, 1),
        case("urgent", "critical", 1, 5),
        case("urgent", "high", None, 9),
    ]
    ordered = [row.case.id for row in sorted(rows, key=sort_key)]
    assert ordered == [
        "urgent-critical-1-5", "urgent-critical-1-1", "urgent-high-1-1", "urgent-high-2-1",
        "urgent-high-None-9", "review-critical-1-1",
    ]  # fmt: skip


def test_filters_narrow_the_queue(analyst: TestClient, reporter_key: str) -> None:
    critical = post_report(analyst, reporter_key, "sms_critical.json")["case_id"]
    other = post_report(analyst, reporter_key, "sms_second.json")["case_id"]
    both = {critical, other}
    checks = {
        "q=ca nha may": {critical},
        "q=LIÊN hệ": {other},
        "q=giet": both,
        "lane=watch": set(),
        "level=critical": {critical},
        "carrier=viettel": both,
        "channel=email": set(),
        "rule=threat.": both,
        "rule=nothing.like.this": set(),
        "country=VN&asn=&since=2000-01-01": both,
        "until=2000-01-01": set(),
        "asn=AS13335": set(),
    }
    for query, expected in checks.items():
        page = analyst.get(f"/dashboard/?{query}").text
        shown = {case_id for case_id in both if f'data-case-id="{case_id}"' in page}
        assert shown == expected, query


def test_unknown_is_said_and_durations_read_well() -> None:
    assert show(None) == "unknown"
    assert show(False) == "no"
    assert show(0) == "0"
    assert duration(timedelta(hours=2, minutes=5)) == "2h 05m"
    assert duration(-90) == "-1m"
    assert duration(timedelta(days=3, hours=4)) == "3d 4h"


def test_charts_scale_to_their_peak() -> None:
    chart = stacked_columns("t", [("a", {"high": 2, "low": 2}), ("b", {"high": 1})], ("low", "high"))
    tallest = sum(bar.height for bar in chart.bars if bar.label.startswith("a "))
    assert round(tallest) == 220 - 60
    bars = horizontal_bars("t", [("x", 4), ("y", 2)]).bars
    assert bars[0].width == 2 * bars[1].width
    assert horizontal_bars("t", []).empty
