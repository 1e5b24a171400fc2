"""One report body in, one HTTP answer out: the same code in the API process and in an intake process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson

from service.analysis.pipeline import INPUT_ERRORS, Analyzer
from service.auth.service import Principal
from service.db import Database, utcnow
from service.errors import UnprocessableContent
from service.ingest.requests import submission_from_body
from service.ingest.service import (
    IngestPolicy,
    IngestTimings,
    PreparedReport,
    Submission,
    SubmitResult,
    analyze_submission,
    observe_ingest,
    pending_report,
    settle_report,
)
from service.ingest.writer import GroupWriter, Outcome, outcomes_of


@dataclass(frozen=True)
class ReportRequest:
    """What the HTTP layer hands over: who sent it, and the body as it arrived."""

    principal: Principal
    body: bytes
    content_type: str | None
    idempotency_key: str | None = None
    reference: str | None = None
    # A line of a batch: its caller is answered when the whole batch is, so nothing gains from answering the
    # line early, and the bigger the group commit the cheaper each line.
    bulk: bool = False


@dataclass(frozen=True)
class ReportAnswer:
    """201 for a new report, 200 for a retry; `content` is the analysis JSON, serialised."""

    status: int
    content: bytes
    timings: IngestTimings | None = None
    rule_hits: tuple[str, ...] = ()  # the ids of the rules that hit, for the API's per-rule hit counts

    def brief(self) -> dict[str, Any]:
        """The fields a batch line reports back."""
        report = orjson.loads(self.content)
        return {key: report[key] for key in ("id", "reference", "risk", "queued", "case_id")}


@dataclass(frozen=True)
class IntakeParts:
    """What answering a report needs, built once per process."""

    db: Database
    writer: GroupWriter
    analyzer: Analyzer
    policy: IngestPolicy


class Intake(Protocol):
    """Where the API sends a report: answered in its own process, or by an intake process."""

    async def start(self) -> None:
        """Ready to answer (the API's start-up)."""

    async def answer(self, request: ReportRequest) -> ReportAnswer:
        """The answer to one report; raises ProblemError for a report that must be refused."""

    async def stop(self) -> None:
        """Every report taken is stored (the API's shutdown)."""


@dataclass
class _InRound:
    """One report of a round, as far as it has gone; `answer` is set once it is answered or refused."""

    request: ReportRequest
    submission: Submission | None = None
    analysis: tuple[dict[str, Any], IngestTimings] | None = None
    prepared: PreparedReport | None = None
    answer: ReportAnswer | Exception | None = None


async def answer_round(
    parts: IntakeParts, requests: Sequence[ReportRequest], *, on_handed: Callable[[], None] | None = None
) -> list[ReportAnswer | Exception]:
    """Validate, analyse and store (and queue if high risk) each of these reports, stage by stage for all of
    them; a retry gets the first answer, and a refused report its exception in its place.

    Validating, analysing and making the rows of one report after another keeps each stage's code and data
    in the CPU's caches, where taking each report through every stage in turn evicted them: in rounds of 8,
    358-388 instead of 334 us of CPU per report in process, the stages themselves unchanged. A report refused
    at some stage goes no further, and its neighbours go on. Retries are rare: every report is analysed and
    inserted, and the unique constraints catch a retry.

    `on_handed` is called once the round's rows are with the writer: its caller may start the next round
    while this one's commit is in flight.
    """
    now = utcnow()
    reports = [_InRound(request) for request in requests]
    for report in reports:
        _validate(report)
    for report in _going_on(reports):
        await _analyse(parts, report, now)
        if parts.writer.committing:
            await _let_commits_through()
    for report in _going_on(reports):
        _make_rows(parts, report, now)
    ready = [(report, report.prepared) for report in _going_on(reports) if report.prepared is not None]
    stored_from = time.perf_counter()
    futures = parts.writer.submit([prepared.pending for _, prepared in ready])
    if on_handed is not None:
        on_handed()
    outcomes = await outcomes_of(futures)
    stored_in = time.perf_counter() - stored_from
    for (report, prepared), outcome in zip(ready, outcomes, strict=True):
        report.answer = await _settled(parts, prepared, outcome, stored_in)
    return [report.answer or RuntimeError("a report of the round was left unanswered") for report in reports]


# A commit's reply reaches its round in three turns of the loop (the socket's callback, the writer's task,
# the round's task), and the analysing task runs before each of them: without these turns, an earlier
# round's answers would wait for three more analyses.
TURNS_FOR_A_COMMIT_REPLY = 3


async def _let_commits_through() -> None:
    for _ in range(TURNS_FOR_A_COMMIT_REPLY):
        await asyncio.sleep(0)


def _going_on(reports: list[_InRound]) -> list[_InRound]:
    return [report for report in reports if report.answer is None]


def _validate(report: _InRound) -> None:
    try:
        report.submission = _submission(report.request)
    except Exception as exc:  # a refused body (ProblemError), or a bug: this report's answer only
        report.answer = exc


async def _analyse(parts: IntakeParts, report: _InRound, now: datetime) -> None:
    assert report.submission is not None
    try:
        report.analysis = await analyze_submission(parts.analyzer, report.submission, now)
    except INPUT_ERRORS as exc:
        report.answer = _unanalysable(exc)
    except Exception as exc:
        report.answer = exc


def _make_rows(parts: IntakeParts, report: _InRound, now: datetime) -> None:
    assert report.submission is not None
    assert report.analysis is not None
    principal, (analysis, timings) = report.request.principal, report.analysis
    try:
        rows = pending_report(principal, report.submission, analysis, now=now, policy=parts.policy)
    except Exception as exc:
        report.answer = exc
        return
    report.prepared = PreparedReport(principal, report.submission, rows, timings)


async def _settled(
    parts: IntakeParts, report: PreparedReport, outcome: Outcome | Exception, stored_in: float
) -> ReportAnswer | Exception:
    if isinstance(outcome, Exception):
        return outcome
    try:
        return _answer(await settle_report(parts.db, report, outcome, stored_in=stored_in))
    except Exception as exc:
        return exc


def _submission(request: ReportRequest) -> Submission:
    return submission_from_body(
        request.body,
        content_type=request.content_type,
        idempotency_key=request.idempotency_key,
        reference=request.reference,
    )


def _unanalysable(exc: Exception) -> UnprocessableContent:
    return UnprocessableContent(f"The reported message could not be analysed: {exc}")


def _answer(result: SubmitResult) -> ReportAnswer:
    status = 201 if result.created else 200
    rule_hits = tuple(hit["rule"] for hit in result.report["hits"])
    return ReportAnswer(status, orjson.dumps(result.report), result.timings, rule_hits)


class InlineIntake:
    """Reports answered on the API's own event loop (INTAKE_WORKERS=0, and the in-process tests)."""

    def __init__(self, parts: IntakeParts) -> None:
        self.parts = parts

    async def start(self) -> None:
        return None

    async def answer(self, request: ReportRequest) -> ReportAnswer:
        [answer] = await answer_round(self.parts, [request])
        if isinstance(answer, Exception):
            raise answer
        if answer.timings is not None:
            observe_ingest(answer.timings)
        return answer

    async def stop(self) -> None:
        await self.parts.writer.drain()
