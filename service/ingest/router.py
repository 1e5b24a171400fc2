"""`/v1/reports`: submit a report, read one back."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from service.auth.dependencies import (
    AUTH_RESPONSES,
    WRITE_REPORTS,
    BearerKey,
    ReportReader,
    authorize,
    bearer_key,
)
from service.auth.service import Principal
from service.errors import PayloadTooLarge, ProblemError, UnprocessableContent, UnsupportedMediaType
from service.ingest.openapi import (
    BATCH_REQUEST_BODY,
    REPORT_CREATED_RESPONSES,
    REPORT_PARAMETERS,
    REPORT_REQUEST_BODY,
)
from service.ingest.requests import NDJSON_TYPES, media_type
from service.ingest.service import get_report
from service.intake.answer import ReportRequest

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=AUTH_RESPONSES)
MAX_PARAMETER_CHARS = 200


@router.post(
    "",
    status_code=201,
    openapi_extra={"requestBody": REPORT_REQUEST_BODY, "parameters": REPORT_PARAMETERS},
    responses=REPORT_CREATED_RESPONSES,
)
async def create_report(request: Request) -> Response:
    """Analyse, store and (if high risk) queue one report. 201 when new, 200 for a retry."""
    # The key and the two optional parameters are read here rather than declared as FastAPI dependencies:
    # resolving them cost a sixth of this route's CPU (py-spy, bench/ingest.py), the busiest route there is.
    state = request.app.state
    # Authenticate before reading a byte of the body: an unknown caller never gets us to buffer 10 MiB.
    principal = await _principal(state, await bearer_key(request))
    idempotency_key = _checked_parameter(request.headers.get("idempotency-key"), "header", "Idempotency-Key")
    reference = _checked_parameter(request.query_params.get("reference"), "query", "reference")
    body = await request.body()
    content_type = request.headers.get("content-type")
    answer = await state.intake.answer(
        ReportRequest(principal, body, content_type, idempotency_key=idempotency_key, reference=reference)
    )
    return Response(answer.content, status_code=answer.status, media_type="application/json")


def _checked_parameter(value: str | None, where: str, name: str) -> str | None:
    """A parameter of 1 to 200 characters when present; a 422 naming it otherwise."""
    if value is None or 1 <= len(value) <= MAX_PARAMETER_CHARS:
        return value
    field = f"{where}.{name}"
    problem = "is empty" if not value else f"is longer than {MAX_PARAMETER_CHARS} characters"
    raise UnprocessableContent(
        f"The request did not validate: check {field}.",
        errors=[{"field": field, "message": f"{name} {problem}", "type": "string_length"}],
    )


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
        answer = await state.intake.answer(ReportRequest(principal, line, "application/json", bulk=True))
    except ProblemError as exc:
        return {"line": number, "status": exc.status, "detail": exc.detail, "errors": exc.errors}
    return {"line": number, "status": answer.status, **answer.brief()}


async def _principal(state: Any, key: str) -> Principal:
    cached: Principal | None = state.key_cache.get(key)
    if cached is not None and not cached.scopes.isdisjoint(WRITE_REPORTS):
        return cached
    principal: Principal = await state.key_cache.shared(
        key, lambda: run_in_threadpool(_authorize, state, key)
    )
    return principal


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
