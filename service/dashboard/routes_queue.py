"""The review queue page, its self-refreshing body, and merging the cases ticked in it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import QueryParams
from starlette.responses import Response

from service.cases.merge import merge_cases
from service.cases.models import STATUSES
from service.dashboard.queue import LANE_ORDER, QueueFilters, build_queue
from service.dashboard.web import (
    BASE,
    CurrentViewer,
    DashboardRefusal,
    PostingViewer,
    audit_viewer_action,
    db_of,
    render,
)
from service.db import utcnow
from service.errors import ProblemError

router = APIRouter()
LEVELS = ("critical", "high", "medium", "low")
# One-click verdicts on each row; every other resolution is on the case page.
QUICK_VERDICTS = (("threat_confirmed", "Threat"), ("scam", "Scam"), ("not_a_threat", "Not a threat"))


def filters_from(params: QueryParams) -> QueueFilters:
    """Filters from the query string; a blank or malformed value means 'any', never an error page."""

    def text(name: str, limit: int = 100) -> str | None:
        value = (params.get(name) or "").strip()
        return value[:limit] or None

    asn = text("asn", 12)
    return QueueFilters(
        lane=text("lane", 20),
        level=text("level", 10) if text("level") in LEVELS else None,
        status=text("status") if text("status") in STATUSES else None,
        channel=text("channel") if text("channel") in {"sms", "email"} else None,
        carrier=text("carrier"),
        country=text("country", 2),
        asn=int(asn.removeprefix("AS").removeprefix("as")) if asn and asn.lstrip("ASas").isdigit() else None,
        rule=text("rule", 200),
        since=_date(text("since", 10)),
        until=_date(text("until", 10)),
        text=text("q", 200),
    )


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _queue_context(request: Request) -> dict[str, Any]:
    filters = filters_from(request.query_params)
    with db_of(request).session() as db_session:
        queue = build_queue(db_session, filters, now=utcnow(), text_of=request.app.state.text_cache.text_of)
    query = str(request.query_params)
    return {
        "queue": queue,
        "filters": filters,
        "lanes": LANE_ORDER,
        "levels": LEVELS,
        "statuses": STATUSES,
        "quick_verdicts": QUICK_VERDICTS,
        "here": BASE + "/" + (f"?{query}" if query else ""),
        "rows_url": BASE + "/queue/rows" + (f"?{query}" if query else ""),
        "refresh_seconds": request.app.state.dashboard_settings.refresh_seconds,
    }


@router.get("/")
def queue_page(request: Request, viewer: CurrentViewer) -> Response:
    """The queue, most urgent first."""
    return render(request, "queue.html", **_queue_context(request))


@router.get("/queue/rows")
def queue_rows(request: Request, viewer: CurrentViewer) -> Response:
    """The queue's counts and table alone, fetched by the page every few seconds."""
    return render(request, "_queue_body.html", **_queue_context(request))


@router.post("/cases/merge")
def merge(
    request: Request,
    viewer: PostingViewer,
    case_ids: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Merge the ticked cases into the most urgent one, in one campaign."""
    now = utcnow()
    with db_of(request).session() as db_session, db_of(request).write_lock:
        try:
            primary = merge_cases(db_session=db_session, case_ids=case_ids or [], actor=viewer.name, now=now)
        except ProblemError as exc:
            raise DashboardRefusal(exc.status, exc.detail) from None
        audit_viewer_action(
            db_session, request, viewer, "case.merge",
            target=primary.id, detail={"cases": ",".join((case_ids or [])[:100])},
        )  # fmt: skip
        db_session.commit()
        primary_id = primary.id
    return RedirectResponse(f"{BASE}/cases/{primary_id}", status_code=303)
