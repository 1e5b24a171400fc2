"""What the driver-level inserts share (SQLite's executemany, PostgreSQL's arrays): which rows they may write
without SQLAlchemy, and the conversion each value needs to be stored as SQLAlchemy's own insert stores it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import JSON, Float, Integer, LargeBinary, String, Table
from sqlalchemy.types import NullType

from service.db import UTCDateTime, json_text

Converter = Callable[[Any], Any]
PLAIN_TYPES = (String, Integer, Float, LargeBinary, NullType)  # both drivers bind these values as they are


def value_converters(
    table: Table, keys: tuple[str, ...], *, timestamp: Converter
) -> dict[str, Converter] | None:
    """The conversion of each key's values that needs one (`timestamp` for UTCDateTime), or None when only
    SQLAlchemy writes such rows correctly: a missing column with a Python-side default, or a type not known
    here."""
    missing = [column for column in table.columns if column.name not in keys]
    if any(column.default is not None for column in missing):
        return None
    converters: dict[str, Converter] = {}
    for key in keys:
        column_type = table.c[key].type
        if isinstance(column_type, UTCDateTime):
            converters[key] = timestamp
        elif isinstance(column_type, JSON):
            if column_type.none_as_null:
                return None
            converters[key] = json_text  # the engines' own serializer: None too becomes JSON's null
        elif not isinstance(column_type, PLAIN_TYPES):
            return None
    return converters


def shared_keys(rows: Sequence[dict[str, Any]]) -> tuple[str, ...] | None:
    """The keys every row has, in the same order, or None when they differ (one statement per key set)."""
    keys = tuple(rows[0])
    return keys if all(tuple(row) == keys for row in rows) else None
