"""`/v1/cases`: the review queue over the API, for analysts' own tools."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from service.auth.dependencies import AUTH_RESPONSES, scoped
from service.auth.service import Principal
from service.cases.models import RESOLUTIONS
from service.cases.service import act_on_case, case_json, get_case, list_cases
from service.db import utcnow
from service.validation import Storable

router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=AUTH_RESPONSES)
CaseReader = Annotated[Principal, Depends(scoped("cases:read", "cases:write"))]
CaseWriter = Annotated[Principal, Depends(scoped("cases:write"))]
Status = Literal["new", "triage", "escalated", "closed"]
Level = Literal["low", "medium", "high", "critical"]


class CaseAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["claim", "assign", "triage", "escalate", "close", "reopen", "note"]
    resolution: Literal[RESOLUTIONS] | None = Field(default=None, description="Required to close.")  # type: ignore[valid-type]
    note: Annotated[str, Storable] | None = Field(default=None, max_length=4000)
    assignee: Annotated[str, Storable] | None = Field(default=None, min_length=1, max_length=100)


@router.get("")
def read_cases(
    *,
    request: Request,
    principal: CaseReader,
    status: Status | None = None,
    lane: Annotated[str | None, Query(max_length=20)] = None,
    level: Level | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Cases, most urgent first (SLA deadline, then age)."""
    now = utcnow()
    with request.app.state.db.session() as db_session:
        cases = list_cases(
            db_session=db_session, status=status, lane=lane, level=level, limit=limit, offset=offset
        )
        return {"cases": [case_json(db_session, case, now=now) for case in cases]}


@router.get("/{case_id}", responses={404: {"description": "No such case"}})
def read_case(case_id: str, request: Request, principal: CaseReader) -> dict[str, Any]:
    """One case with its campaign, its reports and its timeline."""
    with request.app.state.db.session() as db_session:
        case = get_case(db_session=db_session, case_id=case_id)
        return case_json(db_session, case, now=utcnow(), detail=True)


@router.post(
    "/{case_id}/actions",
    responses={404: {"description": "No such case"}, 409: {"description": "Transition not allowed"}},
)
def post_action(case_id: str, body: CaseAction, request: Request, principal: CaseWriter) -> dict[str, Any]:
    """Claim, assign, move, close with a resolution, reopen, or add a note."""
    now = utcnow()
    with request.app.state.db.session() as db_session:
        case = get_case(db_session=db_session, case_id=case_id)
        act_on_case(
            db_session=db_session,
            case=case,
            action=body.action,
            actor=f"key:{principal.reporter_name}",
            now=now,
            resolution=body.resolution,
            note=body.note,
            assignee=body.assignee,
        )
        db_session.commit()
        return case_json(db_session, case, now=now, detail=True)
