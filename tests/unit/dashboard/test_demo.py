"""`make run`'s demo queue: the demo reports are valid and most of them land in the review queue."""

from __future__ import annotations

import json

from service.analysis.pipeline import Analyzer
from service.cli.demo import demo_reports
from service.db import utcnow
from service.ingest.requests import submission_from_body


def test_demo_reports_are_valid_and_fill_the_queue(analyzer: Analyzer) -> None:
    bodies = demo_reports()
    references = [body["reference"] for body in bodies]
    assert len(set(references)) == len(references)  # fixed and distinct: a restart replays them
    levels, queued = [], 0
    for body in bodies:
        submission = submission_from_body(
            json.dumps(body).encode(), content_type="application/json", idempotency_key=None
        )
        analysis = analyzer.analyze(submission.report, now=utcnow())
        levels.append(analysis["risk"]["level"])
        queued += Analyzer.is_queued(analysis)
    assert queued >= 4
    assert "low" in levels  # and a benign one, so a newcomer sees what stays out of the queue
    assert {body["channel"] for body in bodies} == {"sms", "email"}
