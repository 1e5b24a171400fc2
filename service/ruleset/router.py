"""`/v1/rules`: the active ruleset, its reload status and hit counts; and an explicit reload."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from service.auth.dependencies import AUTH_RESPONSES, scoped
from service.auth.service import Principal

router = APIRouter(prefix="/v1/rules", tags=["rules"], responses=AUTH_RESPONSES)
RulesReader = Annotated[Principal, Depends(scoped("rules:admin", "cases:read"))]
RulesAdmin = Annotated[Principal, Depends(scoped("rules:admin"))]


@router.get("")
def list_rules(request: Request, principal: RulesReader) -> dict[str, Any]:
    """The active version, the last reload (with its errors) and every rule with its hit count."""
    status: dict[str, Any] = request.app.state.analyzer.rules.status()
    return status


@router.post(
    "/reload", responses={409: {"description": "The new rules are invalid; the old set stays active"}}
)
async def reload_rules(request: Request, principal: RulesAdmin) -> JSONResponse:
    """Validate the rules folder (tests included) and swap it in; 409 with the errors if it is refused."""
    result = await run_in_threadpool(request.app.state.rules_reloader.reload, "api")
    return JSONResponse(result.to_dict(), status_code=200 if result.ok else 409)
