"""Schemathesis over our own OpenAPI schema: no 5xx, and every response fits the schema.

Each operation's strategy runs under Hypothesis directly (schemathesis' pytest fixture loader does not run
on pytest 9), with a bounded number of examples per operation. "Schema-valid data is accepted" is not
checked: a JSON string can be schema-valid and still not be an email, and that is a 422 by design.
"""

from __future__ import annotations

import json

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import new_key

EXAMPLES_PER_OPERATION = 50


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx: object, value: object) -> bytes:
    """Generated batch bodies: a string is sent as it is, anything else as one JSON line."""
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()


def test_api_never_errors_and_matches_its_schema(app: FastAPI) -> None:
    key = new_key(
        app.state.db,
        reporter="fuzzer",
        scopes=["reports:write", "reports:read", "rules:admin", "cases:read", "cases:write"],
    )
    headers = {"Authorization": f"Bearer {key}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert {"POST /v1/reports", "GET /v1/reports/{report_id}", "GET /healthz", "GET /readyz"} <= labels

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        call()
