"""The ASGI application: API, health, and (later) the dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from starlette.types import Receive, Scope, Send

from service.analysis.pipeline import Analyzer
from service.auth.cache import KeyCache
from service.cases.router import router as cases_router
from service.config import Settings
from service.dashboard.mount import mount_dashboard
from service.db import Database
from service.errors import install_problem_handlers
from service.health.router import router as health_router
from service.ingest.fast_path import ReportFastPath
from service.ingest.openapi import PROBLEM, component_schemas
from service.ingest.requests import REPORT_ADAPTER
from service.ingest.router import router as reports_router
from service.ingest.service import IngestPolicy
from service.ingest.writer import GroupWriter
from service.intake.answer import InlineIntake, Intake, IntakeParts
from service.intake.pool import IntakePool
from service.limits import BodySizeLimit
from service.metrics.router import router as metrics_router
from service.nul_guard import NulGuard
from service.ruleset.reloader import RulesReloader
from service.ruleset.router import router as rules_router
from service.runtime import build_sla_policy


class TriageApp(FastAPI):
    """FastAPI, with plain report submissions taken before any of its layers (service.ingest.fast_path).

    As a middleware of the app, the fast path still came after FastAPI's and Starlette's own layers (their
    telemetry checks, error middleware and body limit), which every request pays: 7 % of the API process's
    samples under bench/ingest.py's load (py-spy). In front of them, a plain submission skips them all;
    every other request goes on to the app as it arrived.
    """

    def __init__(self, *, max_body_bytes: int, **options: Any) -> None:
        super().__init__(**options)
        self._front = ReportFastPath(super().__call__, max_body_bytes=max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self  # what Starlette sets, and where the fast path finds the key cache and intake
        await self._front(scope, receive, send)


def create_app(settings: Settings, *, db: Database, analyzer: Analyzer, redis_url: str) -> FastAPI:
    """Assemble the app around parts built once per process (see service.runtime)."""
    # The API only writes outbox rows; the worker pool's relay publishes them (0.2 s polls). Publishing here
    # too cost a quarter of the API's CPU under load, for no gain in latency worth having.
    redis_connection = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=1)
    size = settings.intake_processes
    pool = IntakePool(settings, size, rules=analyzer.rules) if size else None
    intake: Intake = pool or _inline_intake(settings, db, analyzer)
    followers = [pool.follow_reload] if pool is not None else []
    reloader = RulesReloader(analyzer.rules, settings.rules_dir, followers=followers)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        reloader.start()
        await intake.start()
        try:
            yield
        finally:
            await intake.stop()
            reloader.stop()

    app = TriageApp(
        max_body_bytes=settings.max_body_bytes,
        title="threat-triage",
        version="0.1.0",
        description="Triage of reported threatening SMS and emails.",
        lifespan=lifespan,
    )
    app.state.rules_reloader = reloader
    app.state.settings = settings
    app.state.db = db
    app.state.analyzer = analyzer
    app.state.redis = redis_connection
    app.state.key_cache = KeyCache(settings.auth_cache_seconds)
    app.state.intake = intake
    app.state.intake_pool = pool
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(NulGuard)
    app.include_router(health_router)
    app.include_router(reports_router)
    app.include_router(rules_router)
    app.include_router(cases_router)
    app.include_router(metrics_router)
    mount_dashboard(app, settings)
    if settings.enable_bench_echo:
        _add_bench_echo(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _inline_intake(settings: Settings, db: Database, analyzer: Analyzer) -> InlineIntake:
    """Reports stored by the API itself (INTAKE_WORKERS=0), with a group-commit writer of its own."""
    policy = IngestPolicy(hash_key=settings.secret_key.encode(), sla=build_sla_policy(settings))
    return InlineIntake(IntakeParts(db=db, writer=GroupWriter(db), analyzer=analyzer, policy=policy))


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {}).setdefault("schemas", {}).update(component_schemas())
        _document_problems(schema)
        schema["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        schema["security"] = [{"bearer": []}]
        app.openapi_schema = schema
    return app.openapi_schema


def _document_problems(schema: dict[str, Any]) -> None:
    """Every operation answers bad input with problem+json: a 422 for invalid fields (where FastAPI documented
    its own JSON shape), and a 400 for a NUL character in the URL, a header or a form (NulGuard)."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "application/json" in responses.get("422", {}).get("content", {}):  # FastAPI's own shape
                responses["422"] = {
                    "description": "Invalid fields: each one's path and what to fix",
                    **PROBLEM,
                }
            responses.setdefault(
                "400", {"description": "A NUL character in the URL, a header or a form", **PROBLEM}
            )
    for replaced in ("HTTPValidationError", "ValidationError"):  # referred to by nothing any more
        schema["components"]["schemas"].pop(replaced, None)


def _add_bench_echo(app: FastAPI) -> None:
    """The ceiling `bench/ingest.py` compares against: the same body, validated, echoed, nothing stored."""

    @app.post("/bench/echo", include_in_schema=False)
    async def echo(request: Request) -> Response:
        payload = REPORT_ADAPTER.validate_json(await request.body())
        return Response(REPORT_ADAPTER.dump_json(payload), status_code=201, media_type="application/json")
