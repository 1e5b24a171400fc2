"""`POST /v1/reports` answered straight from ASGI when the request is plain, past the framework's layers.

Under bench/ingest.py's load the API process spent more than half of its loop's time in the layers between
uvicorn and the route (FastAPI's request handler, its exit stacks, the router, the middleware), not in the
route. A submission that needs none of what those layers add is taken here instead: POST to exactly
`/v1/reports` with no query string, a key already in the key cache with the write scope, headers within
their cap and free of NUL, no form body, and a declared length (if any) within the body cap. Everything else
goes on to the app as before, and the app answers it as ever, errors included. A body that outgrows the cap
as it streams in, or a client that leaves mid-body, is handed to the app with what was read so far, so the
app's own checks answer it (413) or see the client go.

It runs in front of FastAPI itself (`service.app.TriageApp`), so it also answers the errors that FastAPI's
error middleware would have: a bug's 500 is the same problem document.

The route in `service.ingest.router` stays the one the OpenAPI schema documents and the one that answers
the first request of a key, before the key is cached.
"""

from __future__ import annotations

from typing import NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.auth.dependencies import WRITE_REPORTS, bearer_token
from service.errors import ProblemError, bug_answer, problem_answer
from service.ingest.router import MAX_PARAMETER_CHARS
from service.intake.answer import ReportAnswer, ReportRequest
from service.limits import head_too_large
from service.nul_guard import FORM_TYPE, nul_in_head

PATH = "/v1/reports"


class ReportFastPath:
    """ASGI middleware: plain report submissions skip the layers below it."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plain = _plain_submission(scope, self.max_body_bytes) if _is_submission(scope) else None
        if plain is None:
            await self.app(scope, receive, send)
            return
        principal = scope["app"].state.key_cache.get(plain.key)
        if principal is None or principal.scopes.isdisjoint(WRITE_REPORTS):
            await self.app(scope, receive, send)  # the app looks the key up, or refuses it
            return
        messages, whole = await self._read_body(receive)
        if not whole:
            await self.app(scope, _replaying(messages, receive), send)
            return
        body = b"".join(message.get("body", b"") for message in messages)
        request = ReportRequest(principal, body, plain.content_type, idempotency_key=plain.idempotency_key)
        await _answer(scope, request, receive, send)

    async def _read_body(self, receive: Receive) -> tuple[list[Message], bool]:
        """The messages read, and whether they are the whole body within the cap (not: too big, or gone)."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages, False
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                return messages, False
            if not message.get("more_body", False):
                return messages, True


class _PlainHead(NamedTuple):
    """What the fast path reads from a plain submission's headers."""

    key: str
    content_type: str | None
    idempotency_key: str | None


def _is_submission(scope: Scope) -> bool:
    return (
        scope["type"] == "http"
        and scope["method"] == "POST"
        and scope["path"] == PATH
        and not scope.get("root_path")
        and not scope.get("query_string")
    )


def _plain_submission(scope: Scope, max_body_bytes: int) -> _PlainHead | None:
    """The key, content type and idempotency key of a request the fast path may take; None otherwise."""
    if nul_in_head(scope) is not None or head_too_large(scope):
        return None  # NulGuard's 400, BodySizeLimit's 431
    headers: dict[bytes, bytes] = dict(scope["headers"])
    if len(headers) < len(scope["headers"]):
        return None  # a repeated header is left to the app's reading of it
    if not _length_within(headers.get(b"content-length"), max_body_bytes):
        return None
    content_type = headers.get(b"content-type")
    if content_type is not None and content_type.lower().startswith(FORM_TYPE):
        return None
    key = bearer_token(headers.get(b"authorization", b"").decode("latin-1"))
    if key is None:
        return None
    idempotency_key = _decoded(headers.get(b"idempotency-key"))
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= MAX_PARAMETER_CHARS:
        return None
    return _PlainHead(key, _decoded(content_type), idempotency_key)


def _length_within(declared: bytes | None, max_body_bytes: int) -> bool:
    if declared is None:
        return True
    return declared.isdigit() and int(declared) <= max_body_bytes


def _decoded(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


async def _answer(scope: Scope, request: ReportRequest, receive: Receive, send: Send) -> None:
    try:
        answer: ReportAnswer = await scope["app"].state.intake.answer(request)
    except ProblemError as exc:
        await problem_answer(exc, PATH)(scope, receive, send)
        return
    except Exception:  # in front of the app's error middleware: its 500 is given here
        await bug_answer("POST", PATH)(scope, receive, send)
        return
    await send(
        {
            "type": "http.response.start",
            "status": answer.status,
            "headers": [
                (b"content-length", str(len(answer.content)).encode()),
                (b"content-type", b"application/json"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": answer.content})


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """`receive` as if nothing had been read from it yet: the messages already read come first."""
    pending = iter(messages)

    async def replayed() -> Message:
        for message in pending:
            return message
        return await receive()

    return replayed
