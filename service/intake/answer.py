"""One report body in, one HTTP answer out: the same code in the API process and in an intake process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from service.analysis.pipeline import INPUT_ERRORS, Analyzer
from service.auth.service import Principal
from service.db import Database
from service.errors import UnprocessableContent
from service.ingest.requests import submission_from_body
from service.ingest.service import IngestPolicy, IngestTimings, observe_ingest, submit_report
from service.ingest.writer import GroupWriter


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


async def answer_report(parts: IntakeParts, request: ReportRequest) -> ReportAnswer:
    """Validate, analyse, store (and queue if high risk); a retry gets the first answer."""
    submission = submission_from_body(
        request.body,
        content_type=request.content_type,
        idempotency_key=request.idempotency_key,
        reference=request.reference,
    )
    try:
        result = await submit_report(
            db=parts.db, writer=parts.writer, principal=request.principal, submission=submission,
            analyzer=parts.analyzer, policy=parts.policy,
        )  # fmt: skip
    except INPUT_ERRORS as exc:
        raise UnprocessableContent(f"The reported message could not be analysed: {exc}") from None
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
        answer = await answer_report(self.parts, request)
        if answer.timings is not None:
            observe_ingest(answer.timings)
        return answer

    async def stop(self) -> None:
        await self.parts.writer.drain()
