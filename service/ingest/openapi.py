"""The OpenAPI description of the report body, which the endpoint reads itself (two media types)."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from service.ingest.schemas import ReportCreate

REPORT_SCHEMA = TypeAdapter(ReportCreate).json_schema(ref_template="#/components/schemas/{model}")
REPORT_DEFS: dict[str, Any] = REPORT_SCHEMA.pop("$defs", {})

REPORT_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {"schema": REPORT_SCHEMA},
        "message/rfc822": {"schema": {"type": "string", "format": "binary"}},
    },
}


def _optional_text(name: str, where: str, description: str) -> dict[str, Any]:
    schema = {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 200}, {"type": "null"}]}
    return {"name": name, "in": where, "required": False, "description": description, "schema": schema}


# The report route reads these itself (service.ingest.router); documented as FastAPI would document them.
REPORT_PARAMETERS = [
    _optional_text("reference", "query", "For message/rfc822 bodies: your reference."),
    _optional_text(
        "Idempotency-Key", "header", "Any unique string; a retry with the same key returns the first result."
    ),
]

BATCH_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "description": "NDJSON: one report (the application/json body of POST /v1/reports) per line.",
    "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
}

PROBLEM = {"content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
REPORT_CREATED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "A retry: the first result, unchanged"},
    401: {"description": "Missing, unknown or revoked API key", **PROBLEM},
    409: {"description": "Idempotency-Key or reference reused for other content", **PROBLEM},
    413: {"description": "Body over the size cap", **PROBLEM},
    415: {"description": "Neither application/json nor message/rfc822", **PROBLEM},
    422: {"description": "Invalid JSON, fields or email", **PROBLEM},
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}


def component_schemas() -> dict[str, Any]:
    """Schemas to merge into the app's OpenAPI components."""
    return {**REPORT_DEFS, "Problem": PROBLEM_SCHEMA}
