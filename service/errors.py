"""Errors as RFC 9457 problem+json.

The tree:

    ProblemError            (carries its HTTP status; one handler renders every subclass)
    ├── BadRequest          400
    ├── Unauthorized        401  missing, unknown or revoked API key
    ├── Forbidden           403  a key without the scope, or a resource of another reporter
    ├── NotFound            404
    ├── Conflict            409  an idempotency key or reference reused with different content
    ├── PayloadTooLarge     413
    ├── UnsupportedMediaType 415
    ├── UnprocessableContent 422 JSON or email that cannot be parsed, or fields that do not validate
    └── ServiceUnavailable  503

Anything else that escapes a handler is a bug: it is logged with its traceback and answered as a
500 problem that carries no detail, so that attacker content never leaks into a response.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.metrics.instruments import REJECTED

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    """Base of every error the API answers on purpose."""

    status = 500
    title = "Internal Server Error"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = headers


class BadRequest(ProblemError):
    status, title = 400, "Bad Request"


class Unauthorized(ProblemError):
    status, title = 401, "Unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="threat-triage"'})


class Forbidden(ProblemError):
    status, title = 403, "Forbidden"


class NotFound(ProblemError):
    status, title = 404, "Not Found"


class Conflict(ProblemError):
    status, title = 409, "Conflict"


class PayloadTooLarge(ProblemError):
    status, title = 413, "Content Too Large"


class UnsupportedMediaType(ProblemError):
    status, title = 415, "Unsupported Media Type"


class UnprocessableContent(ProblemError):
    status, title = 422, "Unprocessable Content"


class ServiceUnavailable(ProblemError):
    status, title = 503, "Service Unavailable"


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
) -> JSONResponse:
    """Render one problem document."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_answer(exc: ProblemError, path: str) -> JSONResponse:
    """The answer to an error raised on purpose while serving `path`; a refused report is counted."""
    if path.startswith("/v1/reports"):
        REJECTED.labels(str(exc.status)).inc()
    return problem_response(
        exc.status, exc.title, exc.detail, errors=exc.errors, headers=exc.headers, instance=path
    )


def validation_errors(
    exc: ValidationError | RequestValidationError,
    *,
    prefix: tuple[str | int, ...] = (),
    union_tags: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Field paths and messages a caller can act on; the offending input is not echoed back.

    Pydantic puts a discriminated union's tag first in each path (`sms.sms.text`); `union_tags` drops it so
    the path is the one in the caller's body.
    """
    out = []
    for err in exc.errors():
        raw_loc = list(err.get("loc", ()))
        if len(raw_loc) > 1 and raw_loc[0] in union_tags:
            raw_loc = raw_loc[1:]
        loc = [*prefix, *raw_loc]
        out.append(
            {
                "field": ".".join(str(p) for p in loc),
                "message": err.get("msg", "invalid"),
                "type": err.get("type", "value_error"),
            }
        )
    return out


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error, ours and the framework's, as problem+json."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_answer(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        fields = ", ".join(e["field"] for e in errors[:10])
        return problem_response(
            422,
            "Unprocessable Content",
            f"The request did not validate: check {fields}.",
            errors=errors,
            instance=request.url.path,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "See the status code."
        headers = dict(exc.headers) if exc.headers else None
        return problem_response(
            exc.status_code,
            reason_phrase(exc.status_code),
            detail,
            headers=headers,
            instance=request.url.path,
        )

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        return bug_answer(request.method, request.url.path)


def bug_answer(method: str, path: str) -> JSONResponse:
    """The answer to an error nobody raised on purpose, logged with the exception being handled."""
    log.exception("unhandled error on %s %s", method, path)
    if path.startswith("/v1/reports"):
        REJECTED.labels("500").inc()
    return problem_response(500, "Internal Server Error", "An internal error occurred; it has been logged.")


def reason_phrase(status: int) -> str:
    """The standard phrase of an HTTP status ("Not Found"), or "Error" for one without."""
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
