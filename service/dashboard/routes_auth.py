"""Login and logout. The login form has its own CSRF cookie, since there is no session yet."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated

from argon2 import PasswordHasher
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from starlette.responses import Response

from service.audit.service import record_audit
from service.auth.models import User
from service.auth.service import verify_password
from service.dashboard.ratelimit import login_blocked, prune_attempts, record_attempt
from service.dashboard.security import origin_allowed, remote_addr
from service.dashboard.sessions import end_session, prune_sessions, start_session
from service.dashboard.web import (
    BASE,
    LOGIN_CSRF_COOKIE,
    DashboardRefusal,
    LoginRequired,
    PostingViewer,
    audit_refusal,
    audit_viewer_action,
    cookie_name,
    current_viewer,
    dashboard_settings,
    db_of,
    render,
)
from service.db import utcnow

router = APIRouter()
RATE_LIMITED = "Too many failed logins. Wait a few minutes and try again."
# Verifying against a real hash when the user does not exist keeps the timing of both answers alike.
_DUMMY = User(name="", role="analyst", password_hash=PasswordHasher().hash(secrets.token_urlsafe(16)))


def safe_next(target: str | None) -> str:
    """Only a dashboard path of this site: never another host ('//evil', 'https://...')."""
    if target and target.startswith(BASE + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return BASE + "/"


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    """The login page (or the queue, when already logged in)."""
    try:
        current_viewer(request)
        return RedirectResponse(safe_next(next), status_code=303)
    except LoginRequired:
        pass
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", login_token=token, next=safe_next(next), error=None)
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    login_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Check the password, rate-limited per name and per address; rotate the session on success."""
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not origin_allowed(request) or not cookie_token or not hmac.compare_digest(cookie_token, login_token):
        audit_refusal(request, reason="login-csrf", actor=username[:100])
        raise DashboardRefusal(403, "The login form expired or came from elsewhere: reload it.")
    token, error = _attempt(request, username, password)
    if token is None:
        status = 429 if error == RATE_LIMITED else 401
        return render(
            request,
            "login.html",
            status_code=status,
            login_token=login_token,
            next=safe_next(next),
            error=error,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    _set_cookie(request, response, cookie_name(request), token, max_age=None)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


def _attempt(request: Request, username: str, password: str) -> tuple[str | None, str | None]:
    """(session token, None) on success, else (None, what to tell the user); every outcome is audited."""
    config, now, address = dashboard_settings(request), utcnow(), remote_addr(request)
    with db_of(request).session() as db_session:
        blocked = login_blocked(
            db_session,
            name=username,
            remote_addr=address,
            now=now,
            window=timedelta(minutes=config.login_window_minutes),
            per_name=config.login_failures_per_name,
            per_address=config.login_failures_per_address,
        )
        user = (
            None
            if blocked
            else db_session.scalar(select(User).where(User.name == username, User.disabled_at.is_(None)))
        )
        ok = not blocked and verify_password(user=user or _DUMMY, password=password) and user is not None
        outcome = "rate-limited" if blocked else "ok" if ok else "failed"
        role = user.role if user is not None and ok else "none"
        record_audit(
            db_session, actor=username, role=role, action="login", outcome=outcome, remote_addr=address
        )
        if blocked:
            db_session.commit()
            return None, RATE_LIMITED
        record_attempt(db_session, name=username, remote_addr=address, now=now, succeeded=ok)
        if not ok or user is None:
            db_session.commit()
            return None, "Wrong user name or password."
        prune_attempts(db_session, now=now, keep=timedelta(days=1))
        prune_sessions(db_session, now=now, idle=timedelta(minutes=config.idle_minutes))
        token = start_session(
            db_session,
            user=user,
            remote_addr=address,
            now=now,
            old_token=request.cookies.get(cookie_name(request)),
        )
        db_session.commit()
    return token, None


@router.post("/logout")
def logout(request: Request, viewer: PostingViewer) -> Response:
    """End the session on the server and drop the cookie."""
    with db_of(request).session() as db_session:
        end_session(db_session, token=request.cookies.get(cookie_name(request), ""))
        audit_viewer_action(db_session, request, viewer, "logout")
        db_session.commit()
    response = RedirectResponse(BASE + "/login", status_code=303)
    response.delete_cookie(cookie_name(request), path="/")
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict" if name == LOGIN_CSRF_COOKIE else "lax",
        secure=bool(request.app.state.secure_cookies),
    )
