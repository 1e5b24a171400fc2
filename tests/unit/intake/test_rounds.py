"""A round of reports, taken stage by stage, answers each report as it would be answered alone."""

from __future__ import annotations

import asyncio

import orjson

from service.analysis.pipeline import Analyzer
from service.db import Database
from service.errors import ProblemError
from service.ingest.writer import GroupWriter
from service.intake.answer import IntakeParts, ReportAnswer, ReportRequest, answer_round
from service.intake.process import MIN_REPORTS_PER_ROUND, REPORTS_PER_ROUND, round_size
from tests.unit.ingest.test_writer import POLICY, principal, stored

JSON = "application/json"


def sms(reference: str, text: str = "Chuyen tien ngay") -> bytes:
    return orjson.dumps(
        {"channel": "sms", "reference": reference, "sms": {"sender": "0912345678", "text": text}}
    )


def test_each_report_of_a_round_gets_its_own_answer(db: Database, analyzer: Analyzer) -> None:
    parts = IntakeParts(db=db, writer=GroupWriter(db), analyzer=analyzer, policy=POLICY)
    sender = principal(db)
    requests = [
        ReportRequest(sender, sms("first"), JSON),
        ReportRequest(sender, b'{"channel": "sms", "sms": ', JSON),  # cut short: not JSON
        ReportRequest(sender, sms("second", "Other words entirely"), JSON),
        ReportRequest(sender, sms("first"), JSON),  # a retry of the first, in the same round
        ReportRequest(sender, sms("third"), "text/plain"),
        ReportRequest(sender, sms("first", "Different content"), JSON),  # the first's reference reused
    ]

    async def answer() -> list[ReportAnswer | Exception]:
        answers = await answer_round(parts, requests)
        await parts.writer.drain()
        return answers

    answers = asyncio.run(answer())
    assert len(answers) == len(requests)
    statuses = [a.status if isinstance(a, (ReportAnswer, ProblemError)) else a for a in answers]
    assert statuses == [201, 422, 201, 200, 415, 409]
    first, retry = (orjson.loads(a.content) for a in (answers[0], answers[3]) if isinstance(a, ReportAnswer))
    assert retry["id"] == first["id"]
    assert stored(db) == 2


def test_the_reports_in_hand_are_shared_among_the_commits_that_may_be_in_flight() -> None:
    # SQLite commits one batch at a time: a round is as big as allowed. PostgreSQL commits three at once:
    # 16 reports in hand make rounds of 6, so that three of them can wait on their commits together.
    assert [round_size(n, parallel=1) for n in (1, 5, 8, 16, 40)] == [5, 5, 8, 8, 8]
    assert [round_size(n, parallel=3) for n in (1, 13, 16, 24, 40)] == [5, 5, 6, 8, 8]
    assert MIN_REPORTS_PER_ROUND <= round_size(0, parallel=2) <= REPORTS_PER_ROUND


def test_an_intake_process_beside_others_takes_whole_rounds() -> None:
    # While it waits for a commit, the other processes analyse: a smaller round would only make a smaller
    # commit.
    in_hand = (0, 1, 5, 13, 16, 40)
    assert [round_size(n, parallel=3, alone=False) for n in in_hand] == [REPORTS_PER_ROUND] * len(in_hand)
    assert [round_size(n, parallel=1, alone=False) for n in in_hand] == [REPORTS_PER_ROUND] * len(in_hand)


def test_a_writer_on_postgresql_lets_rounds_commit_side_by_side(db: Database) -> None:
    expected = 3 if db.engine.dialect.name == "postgresql" else 1
    assert GroupWriter(db).parallel == expected
