"""API-key authentication: `Authorization: Bearer <key>`, and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from service.auth.service import Principal, authenticate_key
from service.errors import Forbidden, Unauthorized

# Keys in URLs end up in proxy logs and browser history, so a request that carries one there is refused.
QUERY_KEY_NAMES = frozenset({"api_key", "apikey", "key", "token", "access_token", "auth"})


async def bearer_key(request: Request) -> str:
    """The key from the Authorization header (no database work, so it runs on the event loop)."""
    if any(name.lower() in QUERY_KEY_NAMES for name in request.query_params):
        raise Unauthorized(
            "API keys are accepted only in the Authorization header, never in the query string."
        )
    key = bearer_token(request.headers.get("authorization", ""))
    if key is None:
        raise Unauthorized("Send your API key as 'Authorization: Bearer <key>'.")
    return key


def bearer_token(authorization: str) -> str | None:
    """The key in an `Authorization: Bearer <key>` header's value; None for any other value."""
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


def authorize(*, db_session: Session, key: str, scopes: tuple[str, ...]) -> Principal:
    """The caller behind `key`, holding one of `scopes`; 401 or 403 otherwise."""
    principal = authenticate_key(db_session=db_session, key=key)
    if principal is None:
        raise Unauthorized("The API key is unknown or revoked.")
    if principal.scopes.isdisjoint(scopes):
        raise Forbidden(f"This API key lacks the scope for this call: one of {', '.join(scopes)}.")
    return principal


def scoped(*scopes: str) -> Callable[[Request, str], Principal]:
    """A dependency that authenticates and requires any one of `scopes`."""

    def dependency(request: Request, key: Annotated[str, Depends(bearer_key)]) -> Principal:
        with request.app.state.db.session() as db_session:
            return authorize(db_session=db_session, key=key, scopes=scopes)

    return dependency


BearerKey = Annotated[str, Depends(bearer_key)]
WRITE_REPORTS = ("reports:write",)
# A reporter that may submit may also read back what it submitted; nobody reads another reporter's reports.
READ_REPORTS = ("reports:read", "reports:write")
ReportReader = Annotated[Principal, Depends(scoped(*READ_REPORTS))]

_PROBLEM = {"content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
# Every route behind a key can answer these; routers declare them so the OpenAPI schema is complete.
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, unknown or revoked API key", **_PROBLEM},
    403: {"description": "The key lacks the scope for this call", **_PROBLEM},
}
