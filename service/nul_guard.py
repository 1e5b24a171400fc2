"""Requests that carry a NUL character in the URL, a header or a form are refused with a 400.

No client has a reason to send U+0000 there: a `%00` in a path or query is a mistake or a probe, and
PostgreSQL cannot store or even compare it (psycopg raises DataError: `GET /v1/cases?lane=%00` was a 500,
found by schemathesis). Refusing it at the door answers every route alike. JSON bodies are checked field by
field by their schemas (service.validation), where the answer can name the field.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import BadRequest, problem_response
from service.limits import scope_header

FORM_TYPE = b"application/x-www-form-urlencoded"


class NulInForm(BadRequest):
    """Raised from `receive` as a form streams in; the problem handler turns it into a 400."""


class NulGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = nul_in_head(scope)
        if where is not None:
            detail = f"The request's {where} contains a NUL character (%00 or U+0000): remove it."
            await problem_response(400, "Bad Request", detail)(scope, receive, send)
            return
        if (scope_header(scope, b"content-type") or b"").lower().startswith(FORM_TYPE):
            receive = _scanning_form(receive)
        await self.app(scope, receive, send)


def nul_in_head(scope: Scope) -> str | None:
    """Where the request's path, query string or headers carry a NUL, or None."""
    if "\x00" in scope["path"]:
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        return "query string"
    if any(b"\x00" in value for _, value in scope.get("headers", ())):
        return "headers"
    return None


def _scanning_form(receive: Receive) -> Receive:
    tail = b""  # the last bytes of the previous chunk: a "%00" may straddle two chunks

    async def scanned() -> Message:
        nonlocal tail
        message = await receive()
        if message["type"] == "http.request":
            seen = tail + message.get("body", b"")
            if b"%00" in seen or b"\x00" in seen:
                raise NulInForm("A form field contains a NUL character (%00): remove it.")
            tail = seen[-2:]
        return message

    return scanned
