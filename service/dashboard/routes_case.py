"""The case page and every analyst action on a case."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from service.cases.models import RESOLUTIONS
from service.cases.service import act_on_case, get_case
from service.dashboard.casepage import case_page, sla_left
from service.dashboard.routes_auth import safe_next
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
ACTIONS = frozenset({"claim", "assign", "triage", "escalate", "close", "reopen", "note"})


@router.get("/cases/{case_id}")
def case_detail(case_id: str, request: Request, viewer: CurrentViewer) -> Response:
    """One case: message with highlighted evidence, score explanation, sender, origin, entities, timeline."""
    now = utcnow()
    with db_of(request).session() as db_session:
        try:
            case = get_case(db_session=db_session, case_id=case_id[:36])
        except ProblemError:
            raise DashboardRefusal(404, "There is no such case.") from None
        page = case_page(db_session, case, texts=request.app.state.text_cache)
    return render(request, "case.html", page=page, resolutions=RESOLUTIONS, sla_left=sla_left(page.case, now))


@router.post("/cases/{case_id}/act")
def act(
    *,
    case_id: str,
    request: Request,
    viewer: PostingViewer,
    action: Annotated[str, Form(max_length=20)],
    resolution: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    assignee: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Claim, assign, move, give a verdict (close with a resolution), reopen, escalate or note."""
    if action not in ACTIONS:
        raise DashboardRefusal(422, "Unknown action.")
    now = utcnow()
    with db_of(request).session() as db_session, db_of(request).write_lock:
        try:
            case = get_case(db_session=db_session, case_id=case_id[:36])
            act_on_case(
                db_session=db_session, case=case, action=action, actor=viewer.name, now=now,
                resolution=resolution or None, note=note.strip() or None, assignee=assignee or None,
            )  # fmt: skip
        except ProblemError as exc:
            raise DashboardRefusal(exc.status, exc.detail) from None
        audit_viewer_action(
            db_session, request, viewer, f"case.{action}", target=case.id,
            detail={"resolution": resolution or None, "assignee": assignee or None, "note_chars": len(note)},
        )  # fmt: skip
        db_session.commit()
    return RedirectResponse(safe_next(next or f"{BASE}/cases/{case_id}"), status_code=303)
