"""Schemathesis over our own OpenAPI schema: no 5xx, and every response fits the schema."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings

from tests.conftest import new_key


@pytest.fixture
def api_schema(app: FastAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_errors_and_matches_its_schema(case: schemathesis.Case, app: FastAPI) -> None:
    key = getattr(app.state, "fuzz_key", None)
    if key is None:
        key = app.state.fuzz_key = new_key(
            app.state.db, reporter="fuzzer", scopes=["reports:write", "reports:read"]
        )
    case.call_and_validate(headers={"Authorization": f"Bearer {key}"})
