"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

import redis
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

router = APIRouter(tags=["health"])
# Probes for load balancers and orchestrators: no credentials, and nothing in them that needs any.
PUBLIC: dict[str, Any] = {"security": []}


@router.get("/healthz", openapi_extra=PUBLIC)
async def healthz() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


@router.get("/readyz", openapi_extra=PUBLIC, responses={503: {"description": "A dependency is down"}})
def readyz(request: Request) -> JSONResponse:
    """Ready when the database and Redis both answer."""
    checks: dict[str, Any] = {"database": _check_database(request), "redis": _check_redis(request)}
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


def _check_database(request: Request) -> str:
    try:
        with request.app.state.db.session() as db_session:
            db_session.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError as exc:
        return f"unavailable ({type(exc).__name__})"


def _check_redis(request: Request) -> str:
    try:
        request.app.state.redis.ping()
        return "ok"
    except (redis.RedisError, OSError) as exc:
        return f"unavailable ({type(exc).__name__})"
