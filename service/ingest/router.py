"""`/v1/reports`: submit a report, read one back."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from service.analysis.pipeline import INPUT_ERRORS
from service.auth.dependencies import AUTH_RESPONSES, WRITE_REPORTS, BearerKey, ReportReader, authorize
from service.auth.service import Principal
from service.errors import UnprocessableContent
from service.ingest.openapi import REPORT_CREATED_RESPONSES, REPORT_REQUEST_BODY
from service.ingest.requests import submission_from_body
from service.ingest.service import get_report, submit_report

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
    cached = state.key_cache.get(key)
    if cached is not None and not cached.scopes.isdisjoint(WRITE_REPORTS):
        principal = cached
    else:
        principal = await run_in_threadpool(_authorize, state, key)
    body = await request.body()
    submission = submission_from_body(
        body,
        content_type=request.headers.get("content-type"),
        idempotency_key=idempotency_key,
        reference=reference,
    )
    try:
        result = await submit_report(
            db=state.db,
            writer=state.writer,
            principal=principal,
            submission=submission,
            analyzer=state.analyzer,
            policy=state.ingest_policy,
        )
    except INPUT_ERRORS as exc:
        raise UnprocessableContent(f"The reported message could not be analysed: {exc}") from None
    content = orjson.dumps(result.report)
    return Response(content, status_code=201 if result.created else 200, media_type="application/json")


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
