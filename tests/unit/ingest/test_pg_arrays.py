"""Our binary arrays read back on PostgreSQL as the values psycopg's own arrays carry, type by type."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest

from service.db import Database, json_text
from service.ingest.pg_arrays import EncodedArray, encoded_array_codec

VIETNAM = timezone(timedelta(hours=7))
INT4_LIMITS = [-(2**31), 2**31 - 1]

# For each column type: values our codec encodes, and the SQL to read them back as text, value by value.
CASES: dict[str, list[Any]] = {
    # The cast cuts a value longer than the column, as it did psycopg's (the API refuses such values first).
    "VARCHAR(36)": ["a", "", "Mày liệu hồn 😈", "quote ' and \" and \\", None, "tab\tnew\nline", "x" * 40],
    "TEXT": ["x" * 5000, None, "đ"],
    "INTEGER": [0, -1, 7, *INT4_LIMITS],
    "BIGINT": [2**40, -(2**62)],
    "FLOAT": [0.0, -2.5, 1e300, 5e-324, math.inf, 3],
    "BYTEA": [b"", b"\x00\xff\x00", bytes(range(256)), None],
    "TIMESTAMP WITH TIME ZONE": [
        datetime(2026, 12, 3, 4, 5, 6, 789012, tzinfo=UTC),
        datetime(2026, 12, 3, 11, 5, 6, tzinfo=VIETNAM),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        None,
    ],
    "JSONB": [{"a": [1, 2.5, None, True]}, None, "chuỗi", [], {"nested": {"k": "v"}}],
    "JSON": [{"b": 1, "a": 2}, None, 12],
}


def _read_back(connection: psycopg.Connection[Any], column_type: str, parameter: Any) -> list[Any]:
    """Each element of the parameter once cast to the column's array type, as PostgreSQL prints it."""
    rows = connection.execute(f"SELECT x::text FROM unnest(%b::{column_type}[]) AS x", [parameter])
    return [row[0] for row in rows]


def _psycopg_parameter(column_type: str, values: list[Any]) -> list[Any]:
    """What the writer sent before: psycopg's own array of the values (JSON as its text)."""
    if column_type in {"JSON", "JSONB"}:
        return [json_text(value) for value in values]
    if column_type == "FLOAT":  # psycopg refuses a list mixing ints and floats; ours takes both
        return [float(value) for value in values]
    return values


@pytest.mark.parametrize("column_type", sorted(CASES))
def test_each_type_reads_back_as_psycopgs_own_array(db: Database, column_type: str) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's binary format only")
    codec = encoded_array_codec(column_type)
    assert codec is not None
    values = CASES[column_type]
    with psycopg.connect(db.url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        connection.execute("SET TIME ZONE 'UTC'")
        ours = _read_back(connection, column_type, codec.array(values))
        theirs = _read_back(connection, column_type, _psycopg_parameter(column_type, values))
    assert ours == theirs
    assert len(ours) == len(values)


def test_a_json_column_stores_none_as_json_null_and_others_as_sql_null(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's binary format only")
    with psycopg.connect(db.url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        jsonb = encoded_array_codec("JSONB")
        text = encoded_array_codec("VARCHAR(10)")
        assert jsonb is not None
        assert text is not None
        assert _read_back(connection, "JSONB", jsonb.array([None, None])) == ["null", "null"]
        assert _read_back(connection, "VARCHAR(10)", text.array([None, None])) == [None, None]


def test_unknown_column_types_are_left_to_psycopg() -> None:
    assert encoded_array_codec("NUMERIC(10, 2)") is None
    assert encoded_array_codec("UUID") is None
    assert isinstance(encoded_array_codec("VARCHAR(36)").array(["a"]), EncodedArray)  # type: ignore[union-attr]
