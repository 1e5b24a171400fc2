"""A round of reports, taken stage by stage, answers each report as it would be answered alone."""

from __future__ import annotations

import asyncio

import orjson

from service.analysis.pipeline import Analyzer
from service.db import Database
from service.errors import ProblemError
from service.ingest.writer import GroupWriter
from service.intake.answer import IntakeParts, ReportAnswer, ReportRequest, answer_round
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
