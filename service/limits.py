"""The request body cap, enforced while the body streams in.

FastAPI has no working body limit (fastapi #16338), so this ASGI middleware counts bytes as they arrive:
a declared Content-Length over the cap is refused before a byte is read, and a chunked or lying body is
cut off as soon as it passes the cap. Nothing is buffered here.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import PayloadTooLarge, problem_response


class BodyTooLarge(PayloadTooLarge):
    """Raised from `receive` mid-stream; the problem handler turns it into a 413."""


# Far above any real client's headers (browsers send a few KiB), far below what an attacker may send: the
# HTTP parser (httptools) sets no limit of its own.
MAX_HEADER_BYTES = 64 * 1024


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if head_too_large(scope):
            detail = f"The request headers exceed {MAX_HEADER_BYTES} bytes: send fewer or shorter ones."
            response = problem_response(
                431, "Request Header Fields Too Large", detail, headers={"Connection": "close"}
            )
            await response(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        received = 0
        limit = self.max_bytes

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(self._detail())
            return message

        return counted

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(413, "Content Too Large", self._detail(), headers={"Connection": "close"})
        await response(scope, receive, send)

    def _detail(self) -> str:
        return f"The request body is over the limit of {self.max_bytes} bytes. Send a smaller body."


def head_too_large(scope: Scope) -> bool:
    """Whether the request's headers pass MAX_HEADER_BYTES (answered 431)."""
    return sum(len(name) + len(value) for name, value in scope.get("headers", ())) > MAX_HEADER_BYTES


def scope_header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of a (lower-case) header, straight from the ASGI scope."""
    for header, value in scope.get("headers", ()):
        if header == name:
            return bytes(value)
    return None


def _content_length(scope: Scope) -> int | None:
    declared = scope_header(scope, b"content-length")
    try:
        return int(declared) if declared is not None else None
    except ValueError:
        return None
