"""`/v1/reports`: submit a report, read one back."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from service.analysis.pipeline import INPUT_ERRORS
from service.auth.dependencies import AUTH_RESPONSES, WRITE_REPORTS, BearerKey, ReportReader, authorize
from service.auth.service import Principal
from service.errors import PayloadTooLarge, ProblemError, UnprocessableContent, UnsupportedMediaType
from service.ingest.openapi import BATCH_REQUEST_BODY, REPORT_CREATED_RESPONSES, REPORT_REQUEST_BODY
from service.ingest.requests import NDJSON_TYPES, media_type, submission_from_body
from service.ingest.service import Submission, SubmitResult, get_report, submit_report

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=AUTH_RESPONSES)
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Any unique string; a retry with the same key returns the first result.",
    ),
]


@router.post(
    "",
    status_code=201,
    openapi_extra={"requestBody": REPORT_REQUEST_BODY},
    responses=REPORT_CREATED_RESPONSES,
)
async def create_report(
    request: Request,
    key: BearerKey,
    idempotency_key: IdempotencyKey = None,
    reference: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="For message/rfc822 bodies: your reference."),
    ] = None,
) -> Response:
    """Analyse, store and (if high risk) queue one report. 201 when new, 200 for a retry."""
    state = request.app.state
    # Authenticate before reading a byte of the body: an unknown caller never gets us to buffer 10 MiB.
    principal = await _principal(state, key)
    body = await request.body()
    submission = submission_from_body(
        body,
        content_type=request.headers.get("content-type"),
        idempotency_key=idempotency_key,
        reference=reference,
    )
    result = await _submit(state, principal, submission)
    content = orjson.dumps(result.report)
    return Response(content, status_code=201 if result.created else 200, media_type="application/json")


@router.post(
    ":batch",
    openapi_extra={"requestBody": BATCH_REQUEST_BODY},
    responses={200: {"description": "One result per line, in order"}, 413: {"description": "Too many lines"}},
)
async def create_reports_batch(request: Request, key: BearerKey) -> Response:
    """Many reports as NDJSON, one per line; each line is validated and stored on its own."""
    state = request.app.state
    principal = await _principal(state, key)
    if media_type(request.headers.get("content-type")) not in NDJSON_TYPES:
        raise UnsupportedMediaType("Send the batch as application/x-ndjson: one JSON report per line.")
    lines = [line for line in (await request.body()).split(b"\n") if line.strip()]
    limit = state.settings.max_batch_lines
    if len(lines) > limit:
        raise PayloadTooLarge(f"The batch has {len(lines)} reports; send at most {limit} per request.")
    results = await asyncio.gather(
        *(_batch_line(state, principal, number, line) for number, line in enumerate(lines, 1))
    )
    summary = Counter(str(result["status"]) for result in results)
    return Response(orjson.dumps({"results": results, "summary": summary}), media_type="application/json")


async def _batch_line(state: Any, principal: Principal, number: int, line: bytes) -> dict[str, Any]:
    await asyncio.sleep(0)  # let other requests in between the lines of a big batch
    try:
        submission = submission_from_body(line, content_type="application/json", idempotency_key=None)
        result = await _submit(state, principal, submission)
    except ProblemError as exc:
        return {"line": number, "status": exc.status, "detail": exc.detail, "errors": exc.errors}
    brief = {key: result.report[key] for key in ("id", "reference", "risk", "queued", "case_id")}
    return {"line": number, "status": 201 if result.created else 200, **brief}


async def _principal(state: Any, key: str) -> Principal:
    cached: Principal | None = state.key_cache.get(key)
    if cached is not None and not cached.scopes.isdisjoint(WRITE_REPORTS):
        return cached
    principal: Principal = await run_in_threadpool(_authorize, state, key)
    return principal


async def _submit(state: Any, principal: Principal, submission: Submission) -> SubmitResult:
    try:
        return await submit_report(
            db=state.db, writer=state.writer, principal=principal, submission=submission,
            analyzer=state.analyzer, policy=state.ingest_policy,
        )  # fmt: skip
    except INPUT_ERRORS as exc:
        raise UnprocessableContent(f"The reported message could not be analysed: {exc}") from None


def _authorize(state: Any, key: str) -> Principal:
    with state.db.session() as db_session:
        principal = authorize(db_session=db_session, key=key, scopes=WRITE_REPORTS)
    state.key_cache.put(key, principal)
    return principal


@router.get("/{report_id}", responses={404: {"description": "No such report for this key"}})
def read_report(report_id: str, request: Request, principal: ReportReader) -> dict[str, Any]:
    """One stored report with its analysis."""
    with request.app.state.db.session() as db_session:
        return get_report(db_session=db_session, principal=principal, report_id=report_id)
