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
    """Ready when the database and Redis both answer, and (with INTAKE_WORKERS) an intake process does."""
    checks: dict[str, Any] = {"database": _check_database(request), "redis": _check_redis(request)}
    pool = request.app.state.intake_pool
    if pool is not None:
        checks["intake"] = _check_intake(pool.status())
    # A degraded intake still answers reports (a dead process is being restarted): the instance stays in.
    ready = all(value == "ok" or value.startswith("degraded") for value in checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


def _check_database(request: Request) -> str:
    try:
        with request.app.state.db.session() as db_session:
            db_session.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError as exc:
        return f"unavailable ({type(exc).__name__})"


def _check_intake(status: dict[str, int]) -> str:
    if status["ready"] == status["processes"]:
        return "ok"
    counts = f"{status['ready']} of {status['processes']} processes ready"
    return f"degraded: {counts}" if status["ready"] else f"unavailable: {counts}"


def _check_redis(request: Request) -> str:
    try:
        request.app.state.redis.ping()
        return "ok"
    except (redis.RedisError, OSError) as exc:
        return f"unavailable ({type(exc).__name__})"
