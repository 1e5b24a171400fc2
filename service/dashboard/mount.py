"""`mount_dashboard`: the dashboard as a sub-app at /dashboard, with its own headers and error pages."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from service.config import Settings
from service.dashboard import routes_auth, routes_case, routes_pages, routes_queue
from service.dashboard.config import DashboardSettings
from service.dashboard.message import TextCache
from service.dashboard.security import SecurityHeaders
from service.dashboard.web import (
    BASE,
    STATIC_DIR,
    DashboardRefusal,
    LoginRequired,
    audit_refusal,
    build_templates,
    render,
)
from service.errors import reason_phrase
from service.nul_guard import NulInForm

# Every router of the dashboard; the role × route test walks this tuple.
ROUTERS = (routes_auth.router, routes_queue.router, routes_case.router, routes_pages.router)


def build_dashboard(app: FastAPI, settings: Settings, config: DashboardSettings | None = None) -> FastAPI:
    """The dashboard sub-app, sharing the parent's database, analyzer and rules reloader."""
    config = config or DashboardSettings()
    dashboard = FastAPI(title="threat-triage dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    dashboard.state.db = app.state.db
    dashboard.state.analyzer = app.state.analyzer
    dashboard.state.rules_reloader = app.state.rules_reloader
    dashboard.state.dashboard_settings = config
    dashboard.state.secure_cookies = config.secure_cookies(settings)
    dashboard.state.templates = build_templates()
    dashboard.state.text_cache = TextCache(app.state.analyzer)
    for router in ROUTERS:
        dashboard.include_router(router)
    dashboard.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    dashboard.add_exception_handler(LoginRequired, _login_required)  # type: ignore[arg-type]
    dashboard.add_exception_handler(DashboardRefusal, _refused)  # type: ignore[arg-type]
    dashboard.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    dashboard.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    dashboard.add_middleware(SecurityHeaders)
    return dashboard


def mount_dashboard(app: FastAPI, settings: Settings) -> None:
    """Serve the dashboard at /dashboard, and send visitors of / there."""
    app.mount(BASE, build_dashboard(app, settings))
    if not any(getattr(route, "path", None) == "/" for route in app.routes):
        app.add_api_route("/", _to_dashboard, include_in_schema=False)


def _to_dashboard() -> Response:
    return RedirectResponse(BASE + "/", status_code=307)


def _login_required(request: Request, _exc: LoginRequired) -> Response:
    if request.method in {"GET", "HEAD"}:
        target = request.url.path if request.url.path.startswith(BASE + "/") else BASE + "/"
        return RedirectResponse(f"{BASE}/login?next={quote(target, safe='/')}", status_code=303)
    audit_refusal(request, reason="no-session")
    return render(request, "error.html", status_code=403, message="Log in first.")


def _refused(request: Request, exc: DashboardRefusal) -> Response:
    return render(request, "error.html", status_code=exc.status, message=exc.message)


def _invalid(request: Request, _exc: RequestValidationError) -> Response:
    return render(request, "error.html", status_code=422, message="The form was incomplete or malformed.")


def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """The framework's own refusals (an unreadable form, an unknown page) as the dashboard's error page."""
    # A form with a NUL is refused while FastAPI reads it, which reports any such failure as a bare 400:
    # the cause says which it was.
    if isinstance(exc.__cause__, NulInForm):
        message = exc.__cause__.detail
    elif exc.status_code == 400:
        message = "The form could not be read: send it again from the page."
    else:
        message = reason_phrase(exc.status_code)
    page = render(request, "error.html", status_code=exc.status_code, message=message)
    page.headers.update(exc.headers or {})
    return page
