"""What every dashboard route shares: the login dependency, CSRF, rendering, and refusals (audited)."""

from __future__ import annotations

import hmac
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.templating import Jinja2Templates
from jinja2 import ChainableUndefined, Environment, FileSystemLoader
from sqlalchemy.orm import Session
from starlette.responses import Response

from service.audit.service import record_audit
from service.dashboard.config import DashboardSettings
from service.dashboard.filters import install_filters
from service.dashboard.security import origin_allowed, remote_addr
from service.dashboard.sessions import Viewer, load_session
from service.db import Database, utcnow

BASE = "/dashboard"
COOKIE = "triage_session"
LOGIN_CSRF_COOKIE = "triage_login_csrf"
TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


class DashboardRefusal(Exception):
    """A request the dashboard refuses: rendered as an error page with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class LoginRequired(Exception):
    """No live session: pages redirect to the login form, other requests get 403."""


def build_templates() -> Jinja2Templates:
    """Jinja2 with autoescape forced on for every template, whatever its name."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=ChainableUndefined,  # analyses from older rulesets may lack newer keys
        trim_blocks=True,
        lstrip_blocks=True,
    )
    install_filters(env)
    env.globals["base"] = BASE
    return Jinja2Templates(env=env)


def db_of(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


def dashboard_settings(request: Request) -> DashboardSettings:
    config: DashboardSettings = request.app.state.dashboard_settings
    return config


def cookie_name(request: Request) -> str:
    # The __Host- prefix makes the browser refuse the cookie from plain http or another path/domain.
    return ("__Host-" + COOKIE) if request.app.state.secure_cookies else COOKIE


def current_viewer(request: Request) -> Viewer:
    """The logged-in user; anything else (no cookie, an API key, an expired session) must log in."""
    token = request.cookies.get(cookie_name(request))
    if not token:
        raise LoginRequired()
    config = dashboard_settings(request)
    with db_of(request).session() as db_session:
        viewer = load_session(
            db_session,
            token=token,
            now=utcnow(),
            idle=timedelta(minutes=config.idle_minutes),
            max_age=timedelta(hours=config.max_session_hours),
        )
    if viewer is None:
        raise LoginRequired()
    request.state.viewer = viewer
    return viewer


def audit_viewer_action(
    db_session: Session,
    request: Request,
    viewer: Viewer,
    action: str,
    *,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record a signed-in analyst's action that succeeded, in the caller's transaction."""
    record_audit(
        db_session, actor=viewer.name, role=viewer.role, action=action, outcome="ok",
        remote_addr=remote_addr(request), target=target, detail=detail,
    )  # fmt: skip


def audit_refusal(request: Request, *, reason: str, actor: str = "anonymous", role: str = "none") -> None:
    """Record a refused request; the reason is ours, the path is escaped by the log writer."""
    with db_of(request).session() as db_session:
        record_audit(
            db_session,
            actor=actor,
            role=role,
            action="refused",
            outcome=reason,
            remote_addr=remote_addr(request),
            target=request.url.path[:100],
            detail={"method": request.method},
        )
        db_session.commit()


async def csrf_checked(request: Request, viewer: Annotated[Viewer, Depends(current_viewer)]) -> Viewer:
    """Every state-changing request: same Origin, and the session's CSRF token in the form."""
    if not origin_allowed(request):
        await run_in_threadpool(audit_refusal, request, reason="origin", actor=viewer.name, role=viewer.role)
        raise DashboardRefusal(403, "This request did not come from this dashboard (Origin check failed).")
    form = await request.form()
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, viewer.csrf_token):
        await run_in_threadpool(audit_refusal, request, reason="csrf", actor=viewer.name, role=viewer.role)
        raise DashboardRefusal(403, "The form's security token is missing or stale: reload the page.")
    return viewer


def admin_only(viewer: Viewer, request: Request) -> None:
    """Refuse (and audit) an analyst on an admin route."""
    if not viewer.is_admin:
        audit_refusal(request, reason="role", actor=viewer.name, role=viewer.role)
        raise DashboardRefusal(403, "Only an admin may do this.")


def require_admin(viewer: Annotated[Viewer, Depends(current_viewer)], request: Request) -> Viewer:
    admin_only(viewer, request)
    return viewer


def require_admin_post(viewer: Annotated[Viewer, Depends(csrf_checked)], request: Request) -> Viewer:
    admin_only(viewer, request)
    return viewer


CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
PostingViewer = Annotated[Viewer, Depends(csrf_checked)]
AdminViewer = Annotated[Viewer, Depends(require_admin)]
AdminPoster = Annotated[Viewer, Depends(require_admin_post)]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """A page, with the viewer and its CSRF token available to the template."""
    viewer = getattr(request.state, "viewer", None)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        template,
        {"viewer": viewer, "csrf_token": viewer.csrf_token if viewer else "", "now": utcnow(), **context},
        status_code=status_code,
    )
